package main

import (
	"errors"
	"time"

	"github.com/spf13/cobra"

	"github.com/tracewire/tracewire/collect"
	"github.com/tracewire/tracewire/internal/listflag"
)

func init() { subcommands = append(subcommands, newCollectCmd) }

func newCollectCmd(e *env) *cobra.Command {
	var (
		dir      string
		ifaces   []string
		noKeys   bool
		duration time.Duration
		tlsProbe bool
		tlsLibs  []string
	)
	cmd := &cobra.Command{
		Use:   "collect -o DIR [--iface IF] [--no-keys] [--duration D] [--tls-uprobes] -- CMD ARGS...",
		Short: "Record a program's traffic with the code that sent it (Linux, root, eBPF)",
		Long: `Collect runs CMD and records, with eBPF, every TCP and UDP send and receive of
its process tree (forks included) with the process, thread and user-space stack
of the call, while capturing the traffic of the interfaces (--iface, repeatable;
default every interface that is up). CMD gets SSLKEYLOGFILE (unless --no-keys),
so OpenSSL-based programs (curl, Python, ...) log their TLS keys.

DIR then holds:
  capture.pcapng       the traffic of the traced flows, with the TLS key log
                       as a Decryption Secrets Block
  socket_events.jsonl  one event per socket call, stacks symbolised from the
                       binaries' ELF symbols and Go pclntab
                       (docs/ebpf-socket-events.md)
  experiment.json      makes DIR one analysis: tracewire detect DIR,
                       enrich DIR, report DIR, batch DIR...
  tls_plaintext.jsonl  with --tls-uprobes: the plaintext of every SSL_write,
                       SSL_read, SSL_write_ex and SSL_read_ex call of the
                       tree in libssl (OpenSSL), with its socket; detect,
                       enrich and report check each decrypted request body
                       against it and warn where they disagree

Requirements: Linux 6.3 or later with BTF (/sys/kernel/btf/vmlinux), root.
Native code gives whole stacks only when built with frame pointers; Go
binaries have them. Events the ring buffer had no room for are counted and
reported, never dropped silently. With --duration, or on Ctrl-C, CMD's
process group gets SIGTERM, then SIGKILL 5 s later.`,
		Example: `  tracewire collect -o run -- python3 backend.py
  tracewire detect run --indicator email=alice@example.com`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if dir == "" {
				return errors.New("collect: -o DIR is required")
			}
			s, err := collect.Run(cmd.Context(), collect.Options{
				Dir: dir, Command: args, Interfaces: listflag.Split(ifaces), NoKeys: noKeys, Duration: duration,
				TLSUprobes: tlsProbe || len(tlsLibs) > 0, TLSLibraries: tlsLibs,
				Progress: e.stderr, Stdin: e.stdin, Stdout: e.stdout, Stderr: e.stderr,
			})
			if s != nil {
				s.WriteText(e.stderr, dir)
			}
			return err
		},
	}
	cmd.Flags().SetInterspersed(false)
	cmd.Flags().StringVarP(&dir, "output", "o", "", "output folder (created if needed)")
	cmd.Flags().StringArrayVar(&ifaces, "iface", nil, "interface to capture on (repeatable, or comma-separated; default: every interface that is up)")
	cmd.Flags().BoolVar(&noKeys, "no-keys", false, "do not set SSLKEYLOGFILE for the command")
	cmd.Flags().BoolVar(&tlsProbe, "tls-uprobes", false, "record the plaintext of libssl's SSL_write/SSL_read calls (x86-64) in tls_plaintext.jsonl")
	cmd.Flags().StringArrayVar(&tlsLibs, "tls-lib", nil, "libssl file to set the TLS uprobes on (repeatable; implies --tls-uprobes; default: every libssl.so* in the library folders)")
	cmd.Flags().DurationVar(&duration, "duration", 0, "stop the command after this long (e.g. 30s; default: wait for it to exit)")
	return cmd
}
