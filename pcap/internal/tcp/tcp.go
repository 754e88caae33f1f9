// Package tcp reassembles TCP connections and hands each connection's
// bytes, in order and per direction, to a stream.Parser; idle and closed
// connections are flushed and freed.
//
// Everything is driven by capture time, never the wall clock, so the same
// capture always gives the same chunks: idle connections are closed when the
// capture's clock has moved past them, and data waiting behind a segment the
// capture lost is pushed through (as a gap) after a while of capture time.
//
// # Why our own reassembler
//
// Until issue 12 this package used gopacket's reassembly. Its
// ScatterGather tells which packet carried a byte only through
// CaptureInfo(offset), which walks the buffered pages, so giving every
// packet's bytes their own time and frame cost O(pages) per probe. After a
// segment the capture never saw, everything behind the hole is buffered
// (up to 2048 pages per connection), and attributing it was quadratic: 67%
// of the CPU time converting a 1 GiB real-traffic capture went to
// (*page).length and CaptureInfo. gopacket's API gives no other way to the
// packet boundaries, and it keeps a connection's state in pooled structures
// whatever the connection holds. Here each out-of-order segment is kept as
// it arrived (its bytes, time, frame and comments), sorted by sequence
// number, so delivering it is one chunk without any search, and an open
// connection costs its struct plus the bytes it buffers. The semantics
// follow what the package did with gopacket (and what the tests and the
// tshark comparisons pin down): a SYN starts a direction, a capture that
// starts mid-connection starts it at the first segment, retransmitted bytes
// are given once (the first copy in stream order wins), a RST or FIN at the
// expected sequence number closes its direction, one out of window is
// ignored (RFC 5961), a connection ends when both directions are closed,
// idle, or the capture ends.
package tcp

import (
	"net/netip"
	"slices"
	"time"

	"github.com/gopacket/gopacket/layers"

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
	// Limits of the out-of-order data held: data queued behind a hole is
	// pushed through as a gap once a connection, or the whole capture,
	// holds this many bytes (what gopacket's 2048 and 32768 pages of 1900
	// bytes held before).
	DefaultMaxBufferedPerConn = 4 << 20
	DefaultMaxBufferedTotal   = 64 << 20
)

// ConnOverhead is what an open connection is counted for in the memory
// budget besides the bytes it buffers: the reassembler's and the parsers'
// state (measured: about 2.2 KB of heap for an HTTP/1 connection holding
// a partial request).
const ConnOverhead = 3 << 10

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
	// MaxBufferedPerConn and MaxBufferedTotal bound the bytes held for
	// out-of-order data (0: the defaults).
	MaxBufferedPerConn, MaxBufferedTotal int
	// MemoryBudget bounds what the open connections hold: ConnOverhead
	// each, their out-of-order data, and the bytes their parsers hold
	// (stream.Holder). Once it is exceeded, the connections idle the
	// longest are ended (as idle: what they hold becomes incomplete
	// entries) until the open ones fit in 7/8 of it; Evicted counts them.
	// 0: no budget.
	MemoryBudget int64
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
	conns map[tuple]*conn
	// lru lists the open connections, the least recently active first:
	// flushing walks it (a deterministic order), the budget ends its head.
	lru   connList
	next  uint64 // Index of the next connection, without Config.NewIndex
	now   time.Time
	flush time.Time // capture time of the last flush
	// why is the reason given to connections that complete now: FIN while
	// packets are assembled, idle while flushing, end of capture at Close.
	why stream.EndReason
	// closed holds the connections closed by FIN or RST in the last linger
	// period, so their last ACKs open no new connection; a closed
	// connection itself is freed at once.
	closed map[tuple]time.Time
	linger time.Duration
	open   int
	// buffered counts the out-of-order bytes held by all connections.
	buffered int
	checked  uint64 // packets since the parsers' held bytes were summed
	sumHeld  int64  // that sum, less what ended since
	evicted  int    // connections ended by the memory budget
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
	if cfg.MaxBufferedPerConn <= 0 {
		cfg.MaxBufferedPerConn = DefaultMaxBufferedPerConn
	}
	if cfg.MaxBufferedTotal <= 0 {
		cfg.MaxBufferedTotal = DefaultMaxBufferedTotal
	}
	a := &Assembler{cfg: cfg, conns: map[tuple]*conn{}, closed: map[tuple]time.Time{}, linger: min(maxLinger, cfg.IdleTimeout)}
	if a.cfg.NewIndex == nil {
		a.cfg.NewIndex = func() uint64 { a.next++; return a.next - 1 }
	}
	return a
}

// Open returns the number of connections not yet ended.
func (a *Assembler) Open() int { return a.open }

// Evicted returns the number of connections ended early to stay within
// Config.MemoryBudget.
func (a *Assembler) Evicted() int { return a.evicted }

// Add assembles one segment. The packet and its TCP layer may be reused by
// the caller once Add returns.
func (a *Assembler) Add(p *Packet) {
	t := p.TCP
	if t == nil || !p.Src.IsValid() || !p.Dst.IsValid() || p.Src.Is4() != p.Dst.Is4() {
		return
	}
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
		a.flushOlder(a.now.Add(-a.cfg.GapWait), a.now.Add(-a.cfg.IdleTimeout))
		for k, at := range a.closed {
			if a.now.Sub(at) > a.linger {
				delete(a.closed, k)
			}
		}
	}

	src := netip.AddrPortFrom(p.Src.Unmap(), uint16(t.SrcPort))
	dst := netip.AddrPortFrom(p.Dst.Unmap(), uint16(t.DstPort))
	key := tupleOf(src, dst)
	s := a.conns[key]
	if s == nil {
		if s = a.newConn(key, src, dst, p); s == nil {
			return
		}
	} else {
		a.lru.moveToBack(s)
	}
	a.why = stream.EndFIN
	s.add(p, src)
	if a.cfg.MemoryBudget > 0 {
		a.checkBudget()
	}
}

// Close ends every connection still open (End with EndCapture): call it at
// the end of the capture.
func (a *Assembler) Close() {
	a.why = stream.EndCapture
	for s := a.lru.head; s != nil; {
		nx := s.next
		for _, g := range halfOrder {
			for !s.h[g].closed && !s.done {
				s.skipFlush(g)
			}
		}
		s = nx
	}
}

// halfOrder is the order in which a connection's directions are flushed:
// the answering side's first, as gopacket did.
var halfOrder = [2]int{1, 0}

// flushOlder pushes through the data that waited for a missing segment
// since before t, and closes the connections idle since before tc.
func (a *Assembler) flushOlder(t, tc time.Time) {
	a.why = stream.EndIdle
	for s := a.lru.head; s != nil; {
		nx := s.next
		for _, g := range halfOrder {
			h := &s.h[g]
			if h.closed || s.done {
				continue
			}
			// Segments are pushed in sequence order: one that waited too
			// long pushes every segment before it, however recent.
			last := -1
			for i := range h.q {
				if h.q[i].seen.Before(t) {
					last = i
				}
			}
			if last >= 0 {
				end := h.q[last].seq
				for len(h.q) > 0 && diff(h.q[0].seq, end) >= 0 && !h.closed && !s.done {
					s.skipFlush(g)
				}
			}
			if !h.closed && !s.done && len(h.q) == 0 && s.lastSeen().Before(tc) {
				s.closeHalf(g)
			}
		}
		s = nx
	}
}

// checkBudget ends the least recently active connections while the open
// connections hold more than the budget. Summing the parsers' held bytes
// walks every connection, so it is done only when the estimate (the last
// sum, with the overhead and out-of-order bytes since) passes the budget,
// or every 64Ki packets while the open connections hold half of it.
func (a *Assembler) checkBudget() {
	budget := a.cfg.MemoryBudget
	cheap := int64(a.open)*ConnOverhead + int64(a.buffered)
	a.checked++
	if cheap < budget/2 {
		a.sumHeld = 0
		return
	}
	if cheap+a.sumHeld <= budget && a.checked < 1<<16 {
		return
	}
	a.checked = 0
	var held int64
	for s := a.lru.head; s != nil; s = s.next {
		held += s.held()
	}
	total := cheap + held
	a.why = stream.EndIdle
	for s := a.lru.head; s != nil && total > budget; {
		// Down to 3/4 of the budget, so the next sums are a while away.
		for s != nil && total > budget-budget/4 {
			nx := s.next
			h := s.held()
			total -= ConnOverhead + int64(s.h[0].qBytes+s.h[1].qBytes) + h
			held -= h
			a.evicted++
			for _, g := range halfOrder {
				for !s.h[g].closed && !s.done {
					s.skipFlush(g)
				}
			}
			s = nx
		}
	}
	a.sumHeld = max(held, 0)
	a.why = stream.EndFIN
}

func (a *Assembler) newConn(key tuple, src, dst netip.AddrPort, p *Packet) *conn {
	t := p.TCP
	if at, ok := a.closed[key]; ok {
		if !t.SYN && p.Time.Sub(at) <= a.linger {
			// A straggler of a connection closed just before (its last
			// ACK, a retransmitted FIN): no new connection.
			return nil
		}
		delete(a.closed, key)
	}
	s := &conn{a: a, key: key}
	// The first direction is the sender of the first packet.
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
	a.conns[key] = s
	a.lru.pushBack(s)
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

// diff is b-a in sequence space (positive when b is after a).
func diff(a, b uint32) int32 { return int32(b - a) }

// segment is out-of-order data waiting for the bytes before it, with the
// packet it came from.
type segment struct {
	seq      uint32
	data     []byte
	seen     time.Time // when it arrived: it waits GapWait from then
	frame    uint64
	comments []string
}

// half is one direction of a connection.
type half struct {
	next   uint32 // sequence number of the next byte expected
	valid  bool   // next is known (the direction started)
	closed bool
	// fin marks a FIN seen ahead of next, ending the stream at finSeq.
	fin    bool
	finSeq uint32
	last   time.Time
	q      []segment // sorted by seq
	qBytes int
}

// conn is one connection, feeding its parser.
type conn struct {
	a    *Assembler
	key  tuple
	c    stream.Conn
	p    stream.Parser
	addr [2]netip.AddrPort // sender of each direction (first packet's first)
	h    [2]half
	// noSYN marks a direction whose start was forced because its SYN was
	// not seen: its first data follows an unknown amount of data.
	noSYN   [2]bool
	started [2]bool
	done    bool
	rst     bool

	prev, next *conn // in Assembler.lru
}

func (s *conn) lastSeen() time.Time {
	if s.h[0].last.Before(s.h[1].last) {
		return s.h[1].last
	}
	return s.h[0].last
}

// held is what the connection's parser holds, in bytes.
func (s *conn) held() int64 {
	if h, ok := s.p.(stream.Holder); ok {
		return int64(h.Held())
	}
	return 0
}

func (s *conn) add(p *Packet, src netip.AddrPort) {
	t := p.TCP
	g := 0
	if src != s.addr[0] {
		g = 1
	}
	h := &s.h[g]
	if p.Time.After(h.last) {
		h.last = p.Time
	}
	if p.Time.After(s.c.Last) {
		s.c.Last = p.Time
	}
	if p.Time.Before(s.c.First) {
		s.c.First = p.Time
	}
	if t.RST {
		s.rst = true
	}
	if h.closed || s.done {
		return
	}
	// A SYN on a synchronized direction is answered with a challenge ACK
	// and dropped by the receiver (RFC 5961): its payload is not data.
	if t.SYN && h.valid {
		return
	}
	seq, data := t.Seq, t.Payload
	end := t.FIN || t.RST
	if !h.valid {
		if t.SYN {
			seq++
		} else {
			// Captures that begin mid-connection have no SYN: the
			// direction starts at the first segment seen.
			s.noSYN[g] = true
		}
		h.next, h.valid = seq, true
		s.deliver(g, data, 0, p.Time, p.Frame, p.Comments)
		if end {
			s.closeHalf(g)
			return
		}
		h.next = seq + uint32(len(data))
		s.drain(g)
		return
	}
	d := diff(h.next, seq)
	if d > 0 {
		// Ahead of the stream: wait for what is missing. A RST there is
		// dropped by the receiver (RFC 5961); a FIN ends the stream where
		// it stands.
		if t.RST {
			return
		}
		if t.FIN {
			h.fin, h.finSeq = true, seq+uint32(len(data))
		}
		if len(data) > 0 {
			s.queue(g, seq, data, p)
		}
		return
	}
	if (t.RST && d < 0) || (t.FIN && diff(h.next, seq+uint32(len(data))) < 0) {
		// Before the stream: out of window for the receiver, so it must
		// not end the stream.
		return
	}
	// Bytes already given are given once: drop the copy.
	if cut := int(-d); cut > 0 {
		data = data[min(cut, len(data)):]
	}
	if len(data) == 0 && !end {
		return
	}
	s.deliver(g, data, 0, p.Time, p.Frame, p.Comments)
	if s.done {
		return
	}
	h.next += uint32(len(data))
	if end {
		s.closeHalf(g)
		return
	}
	s.drain(g)
}

// queue keeps out-of-order data (a copy) in sequence order, then pushes
// the hole through if the connection or the capture holds too much.
func (s *conn) queue(g int, seq uint32, data []byte, p *Packet) {
	h := &s.h[g]
	sg := segment{seq: seq, data: append([]byte(nil), data...), seen: p.Time, frame: p.Frame, comments: p.Comments}
	// Segments mostly arrive in order behind a hole: search from the end.
	i := len(h.q)
	for i > 0 && diff(h.q[i-1].seq, seq) < 0 {
		i--
	}
	h.q = slices.Insert(h.q, i, sg)
	h.qBytes += len(data)
	s.a.buffered += len(data)
	if h.qBytes >= s.a.cfg.MaxBufferedPerConn || s.a.buffered >= s.a.cfg.MaxBufferedTotal {
		s.skipFlush(g)
	}
}

// skipFlush gives up on the hole before the first queued segment: the data
// from there on is given, after a gap. With nothing queued, the direction
// is closed.
func (s *conn) skipFlush(g int) {
	h := &s.h[g]
	if len(h.q) == 0 {
		s.closeHalf(g)
		return
	}
	sg := s.pop(g)
	s.deliver(g, sg.data, int(diff(h.next, sg.seq)), sg.seen, sg.frame, sg.comments)
	if s.done {
		return
	}
	h.next = sg.seq + uint32(len(sg.data))
	s.drain(g)
}

func (s *conn) pop(g int) segment {
	h := &s.h[g]
	sg := h.q[0]
	h.q[0] = segment{}
	h.q = h.q[1:]
	if len(h.q) == 0 {
		h.q = nil
	}
	h.qBytes -= len(sg.data)
	s.a.buffered -= len(sg.data)
	return sg
}

// drain gives the queued segments that now follow the stream, then closes
// the direction if it reached a FIN seen earlier.
func (s *conn) drain(g int) {
	h := &s.h[g]
	for len(h.q) > 0 && !s.done {
		d := diff(h.next, h.q[0].seq)
		if d > 0 {
			break
		}
		sg := s.pop(g)
		data := sg.data[min(int(-d), len(sg.data)):]
		if len(data) == 0 {
			continue
		}
		s.deliver(g, data, 0, sg.seen, sg.frame, sg.comments)
		h.next += uint32(len(data))
	}
	if h.fin && h.next == h.finSeq && !s.done {
		s.closeHalf(g)
	}
}

// dirOf maps a direction of the connection to the stream's, from the
// sender's address, so a Swap by the parser takes effect for the next
// chunks.
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

// deliver feeds one packet's bytes to the parser; skip is the number of
// bytes lost before them.
func (s *conn) deliver(g int, data []byte, skip int, at time.Time, frame uint64, comments []string) {
	if s.done || len(data) == 0 {
		return
	}
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
	s.c.Bytes[dir] += int64(len(data))
	ch := stream.Chunk{Dir: dir, Data: data, Time: at, Skip: skip, Frame: frame, Comments: comments}
	s.p.Feed(&ch)
}

// closeHalf closes a direction, dropping what it still queues; the
// connection completes when both are closed.
func (s *conn) closeHalf(g int) {
	h := &s.h[g]
	if h.closed {
		return
	}
	h.closed = true
	s.a.buffered -= h.qBytes
	h.q, h.qBytes = nil, 0
	if s.h[1-g].closed {
		s.complete()
	}
}

func (s *conn) complete() {
	if s.done {
		return
	}
	a := s.a
	s.done = true
	why := a.why
	if why == stream.EndIdle && s.rst {
		why = stream.EndFIN
	}
	for g := range s.h {
		a.buffered -= s.h[g].qBytes
		s.h[g].q, s.h[g].qBytes, s.h[g].closed = nil, 0, true
	}
	s.p.End(s.c.Last, why)
	s.p = nil
	a.open--
	delete(a.conns, s.key)
	a.lru.remove(s)
	if a.cfg.Ended != nil {
		a.cfg.Ended(&s.c)
	}
	if why == stream.EndFIN {
		// Freed now; the stragglers of the close are recognised by
		// newConn. A connection that went idle is not remembered: when it
		// resumes, it is a new connection seen from the middle.
		a.closed[s.key] = s.c.Last
	}
}

// connList is a doubly linked list of connections through conn.prev/next.
type connList struct{ head, tail *conn }

func (l *connList) pushBack(s *conn) {
	s.prev, s.next = l.tail, nil
	if l.tail != nil {
		l.tail.next = s
	} else {
		l.head = s
	}
	l.tail = s
}

func (l *connList) remove(s *conn) {
	if s.prev != nil {
		s.prev.next = s.next
	} else if l.head == s {
		l.head = s.next
	}
	if s.next != nil {
		s.next.prev = s.prev
	} else if l.tail == s {
		l.tail = s.prev
	}
	s.prev, s.next = nil, nil
}

func (l *connList) moveToBack(s *conn) {
	if l.tail == s {
		return
	}
	l.remove(s)
	l.pushBack(s)
}
