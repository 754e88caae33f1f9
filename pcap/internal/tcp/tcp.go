// Package tcp reassembles TCP connections with gopacket's reassembly and
// hands each connection's bytes, in order and per direction, to a
// stream.Parser; idle and closed connections are flushed and freed.
//
// Everything is driven by capture time, never the wall clock, so the same
// capture always gives the same chunks: idle connections are closed when the
// capture's clock has moved past them, and data waiting behind a segment the
// capture lost is pushed through (as a gap) after a while of capture time.
package tcp

import (
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/reassembly"

	"github.com/tracewire/tracewire/communityid"
	"github.com/tracewire/tracewire/pcap/internal/stream"
)

// Defaults for Config.
const (
	DefaultIdleTimeout = 5 * time.Minute
	// DefaultGapWait is how long (capture time) out-of-order data waits for
	// a missing segment before the hole is declared a gap. A sender
	// retransmits within seconds, so data that is still missing after this
	// was lost by the capture, not the network.
	DefaultGapWait = 30 * time.Second
	// Page limits of the reassembler (pages hold up to 1900 bytes): data
	// queued behind a hole is pushed through as a gap once a connection, or
	// the whole capture, holds this many pages.
	DefaultMaxPagesPerConn = 2048
	DefaultMaxPagesTotal   = 32768
)

// Config configures an Assembler.
type Config struct {
	// Factory makes the parser of each new connection.
	Factory stream.Factory
	// Sink receives what the parsers find (passed to Factory).
	Sink stream.Sink
	// CommunityID configures the Community ID of each connection.
	CommunityID communityid.Config
	// IdleTimeout closes connections with no packet for this long, in
	// capture time (0: DefaultIdleTimeout).
	IdleTimeout time.Duration
	// GapWait is how long out-of-order data waits for a missing segment
	// (0: DefaultGapWait, capped by IdleTimeout).
	GapWait time.Duration
	// MaxPagesPerConn and MaxPagesTotal bound the memory held for
	// out-of-order data (0: the defaults).
	MaxPagesPerConn, MaxPagesTotal int
	// NewIndex, when set, numbers the connections (Conn.Index), so that the
	// connections of several capture files, and those of packet tunnels
	// inside connections, form one sequence; by default they are numbered
	// from 0.
	NewIndex func() uint64
	// Ended, when set, is called for every connection after its parser's
	// End, once nothing will change it any more.
	Ended func(c *stream.Conn)
}

// Packet is a TCP segment with what the chunks it produces must carry.
type Packet struct {
	Src, Dst netip.Addr
	TCP      *layers.TCP
	Time     time.Time
	Frame    uint64
	Comments []string
}

// Assembler reassembles the TCP connections of one capture. It is not safe
// for concurrent use.
type Assembler struct {
	cfg   Config
	pool  *reassembly.StreamPool
	asm   *reassembly.Assembler
	next  uint64 // Index of the next connection, without Config.NewIndex
	now   time.Time
	flush time.Time // capture time of the last flush
	// why is the reason given to connections that complete now: FIN while
	// packets are assembled, idle while flushing, end of capture at Close.
	why stream.EndReason
	cur *Packet // the packet being assembled, for the factory
	// closed holds the connections closed by FIN or RST in the last linger
	// period, so their last ACKs open no new connection; a closed
	// connection itself is freed at once.
	closed map[tuple]time.Time
	linger time.Duration
	open   int
}

// tuple is a connection's addresses, in a fixed order.
type tuple struct{ a, b netip.AddrPort }

func tupleOf(x, y netip.AddrPort) tuple {
	if y.Compare(x) < 0 {
		x, y = y, x
	}
	return tuple{x, y}
}

// maxLinger bounds how long a closed connection's 4-tuple is remembered:
// long enough for the stragglers of a close (TIME_WAIT is a minute or two).
const maxLinger = 2 * time.Minute

// New returns an Assembler.
func New(cfg Config) *Assembler {
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.GapWait <= 0 {
		cfg.GapWait = DefaultGapWait
	}
	if cfg.GapWait > cfg.IdleTimeout {
		cfg.GapWait = cfg.IdleTimeout
	}
	if cfg.MaxPagesPerConn <= 0 {
		cfg.MaxPagesPerConn = DefaultMaxPagesPerConn
	}
	if cfg.MaxPagesTotal <= 0 {
		cfg.MaxPagesTotal = DefaultMaxPagesTotal
	}
	a := &Assembler{cfg: cfg, closed: map[tuple]time.Time{}, linger: min(maxLinger, cfg.IdleTimeout)}
	if a.cfg.NewIndex == nil {
		a.cfg.NewIndex = func() uint64 { a.next++; return a.next - 1 }
	}
	a.pool = reassembly.NewStreamPool(factory{a})
	a.asm = reassembly.NewAssembler(a.pool)
	a.asm.MaxBufferedPagesPerConnection = cfg.MaxPagesPerConn
	a.asm.MaxBufferedPagesTotal = cfg.MaxPagesTotal
	return a
}

// Open returns the number of connections not yet ended.
func (a *Assembler) Open() int { return a.open }

// Add assembles one segment. The packet and its TCP layer may be reused by
// the caller once Add returns.
func (a *Assembler) Add(p *Packet) {
	if p.TCP == nil || !p.Src.IsValid() || !p.Dst.IsValid() || p.Src.Is4() != p.Dst.Is4() {
		return
	}
	if len(p.TCP.TransportFlow().Src().Raw()) == 0 {
		// A TCP layer built by hand rather than decoded lacks the port
		// bytes the reassembler keys connections by.
		p.TCP.SetInternalPortsForTesting()
	}
	var net gopacket.Flow
	if p.Src.Is4() {
		s, d := p.Src.As4(), p.Dst.As4()
		net = gopacket.NewFlow(layers.EndpointIPv4, s[:], d[:])
	} else {
		s, d := p.Src.As16(), p.Dst.As16()
		net = gopacket.NewFlow(layers.EndpointIPv6, s[:], d[:])
	}
	// A fresh context per packet: the reassembler keeps it with data it
	// queues, and the chunks cut from that data later need this packet's
	// time, frame and comments.
	pc := &pktCtx{frame: p.Frame, comments: p.Comments}
	pc.ci = gopacket.CaptureInfo{Timestamp: p.Time, AncillaryData: pc.self[:]}
	pc.self[0] = pc

	if p.Time.After(a.now) {
		a.now = p.Time
	}
	if a.flush.IsZero() {
		a.flush = a.now
	}
	// Flush before assembling: the capture's clock has moved on, and what
	// waited too long goes to the parsers before this packet's data.
	// Flushing walks every open connection, so do it a few times per gap
	// wait rather than per packet.
	if a.now.Sub(a.flush) >= a.cfg.GapWait/4 {
		a.flush = a.now
		a.why = stream.EndIdle
		a.asm.FlushWithOptions(reassembly.FlushOptions{
			T:  a.now.Add(-a.cfg.GapWait),
			TC: a.now.Add(-a.cfg.IdleTimeout),
		})
		for k, at := range a.closed {
			if a.now.Sub(at) > a.linger {
				delete(a.closed, k)
			}
		}
	}

	a.cur = p
	a.why = stream.EndFIN
	a.asm.AssembleWithContext(net, p.TCP, pc)
	a.cur = nil
}

// Close ends every connection still open (End with EndCapture): call it at
// the end of the capture.
func (a *Assembler) Close() {
	a.why = stream.EndCapture
	a.asm.FlushAll()
}

// pktCtx is the reassembler's context of one packet. CaptureInfo is all a
// ScatterGather reveals about the packet behind each byte, so the context
// points to itself from AncillaryData.
type pktCtx struct {
	ci       gopacket.CaptureInfo
	self     [1]any
	frame    uint64
	comments []string
}

func (p *pktCtx) GetCaptureInfo() gopacket.CaptureInfo { return p.ci }

func ctxOf(ci gopacket.CaptureInfo) *pktCtx {
	if len(ci.AncillaryData) == 0 {
		return nil
	}
	p, _ := ci.AncillaryData[0].(*pktCtx)
	return p
}

type factory struct{ a *Assembler }

func (f factory) New(_, _ gopacket.Flow, t *layers.TCP, ac reassembly.AssemblerContext) reassembly.Stream {
	a := f.a
	p := a.cur
	src := netip.AddrPortFrom(p.Src.Unmap(), uint16(t.SrcPort))
	dst := netip.AddrPortFrom(p.Dst.Unmap(), uint16(t.DstPort))
	if at, ok := a.closed[tupleOf(src, dst)]; ok {
		if !t.SYN && p.Time.Sub(at) <= a.linger {
			// A straggler of a connection closed just before (its last
			// ACK, a retransmitted FIN): no new connection.
			return nil
		}
		delete(a.closed, tupleOf(src, dst))
	}
	s := &conn{a: a}
	// gopacket's first direction is the sender of the first packet.
	s.addr = [2]netip.AddrPort{src, dst}
	client, server := src, dst
	if senderIsServer(t) {
		client, server = dst, src
	}
	s.c = stream.Conn{
		Index:  a.cfg.NewIndex(),
		Client: client,
		Server: server,
		CommunityID: a.cfg.CommunityID.ID(communityid.Flow{
			Proto: communityid.ProtoTCP,
			Src:   client.Addr(), Dst: server.Addr(),
			SrcPort: client.Port(), DstPort: server.Port(),
		}),
		First: p.Time,
		Last:  p.Time,
	}
	a.open++
	s.p = a.cfg.Factory(&s.c, a.cfg.Sink)
	return s
}

// senderIsServer guesses from the first packet seen of a connection whether
// its sender is the server: the SYN tells; without it (a capture that starts
// mid-connection) the side with the more "service-like" port is taken to be
// the server. Parsers correct the guess with Conn.Swap when the content
// says otherwise.
func senderIsServer(t *layers.TCP) bool {
	if t.SYN {
		return t.ACK
	}
	sp, dp := uint16(t.SrcPort), uint16(t.DstPort)
	if rs, rd := portRank(sp), portRank(dp); rs != rd {
		return rs < rd
	}
	return sp < dp
}

// portRank orders ports from most to least likely to be a server's:
// well-known, registered, ephemeral.
func portRank(p uint16) int {
	switch {
	case p < 1024:
		return 0
	case p < 32768:
		return 1
	default:
		return 2
	}
}

// conn is one connection: the reassembler's Stream, feeding the parser.
type conn struct {
	a    *Assembler
	c    stream.Conn
	p    stream.Parser
	addr [2]netip.AddrPort // sender of each gopacket direction
	// noSYN marks a gopacket direction whose start was forced because its
	// SYN was not seen: its first data follows an unknown amount of data.
	noSYN   [2]bool
	started [2]bool
	done    bool
	rst     bool
}

func (s *conn) Accept(t *layers.TCP, ci gopacket.CaptureInfo, dir reassembly.TCPFlowDirection, nextSeq reassembly.Sequence, start *bool, _ reassembly.AssemblerContext) bool {
	if s.done {
		return true
	}
	if ci.Timestamp.After(s.c.Last) {
		s.c.Last = ci.Timestamp
	}
	if ci.Timestamp.Before(s.c.First) {
		s.c.First = ci.Timestamp
	}
	if t.RST {
		s.rst = true
	}
	// Captures that begin mid-connection have no SYN: start the stream at
	// the first segment seen.
	if nextSeq == -1 && !t.SYN {
		*start = true
		s.noSYN[gdir(dir)] = true
	}
	return true
}

func gdir(d reassembly.TCPFlowDirection) int {
	if d == reassembly.TCPDirClientToServer {
		return 0
	}
	return 1
}

// dirOf maps a gopacket direction to the stream's, from the sender's
// address, so a Swap by the parser takes effect for the next chunks.
func (s *conn) dirOf(g int) stream.Dir {
	sender := s.addr[g]
	if s.c.Client == s.c.Server {
		// A connection to itself: only the order of packets tells.
		if g == 0 {
			return stream.ClientToServer
		}
		return stream.ServerToClient
	}
	if sender == s.c.Client {
		return stream.ClientToServer
	}
	return stream.ServerToClient
}

func (s *conn) ReassembledSG(sg reassembly.ScatterGather, _ reassembly.AssemblerContext) {
	if s.done {
		return
	}
	gd, _, _, skip := sg.Info()
	g := gdir(gd)
	n, _ := sg.Lengths()
	if n == 0 {
		return
	}
	data := sg.Fetch(n)
	if skip < -1 {
		skip = -1
	}
	if !s.started[g] && s.noSYN[g] {
		// The capture starts inside this direction's stream: an unknown
		// amount came before, but that is no hole in what was captured.
		skip = -1
	} else if skip != 0 {
		s.c.Gaps++
	}
	s.started[g] = true
	dir := s.dirOf(g)
	s.c.Bytes[dir] += int64(n)

	var ch stream.Chunk
	ch.Dir = dir
	if sg.Stats().Chunks == 1 {
		s.feed(&ch, data, ctxOf(sg.CaptureInfo(0)), skip)
		return
	}
	// Data merged from several packets (out-of-order data that became
	// contiguous): one chunk per packet, each with its own time and frame.
	for off := 0; off < n; {
		pc := ctxOf(sg.CaptureInfo(off))
		end := runEnd(sg, off, n, pc)
		s.feed(&ch, data[off:end], pc, skip)
		skip = 0
		off = end
		if s.done {
			return
		}
	}
}

// runEnd returns the end of the run of bytes from off that came from the
// packet pc (all bytes of a packet are contiguous): an exponential search
// then a binary search, since CaptureInfo walks the containers.
func runEnd(sg reassembly.ScatterGather, off, n int, pc *pktCtx) int {
	good, step := off, 1
	bad := n
	for good+step < n {
		if ctxOf(sg.CaptureInfo(good+step)) != pc {
			bad = good + step
			break
		}
		good += step
		step *= 2
	}
	for bad-good > 1 {
		mid := good + (bad-good)/2
		if ctxOf(sg.CaptureInfo(mid)) == pc {
			good = mid
		} else {
			bad = mid
		}
	}
	return bad
}

func (s *conn) feed(ch *stream.Chunk, data []byte, pc *pktCtx, skip int) {
	ch.Data = data
	ch.Skip = skip
	if pc != nil {
		ch.Time = pc.ci.Timestamp
		ch.Frame = pc.frame
		ch.Comments = pc.comments
	}
	s.p.Feed(ch)
}

func (s *conn) ReassemblyComplete(_ reassembly.AssemblerContext) bool {
	if s.done {
		return true
	}
	s.done = true
	why := s.a.why
	if why == stream.EndIdle && s.rst {
		why = stream.EndFIN
	}
	s.p.End(s.c.Last, why)
	s.p = nil
	s.a.open--
	if s.a.cfg.Ended != nil {
		s.a.cfg.Ended(&s.c)
	}
	if why == stream.EndFIN {
		// Freed now; the stragglers of the close are recognised by the
		// factory. A connection that went idle is not remembered: when it
		// resumes, it is a new connection seen from the middle.
		s.a.closed[tupleOf(s.addr[0], s.addr[1])] = s.c.Last
	}
	return true
}
