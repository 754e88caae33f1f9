// Package collect records a program's network traffic together with the
// code that sent it, on Linux, with eBPF: the engine behind
// `tracewire collect`.
//
// Run starts a command held until its process ID is registered in a BPF
// map, then follows its forks. BTF-typed tracepoints on
// sock:sock_send_length and sock:sock_recv_length (Linux 6.3+) record every
// TCP and UDP send and receive of that process tree with its user stack
// as build ID and file offset (bpf_get_stack with BPF_F_USER_BUILD_ID); a
// socket's 5-tuple is cached in the kernel, since the kernel can clear the
// local port before the tracepoint fires. Events pass through a ring
// buffer; those it had no room for are counted and reported. At the same
// time an AF_PACKET capture (a TPACKET_V3 ring read by our own loop) writes
// pcapng.
//
// After the run the stacks are symbolised from the binaries' ELF symbols
// and Go pclntab (module, function, file, line), and the folder gets
// capture.pcapng (the traced flows, with the TLS key log the command wrote
// through SSLKEYLOGFILE as a Decryption Secrets Block),
// socket_events.jsonl (docs/ebpf-socket-events.md) and experiment.json,
// which makes the folder one analysis for detect, enrich, report and batch.
//
// With Options.TLSUprobes, uprobes on libssl's SSL_write, SSL_read and
// their _ex forms write tls_plaintext.jsonl: the plaintext of each call,
// linked to the socket a socket call used during an SSL call of the same
// SSL object (no OpenSSL structure is read).
//
// The BPF program is bpf/collect.c; the object generated from it by bpf2go
// is committed (collect_bpfel.o), so building needs no clang and the
// binary stays static (CGO_ENABLED=0). On other systems Run returns
// ErrUnsupported.
package collect
