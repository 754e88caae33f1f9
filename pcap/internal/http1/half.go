package http1

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/pcap/internal/stream"
)

// state is where a direction is in its current message.
type state uint8

const (
	stLine      state = iota // expecting (or scanning for) a first line
	stHeaders                // header lines
	stBody                   // a body of known length: remaining bytes
	stChunkSize              // a chunk-size line
	stChunkData              // chunk data: remaining bytes
	stChunkEnd               // the CRLF after chunk data
	stTrailers               // trailer lines after the last chunk
	stClose                  // a body that runs to the end of the connection
)

// half parses one direction of a connection: requests (client) or
// responses (server).
type half struct {
	p      *parser
	server bool
	st     state
	// synced says a message must start at the next byte; otherwise the
	// direction is scanning for the next request or status line.
	synced  bool
	started bool
	// line accumulates a line that spans chunks; lineStart locates its
	// first byte.
	line      []byte
	lineStart meta
	// msg is the message in progress and x its exchange (nil for a
	// response without request).
	msg *message
	x   *exchange
	// collecting sends the bytes skipped while scanning to msg's body: its
	// length could not be determined.
	collecting bool
	remaining  int64
	hdrBytes   int
	// maybe09 marks a request line without a version whose header lines,
	// if any, have not come yet.
	maybe09 bool
	sawCR   bool
	// waitReq marks a response whose headers are parsed and whose request
	// may still be coming.
	waitReq bool
	// lostSync marks the responses' direction after a gap that lost
	// bytes between or inside messages: until a response is paired, the
	// responses of some waiting requests may have been lost.
	lostSync bool
	// last locates the latest chunk given to this direction; seen says
	// there was one.
	last meta
	seen bool
	msgs int
	held []heldChunk
	// heldBytes counts the bytes in held.
	heldBytes int
}

func (h *half) name() string {
	if h.server {
		return "server→client"
	}
	return "client→server"
}

// blocked reports whether the direction must wait for the other.
func (h *half) blocked() bool {
	if h.server {
		return h.waitReq
	}
	return h.p.upgradeWait != nil && h.st == stLine && h.msg == nil && len(h.line) == 0
}

// hold keeps a copy of a chunk until the direction can go on.
func (h *half) hold(c *stream.Chunk, seq uint64) {
	cp := *c
	cp.Data = bytes.Clone(c.Data)
	cp.Comments = append([]string(nil), c.Comments...)
	h.held = append(h.held, heldChunk{c: cp, seq: seq})
	h.heldBytes += len(cp.Data) + heldOverhead
	h.checkHeld()
}

// holdFront keeps the unprocessed rest of the chunk being processed.
func (h *half) holdFront(c *stream.Chunk, seq uint64) {
	cp := *c
	cp.Data = bytes.Clone(c.Data)
	cp.Comments = append([]string(nil), c.Comments...)
	h.held = append([]heldChunk{{c: cp, seq: seq}}, h.held...)
	h.heldBytes += len(cp.Data) + heldOverhead
	h.checkHeld()
}

// heldOverhead is counted per held chunk, so that many tiny chunks are
// bounded too.
const heldOverhead = 128

// checkHeld stops waiting when too much is held: the response is taken to
// have no request, the client's bytes after an upgrade request to be HTTP.
func (h *half) checkHeld() {
	if h.heldBytes <= maxHeld {
		return
	}
	if h.server && h.waitReq {
		h.resumeResponse()
	}
	if !h.server && h.p.upgradeWait != nil {
		h.p.upgradeWait = nil
	}
}

func metaOf(c *stream.Chunk, seq uint64) meta {
	return meta{t: c.Time, frame: c.Frame, seq: seq}
}

// gap handles the bytes lost before a chunk.
func (h *half) gap(c *stream.Chunk, seq uint64) {
	if !h.started {
		h.started = true
		if c.Skip != 0 {
			// The capture began in the middle of the stream, or lost the
			// stream's first bytes (a known number).
			h.synced = false
			h.lostSync = h.server && c.Skip > 0
		}
		return
	}
	if c.Skip == 0 {
		return
	}
	skip := int64(c.Skip)
	switch h.st {
	case stBody, stChunkData:
		if skip > 0 && skip <= h.remaining {
			// The framing survives: count the lost bytes and go on.
			h.msg.m.Incomplete = true
			h.msg.m.BodySize += skip
			h.msg.bodyLen += skip
			h.remaining -= skip
			if h.remaining == 0 {
				if h.st == stBody {
					h.done()
				} else {
					h.st, h.sawCR = stChunkEnd, false
				}
			}
			return
		}
	case stClose:
		h.msg.m.Incomplete = true
		if skip > 0 {
			h.msg.m.BodySize += skip
			h.msg.bodyLen += skip
		}
		return
	case stLine:
		if h.msg == nil && len(h.line) == 0 {
			// Lost between messages: look for the next one.
			h.synced = false
			h.lostSync = h.server
			return
		}
	}
	// Lost inside a message: keep it, marked, and resynchronise.
	h.lostSync = h.server
	if h.msg != nil {
		h.msg.m.Incomplete = true
	}
	h.finish(stream.EndCapture, true)
	h.synced = false
}

// process consumes c.Data and returns how many bytes it used; it stops
// early only when the direction must wait or the protocol switched.
func (h *half) process(c *stream.Chunk, seq uint64) int {
	data := c.Data
	i := 0
	for i < len(data) {
		if h.p.tunnel != nil || h.p.dead || h.blocked() {
			return i
		}
		rest := data[i:]
		switch h.st {
		case stLine, stHeaders, stChunkSize, stTrailers:
			if h.st == stLine && h.server && h.synced && h.msg == nil && len(h.line) == 0 && h.raw09Next(rest) {
				h.startRaw09(c, seq)
				continue
			}
			j := bytes.IndexByte(rest, '\n')
			if j < 0 {
				if len(h.line) == 0 {
					h.lineStart = metaOf(c, seq)
				}
				h.line = append(h.line, rest...)
				i = len(data)
				h.checkLine(c, seq)
				continue
			}
			var line []byte
			if len(h.line) == 0 {
				h.lineStart = metaOf(c, seq)
				line = rest[:j+1]
			} else {
				h.line = append(h.line, rest[:j+1]...)
				line = h.line
			}
			i += j + 1
			h.onLine(line, c, seq)
			h.line = h.line[:0]
			if cap(h.line) > maxScanLine {
				// Do not keep a huge buffer for the connection's life.
				h.line = nil
			}
		case stBody, stChunkData:
			n := min(h.remaining, int64(len(rest)))
			h.body(rest[:n], c)
			h.remaining -= n
			i += int(n)
			if h.remaining == 0 {
				if h.st == stBody {
					h.done()
				} else {
					h.st, h.sawCR = stChunkEnd, false
				}
			}
		case stChunkEnd:
			switch {
			case rest[0] == '\r' && !h.sawCR:
				h.sawCR = true
				h.msg.m.BodySize++
				i++
			case rest[0] == '\n':
				h.msg.m.BodySize++
				h.st = stChunkSize
				i++
			default:
				h.msg.warn("chunk data not followed by CRLF")
				h.st = stChunkSize
			}
		case stClose:
			h.body(rest, c)
			i = len(data)
		}
	}
	return i
}

// raw09Next reports whether the server's next bytes answer an HTTP/0.9
// request without a status line.
func (h *half) raw09Next(b []byte) bool {
	x := h.p.nextForResponse()
	if x == nil || !x.v09 {
		return false
	}
	k := min(len(b), 5)
	return !bytes.Equal(b[:k], []byte("HTTP/")[:k])
}

// startRaw09 starts an HTTP/0.9 response: everything to the end.
func (h *half) startRaw09(c *stream.Chunk, seq uint64) {
	x := h.p.nextForResponse()
	ms := &message{start: metaOf(c, seq)}
	ms.m.Start = c.Time
	ms.m.Status, ms.m.Version = 200, "HTTP/0.9"
	ms.touch(c)
	ms.warn("HTTP/0.9 response: no status line, status 200 assumed")
	x.resp = ms
	h.msg, h.x = ms, x
	h.msgs++
	h.st = stClose
}

// checkLine bounds a line that has no end yet.
func (h *half) checkLine(c *stream.Chunk, seq uint64) {
	switch h.st {
	case stLine:
		if !h.synced {
			if len(h.line) > maxScanLine {
				h.skip(h.line, c)
				h.line = h.line[:0]
			}
			return
		}
		if len(h.line) > maxLooseLine && !plausibleStart(h.line) || len(h.line) > maxHeaderBytes {
			h.desync(c)
			h.skip(h.line, c)
			h.line = h.line[:0]
		}
	case stHeaders, stTrailers:
		if h.hdrBytes+len(h.line) > maxHeaderBytes {
			h.tooLarge(c)
		}
	case stChunkSize:
		if len(h.line) > maxChunkLine {
			line := bytes.Clone(h.line)
			h.line = h.line[:0]
			h.framingError(line, c, "chunk-size line too long")
		}
	}
}

// plausibleStart reports whether a long unfinished line could still be a
// request or status line.
func plausibleStart(b []byte) bool {
	if bytes.HasPrefix(b, []byte("HTTP/")) {
		return true
	}
	sp := bytes.IndexByte(b, ' ')
	return sp > 0 && sp <= 64 && isToken(b[:sp])
}

// tooLarge gives up on a header section over the limit.
func (h *half) tooLarge(c *stream.Chunk) {
	h.p.note(c.Time, "%s: header section over %d bytes at frame %d; message cut off", h.name(), maxHeaderBytes, c.Frame)
	h.line = h.line[:0]
	if h.msg != nil {
		h.msg.m.Incomplete = true
		h.msg.warn(fmt.Sprintf("header section over %d bytes; the rest was dropped", maxHeaderBytes))
	}
	h.finish(stream.EndCapture, true)
	h.synced = false
}

// desync notes that bytes where a message should start are not HTTP.
func (h *half) desync(c *stream.Chunk) {
	if h.msgs > 0 {
		h.p.note(c.Time, "%s: bytes that are not HTTP where a message should start (frame %d); looking for the next message", h.name(), c.Frame)
	}
	h.synced = false
}

// skip drops bytes found while scanning, or keeps them as the body of a
// message whose length could not be determined.
func (h *half) skip(b []byte, c *stream.Chunk) {
	if h.collecting && h.msg != nil && len(b) > 0 {
		h.body(b, c)
	}
}

func trimEOL(line []byte) []byte {
	line = bytes.TrimSuffix(line, []byte("\n"))
	return bytes.TrimSuffix(line, []byte("\r"))
}

func (h *half) onLine(line []byte, c *stream.Chunk, seq uint64) {
	text := trimEOL(line)
	switch h.st {
	case stLine:
		h.onFirstLine(line, text, c, seq)
	case stHeaders:
		if h.hdrBytes+len(line) > maxHeaderBytes {
			h.tooLarge(c)
			return
		}
		h.onHeaderLine(line, text, c, seq)
	case stChunkSize:
		h.onChunkSize(line, text, c)
	case stTrailers:
		if h.hdrBytes+len(line) > maxHeaderBytes {
			h.tooLarge(c)
			return
		}
		h.msg.m.BodySize += int64(len(line))
		h.hdrBytes += len(line)
		h.msg.touch(c)
		if len(text) == 0 {
			h.done()
			return
		}
		h.msg.m.Trailers = appendHeader(h.msg.m.Trailers, text)
	}
}

func (h *half) onFirstLine(line, text []byte, c *stream.Chunk, seq uint64) {
	if h.synced {
		if len(text) == 0 {
			// Stray line ends between messages (RFC 9112 §2.2).
			return
		}
		if h.server && h.msg == nil {
			if x := h.p.nextForResponse(); x != nil && x.v09 {
				if _, ok := parseStatusLine(text); !ok {
					h.startRaw09(c, seq)
					h.body(line, c)
					return
				}
			}
		}
		if h.start(text, line, c, true) {
			return
		}
		h.desync(c)
	}
	// Scanning.
	allowReq, allowResp := h.allowed()
	off := -1
	if allowResp {
		off = findStatusLine(text)
	}
	if off < 0 && allowReq {
		off = findRequestLine(text)
	}
	if off < 0 {
		h.skip(line, c)
		return
	}
	h.skip(line[:off], c)
	h.lineStart = metaOf(c, seq)
	if !h.start(text[off:], line[off:], c, false) {
		h.skip(line[off:], c)
	}
}

// allowed says which first lines the direction looks for.
func (h *half) allowed() (req, resp bool) {
	if !h.p.roleKnown {
		return true, true
	}
	return !h.server, h.server
}

// start begins a message at a first line; it reports false when the line
// is not one.
func (h *half) start(text, line []byte, c *stream.Chunk, lenient bool) bool {
	allowReq, allowResp := h.allowed()
	if allowResp {
		if st, ok := parseStatusLine(text); ok {
			h.role(true)
			h.startResponse(st, line, c)
			return true
		}
	}
	if allowReq {
		if rl, ok := parseRequestLine(text, lenient); ok {
			h.role(false)
			h.startRequest(rl, line, c)
			return true
		}
	}
	return false
}

// role settles which side is the client from the first message found.
func (h *half) role(response bool) {
	p := h.p
	p.found()
	if p.roleKnown {
		return
	}
	p.roleKnown = true
	if response != h.server {
		p.swap()
	}
}

// newMessage starts a message at the current line.
func (h *half) newMessage(line []byte, c *stream.Chunk) *message {
	if h.collecting {
		// The message whose length was unknown ends here.
		h.collecting = false
		h.done()
	}
	ms := &message{start: h.lineStart}
	ms.m.Start = h.lineStart.t
	ms.m.HeadersSize = int64(len(line))
	ms.touch(c)
	h.hdrBytes = len(line)
	h.msgs++
	h.synced = true
	return ms
}

func (h *half) startRequest(rl reqLine, line []byte, c *stream.Chunk) {
	ms := h.newMessage(line, c)
	ms.m.Method = string(rl.method)
	ms.m.Target = string(rl.target)
	ms.m.Version = string(rl.version)
	ms.m.Scheme = "http"
	if h.p.cfg.TLS {
		ms.m.Scheme = "https"
	}
	x := &exchange{req: ms, head: ms.m.Method == "HEAD", connect: ms.m.Method == "CONNECT"}
	h.msg, h.x = ms, x
	h.st = stHeaders
	if rl.noVersion {
		// HTTP/0.9, unless header lines follow: the server may answer
		// right away, so the exchange is queued now.
		x.v09 = true
		ms.m.Version = "HTTP/0.9"
		h.maybe09 = true
		h.p.push(x)
	}
}

func (h *half) startResponse(st statusLine, line []byte, c *stream.Chunk) {
	ms := h.newMessage(line, c)
	ms.m.Status = st.status
	ms.m.Reason = string(st.reason)
	ms.m.Version = string(st.version)
	h.msg, h.x = ms, nil
	h.st = stHeaders
}

func (h *half) onHeaderLine(line, text []byte, c *stream.Chunk, seq uint64) {
	ms := h.msg
	if h.maybe09 {
		if len(text) > 0 && !headerLike(text) {
			// The request was HTTP/0.9; this line is something else.
			h.maybe09 = false
			h.done()
			h.st = stLine
			h.onFirstLine(line, text, c, seq)
			return
		}
		if len(text) > 0 {
			h.maybe09 = false
			h.x.v09 = false
			ms.m.Version = ""
			ms.warn("request line without an HTTP version")
		}
	}
	ms.m.HeadersSize += int64(len(line))
	h.hdrBytes += len(line)
	ms.touch(c)
	if len(text) == 0 {
		h.headersDone(c, seq)
		return
	}
	ms.m.Headers = appendHeader(ms.m.Headers, text)
}

// headerLike reports whether a line after a version-less request line is
// a header field ("Name: value").
func headerLike(text []byte) bool {
	i := bytes.IndexByte(text, ':')
	return i > 0 && isToken(bytes.TrimRight(text[:i], " \t"))
}

// appendHeader parses a header line, folding obs-fold continuation lines
// into the previous value. A line without a colon is kept as a name with
// an empty value, so nothing is lost.
func appendHeader(hs []har.NameValue, text []byte) []har.NameValue {
	if (text[0] == ' ' || text[0] == '\t') && len(hs) > 0 {
		v := bytes.TrimSpace(text)
		if len(v) > 0 {
			hs[len(hs)-1].Value += " " + string(v)
		}
		return hs
	}
	name, value, _ := bytes.Cut(text, []byte(":"))
	return append(hs, har.NameValue{
		Name:  string(bytes.TrimRight(name, " \t")),
		Value: string(bytes.Trim(value, " \t")),
	})
}

// Kinds of body framing.
type framing uint8

const (
	noBody framing = iota
	lengthBody
	chunkedBody
	closeBody
	// unknownBody: the length cannot be determined; the body runs to the
	// next message start.
	unknownBody
)

// bodyFraming decides how a message's body is delimited (RFC 9112 §6.3).
func bodyFraming(ms *message, request bool) (framing, int64) {
	hs := ms.m.Headers
	var te []string
	var clVals []string
	for _, h := range hs {
		switch {
		case strings.EqualFold(h.Name, "Transfer-Encoding"):
			for _, t := range strings.Split(h.Value, ",") {
				t = strings.ToLower(strings.TrimSpace(t))
				if t != "" && t != "identity" {
					te = append(te, t)
				}
			}
		case strings.EqualFold(h.Name, "Content-Length"):
			for _, v := range strings.Split(h.Value, ",") {
				clVals = append(clVals, strings.TrimSpace(v))
			}
		}
	}
	if len(te) > 0 {
		if len(clVals) > 0 {
			ms.warn("both Transfer-Encoding and Content-Length: Transfer-Encoding wins (RFC 9112 §6.3)")
		}
		if te[len(te)-1] == "chunked" {
			return chunkedBody, 0
		}
		if request {
			ms.warn("Transfer-Encoding without final chunked: the request's length cannot be determined; the bytes up to the next request line are taken as its body")
			return unknownBody, 0
		}
		return closeBody, 0
	}
	if len(clVals) > 0 {
		n, err := strconv.ParseInt(clVals[0], 10, 64)
		ok := err == nil && n >= 0 && clVals[0][0] != '+'
		for _, v := range clVals[1:] {
			ok = ok && v == clVals[0]
		}
		if ok {
			return lengthBody, n
		}
		if request {
			ms.warn("invalid Content-Length: the bytes up to the next request line are taken as the body")
			return unknownBody, 0
		}
		ms.warn("invalid Content-Length: the body runs to the next status line or the end of the connection")
		return unknownBody, 0
	}
	if request {
		return noBody, 0
	}
	return closeBody, 0
}

func (h *half) headersDone(c *stream.Chunk, seq uint64) {
	if h.server {
		h.responseHeadersDone(c, seq)
		return
	}
	ms, x := h.msg, h.x
	if h.maybe09 {
		// "GET /x" and an empty line: no headers, no body.
		h.maybe09 = false
		h.done()
		return
	}
	x.upgrade = hasHeader(ms.m.Headers, "Upgrade")
	ms.m.Authority, _ = har.Header(ms.m.Headers, "Host")
	ms.m.Authority = strings.TrimSpace(ms.m.Authority)
	h.p.push(x)
	f, n := bodyFraming(ms, true)
	h.startBody(f, n)
}

func hasHeader(hs []har.NameValue, name string) bool {
	_, ok := har.Header(hs, name)
	return ok
}

// startBody enters the state for a body's framing.
func (h *half) startBody(f framing, n int64) {
	switch f {
	case noBody:
		h.done()
	case lengthBody:
		if n == 0 {
			h.done()
			return
		}
		h.st, h.remaining = stBody, n
		if room := min(n, h.p.lim.MaxBody, 1<<20); room > 0 {
			h.msg.m.Body = make([]byte, 0, room)
		}
	case chunkedBody:
		h.st = stChunkSize
	case closeBody:
		h.st = stClose
	case unknownBody:
		h.msg.m.Incomplete = true
		h.st, h.synced, h.collecting = stLine, false, true
	}
}

func (h *half) responseHeadersDone(c *stream.Chunk, seq uint64) {
	if h.x == nil && !h.p.ending {
		if h.p.nextForResponse() == nil && h.p.requestMayCome(h.msg.start) {
			h.waitReq = true
			return
		}
	}
	h.pairResponse()
}

// canResume reports whether a response waiting for its request can go on.
func (h *half) canResume() bool {
	return h.p.ending || h.p.nextForResponse() != nil || !h.p.requestMayCome(h.msg.start)
}

// resumeResponse continues a response that waited for its request.
func (h *half) resumeResponse() {
	h.waitReq = false
	h.pairResponse()
}

// pairResponse pairs the response whose headers are parsed with the
// oldest waiting request and starts its body.
func (h *half) pairResponse() {
	h.waitReq = false
	p, ms := h.p, h.msg
	x := p.nextForResponse()
	if x != nil && ms.start.before(x.req.start) {
		// A response cannot begin before its request: this one answers a
		// request the capture missed.
		x = nil
	}
	if x != nil {
		x = p.skipLost(x, ms, h.lostSync)
		h.lostSync = false
	}
	status := ms.m.Status
	if status >= 100 && status < 200 && status != 101 {
		// Interim response: not paired.
		if x != nil {
			x.interim = append(x.interim, strings.TrimSpace(fmt.Sprintf("%d %s", status, ms.m.Reason)))
		}
		h.msg, h.x = nil, nil
		h.st, h.synced = stLine, true
		return
	}
	h.x = x
	if x != nil {
		x.resp = ms
		if p.upgradeWait == x {
			p.upgradeWait = nil
		}
	}
	switch {
	case status == 101:
		h.msg, h.x = nil, nil
		if x == nil {
			h.orphan(ms)
		}
		p.switchProtocols(x, upgradeProto(x, ms))
		return
	case x != nil && x.connect && status/100 == 2:
		h.msg, h.x = nil, nil
		p.switchProtocols(x, "connect")
		return
	}
	if (x != nil && x.head) || status == 204 || status == 304 || status < 200 {
		h.done()
		return
	}
	f, n := bodyFraming(ms, false)
	h.startBody(f, n)
}

// orphan reports a response without request.
func (h *half) orphan(ms *message) {
	h.p.note(ms.m.Start, "response %d %s (frame %d) without a request: not in the capture or not recognisable as HTTP; no entry made", ms.m.Status, ms.m.Reason, ms.start.frame)
}

// done completes the message in progress.
func (h *half) done() {
	ms, x := h.msg, h.x
	h.msg, h.x = nil, nil
	h.st, h.collecting, h.maybe09, h.synced = stLine, false, false, true
	if ms == nil {
		return
	}
	if !h.server {
		if x == nil {
			return
		}
		h.p.push(x)
		x.reqDone = true
		if (x.upgrade || x.connect) && x.resp == nil && !h.p.ending {
			h.p.upgradeWait = x
		}
		h.p.flush(false)
		return
	}
	if x == nil {
		h.orphan(ms)
		return
	}
	x.respDone = true
	h.p.flush(false)
}

// body adds body bytes to the message in progress, keeping at most
// Limits.MaxBody of them.
func (h *half) body(b []byte, c *stream.Chunk) {
	ms := h.msg
	if ms == nil || len(b) == 0 {
		return
	}
	ms.m.BodySize += int64(len(b))
	ms.bodyLen += int64(len(b))
	ms.touch(c)
	room := h.p.lim.MaxBody - int64(len(ms.m.Body))
	if int64(len(b)) > room {
		ms.m.Truncated = true
		b = b[:max(room, 0)]
	}
	ms.m.Body = append(ms.m.Body, b...)
}

func (h *half) onChunkSize(line, text []byte, c *stream.Chunk) {
	ms := h.msg
	ms.touch(c)
	// Chunk extensions (";name=value") carry nothing we report.
	size, _, _ := bytes.Cut(text, []byte(";"))
	size = bytes.Trim(size, " \t")
	if len(size) == 0 {
		if len(text) == 0 {
			// A stray empty line; tolerated.
			ms.m.BodySize += int64(len(line))
			return
		}
		h.framingError(line, c, "chunk-size line without a size")
		return
	}
	if len(size) > 15 {
		h.framingError(line, c, "chunk size too large")
		return
	}
	n, err := strconv.ParseUint(string(size), 16, 64)
	if err != nil {
		h.framingError(line, c, "invalid chunk size")
		return
	}
	ms.m.BodySize += int64(len(line))
	if n == 0 {
		h.st = stTrailers
		return
	}
	h.st, h.remaining = stChunkData, int64(n)
}

// framingError handles a body whose framing broke: the offending bytes and
// those up to the next message start are kept as its body.
func (h *half) framingError(line []byte, c *stream.Chunk, why string) {
	ms := h.msg
	ms.warn(why + ": the bytes up to the next message are taken as the body")
	ms.m.Incomplete = true
	h.p.note(c.Time, "%s: %s at frame %d", h.name(), why, c.Frame)
	h.st, h.synced, h.collecting = stLine, false, true
	h.body(line, c)
}

// finish ends the message in progress at the end of the connection or at
// a gap (lost): what was parsed is kept.
func (h *half) finish(why stream.EndReason, lost bool) {
	if h.st == stLine && h.msg == nil && len(h.line) > 0 && !lost {
		// A first line without its line end.
		text := trimEOL(h.line)
		c := &stream.Chunk{Time: h.lineStart.t, Frame: h.lineStart.frame}
		line := bytes.Clone(h.line)
		h.line = h.line[:0]
		if h.start(text, line, c, h.synced) {
			h.msg.m.Incomplete = true
		}
	}
	h.line = h.line[:0]
	ms := h.msg
	if ms == nil {
		h.st, h.collecting, h.maybe09 = stLine, false, false
		return
	}
	switch h.st {
	case stHeaders:
		if h.maybe09 {
			// An HTTP/0.9 request, complete.
			h.maybe09 = false
			h.done()
			return
		}
		ms.m.Incomplete = true
		if h.server {
			if h.x == nil {
				h.waitReq = false
				x := h.p.nextForResponse()
				if x != nil && !ms.start.before(x.req.start) {
					h.x = x
					x.resp = ms
				}
			}
		} else {
			h.p.push(h.x)
		}
		h.done()
	case stClose:
		if lost || why != stream.EndFIN {
			ms.m.Incomplete = true
		}
		h.done()
	case stLine:
		// Collecting a body of unknown length.
		h.done()
	default:
		ms.m.Incomplete = true
		h.done()
	}
}
