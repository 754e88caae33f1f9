//go:build linux

package collect

import (
	"os"
	"runtime"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/features"
	"golang.org/x/sys/unix"
)

// Check says what is missing to record on this machine, or nil.
func Check() error { return check(false) }

// check gathers the facts of this machine; with tls, for --tls-uprobes too.
func check(tls bool) error {
	k := kernelFacts{root: os.Geteuid() == 0, arch: runtime.GOARCH}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		k.release = unix.ByteSliceToString(u.Release[:])
	}
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		k.btfErr = err
	} else if spec, err := btf.LoadKernelSpec(); err != nil {
		k.btfErr = err
	} else {
		k.hasType = func(name string) bool {
			_, err := spec.AnyTypeByName(name)
			return err == nil
		}
	}
	if k.root {
		// Probing makes a map: only root can.
		k.ringbufErr = features.HaveMapType(ebpf.RingBuf)
	}
	_, err := os.Stat("/sys/bus/event_source/devices/uprobe")
	k.uprobes = err == nil
	return k.checkError(tls)
}
