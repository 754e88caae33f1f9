package collect

import (
	"errors"
	"os"
	"runtime"
	"strings"
	"testing"
)

// TestCheckMissing words what a machine lacks to record, everything it
// lacks and nothing else.
func TestCheckMissing(t *testing.T) {
	all := func(string) bool { return true }
	without := func(names ...string) func(string) bool {
		return func(n string) bool {
			for _, x := range names {
				if n == x {
					return false
				}
			}
			return true
		}
	}
	ok := kernelFacts{root: true, release: "6.18.44", arch: "amd64", hasType: all, uprobes: true}
	for _, c := range []struct {
		name   string
		facts  func(k *kernelFacts)
		tls    bool
		want   []string // substrings, in order
		absent []string
	}{
		{"everything", func(k *kernelFacts) {}, true, nil, nil},
		{"not root", func(k *kernelFacts) { k.root = false }, false,
			[]string{"collect cannot record on this kernel (6.18.44); it needs root"}, []string{"BTF", "tracepoint"}},
		{"no BTF", func(k *kernelFacts) { k.btfErr = os.ErrNotExist; k.hasType = nil }, false,
			[]string{"it needs the kernel's BTF (/sys/kernel/btf/vmlinux, CONFIG_DEBUG_INFO_BTF=y)", "file does not exist", "syscall tracepoints", "not implemented"}, []string{"root", "sock_send_length"}},
		{"Linux 5.15", func(k *kernelFacts) {
			k.release = "5.15.0-91-generic"
			k.hasType = without("btf_trace_sock_send_length", "btf_trace_sock_recv_length")
		}, false,
			[]string{"this kernel (5.15.0-91-generic); it needs the tracepoints sock:sock_send_length and sock:sock_recv_length (Linux 6.3 and later): the kernel's BTF has no btf_trace_ type for them"}, []string{"root", "sched_process"}},
		{"one tracepoint", func(k *kernelFacts) { k.hasType = without("btf_trace_sched_process_free") }, false,
			[]string{"the tracepoint sched:sched_process_free: the kernel's BTF has no btf_trace_ type for it"}, []string{"Linux 6.3", "sock_send"}},
		{"no ring buffer, not root", func(k *kernelFacts) {
			k.root = false
			k.ringbufErr = errors.New("not supported")
		}, false,
			[]string{"it needs root", "; and BPF ring buffers (Linux 5.8 and later): not supported"}, nil},
		{"TLS on arm64 without uprobes", func(k *kernelFacts) { k.arch, k.uprobes = "arm64", false }, true,
			[]string{"for --tls-uprobes, an x86-64 machine", "this is arm64", "; and for --tls-uprobes, uprobes (CONFIG_UPROBE_EVENTS"}, []string{"root", "BTF"}},
		{"TLS not asked", func(k *kernelFacts) { k.arch, k.uprobes = "arm64", false }, false, nil, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			k := ok
			c.facts(&k)
			err := k.checkError(c.tls)
			if c.want == nil {
				if err != nil {
					t.Fatalf("error %v, want none", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", c.want)
			}
			msg, at := err.Error(), 0
			for _, w := range c.want {
				i := strings.Index(msg[at:], w)
				if i < 0 {
					t.Fatalf("%q\ndoes not say %q (after byte %d)", msg, w, at)
				}
				at += i + len(w)
			}
			for _, a := range c.absent {
				if strings.Contains(msg, a) {
					t.Errorf("%q names %q, which is not missing", msg, a)
				}
			}
		})
	}
}

// TestCheckHere: where this test runs as root with BTF, Check finds
// nothing missing (the tracepoint types are found in the real BTF).
func TestCheckHere(t *testing.T) {
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		t.Skip("needs root on Linux")
	}
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		t.Skip("no kernel BTF")
	}
	if err := Check(); err != nil {
		t.Errorf("Check: %v", err)
	}
}
