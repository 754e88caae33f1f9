package pcap

import (
	"bytes"
	"fmt"
	"runtime/debug"
	"strings"
	"time"

	"github.com/tracewire/tracewire/communityid"
	"github.com/tracewire/tracewire/pcap/internal/http1"
	"github.com/tracewire/tracewire/pcap/internal/http2"
	"github.com/tracewire/tracewire/pcap/internal/http3"
	"github.com/tracewire/tracewire/pcap/internal/httpmsg"
	"github.com/tracewire/tracewire/pcap/internal/quic"
	"github.com/tracewire/tracewire/pcap/internal/stream"
	"github.com/tracewire/tracewire/pcap/internal/tls"
)

// dispatcher picks the parser of each connection from its first bytes,
// never from its ports: a TLS ClientHello, the HTTP/2 connection preface,
// or an HTTP/1 request or response. Inside TLS the same sniffing runs on
// the decrypted bytes (unless ALPN already said), so TLS inside TLS works
// too.
type dispatcher struct {
	keys   *tls.Keys
	limits httpmsg.Limits
	// tunnel is what a packet tunnel inside a connection (X3) needs to
	// reassemble the connections it carries; without newIndex tunnels are
	// not opened.
	tunnel struct {
		newIndex    func() uint64
		ended       func(*stream.Conn)
		communityID communityid.Config
		idle        time.Duration
	}
}

// sniffMax is how many bytes per direction are held while the protocol is
// unknown; a request line, a ClientHello's first record header or the
// HTTP/2 preface is recognised long before.
const sniffMax = 4096

// maxHeld bounds the bytes held (both directions) before a decision is
// forced.
const maxHeld = 64 << 10

// maxTLSDepth bounds TLS inside TLS.
const maxTLSDepth = 4

// factory returns the stream.Factory for connections at a TLS depth (0:
// the TCP connection itself).
func (d *dispatcher) factory(depth int) stream.Factory {
	return func(c *stream.Conn, sink stream.Sink) stream.Parser {
		if depth > 0 {
			// ALPN settles it without sniffing.
			switch c.ALPN {
			case "h2":
				c.Protocol = prefix(depth) + "h2"
				return http2.New(c, sink, http2.Config{TLS: true, Limits: d.limits})
			case "http/1.1", "http/1.0":
				return d.http1(c, sink, depth)
			}
		}
		s := &sniffer{d: d, c: c, sink: sink, depth: depth}
		if depth == 0 {
			return &guard{p: s, c: c, sink: sink}
		}
		return s
	}
}

// prefix is the Protocol prefix of a parser inside depth layers of TLS.
func prefix(depth int) string { return strings.Repeat("tls→", depth) }

func (d *dispatcher) http1(c *stream.Conn, sink stream.Sink, depth int) stream.Parser {
	c.Protocol = prefix(depth) + "http/1"
	return http1.New(c, sink, http1.Config{
		TLS:       depth > 0,
		Limits:    d.limits,
		WebSocket: true,
		Upgrade: func(protocol string, req *httpmsg.Message) stream.Parser {
			switch strings.ToLower(strings.TrimSpace(protocol)) {
			case "h2c":
				c.Protocol = prefix(depth) + "h2c"
				return http2.New(c, sink, http2.Config{TLS: depth > 0, Limits: d.limits, Upgraded: req})
			case "connect":
				// A proxy tunnel: what goes through it (usually TLS) is
				// sniffed like a new connection.
				return &sniffer{d: d, c: c, sink: sink, depth: depth}
			}
			// Others: the handshake is an entry, the bytes after it are
			// not decoded. (WebSocket is decoded by the HTTP/1 parser.)
			return nil
		},
	})
}

func (d *dispatcher) tls(c *stream.Conn, sink stream.Sink, depth int) stream.Parser {
	c.Protocol = prefix(depth) + "tls"
	if depth >= maxTLSDepth {
		return discard{}
	}
	return tls.New(c, sink, tls.Config{Keys: d.keys, Inner: d.factory(depth + 1)})
}

// http3 makes the parser of a decrypted QUIC connection's streams: HTTP/3
// when the ALPN says so (h3, or a draft's h3-NN), nothing otherwise.
func (d *dispatcher) http3(c *stream.Conn, sink stream.Sink, alpn string) quic.App {
	if alpn != "h3" && !strings.HasPrefix(alpn, "h3-") {
		return nil
	}
	return http3.New(c, sink, http3.Config{Limits: d.limits})
}

// sniffer holds a connection's first chunks until it can tell the protocol,
// then replays them to the parser it picked.
type sniffer struct {
	d     *dispatcher
	c     *stream.Conn
	sink  stream.Sink
	depth int

	p         stream.Parser
	dropped   bool
	held      []stream.Chunk
	heldBytes int
	buf       [2][]byte
	// replied marks a direction whose first message is complete because
	// the other side has answered.
	replied [2]bool
}

func (s *sniffer) Feed(ch *stream.Chunk) {
	if s.p != nil {
		s.p.Feed(ch)
		return
	}
	if s.dropped {
		return
	}
	d := ch.Dir
	if len(s.buf[d.Reverse()]) > 0 {
		s.replied[d.Reverse()] = true
	}
	if ch.Skip != 0 && len(s.buf[d]) > 0 {
		// A gap inside the bytes being sniffed: what came before does not
		// join what follows. Sniff on.
		s.replied[d] = true
	}
	cp := *ch
	cp.Data = bytes.Clone(ch.Data)
	s.held = append(s.held, cp)
	s.heldBytes += len(cp.Data)
	if room := sniffMax - len(s.buf[d]); room > 0 {
		s.buf[d] = append(s.buf[d], ch.Data[:min(room, len(ch.Data))]...)
	}
	// One side may talk on and on while the other is silent (a capture
	// that starts mid-response): decide with what there is.
	s.decide(s.heldBytes > maxHeld)
}

// Held implements stream.Holder.
func (s *sniffer) Held() int {
	if s.p != nil {
		return held(s.p)
	}
	return s.heldBytes
}

// held is what a parser holds, 0 when it does not say.
func held(p stream.Parser) int {
	if h, ok := p.(stream.Holder); ok {
		return h.Held()
	}
	return 0
}

func (s *sniffer) End(at time.Time, why stream.EndReason) {
	if s.p == nil && !s.dropped {
		s.decide(true)
	}
	if s.p != nil {
		s.p.End(at, why)
	}
	s.held = nil
}

// protocol is what sniffing found in one direction's first bytes.
type protocol int

const (
	protoWait    protocol = iota // not enough bytes to tell
	protoUnknown                 // none of ours
	protoTLS
	protoTLSMid // TLS records without the handshake
	protoH2
	protoRequest
	protoResponse
	protoX3 // lawful-interception handover of packets (see x3.go)
)

// sniff classifies the first bytes of a direction; final means no more
// bytes will come before the decision.
func sniff(b []byte, final bool) protocol {
	if len(b) == 0 {
		if final {
			return protoUnknown
		}
		return protoWait
	}
	switch {
	case tls.LooksLikeClientHello(b), len(b) >= 6 && tlsRecord(b) && b[0] == 22 && b[5] == 1:
		// A handshake record holding a ClientHello: the TLS parser copes
		// with one that is odd or spread over several records.
		return protoTLS
	case len(b) < 6 && tlsRecord(b) && b[0] == 22:
		if !final {
			return protoWait
		}
	case http2.IsPreface(b):
		if len(b) >= len(http2Preface) {
			return protoH2
		}
	case http1.LooksLikeRequest(b):
		return protoRequest
	case http1.LooksLikeResponse(b):
		return protoResponse
	case x3Header(b):
		return protoX3
	case tlsRecord(b):
		return protoTLSMid
	}
	if final || len(b) >= sniffMax {
		return protoUnknown
	}
	return protoWait
}

const http2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// tlsRecord reports whether b starts with a TLS record header (a capture
// that started after the handshake).
func tlsRecord(b []byte) bool {
	if len(b) < 5 || b[0] < 20 || b[0] > 24 || b[1] != 3 || b[2] > 4 {
		return false
	}
	n := int(b[3])<<8 | int(b[4])
	return n > 0 && n <= 16384+2048
}

func (s *sniffer) decide(final bool) {
	c2s := sniff(s.buf[stream.ClientToServer], final || s.replied[stream.ClientToServer])
	s2c := sniff(s.buf[stream.ServerToClient], final || s.replied[stream.ServerToClient])
	switch {
	case c2s == protoTLS:
		s.start(s.d.tls(s.c, s.sink, s.depth))
	case c2s == protoH2:
		s.startH2()
	case c2s == protoRequest, c2s != protoWait && s2c == protoResponse:
		s.start(s.d.http1(s.c, s.sink, s.depth))
	// The client was guessed wrong (a capture that starts mid-connection
	// with both ports high): what the "server" sends is a client's.
	case s2c == protoTLS && c2s != protoWait:
		s.swap()
		s.start(s.d.tls(s.c, s.sink, s.depth))
	case s2c == protoH2 && c2s != protoWait:
		s.swap()
		s.startH2()
	case s2c == protoRequest && c2s != protoWait:
		s.swap()
		s.start(s.d.http1(s.c, s.sink, s.depth))
	case c2s == protoX3:
		s.start(s.d.x3(s.c, s.sink, s.depth))
	case c2s == protoWait || s2c == protoWait:
		// Not yet.
	case c2s == protoTLSMid || s2c == protoTLSMid:
		s.c.Protocol = prefix(s.depth) + "tls"
		s.sink.Note(stream.Note{Conn: s.c, Time: s.held[0].Time, Kind: "tls", Cause: "handshake",
			Reason: "no TLS handshake in the capture (it starts after the connection was set up); cannot decrypt"})
		s.drop()
	default:
		s.unknown()
	}
}

func (s *sniffer) startH2() {
	name := "h2c"
	if s.depth > 0 {
		name = "h2"
	}
	s.c.Protocol = prefix(s.depth) + name
	s.start(http2.New(s.c, s.sink, http2.Config{TLS: s.depth > 0, Limits: s.d.limits}))
}

// unknown handles a connection none of our parsers recognises. The HTTP/1
// parser resynchronises on the next request or status line, so it is
// given the bytes: a capture that starts in the middle of a body still
// yields the following exchanges. Inside TLS, the bytes are something else
// (a tunnelled protocol we do not parse).
func (s *sniffer) unknown() {
	if s.depth > 0 {
		d := stream.ClientToServer
		if len(s.buf[d]) == 0 {
			d = stream.ServerToClient
		}
		b := s.buf[d][:min(16, len(s.buf[d]))]
		if len(s.held) > 0 {
			s.sink.Note(stream.Note{Conn: s.c, Time: s.held[0].Time, Kind: "http",
				Reason: fmt.Sprintf("the decrypted bytes are no protocol tracewire parses (%s sent first: % x); not parsed", d, b)})
		}
		s.drop()
		return
	}
	s.start(s.d.http1(s.c, s.sink, s.depth))
	// Until the parser finds a message (see converter.ended), nothing was
	// recognised.
	s.c.Protocol = ""
}

func (s *sniffer) swap() {
	s.c.Swap()
	for i := range s.held {
		s.held[i].Dir = s.held[i].Dir.Reverse()
	}
	s.buf[0], s.buf[1] = s.buf[1], s.buf[0]
}

func (s *sniffer) start(p stream.Parser) {
	s.p = p
	held := s.held
	s.held, s.buf = nil, [2][]byte{}
	client := s.c.Client
	for i := range held {
		p.Feed(&held[i])
		if s.c.Client != client {
			// The parser found the connection seen from the wrong side and
			// swapped it; the chunks still to replay carry the old labels
			// (the reassembler relabels only the chunks it sends later).
			client = s.c.Client
			for j := i + 1; j < len(held); j++ {
				held[j].Dir = held[j].Dir.Reverse()
			}
		}
	}
}

func (s *sniffer) drop() {
	s.dropped = true
	s.held, s.buf = nil, [2][]byte{}
}

// guard stops a parser failure from ending the whole conversion: a panic
// (a bug) becomes a note on its flow and the flow's remaining bytes are
// dropped.
type guard struct {
	p    stream.Parser
	c    *stream.Conn
	sink stream.Sink
	dead bool
}

func (g *guard) Feed(ch *stream.Chunk) {
	if g.dead {
		return
	}
	defer g.recover(ch.Time, ch.Frame)
	g.p.Feed(ch)
}

// Held implements stream.Holder.
func (g *guard) Held() int {
	if g.dead {
		return 0
	}
	return held(g.p)
}

func (g *guard) End(at time.Time, why stream.EndReason) {
	if g.dead {
		return
	}
	defer g.recover(at, 0)
	g.p.End(at, why)
}

func (g *guard) recover(at time.Time, frame uint64) {
	if r := recover(); r != nil {
		g.dead = true
		where := ""
		if frame > 0 {
			where = fmt.Sprintf(" at frame %d", frame)
		}
		g.sink.Note(stream.Note{Conn: g.c, Time: at, Kind: "internal",
			Reason: fmt.Sprintf("parser failed%s: %v [%s]", where, r, stackLines(debug.Stack()))})
	}
}

// stackLines keeps the file:line positions of a stack trace, without the
// addresses and goroutine numbers that differ from run to run.
func stackLines(st []byte) string {
	var out []string
	for _, l := range strings.Split(string(st), "\n") {
		l = strings.TrimSpace(l)
		if !strings.Contains(l, ".go:") || strings.Contains(l, "/runtime/") {
			continue
		}
		if i := strings.LastIndex(l, " +0x"); i > 0 {
			l = l[:i]
		}
		if i := strings.LastIndex(l, "/"); i > 0 {
			l = l[i+1:]
		}
		out = append(out, l)
		if len(out) == 8 {
			break
		}
	}
	return strings.Join(out, " < ")
}

// discard drops a connection's bytes.
type discard struct{}

func (discard) Feed(*stream.Chunk)              {}
func (discard) End(time.Time, stream.EndReason) {}
