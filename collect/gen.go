package collect

// The object is generated from bpf/collect.c with clang and committed, so
// building tracewire needs neither clang nor kernel headers. To regenerate
// (Debian: apt-get install clang llvm libbpf-dev):
//
//	go generate ./collect

//go:generate go run github.com/cilium/ebpf/cmd/bpf2go -tags linux -target bpfel -type event -type tls_event -cflags "-O2 -g -Wall -Werror -I/usr/include/bpf" collect bpf/collect.c
