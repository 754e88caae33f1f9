package http1

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/pcap/internal/httpmsg"
	"github.com/tracewire/tracewire/pcap/internal/stream"
	"github.com/tracewire/tracewire/pcap/internal/websocket"
)

// Config configures a parser.
type Config struct {
	// TLS says the bytes were decrypted from TLS (for the URL scheme).
	TLS    bool
	Limits httpmsg.Limits
	// Upgrade is called when a response switches protocols (101 after an
	// Upgrade request, e.g. "h2c" or "websocket", or "connect" for a 2xx
	// answer to CONNECT). The bytes after the switch go to the parser it
	// returns, or are dropped when it returns nil. For h2c the upgrading
	// request is given so it becomes stream 1; req is nil when the request
	// is not in the capture.
	Upgrade func(protocol string, req *httpmsg.Message) stream.Parser
	// WebSocket makes the parser decode the frames after a 101 to
	// "websocket" itself: the handshake's entry is then handed to the sink
	// when the connection ends, with the messages as "_webSocketMessages",
	// and Upgrade is not called for it.
	WebSocket bool
}

// Bounds on what one connection may hold.
const (
	// maxHeaderBytes bounds a header section (request or status line,
	// headers, or trailers).
	maxHeaderBytes = 1 << 20
	// maxScanLine bounds a line examined while resynchronising; longer
	// lines are skipped.
	maxScanLine = 64 << 10
	// maxLooseLine is how long a line where a message should start may get
	// before it must at least start like one.
	maxLooseLine = 8 << 10
	// maxChunkLine bounds a chunk-size line with its extensions.
	maxChunkLine = 4 << 10
	// maxHeld bounds the bytes of one direction held while it waits for
	// the other (a response for its request, a request for its upgrade).
	maxHeld = 4 << 20
	// maxPending bounds requests waiting for their responses.
	maxPending = 1024
	// maxNotes bounds the notes per connection.
	maxNotes = 10
)

// New returns a parser for one connection.
func New(c *stream.Conn, sink stream.Sink, cfg Config) stream.Parser {
	p := &parser{conn: c, sink: sink, cfg: cfg, lim: cfg.Limits}
	if p.lim.MaxBody <= 0 {
		p.lim.MaxBody = httpmsg.DefaultLimits.MaxBody
	}
	if p.lim.MaxDecoded <= 0 {
		p.lim.MaxDecoded = httpmsg.DefaultLimits.MaxDecoded
	}
	p.h[stream.ClientToServer] = &half{p: p, synced: true}
	p.h[stream.ServerToClient] = &half{p: p, server: true, synced: true}
	return p
}

type parser struct {
	conn *stream.Conn
	sink stream.Sink
	cfg  Config
	lim  httpmsg.Limits

	// h is indexed by stream.Dir: h[0] parses requests, h[1] responses.
	h [2]*half
	// pending holds the exchanges whose request was seen, oldest first,
	// until both messages are complete.
	pending []*exchange
	// upgradeWait is an Upgrade or CONNECT request whose response decides
	// whether the client's next bytes are still HTTP.
	upgradeWait *exchange
	// roleKnown is set once a message has shown which side is the client.
	roleKnown bool
	// tunnel gets every byte after a protocol switch; dead drops them.
	tunnel stream.Parser
	dead   bool
	ending bool
	// seq numbers chunks in the order they were fed.
	seq        uint64
	notes      int
	suppressed int
	overflow   bool
	// pipelined is set once a response was paired while a later request
	// had already started: the client does not wait for responses.
	pipelined bool
}

// exchange is a request and its response.
type exchange struct {
	req, resp         *message
	reqDone, respDone bool
	pushed            bool
	// v09 marks a request line without a version: HTTP/0.9 unless header
	// lines follow.
	v09     bool
	head    bool
	connect bool
	upgrade bool
	interim []string
	// respLost marks a request whose response the capture lost in a gap.
	respLost bool
}

// message is a message being parsed.
type message struct {
	m        httpmsg.Message
	bodyLen  int64
	warnings []string
	start    meta
}

// meta locates a byte in the capture.
type meta struct {
	t     time.Time
	frame uint64
	seq   uint64
}

// before reports whether a was captured before b.
func (a meta) before(b meta) bool {
	if a.frame != 0 && b.frame != 0 {
		return a.frame < b.frame
	}
	if !a.t.Equal(b.t) {
		return a.t.Before(b.t)
	}
	return a.seq < b.seq
}

func (m *message) warn(s string) {
	if !slices.Contains(m.warnings, s) {
		m.warnings = append(m.warnings, s)
	}
}

// touch records that bytes of c belong to m.
func (m *message) touch(c *stream.Chunk) {
	m.m.End = c.Time
	for _, s := range c.Comments {
		if !slices.Contains(m.m.Comments, s) {
			m.m.Comments = append(m.m.Comments, s)
		}
	}
}

// heldChunk is a chunk kept (copied) while its direction waits.
type heldChunk struct {
	c   stream.Chunk
	seq uint64
}

func (p *parser) Feed(c *stream.Chunk) {
	if p.dead {
		return
	}
	if p.tunnel != nil {
		p.tunnel.Feed(c)
		return
	}
	p.seq++
	h := p.h[c.Dir&1]
	h.last, h.seen = metaOf(c, p.seq), true
	if len(h.held) > 0 || h.blocked() {
		h.hold(c, p.seq)
	} else {
		p.run(h, c, p.seq)
	}
	p.drain()
}

// run processes a chunk in h; what h cannot take now is held, or handed
// to the tunnel after a protocol switch.
func (p *parser) run(h *half, c *stream.Chunk, seq uint64) {
	h.gap(c, seq)
	n := h.process(c, seq)
	if p.tunnel != nil || p.dead {
		rest := *c
		rest.Data, rest.Skip = c.Data[n:], 0
		p.toTunnel(&rest, seq)
		return
	}
	if n < len(c.Data) {
		rest := *c
		rest.Data, rest.Skip = c.Data[n:], 0
		h.holdFront(&rest, seq)
	}
}

// drain processes held chunks of directions that no longer wait.
func (p *parser) drain() {
	for progress := true; progress; {
		progress = false
		for _, h := range p.h {
			if p.tunnel != nil || p.dead {
				p.toTunnel(nil, 0)
				return
			}
			if h.waitReq && h.canResume() {
				h.resumeResponse()
				progress = true
			}
			for len(h.held) > 0 && !h.blocked() && p.tunnel == nil && !p.dead {
				hc := h.held[0]
				h.held = h.held[1:]
				h.heldBytes -= len(hc.c.Data) + heldOverhead
				p.run(h, &hc.c, hc.seq)
				progress = true
			}
		}
	}
	if p.tunnel != nil || p.dead {
		p.toTunnel(nil, 0)
	}
}

// toTunnel hands the rest of the current chunk and every held chunk, in
// the order they were fed, to the parser of the switched protocol.
func (p *parser) toTunnel(rest *stream.Chunk, seq uint64) {
	var all []heldChunk
	for _, h := range p.h {
		all = append(all, h.held...)
		h.held, h.heldBytes = nil, 0
	}
	if rest != nil && len(rest.Data) > 0 {
		all = append(all, heldChunk{c: *rest, seq: seq})
	}
	if p.tunnel == nil || len(all) == 0 {
		return
	}
	slices.SortStableFunc(all, func(a, b heldChunk) int {
		switch {
		case a.seq < b.seq:
			return -1
		case a.seq > b.seq:
			return 1
		}
		return 0
	})
	for i := range all {
		p.tunnel.Feed(&all[i].c)
	}
}

// Held implements stream.Holder: the bytes of messages not yet handed to
// the sink and of chunks held while a direction waits.
func (p *parser) Held() int {
	if p.tunnel != nil {
		if h, ok := p.tunnel.(stream.Holder); ok {
			return h.Held()
		}
		return 0
	}
	n := 0
	for _, h := range p.h {
		n += h.heldBytes + cap(h.line)
		if h.msg != nil && (h.x == nil || !h.x.pushed) {
			n += h.msg.size()
		}
	}
	for _, x := range p.pending {
		n += x.req.size()
		if x.resp != nil {
			n += x.resp.size()
		}
	}
	return n
}

// size is about what a message holds in memory.
func (m *message) size() int {
	if m == nil {
		return 0
	}
	n := cap(m.m.Body) + 256
	for _, h := range m.m.Headers {
		n += len(h.Name) + len(h.Value) + 32
	}
	return n
}

func (p *parser) End(at time.Time, why stream.EndReason) {
	if p.dead {
		return
	}
	if p.tunnel != nil {
		p.tunnel.End(at, why)
		return
	}
	p.ending = true
	p.upgradeWait = nil
	p.drain()
	if p.tunnel != nil {
		p.tunnel.End(at, why)
		return
	}
	if p.dead {
		return
	}
	p.h[stream.ClientToServer].finish(why, false)
	p.h[stream.ServerToClient].finish(why, false)
	for _, x := range p.pending {
		x.reqDone = true
		if x.resp != nil {
			x.respDone = true
		}
	}
	p.flush(true)
	if p.suppressed > 0 {
		p.sink.Note(stream.Note{Conn: p.conn, Time: at, Kind: "http",
			Reason: fmt.Sprintf("%d more HTTP/1 parse notes for this connection were left out", p.suppressed)})
	}
}

// note reports something about the connection, a few times at most.
func (p *parser) note(t time.Time, format string, args ...any) {
	if p.notes >= maxNotes {
		p.suppressed++
		return
	}
	p.notes++
	p.sink.Note(stream.Note{Conn: p.conn, Time: t, Kind: "http", Reason: fmt.Sprintf(format, args...)})
}

// found records that the connection carries HTTP/1.
func (p *parser) found() {
	if p.conn.Protocol == "" {
		p.conn.Protocol = "http/1"
	}
}

// swap exchanges the roles of the directions, when the side taken as the
// client sends responses.
func (p *parser) swap() {
	p.conn.Swap()
	p.h[0], p.h[1] = p.h[1], p.h[0]
	p.h[0].server, p.h[1].server = false, true
	for _, h := range p.h {
		for i := range h.held {
			h.held[i].c.Dir = h.held[i].c.Dir.Reverse()
		}
	}
}

// push queues an exchange whose request has started.
func (p *parser) push(x *exchange) {
	if x.pushed {
		return
	}
	x.pushed = true
	p.pending = append(p.pending, x)
	if len(p.pending) > maxPending && p.pending[0].reqDone {
		// A one-sided capture: answer the oldest with nothing rather
		// than hold requests without bound.
		if !p.overflow {
			p.overflow = true
			p.note(x.req.m.Start, "more than %d requests without responses; the oldest are written without one", maxPending)
		}
		old := p.pending[0]
		p.pending = p.pending[1:]
		if old.resp != nil {
			old.respDone = true
		}
		p.emit(old)
	}
}

// nextForResponse is the oldest exchange still waiting for its response.
func (p *parser) nextForResponse() *exchange {
	for _, x := range p.pending {
		if x.resp == nil && !x.respLost {
			return x
		}
	}
	return nil
}

// skipLost returns the exchange a response starting at ms answers, x
// being the oldest waiting for one. After a gap in the responses
// (afterGap), the responses of x and of the requests after it may have
// been lost: a client that waits for each response before it sends the
// next request (keep-alive without pipelining, as the connection has shown
// so far) sent request y only after receiving the response to the one
// before. So if a later request y began before this response did, the
// responses to the requests before y were lost: those requests are marked
// (incomplete, with a warning) and this response pairs with the latest
// such y. Without a gap, the oldest waiting request is the one.
func (p *parser) skipLost(x *exchange, ms *message, afterGap bool) *exchange {
	i := slices.Index(p.pending, x)
	if i < 0 {
		return x
	}
	later := func(j int) *exchange {
		for ; j < len(p.pending); j++ {
			if y := p.pending[j]; y.resp == nil && !y.respLost {
				return y
			}
		}
		return nil
	}
	if !afterGap || p.pipelined {
		if y := later(i + 1); y != nil && y.req.start.before(ms.start) {
			p.pipelined = true
		}
		return x
	}
	for {
		y := later(slices.Index(p.pending, x) + 1)
		if y == nil || !y.req.start.before(ms.start) {
			return x
		}
		x.respLost = true
		x.respDone = true
		x.req.m.Incomplete = true
		x.req.warn(fmt.Sprintf("the response to this request was lost in a gap in the capture (the next response, frame %d, answers a later request)", ms.start.frame))
		x = y
	}
}

// flush emits the complete exchanges at the head of the queue; all, at
// the end of the connection.
func (p *parser) flush(all bool) {
	for len(p.pending) > 0 {
		x := p.pending[0]
		if !all && !(x.reqDone && x.respDone) {
			return
		}
		p.pending = p.pending[1:]
		p.emit(x)
	}
}

// emit hands an exchange to the sink.
func (p *parser) emit(x *exchange) { p.emitWith(x, nil) }

// emitWith hands an exchange to the sink after add changed its entry.
func (p *parser) emitWith(x *exchange, add func(*har.Entry)) {
	req := finalize(x.req)
	var resp *httpmsg.Message
	if x.resp != nil {
		resp = finalize(x.resp)
		if len(x.interim) > 0 {
			resp.Extra.Set("_interim", slices.Clone(x.interim))
		}
	}
	e := httpmsg.BuildEntry(p.conn, req, resp, p.cfg.TLS, p.lim)
	if add != nil {
		add(e)
	}
	p.conn.Requests++
	p.sink.Entry(p.conn, e)
}

func finalize(ms *message) *httpmsg.Message {
	m := &ms.m
	m.BodyLen = ms.bodyLen
	if len(ms.warnings) > 0 {
		m.Extra.Set("_warnings", slices.Clone(ms.warnings))
	}
	if m.End.IsZero() {
		m.End = m.Start
	}
	return m
}

// switchProtocols ends HTTP/1 on the connection after a 101 or a 2xx
// answer to CONNECT: the exchange is emitted (except an h2c upgrade that
// the HTTP/2 parser takes over) and what follows goes to the new parser.
func (p *parser) switchProtocols(x *exchange, proto string) {
	var req *httpmsg.Message
	if x != nil {
		x.reqDone, x.respDone = true, true
		req = &x.req.m
		if x.req.m.Authority == "" {
			x.req.m.Authority, _ = har.Header(x.req.m.Headers, "Host")
		}
	}
	var next stream.Parser
	switch {
	case proto == "websocket" && p.cfg.WebSocket && x != nil && x.resp != nil:
		p.pending = slices.DeleteFunc(p.pending, func(y *exchange) bool { return y == x })
		next = websocket.New(websocket.ConfigFrom(x.resp.m.Headers), func(msgs []websocket.Message, warnings []string) {
			for _, w := range warnings {
				x.resp.warn(w)
			}
			p.emitWith(x, func(e *har.Entry) {
				e.Extra.Set("_webSocketMessages", websocket.HAR(msgs))
				for _, m := range msgs {
					if m.Truncated || m.Broken != "" {
						e.Incomplete = true
					}
				}
			})
		})
	case p.cfg.Upgrade != nil:
		next = p.cfg.Upgrade(proto, req)
	}
	if x != nil && next != nil && proto == "h2c" {
		p.pending = slices.DeleteFunc(p.pending, func(y *exchange) bool { return y == x })
	}
	// Earlier requests cannot get responses any more.
	p.flush(true)
	p.upgradeWait = nil
	if next == nil {
		p.dead = true
		for _, h := range p.h {
			h.held, h.heldBytes = nil, 0
		}
		return
	}
	p.tunnel = next
}

// requestMayCome reports whether a response starting at m may still get
// its request from the client direction. Reassembly delivers each
// direction in order, but one may lag the other (bytes after a gap are held
// until the gap is given up), so until the client's bytes pass the
// response's start its request may be on the way.
func (p *parser) requestMayCome(m meta) bool {
	c := p.h[stream.ClientToServer]
	return p.requestStartedBefore(m) || !c.seen || c.last.before(m)
}

// requestStartedBefore reports whether the client direction is in the
// middle of a request (line or headers) that began before m: a response
// starting after it may be its answer.
func (p *parser) requestStartedBefore(m meta) bool {
	c := p.h[stream.ClientToServer]
	if len(c.held) > 0 && c.held[0].seq < m.seq {
		// Held bytes from before the response may hold its request.
		return true
	}
	switch {
	case c.msg != nil && c.x != nil && !c.x.pushed:
		return c.msg.start.before(m)
	case c.st == stLine && len(c.line) > 0:
		return c.lineStart.before(m)
	}
	return false
}

// upgradeProto is the protocol a 101 response switches to.
func upgradeProto(x *exchange, resp *message) string {
	v, _ := har.Header(resp.m.Headers, "Upgrade")
	if v == "" && x != nil {
		v, _ = har.Header(x.req.m.Headers, "Upgrade")
	}
	v, _, _ = strings.Cut(v, ",")
	return strings.ToLower(strings.TrimSpace(v))
}
