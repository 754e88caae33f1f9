package pcap

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/pcap/internal/httpmsg"
	"github.com/tracewire/tracewire/pcap/internal/stream"
	"github.com/tracewire/tracewire/pcap/internal/tls"
)

type sinkRec struct {
	entries []*har.Entry
	notes   []stream.Note
}

func (s *sinkRec) Entry(_ *stream.Conn, e *har.Entry) { s.entries = append(s.entries, e) }
func (s *sinkRec) Note(n stream.Note)                 { s.notes = append(s.notes, n) }

// A ClientHello record header: handshake, TLS 1.0 record version, length,
// then handshake type 1.
var clientHello = "\x16\x03\x01\x00\x40\x01\x00\x00\x3c\x03\x03" + strings.Repeat("\x00", 60)

func TestDispatch(t *testing.T) {
	type feed struct {
		dir  stream.Dir
		data string
	}
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		feeds    []feed
		protocol string
		swapped  bool
		entries  int
		noteKind string
	}{
		{name: "HTTP/1 request", feeds: []feed{
			{0, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"}, {1, "HTTP/1.1 204 No Content\r\n\r\n"},
		}, protocol: "http/1", entries: 1},
		{name: "HTTP/1 request line split over chunks", feeds: []feed{
			{0, "GE"}, {0, "T /a HT"}, {0, "TP/1.1\r\nHost: x\r\n\r\n"}, {1, "HTTP/1.1 204 No Content\r\n\r\n"},
		}, protocol: "http/1", entries: 1},
		{name: "request from the side taken for the server", feeds: []feed{
			{1, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"}, {0, "HTTP/1.1 204 No Content\r\n\r\n"},
		}, protocol: "http/1", swapped: true, entries: 1},
		{name: "capture starts with a response body, then a new exchange", feeds: []feed{
			{1, "tail of an earlier body"}, {0, "GET /b HTTP/1.1\r\nHost: x\r\n\r\n"}, {1, "HTTP/1.1 204 No Content\r\n\r\n"},
		}, protocol: "http/1", entries: 1},
		{name: "TLS ClientHello on any port", feeds: []feed{{0, clientHello}}, protocol: "tls"},
		{name: "TLS records without the handshake", feeds: []feed{
			{0, "\x17\x03\x03\x00\x20" + strings.Repeat("x", 32)}, {1, "\x17\x03\x03\x00\x20" + strings.Repeat("y", 32)},
		}, protocol: "tls", noteKind: "tls"},
		{name: "h2c prior knowledge", feeds: []feed{{0, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"}}, protocol: "h2c"},
		{name: "something else", feeds: []feed{
			{1, "SSH-2.0-OpenSSH_9.6\r\n"}, {0, "SSH-2.0-OpenSSH_9.6\r\n"}, {1, "\x00\x00\x05\xdc\x08\x14binary"},
		}, protocol: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &dispatcher{keys: tls.NewKeys(), limits: httpmsg.DefaultLimits}
			cli, srv := netip.MustParseAddrPort("10.0.0.1:40000"), netip.MustParseAddrPort("10.0.0.2:5555")
			c := &stream.Conn{Client: cli, Server: srv, First: t0}
			sink := &sinkRec{}
			p := d.factory(0)(c, sink)
			for i, f := range tt.feeds {
				// Directions are as the reassembler gives them: fixed by
				// the addresses, so they follow a swap.
				dir := f.dir
				if c.Client != cli {
					dir = dir.Reverse()
				}
				p.Feed(&stream.Chunk{Dir: dir, Data: []byte(f.data), Time: t0.Add(time.Duration(i) * time.Millisecond), Frame: uint64(i + 1)})
			}
			p.End(t0.Add(time.Second), stream.EndFIN)
			if c.Protocol != tt.protocol {
				t.Errorf("protocol %q, want %q", c.Protocol, tt.protocol)
			}
			if (c.Client != cli) != tt.swapped {
				t.Errorf("client %v", c.Client)
			}
			if len(sink.entries) != tt.entries {
				t.Errorf("%d entries, want %d", len(sink.entries), tt.entries)
			}
			var kinds []string
			for _, n := range sink.notes {
				kinds = append(kinds, n.Kind)
				if n.Kind == "internal" {
					t.Error(n.Reason)
				}
			}
			if tt.noteKind != "" && !strings.Contains(strings.Join(kinds, ","), tt.noteKind) {
				t.Errorf("notes %v, want a %s note", kinds, tt.noteKind)
			}
		})
	}
}

// One direction talking on while the other stays silent does not make the
// sniffer hold more than maxHeld bytes.
func TestSnifferBounded(t *testing.T) {
	d := &dispatcher{keys: tls.NewKeys(), limits: httpmsg.DefaultLimits}
	c := &stream.Conn{}
	s := d.factory(0)(c, &sinkRec{}).(*guard).p.(*sniffer)
	chunk := []byte(strings.Repeat("\x00\x01", 700))
	for i := 0; i < 200; i++ {
		s.Feed(&stream.Chunk{Dir: stream.ServerToClient, Data: chunk})
		if s.heldBytes > maxHeld+len(chunk) {
			t.Fatalf("holding %d bytes", s.heldBytes)
		}
	}
	if s.p == nil && !s.dropped {
		t.Error("still undecided")
	}
}

// A parser that panics costs its flow, not the conversion.
func TestGuard(t *testing.T) {
	sink := &sinkRec{}
	c := &stream.Conn{Index: 3}
	g := &guard{p: panicky{}, c: c, sink: sink}
	g.Feed(&stream.Chunk{Data: []byte("x"), Frame: 7})
	g.Feed(&stream.Chunk{Data: []byte("y")})
	g.End(time.Time{}, stream.EndFIN)
	if len(sink.notes) != 1 || sink.notes[0].Kind != "internal" || !strings.Contains(sink.notes[0].Reason, "frame 7") ||
		!strings.Contains(sink.notes[0].Reason, "dispatch_test.go") {
		t.Fatalf("notes %+v", sink.notes)
	}
	if strings.Contains(sink.notes[0].Reason, "0x") {
		t.Errorf("the note has addresses, which differ between runs: %s", sink.notes[0].Reason)
	}
}

type panicky struct{}

func (panicky) Feed(*stream.Chunk)              { panic("boom") }
func (panicky) End(time.Time, stream.EndReason) { panic("boom") }

// TestReplayAfterSwap covers a capture that starts mid-body on both sides:
// the sniffer holds chunks until it gives up, and the HTTP/1 parser, while
// the held chunks are replayed, finds the request on the side taken for the
// server and swaps the connection. The held chunks still to replay must
// follow the swap, or the response would be read as client data.
func TestReplayAfterSwap(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	d := &dispatcher{keys: tls.NewKeys(), limits: httpmsg.DefaultLimits}
	cli, srv := netip.MustParseAddrPort("10.0.0.1:40000"), netip.MustParseAddrPort("10.0.0.2:5555")
	c := &stream.Conn{Client: cli, Server: srv, First: t0}
	sink := &sinkRec{}
	p := d.factory(0)(c, sink)
	feeds := []struct {
		dir  stream.Dir
		data string
	}{
		{0, "tail of an earlier body"},
		{1, "junk\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n"},
		{0, "HTTP/1.1 204 No Content\r\n\r\n"},
	}
	for i, f := range feeds {
		dir := f.dir
		if c.Client != cli {
			dir = dir.Reverse()
		}
		p.Feed(&stream.Chunk{Dir: dir, Data: []byte(f.data), Time: t0.Add(time.Duration(i) * time.Millisecond), Frame: uint64(i + 1)})
	}
	p.End(t0.Add(time.Second), stream.EndFIN)
	if c.Client != srv {
		t.Fatalf("client %v, want the swapped %v", c.Client, srv)
	}
	if len(sink.entries) != 1 {
		t.Fatalf("%d entries, want 1", len(sink.entries))
	}
	if got := sink.entries[0].Response.Status; got != 204 {
		t.Errorf("response status %d, want 204 (the held response was replayed with its old direction)", got)
	}
}
