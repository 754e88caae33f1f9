//go:build linux

package collect

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// capturer writes the packets of some interfaces into one pcapng file
// while the command runs.
type capturer struct {
	f     *os.File
	w     *pcapgo.NgWriter
	names []string
	rings []*ring
	wg    sync.WaitGroup
	// stopNs is the wall-clock time stop was called (ns), 0 before: the
	// readers then write every packet received before it and return.
	stopNs atomic.Int64

	mu       sync.Mutex
	packets  int
	drops    uint64
	err      error
	warnings []string
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

// The capture reads a TPACKET_V3 ring (128 blocks of 256 KiB per
// interface) mapped into our memory: no system call per packet, so it takes
// little CPU from the recorded program, and a packet of up to a block (lo's
// 64 KiB segments included) is captured whole; only BIG TCP segments over
// 256 KiB (gso_max_size raised beyond 64 KiB) would be cut. The kernel hands a block
// over when it is full or ringBlockTimeout after its first packet, so at
// low rates the ring holds ringBlocks × ringBlockTimeout (1.28 s) of
// traffic the reader has not taken yet before the kernel drops packets:
// many small blocks rather than few big ones (32 of 1 MiB held 0.32 s, and
// dropped packets at 10k requests/s on a loaded machine).
const (
	ringBlockSize = 256 << 10
	ringBlocks    = 128
	ringFrameSize = 1 << 16
	// The kernel hands over a block that is not full after this long.
	ringBlockTimeout = 10 * time.Millisecond
	// stopSettle: a packet stamped before stop is in the ring this long
	// after (it is stamped and queued in the same softirq).
	stopSettle = 2 * time.Millisecond
	// stopLimit bounds the wait for the kernel to hand over the block
	// that holds the last packets before stop (it does after
	// ringBlockTimeout).
	stopLimit = 2 * time.Second
)

// ring is an AF_PACKET socket with a TPACKET_V3 receive ring, read by one
// goroutine. Our own reader rather than gopacket's afpacket: its read
// returns only when a packet comes or the ring stays empty for its poll
// timeout, which never happens on a busy interface, so a capture could
// not be stopped; and its socket receives packets before its ring and
// filter are set.
type ring struct {
	name  string
	fd    int
	wake  int // eventfd that stop writes
	mem   []byte
	cur   int // the next block to read
	vlan  []byte
	drops uint64
}

func openRing(name string, filter []bpf.RawInstruction) (*ring, error) {
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		return nil, err
	}
	// Protocol 0: the socket receives nothing until bind, so no packet
	// passes before the filter and the ring are in place.
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("packet socket: %w", err)
	}
	r := &ring{name: name, fd: fd, wake: -1}
	fail := func(what string, err error) (*ring, error) {
		r.close()
		r.closeWake()
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if len(filter) > 0 {
		ins := make([]unix.SockFilter, len(filter))
		for i, f := range filter {
			ins[i] = unix.SockFilter{Code: f.Op, Jt: f.Jt, Jf: f.Jf, K: f.K}
		}
		if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &unix.SockFprog{Len: uint16(len(ins)), Filter: &ins[0]}); err != nil {
			return fail("filter", err)
		}
	}
	const tpacketV3 = 2
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_VERSION, tpacketV3); err != nil {
		return fail("TPACKET_V3", err)
	}
	req := unix.TpacketReq3{
		Block_size:     ringBlockSize,
		Block_nr:       ringBlocks,
		Frame_size:     ringFrameSize,
		Frame_nr:       ringBlockSize / ringFrameSize * ringBlocks,
		Retire_blk_tov: uint32(ringBlockTimeout / time.Millisecond),
	}
	if err := unix.SetsockoptTpacketReq3(fd, unix.SOL_PACKET, unix.PACKET_RX_RING, &req); err != nil {
		return fail("receive ring", err)
	}
	if r.mem, err = unix.Mmap(fd, 0, ringBlockSize*ringBlocks, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED); err != nil {
		return fail("mapping the receive ring", err)
	}
	if r.wake, err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK); err != nil {
		return fail("eventfd", err)
	}
	const ethPAll = 0x0300 // htons(ETH_P_ALL)
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: ethPAll, Ifindex: ifi.Index}); err != nil {
		return fail("bind", err)
	}
	return r, nil
}

func (r *ring) close() {
	if r.mem != nil {
		unix.Munmap(r.mem)
		r.mem = nil
	}
	if r.fd >= 0 {
		if st, err := unix.GetsockoptTpacketStatsV3(r.fd, unix.SOL_PACKET, unix.PACKET_STATISTICS); err == nil {
			r.drops = uint64(st.Drops)
		}
		unix.Close(r.fd)
		r.fd = -1
	}
}

// closeWake closes the eventfd; stop does, after the reader returned.
func (r *ring) closeWake() {
	if r.wake >= 0 {
		unix.Close(r.wake)
		r.wake = -1
	}
}

// The block header (struct tpacket_block_desc with tpacket_hdr_v1) and
// packet header (struct tpacket3_hdr) fields we use.
const (
	blkStatus    = 8
	blkNumPkts   = 12
	blkFirstPkt  = 16
	pktNext      = 0
	pktSec       = 4
	pktNsec      = 8
	pktSnaplen   = 12
	pktLen       = 16
	pktStatus    = 20
	pktMac       = 24
	pktVlanTCI   = 36
	pktVlanTPID  = 40
	tpStatusUser = unix.TP_STATUS_USER
)

func (r *ring) status(b int) *uint32 {
	return (*uint32)(unsafe.Pointer(&r.mem[b*ringBlockSize+blkStatus]))
}

// pending says whether the kernel has put packets in block b that it has
// not handed over yet.
func (r *ring) pending(b int) bool {
	return atomic.LoadUint32((*uint32)(unsafe.Pointer(&r.mem[b*ringBlockSize+blkNumPkts]))) != 0
}

// eachPacket calls fn for every packet of a block handed over to user
// space and returns the time of its last packet (ns).
func (r *ring) eachPacket(b int, fn func(ci gopacket.CaptureInfo, data []byte)) int64 {
	blk := r.mem[b*ringBlockSize : (b+1)*ringBlockSize]
	ne := binary.NativeEndian
	n := ne.Uint32(blk[blkNumPkts:])
	off := int(ne.Uint32(blk[blkFirstPkt:]))
	var last int64
	for i := uint32(0); i < n && off > 0 && off+pktVlanTPID+2 <= len(blk); i++ {
		h := blk[off:]
		mac, snap := int(ne.Uint16(h[pktMac:])), int(ne.Uint32(h[pktSnaplen:]))
		if mac+snap > len(h) {
			break
		}
		ts := time.Unix(int64(ne.Uint32(h[pktSec:])), int64(ne.Uint32(h[pktNsec:])))
		last = ts.UnixNano()
		data := h[mac : mac+snap]
		length := int(ne.Uint32(h[pktLen:]))
		if st := ne.Uint32(h[pktStatus:]); st&unix.TP_STATUS_VLAN_VALID != 0 && len(data) >= 12 {
			// The kernel took the VLAN tag out (offload): put it back.
			tpid := uint16(0x8100)
			if st&unix.TP_STATUS_VLAN_TPID_VALID != 0 {
				tpid = ne.Uint16(h[pktVlanTPID:])
			}
			r.vlan = append(append(r.vlan[:0], data[:12]...), byte(tpid>>8), byte(tpid), 0, 0)
			binary.BigEndian.PutUint16(r.vlan[14:], uint16(ne.Uint32(h[pktVlanTCI:])))
			data = append(r.vlan, data[12:]...)
			r.vlan = data
			length += 4
		}
		fn(gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(data), Length: length}, data)
		next := int(ne.Uint32(h[pktNext:]))
		if next == 0 {
			break
		}
		off += next
	}
	return last
}

func startCapture(path string, ifaces []string) (*capturer, error) {
	c := &capturer{names: ifaces}
	for _, name := range ifaces {
		var filter []bpf.RawInstruction
		if ifi, err := net.InterfaceByName(name); err == nil && ifi.Flags&net.FlagLoopback != 0 {
			var err error
			if filter, err = dropOutgoing(); err != nil {
				c.closeRings()
				return nil, fmt.Errorf("capture on %s: filter: %w", name, err)
			}
		}
		r, err := openRing(name, filter)
		if err != nil {
			c.closeRings()
			return nil, fmt.Errorf("capture on %s: %w", name, err)
		}
		c.rings = append(c.rings, r)
	}
	f, err := os.Create(path)
	if err != nil {
		c.closeRings()
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
		c.closeRings()
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for i, r := range c.rings {
		c.wg.Add(1)
		go c.read(i, r)
	}
	return c, nil
}

func (c *capturer) closeRings() {
	for _, r := range c.rings {
		r.close()
		r.closeWake()
	}
}

func (c *capturer) fail(err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	c.mu.Unlock()
}

// read writes the packets of one ring until stop. After stop it returns
// once it has written a block whose last packet came after stop, or the
// block the kernel is filling is empty: every packet received before stop
// is then written.
func (c *capturer) read(idx int, r *ring) {
	defer c.wg.Done()
	// This goroutine closes its ring: closing unmaps it, which must not
	// happen under a read.
	defer func() {
		r.close()
		c.mu.Lock()
		c.drops += r.drops
		c.mu.Unlock()
	}()
	write := func(ci gopacket.CaptureInfo, data []byte) {
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
	fds := []unix.PollFd{{Fd: int32(r.fd), Events: unix.POLLIN}, {Fd: int32(r.wake), Events: unix.POLLIN}}
	for {
		st := r.status(r.cur)
		stop := c.stopNs.Load()
		if atomic.LoadUint32(st)&tpStatusUser != 0 {
			last := r.eachPacket(r.cur, write)
			atomic.StoreUint32(st, unix.TP_STATUS_KERNEL)
			r.cur = (r.cur + 1) % ringBlocks
			if stop != 0 && last >= stop+int64(stopSettle) {
				return
			}
			continue
		}
		timeout := 1000
		if stop != 0 {
			waited := time.Duration(time.Now().UnixNano() - stop)
			if waited >= stopSettle && !r.pending(r.cur) {
				return
			}
			if waited >= stopLimit {
				c.mu.Lock()
				c.warnings = append(c.warnings, fmt.Sprintf("the capture on %s stopped without the packets the kernel had not yet handed over %v after the command ended", r.name, stopLimit))
				c.mu.Unlock()
				return
			}
			// Wait for the kernel to hand the block over (after
			// ringBlockTimeout), without the wake-up that is now set.
			fds = fds[:1]
			timeout = 1
		}
		n, err := unix.Poll(fds, timeout)
		if err != nil && err != unix.EINTR {
			c.fail(fmt.Errorf("capture on %s: poll: %w", r.name, err))
			return
		}
		if n > 0 && fds[0].Revents&(unix.POLLERR|unix.POLLNVAL) != 0 {
			err := errors.New("the socket reported an error")
			if serr, _ := unix.GetsockoptInt(r.fd, unix.SOL_SOCKET, unix.SO_ERROR); serr != 0 {
				err = unix.Errno(serr)
			}
			c.fail(fmt.Errorf("capture on %s: %w", r.name, err))
			return
		}
		if n > 0 && fds[0].Revents&unix.POLLIN != 0 && atomic.LoadUint32(r.status(r.cur))&tpStatusUser == 0 {
			// Readable for the kernel, not for us: do not spin on it.
			time.Sleep(time.Millisecond)
		}
	}
}

// stop ends the capture once every packet received before it is written
// and returns the packets the kernel dropped.
func (c *capturer) stop() (drops uint64, warnings []string, err error) {
	c.stopNs.Store(time.Now().UnixNano())
	one := []byte{1, 0, 0, 0, 0, 0, 0, 0}
	for _, r := range c.rings {
		unix.Write(r.wake, one)
	}
	c.wg.Wait()
	for _, r := range c.rings {
		r.closeWake()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	drops, warnings = c.drops, c.warnings
	if c.err != nil {
		c.f.Close()
		return drops, warnings, c.err
	}
	if err := c.w.Flush(); err != nil {
		c.f.Close()
		return drops, warnings, err
	}
	return drops, warnings, c.f.Close()
}
