package tcp

import (
	"bytes"
	"fmt"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/tracewire/tracewire/communityid"
	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/pcap/internal/stream"
)

// recorder is a parser that records what it is fed.
type recorder struct {
	conn   *stream.Conn
	chunks []stream.Chunk
	ended  bool
	at     time.Time
	why    stream.EndReason
}

func (r *recorder) Feed(c *stream.Chunk) {
	cp := *c
	cp.Data = bytes.Clone(c.Data)
	r.chunks = append(r.chunks, cp)
}

func (r *recorder) End(at time.Time, why stream.EndReason) {
	if r.ended {
		panic("End called twice")
	}
	r.ended, r.at, r.why = true, at, why
}

// data returns the bytes of one direction.
func (r *recorder) data(d stream.Dir) string {
	var b strings.Builder
	for _, c := range r.chunks {
		if c.Dir == d {
			b.Write(c.Data)
		}
	}
	return b.String()
}

// trace renders the chunks as "dir frame skip data" lines.
func (r *recorder) trace() string {
	var b strings.Builder
	for _, c := range r.chunks {
		d := "c"
		if c.Dir == stream.ServerToClient {
			d = "s"
		}
		fmt.Fprintf(&b, "%s f%d skip%d %q\n", d, c.Frame, c.Skip, c.Data)
	}
	return b.String()
}

type nopSink struct{}

func (nopSink) Entry(*stream.Conn, *har.Entry) {}
func (nopSink) Note(stream.Note)               {}

// harness runs packets through an Assembler and keeps the recorders.
type harness struct {
	t     *testing.T
	a     *Assembler
	recs  []*recorder
	ended []stream.Conn
	frame uint64
	t0    time.Time
}

func newHarness(t *testing.T, cfg Config) *harness {
	h := &harness{t: t, t0: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)}
	cfg.Factory = func(c *stream.Conn, _ stream.Sink) stream.Parser {
		r := &recorder{conn: c}
		h.recs = append(h.recs, r)
		return r
	}
	cfg.Sink = nopSink{}
	cfg.Ended = func(c *stream.Conn) { h.ended = append(h.ended, *c) }
	h.a = New(cfg)
	return h
}

// seg describes one segment: from "c" (client) or "s" (server).
type seg struct {
	from  string
	flags string // S, A, F, R
	seq   uint32 // relative to the side's ISN
	data  string
	at    time.Duration
}

var (
	cli = netip.MustParseAddrPort("10.0.0.1:51000")
	srv = netip.MustParseAddrPort("10.0.0.2:80")
)

const isnC, isnS = 1000, 5000000

func (h *harness) send(client, server netip.AddrPort, segs ...seg) {
	for _, s := range segs {
		src, dst, isn := client, server, uint32(isnC)
		if s.from == "s" {
			src, dst, isn = server, client, isnS
		}
		t := &layers.TCP{
			SrcPort: layers.TCPPort(src.Port()),
			DstPort: layers.TCPPort(dst.Port()),
			Seq:     isn + s.seq,
			SYN:     strings.Contains(s.flags, "S"),
			ACK:     strings.Contains(s.flags, "A"),
			FIN:     strings.Contains(s.flags, "F"),
			RST:     strings.Contains(s.flags, "R"),
		}
		t.Payload = []byte(s.data)
		h.frame++
		h.a.Add(&Packet{Src: src.Addr(), Dst: dst.Addr(), TCP: t, Time: h.t0.Add(s.at), Frame: h.frame})
	}
}

// handshake is a three-way handshake; data then starts at seq 1.
var handshake = []seg{{"c", "S", 0, "", 0}, {"s", "SA", 0, "", 1}, {"c", "A", 1, "", 2}}

func TestReassembly(t *testing.T) {
	tests := []struct {
		name   string
		segs   []seg
		client netip.AddrPort // expected client
		trace  string
		why    stream.EndReason
		gaps   int
	}{
		{
			name: "in order, both directions interleaved",
			segs: append(append([]seg{}, handshake...),
				seg{"c", "A", 1, "GET / HTTP/1.1\r\n", 3},
				seg{"c", "A", 17, "\r\n", 4},
				seg{"s", "A", 1, "HTTP/1.1 200 OK\r\n\r\n", 5},
				seg{"c", "A", 19, "GET /2", 6},
				seg{"s", "AF", 20, "", 7},
				seg{"c", "AF", 25, "", 8},
			),
			client: cli,
			trace: `c f4 skip0 "GET / HTTP/1.1\r\n"
c f5 skip0 "\r\n"
s f6 skip0 "HTTP/1.1 200 OK\r\n\r\n"
c f7 skip0 "GET /2"
`,
			why: stream.EndFIN,
		},
		{
			name: "out of order: each chunk keeps its packet's frame",
			segs: append(append([]seg{}, handshake...),
				seg{"c", "A", 4, "def", 3},
				seg{"c", "A", 7, "ghi", 4},
				seg{"c", "A", 1, "abc", 5},
			),
			client: cli,
			trace: `c f6 skip0 "abc"
c f4 skip0 "def"
c f5 skip0 "ghi"
`,
			why: stream.EndCapture,
		},
		{
			name: "retransmission and overlap give each byte once",
			segs: append(append([]seg{}, handshake...),
				seg{"c", "A", 1, "abcd", 3},
				seg{"c", "A", 1, "abcd", 4},
				seg{"c", "A", 3, "cdef", 5},
				seg{"c", "A", 7, "g", 6},
			),
			client: cli,
			trace: `c f4 skip0 "abcd"
c f6 skip0 "ef"
c f7 skip0 "g"
`,
			why: stream.EndCapture,
		},
		{
			name: "capture starts mid-connection: server guessed by port",
			segs: []seg{
				{"s", "A", 100, "TTP/1.1 200 OK\r\n", 0},
				{"c", "A", 50, "GET /x HTTP/1.1\r\n", 1},
			},
			client: cli,
			trace: `s f1 skip-1 "TTP/1.1 200 OK\r\n"
c f2 skip-1 "GET /x HTTP/1.1\r\n"
`,
			why: stream.EndCapture,
		},
		{
			name: "SYN/ACK seen first: its sender is the server",
			segs: []seg{
				{"s", "SA", 0, "", 0},
				{"c", "A", 1, "hello", 1},
			},
			client: cli,
			trace:  "c f2 skip-1 \"hello\"\n",
			why:    stream.EndCapture,
		},
		{
			name: "a lost segment becomes a gap once the capture moves on",
			segs: append(append([]seg{}, handshake...),
				seg{"c", "A", 1, "abc", 3},
				seg{"c", "A", 11, "klm", 4},
				seg{"s", "A", 1, "ok", 5},
				seg{"s", "A", 3, "!", 3 + 40*time.Second},
			),
			client: cli,
			trace: `c f4 skip0 "abc"
s f6 skip0 "ok"
c f5 skip7 "klm"
s f7 skip0 "!"
`,
			why:  stream.EndCapture,
			gaps: 1,
		},
		{
			name: "RST from one side, then idle: ends as closed",
			segs: append(append([]seg{}, handshake...),
				seg{"c", "A", 1, "abc", 3},
				seg{"s", "R", 1, "", 4},
			),
			client: cli,
			trace:  "c f4 skip0 \"abc\"\n",
			why:    stream.EndCapture,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, Config{})
			h.send(cli, srv, tt.segs...)
			h.a.Close()
			if len(h.recs) != 1 {
				t.Fatalf("%d connections, want 1", len(h.recs))
			}
			r := h.recs[0]
			if got := r.trace(); got != tt.trace {
				t.Errorf("chunks:\n%s\nwant:\n%s", got, tt.trace)
			}
			if !r.ended || r.why != tt.why {
				t.Errorf("ended %v why %v, want %v", r.ended, r.why, tt.why)
			}
			if r.conn.Client != tt.client {
				t.Errorf("client %v, want %v", r.conn.Client, tt.client)
			}
			if r.conn.Gaps != tt.gaps {
				t.Errorf("gaps %d, want %d", r.conn.Gaps, tt.gaps)
			}
			if len(h.ended) != 1 {
				t.Errorf("Ended called %d times", len(h.ended))
			}
			// Times come from the capture.
			last := h.t0.Add(tt.segs[len(tt.segs)-1].at)
			if !r.conn.Last.Equal(last) || !r.conn.First.Equal(h.t0.Add(tt.segs[0].at)) {
				t.Errorf("first/last %v %v", r.conn.First, r.conn.Last)
			}
			if int(r.conn.Bytes[0]) != len(r.data(0)) || int(r.conn.Bytes[1]) != len(r.data(1)) {
				t.Errorf("bytes %v, data %d/%d", r.conn.Bytes, len(r.data(0)), len(r.data(1)))
			}
		})
	}
}

func TestConnIdentity(t *testing.T) {
	next := uint64(7)
	h := newHarness(t, Config{CommunityID: communityid.Config{Seed: 1}, NewIndex: func() uint64 { next++; return next - 1 }})
	other := netip.MustParseAddrPort("10.0.0.1:51001")
	h.send(cli, srv, handshake[0])
	h.send(other, srv, handshake[0])
	h.send(cli, srv, handshake[1:]...)
	h.a.Close()
	if len(h.recs) != 2 {
		t.Fatalf("%d connections", len(h.recs))
	}
	for i, want := range []netip.AddrPort{cli, other} {
		c := h.recs[i].conn
		if c.Index != uint64(7+i) || c.Client != want || c.Server != srv {
			t.Errorf("conn %d: index %d %v→%v", i, c.Index, c.Client, c.Server)
		}
		id := communityid.Config{Seed: 1}.ID(communityid.Flow{Proto: 6, Src: want.Addr(), Dst: srv.Addr(), SrcPort: want.Port(), DstPort: srv.Port()})
		if c.CommunityID != id {
			t.Errorf("conn %d: community id %s, want %s", i, c.CommunityID, id)
		}
	}
	if next != 9 {
		t.Errorf("next index %d", next)
	}
}

// A parser that swaps the connection gets the next chunks with the new
// directions.
func TestSwapRedirects(t *testing.T) {
	h := newHarness(t, Config{})
	h.send(cli, srv, seg{"c", "A", 1, "HTTP/1.1 200 OK\r\n", 0})
	h.recs[0].conn.Swap()
	h.send(cli, srv, seg{"s", "A", 1, "GET / HTTP/1.1\r\n", 1})
	h.a.Close()
	r := h.recs[0]
	if r.conn.Client != srv {
		t.Fatalf("client %v", r.conn.Client)
	}
	if r.chunks[0].Dir != stream.ClientToServer || r.chunks[1].Dir != stream.ClientToServer {
		t.Errorf("dirs %v %v", r.chunks[0].Dir, r.chunks[1].Dir)
	}
	// The response was counted client→server, then moved by the swap.
	if r.conn.Bytes[stream.ClientToServer] != 16 || r.conn.Bytes[stream.ServerToClient] != 17 {
		t.Errorf("bytes %v", r.conn.Bytes)
	}
}

func TestIdleFlowsEndInCaptureTime(t *testing.T) {
	h := newHarness(t, Config{IdleTimeout: time.Minute})
	h.send(cli, srv, handshake...)
	h.send(cli, srv, seg{"c", "A", 1, "x", 3})
	other := netip.MustParseAddrPort("10.0.0.3:40000")
	// Another connection moves the capture's clock past the idle timeout.
	for i := 0; i < 10; i++ {
		h.send(other, srv, seg{"c", "A", uint32(i), "y", time.Duration(i) * 20 * time.Second})
	}
	if !h.recs[0].ended || h.recs[0].why != stream.EndIdle {
		t.Fatalf("first connection: ended %v why %v", h.recs[0].ended, h.recs[0].why)
	}
	if h.recs[1].ended {
		t.Fatal("the active connection was ended")
	}
	// A late packet of the idle connection starts a new one.
	h.send(cli, srv, seg{"c", "A", 2, "z", 200 * time.Second})
	h.a.Close()
	if len(h.recs) != 3 || h.recs[2].data(0) != "z" {
		t.Fatalf("%d connections", len(h.recs))
	}
	for _, r := range h.recs[1:] {
		if r.why != stream.EndCapture {
			t.Errorf("why %v", r.why)
		}
	}
}

// Late ACKs after both FINs must not open a new connection, but a new SYN
// on the same ports does.
func TestClosedConnectionReuse(t *testing.T) {
	h := newHarness(t, Config{})
	h.send(cli, srv, handshake...)
	h.send(cli, srv,
		seg{"c", "AF", 1, "a", 3},
		seg{"s", "AF", 1, "b", 4},
		seg{"c", "A", 3, "", 5},
	)
	if len(h.recs) != 1 || !h.recs[0].ended || h.recs[0].why != stream.EndFIN {
		t.Fatalf("after close: %d conns", len(h.recs))
	}
	h.send(cli, srv, seg{"c", "S", 100, "", 6}, seg{"c", "A", 101, "again", 7})
	h.a.Close()
	if len(h.recs) != 2 || h.recs[1].data(0) != "again" {
		t.Fatalf("%d connections", len(h.recs))
	}
}

// Many short connections: every one ends and is freed, so the open count and
// the heap stay small.
func TestManyFlowsBoundedMemory(t *testing.T) {
	h := newHarness(t, Config{})
	// Keep only counts: the harness's recorders would hold everything.
	n := 0
	h.a.cfg.Factory = func(c *stream.Conn, _ stream.Sink) stream.Parser { n++; return &recorder{conn: c} }
	ended := 0
	h.a.cfg.Ended = func(*stream.Conn) { ended++ }
	var heap0 runtime.MemStats
	payload := strings.Repeat("x", 1000)
	maxOpen := 0
	for i := 0; i < 60000; i++ {
		c := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), uint16(1024+i%50000))
		at := time.Duration(i) * time.Millisecond
		h.send(c, srv,
			seg{"c", "S", 0, "", at}, seg{"s", "SA", 0, "", at}, seg{"c", "A", 1, payload, at},
			seg{"s", "A", 1, payload, at}, seg{"c", "AF", 1001, "", at}, seg{"s", "AF", 1001, "", at},
		)
		maxOpen = max(maxOpen, h.a.Open())
		if i == 10000 {
			runtime.GC()
			runtime.ReadMemStats(&heap0)
		}
	}
	runtime.GC()
	var heap1 runtime.MemStats
	runtime.ReadMemStats(&heap1)
	h.a.Close()
	if n != 60000 || ended != 60000 {
		t.Fatalf("%d connections, %d ended", n, ended)
	}
	if maxOpen > 1 {
		t.Errorf("up to %d connections open at once", maxOpen)
	}
	// Closed connections are freed at once; only their 4-tuples are
	// remembered for two minutes of capture time (all 50000 here), to
	// recognise the stragglers of the close.
	grow := int64(heap1.HeapAlloc) - int64(heap0.HeapAlloc)
	t.Logf("heap grew by %d KiB", grow>>10)
	if grow > 24<<20 {
		t.Errorf("heap grew by %d MiB over 50000 closed connections", grow>>20)
	}
}
