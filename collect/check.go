package collect

import (
	"fmt"
	"strings"
)

// kernelFacts is what Check learned about the machine.
type kernelFacts struct {
	root    bool
	release string // uname -r
	arch    string // GOARCH
	// btfErr is why the kernel's BTF could not be read, nil when it was;
	// hasType then says whether it has a type of that name.
	btfErr  error
	hasType func(name string) bool
	// ringbufErr is why a BPF ring buffer cannot be made, nil when it can.
	ringbufErr error
	// uprobes: the kernel has the uprobe event source (CONFIG_UPROBE_EVENTS).
	uprobes bool
}

// tracepoints are the BTF-typed tracepoints the BPF program attaches to;
// the kernel's BTF has a btf_trace_NAME type for each one it has.
var tracepoints = []struct{ group, name, since string }{
	{"sock", "sock_send_length", "Linux 6.3"},
	{"sock", "sock_recv_length", "Linux 6.3"},
	{"sched", "sched_process_fork", ""},
	{"sched", "sched_process_free", ""},
}

// missing lists, in sentences, everything the facts say is missing to
// record (with TLS uprobes when tls), or nil; kernel says whether the
// kernel lacks a feature the recording itself needs.
func (k kernelFacts) missing(tls bool) (out []string, kernel bool) {
	if !k.root {
		out = append(out, "root (loading eBPF programs and capturing packets need it)")
	}
	if k.btfErr != nil {
		kernel = true
		out = append(out, fmt.Sprintf("the kernel's BTF (/sys/kernel/btf/vmlinux, CONFIG_DEBUG_INFO_BTF=y), which the BTF-typed tracepoints and CO-RE relocation need: %v", k.btfErr))
	} else {
		var absent []string
		since := ""
		for _, tp := range tracepoints {
			if !k.hasType("btf_trace_" + tp.name) {
				absent = append(absent, tp.group+":"+tp.name)
				if tp.since != "" {
					since = tp.since
				}
			}
		}
		if len(absent) > 0 {
			kernel = true
			s := "the tracepoint"
			if len(absent) > 1 {
				s += "s"
			}
			s += " " + strings.Join(absent, " and ")
			if since != "" {
				s += " (" + since + " and later)"
			}
			s += ": the kernel's BTF has no btf_trace_ type for "
			if len(absent) > 1 {
				s += "them"
			} else {
				s += "it"
			}
			out = append(out, s)
		}
	}
	if k.ringbufErr != nil {
		kernel = true
		out = append(out, fmt.Sprintf("BPF ring buffers (Linux 5.8 and later): %v", k.ringbufErr))
	}
	if tls {
		if k.arch != "amd64" {
			out = append(out, "for --tls-uprobes, an x86-64 machine (the uprobe programs read x86-64 registers; this is "+k.arch+")")
		}
		if !k.uprobes {
			out = append(out, "for --tls-uprobes, uprobes (CONFIG_UPROBE_EVENTS: no /sys/bus/event_source/devices/uprobe)")
		}
	}
	return out, kernel
}

// checkError words what is missing as one error.
func (k kernelFacts) checkError(tls bool) error {
	miss, kernel := k.missing(tls)
	if len(miss) == 0 {
		return nil
	}
	rel := "this kernel"
	if k.release != "" {
		rel = "this kernel (" + k.release + ")"
	}
	msg := "collect cannot record on " + rel + "; it needs " + miss[0]
	for _, m := range miss[1:] {
		msg += "; and " + m
	}
	if kernel {
		msg += ". Recording from syscall tracepoints with a lookup of the socket by fd, for older kernels, is not implemented"
	}
	return fmt.Errorf("%s", msg)
}
