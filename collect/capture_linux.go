//go:build linux

package collect

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"golang.org/x/net/bpf"
)

// capturer writes the packets of some interfaces into one pcapng file
// while the command runs.
type capturer struct {
	f       *os.File
	w       *pcapgo.NgWriter
	names   []string
	handles []*pcapgo.EthernetHandle
	mu      sync.Mutex
	wg      sync.WaitGroup
	packets int
	err     error
	closing atomic.Bool
}

// upInterfaces names every interface that is up, sorted.
func upInterfaces() ([]string, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("listing network interfaces: %w", err)
	}
	var out []string
	for _, i := range ifs {
		if i.Flags&net.FlagUp != 0 {
			out = append(out, i.Name)
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		return nil, errors.New("no network interface is up")
	}
	return out, nil
}

// dropOutgoing is a classic BPF filter that drops the packets a packet
// socket sees leaving: on lo each packet is seen leaving and arriving.
func dropOutgoing() ([]bpf.RawInstruction, error) {
	const packetOutgoing = 4
	return bpf.Assemble([]bpf.Instruction{
		bpf.LoadExtension{Num: bpf.ExtType},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: packetOutgoing, SkipTrue: 1},
		bpf.RetConstant{Val: 262144},
		bpf.RetConstant{Val: 0},
	})
}

// rmemDefault is the receive buffer new sockets get. A packet socket's
// buffer cannot be set through pcapgo, and the default (about 200 KiB)
// overflows at a few thousand requests a second on lo, so the default is
// raised while the capture's sockets are made, then put back.
const rmemDefault = "/proc/sys/net/core/rmem_default"

const captureBuffer = 32 << 20

func raiseRmemDefault() (restore func()) {
	old, err := os.ReadFile(rmemDefault)
	if err != nil {
		return func() {}
	}
	if n, err := strconv.Atoi(strings.TrimSpace(string(old))); err != nil || n >= captureBuffer {
		return func() {}
	}
	if err := os.WriteFile(rmemDefault, []byte(strconv.Itoa(captureBuffer)), 0o644); err != nil {
		return func() {}
	}
	return func() { os.WriteFile(rmemDefault, old, 0o644) }
}

func startCapture(path string, ifaces []string) (*capturer, error) {
	c := &capturer{names: ifaces}
	restore := raiseRmemDefault()
	defer restore()
	for _, name := range ifaces {
		h, err := pcapgo.NewEthernetHandle(name)
		if err != nil {
			c.closeHandles()
			return nil, fmt.Errorf("capture on %s: %w", name, err)
		}
		c.handles = append(c.handles, h)
		if ifi, err := net.InterfaceByName(name); err == nil && ifi.Flags&net.FlagLoopback != 0 {
			f, err := dropOutgoing()
			if err == nil {
				err = h.SetBPF(f)
			}
			if err != nil {
				c.closeHandles()
				return nil, fmt.Errorf("capture on %s: filter: %w", name, err)
			}
		}
	}
	f, err := os.Create(path)
	if err != nil {
		c.closeHandles()
		return nil, err
	}
	c.f = f
	intf := func(name string) pcapgo.NgInterface {
		return pcapgo.NgInterface{Name: name, OS: "linux", LinkType: layers.LinkTypeEthernet, TimestampResolution: 9, SnapLength: 262144}
	}
	c.w, err = pcapgo.NewNgWriterInterface(f, intf(ifaces[0]), pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{OS: "linux", Application: "tracewire collect"}})
	for _, n := range ifaces[1:] {
		if err == nil {
			_, err = c.w.AddInterface(intf(n))
		}
	}
	if err != nil {
		c.closeHandles()
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for i, h := range c.handles {
		c.wg.Add(1)
		go c.read(i, h)
	}
	return c, nil
}

func (c *capturer) read(idx int, h *pcapgo.EthernetHandle) {
	defer c.wg.Done()
	for {
		data, ci, err := h.ReadPacketData()
		if err != nil {
			// Closing the handle is how the capture stops (a blocked
			// read is not woken by a deadline).
			if c.closing.Load() || errors.Is(err, os.ErrClosed) || errors.Is(err, net.ErrClosed) {
				return
			}
			var se interface{ Temporary() bool }
			if errors.As(err, &se) && se.Temporary() {
				continue
			}
			c.mu.Lock()
			if c.err == nil {
				c.err = fmt.Errorf("capture on %s: %w", c.names[idx], err)
			}
			c.mu.Unlock()
			return
		}
		ci.InterfaceIndex = idx
		c.mu.Lock()
		if c.err == nil {
			if err := c.w.WritePacket(ci, data); err != nil {
				c.err = fmt.Errorf("writing the capture: %w", err)
			}
			c.packets++
		}
		c.mu.Unlock()
	}
}

func (c *capturer) closeHandles() {
	for _, h := range c.handles {
		h.Close()
	}
}

// stop ends the capture and returns the packets the kernel dropped.
func (c *capturer) stop() (drops uint64, err error) {
	for _, h := range c.handles {
		if st, err := h.Stats(); err == nil {
			drops += uint64(st.Drops)
		}
	}
	c.closing.Store(true)
	c.closeHandles()
	c.wg.Wait()
	if c.err != nil {
		c.f.Close()
		return drops, c.err
	}
	if err := c.w.Flush(); err != nil {
		c.f.Close()
		return drops, err
	}
	return drops, c.f.Close()
}
