//go:build linux

package collect

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopacket/gopacket/afpacket"
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
	handles []*afpacket.TPacket
	mu      sync.Mutex
	wg      sync.WaitGroup
	packets int
	drops   uint64
	err     error
	closing atomic.Bool
	// stopped is set under mu when stop has flushed the file; a reader
	// left behind writes nothing after it.
	stopped bool
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

// The capture reads a TPACKET_V3 ring (32 blocks of 1 MiB per interface)
// mapped into our memory: no system call per packet, so it takes little CPU
// from the recorded program, and a packet of up to a block (lo's 64 KiB
// segments included) is captured whole.
const (
	ringBlockSize = 1 << 20
	ringBlocks    = 32
	ringFrameSize = 1 << 16
	// The kernel hands over a block that is not full after this long;
	// reads wake up this often to see whether the capture is stopping.
	ringBlockTimeout = 10 * time.Millisecond
	ringPollTimeout  = 50 * time.Millisecond
	// stopGrace is how long stop waits for the readers to drain the rings.
	stopGrace = 3 * time.Second
)

func startCapture(path string, ifaces []string) (*capturer, error) {
	c := &capturer{names: ifaces}
	for _, name := range ifaces {
		h, err := afpacket.NewTPacket(afpacket.OptInterface(name), afpacket.OptTPacketVersion(afpacket.TPacketVersion3),
			afpacket.OptBlockSize(ringBlockSize), afpacket.OptNumBlocks(ringBlocks), afpacket.OptFrameSize(ringFrameSize),
			afpacket.OptBlockTimeout(ringBlockTimeout), afpacket.OptPollTimeout(ringPollTimeout))
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
		return pcapgo.NgInterface{Name: name, OS: "linux", LinkType: layers.LinkTypeEthernet, TimestampResolution: 9, SnapLength: ringBlockSize}
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

func (c *capturer) read(idx int, h *afpacket.TPacket) {
	defer c.wg.Done()
	// This goroutine closes its handle: closing unmaps the ring, which
	// must not happen under a read.
	defer func() {
		if _, v3, err := h.SocketStats(); err == nil {
			c.mu.Lock()
			c.drops += uint64(v3.Drops())
			c.mu.Unlock()
		}
		h.Close()
	}()
	for {
		data, ci, err := h.ZeroCopyReadPacketData()
		if errors.Is(err, afpacket.ErrTimeout) {
			// Nothing more in the ring: stop when asked to.
			if c.closing.Load() {
				return
			}
			continue
		}
		if err != nil {
			c.mu.Lock()
			if c.err == nil {
				c.err = fmt.Errorf("capture on %s: %w", c.names[idx], err)
			}
			c.mu.Unlock()
			return
		}
		ci.InterfaceIndex = idx
		c.mu.Lock()
		if c.err == nil && !c.stopped {
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
	c.closing.Store(true)
	done := make(chan struct{})
	go func() { c.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(stopGrace):
		// gopacket's TPACKET_V3 read can keep polling a ring whose poll
		// reports data while the block it waits for is not yet handed to
		// user space, and then never sees the poll timeout that ends our
		// reader. Seen on a loaded machine, it hung collect at the end.
		// Such a reader is left behind (the ring is not unmapped under
		// it; the process is about to end) and the file is finished
		// without it.
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopped = true
	drops = c.drops
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
