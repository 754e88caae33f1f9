//go:build linux

package collect

import (
	"testing"
	"unsafe"
)

// TestEventLayout checks raw.go's offsets against the struct bpf2go
// generated from bpf/collect.c.
func TestEventLayout(t *testing.T) {
	var e collectEvent
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"mono_ns", unsafe.Offsetof(e.MonoNs), offMono},
		{"pid", unsafe.Offsetof(e.Pid), offPid},
		{"tid", unsafe.Offsetof(e.Tid), offTid},
		{"bytes", unsafe.Offsetof(e.Bytes), offBytes},
		{"stack_bytes", unsafe.Offsetof(e.StackBytes), offStackBytes},
		{"protocol", unsafe.Offsetof(e.Protocol), offProtocol},
		{"dir", unsafe.Offsetof(e.Dir), offDir},
		{"cached", unsafe.Offsetof(e.Cached), offCached},
		{"t.family", unsafe.Offsetof(e.T) + unsafe.Offsetof(e.T.Family), offFamily},
		{"t.lport", unsafe.Offsetof(e.T) + unsafe.Offsetof(e.T.Lport), offLport},
		{"t.rport", unsafe.Offsetof(e.T) + unsafe.Offsetof(e.T.Rport), offRport},
		{"t.laddr", unsafe.Offsetof(e.T) + unsafe.Offsetof(e.T.Laddr), offLaddr},
		{"t.raddr", unsafe.Offsetof(e.T) + unsafe.Offsetof(e.T.Raddr), offRaddr},
		{"comm", unsafe.Offsetof(e.Comm), offComm},
		{"stack", unsafe.Offsetof(e.Stack), offStack},
		{"frame size", unsafe.Sizeof(e.Stack[0]), frameSize},
		{"frames", uintptr(len(e.Stack)), maxFrames},
		{"frame offset", unsafe.Offsetof(e.Stack[0].Offset), 24},
	} {
		if c.got != c.want {
			t.Errorf("%s: generated struct says %d, raw.go %d", c.name, c.got, c.want)
		}
	}
}

// TestTLSEventLayout checks tls.go's offsets against the struct bpf2go
// generated from bpf/collect.c.
func TestTLSEventLayout(t *testing.T) {
	var e collectTlsEvent
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"mono_ns", unsafe.Offsetof(e.MonoNs), tlsOffMono},
		{"ssl", unsafe.Offsetof(e.Ssl), tlsOffSSL},
		{"pid", unsafe.Offsetof(e.Pid), tlsOffPid},
		{"tid", unsafe.Offsetof(e.Tid), tlsOffTid},
		{"bytes", unsafe.Offsetof(e.Bytes), tlsOffBytes},
		{"offset", unsafe.Offsetof(e.Offset), tlsOffOffset},
		{"len", unsafe.Offsetof(e.Len), tlsOffLen},
		{"fn", unsafe.Offsetof(e.Fn), tlsOffFn},
		{"linked", unsafe.Offsetof(e.Linked), tlsOffLinked},
		{"last", unsafe.Offsetof(e.Last), tlsOffLast},
		{"t", unsafe.Offsetof(e.T), tlsOffTuple},
		{"comm", unsafe.Offsetof(e.Comm), tlsOffComm},
		{"data", unsafe.Offsetof(e.Data), tlsOffData},
		{"chunk", uintptr(len(e.Data)), tlsChunk},
		{"tuple laddr", unsafe.Offsetof(e.T.Laddr), 8},
		{"tuple raddr", unsafe.Offsetof(e.T.Raddr), 24},
	} {
		if c.got != c.want {
			t.Errorf("%s: generated struct says %d, tls.go %d", c.name, c.got, c.want)
		}
	}
}
