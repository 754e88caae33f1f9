package http2

import (
	"fmt"
	"slices"
	"strings"

	"golang.org/x/net/http2"

	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/pcap/internal/httpmsg"
)

// buildEntry is httpmsg.BuildEntry; tests replace it to look at the
// messages themselves.
var buildEntry = httpmsg.BuildEntry

// h2stream is one HTTP/2 stream: a request and its response.
type h2stream struct {
	id     uint32
	half   [2]half // by role
	pushed bool
	// rst is the name of the RST_STREAM error code, "" when not reset.
	rst     string
	rstCode http2.ErrCode
	// ws decodes the DATA frames of an accepted extended CONNECT for a
	// WebSocket (RFC 8441); nil for other streams.
	ws *wsStream
}

// half is one side's message of a stream.
type half struct {
	msg     httpmsg.Message
	headers bool // the (final) header block was seen
	ended   bool // END_STREAM was seen
	// informational counts the bytes of 1xx header blocks before the
	// final response, added to its HeadersSize.
	informational int64
}

// touch records that a frame of the message was seen.
func (h *half) touch(fi frameInfo) {
	if h.msg.Start.IsZero() {
		h.msg.Start = fi.start
	}
	if fi.end.After(h.msg.End) {
		h.msg.End = fi.end
	}
	h.msg.Comments = appendComments(h.msg.Comments, fi.comments)
}

func (p *parser) newStream(id uint32) *h2stream {
	s := &h2stream{id: id}
	for i := range s.half {
		s.half[i].msg.Version = "HTTP/2"
	}
	p.streams[id] = s
	if par := id & 1; id > p.maxID[par] {
		p.maxID[par] = id
	}
	return s
}

// lookup returns stream id, creating it when create is set and the ID is
// new. It returns nil for stream 0 and for streams already closed (frames
// in flight after RST_STREAM, or streams evicted for space).
func (p *parser) lookup(id uint32, create bool) *h2stream {
	if s := p.streams[id]; s != nil {
		return s
	}
	if !create || id == 0 || id <= p.maxID[id&1] {
		return nil
	}
	if len(p.streams) >= maxOpenStreams {
		oldest := uint32(0)
		for sid := range p.streams {
			if oldest == 0 || sid < oldest {
				oldest = sid
			}
		}
		if p.evicted == 0 {
			p.note(p.lastTime, fmt.Sprintf("HTTP/2: more than %d streams open at once; the oldest are written as incomplete entries", maxOpenStreams))
		}
		p.evicted++
		p.emit(p.streams[oldest], true)
	}
	return p.newStream(id)
}

// maybeDone emits s when both sides ended it, or when its response ended
// and its request was never seen.
func (p *parser) maybeDone(s *h2stream) {
	req, resp := &s.half[request], &s.half[response]
	if resp.ended && (req.ended || !req.headers) {
		p.emit(s, false)
	}
}

// flushAll emits every open stream, in stream order, as cut off.
func (p *parser) flushAll() {
	ids := make([]uint32, 0, len(p.streams))
	for id := range p.streams {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		p.emit(p.streams[id], true)
	}
}

// emit turns s into an entry and frees it. cut says the stream did not
// end (end of capture, connection error, eviction).
func (p *parser) emit(s *h2stream, cut bool) {
	delete(p.streams, s.id)
	rq, rs := &s.half[request], &s.half[response]
	if !rq.headers {
		p.noRequest++
		return
	}
	req := rq.msg
	if !rq.ended {
		req.Incomplete = true
	}
	var resp *httpmsg.Message
	if rs.headers {
		r := rs.msg
		if !rs.ended {
			r.Incomplete = true
		}
		resp = &r
	}
	if s.ws != nil {
		p.endWebSocket(s, resp)
	}
	e := buildEntry(p.conn, &req, resp, p.cfg.TLS, p.lim)
	if e == nil {
		return
	}
	if s.ws != nil {
		s.ws.entry(e)
	}
	// A response whose headers were lost (gap) is not reported, but the
	// entry must say it is missing something.
	lostResp := resp == nil && (rs.msg.Incomplete || rs.ended || rs.msg.BodySize > 0)
	if cut || lostResp || req.Incomplete || (resp != nil && resp.Incomplete) {
		e.Incomplete = true
	}
	if s.rst != "" {
		e.Extra.Set("_rstStream", s.rst)
		if !(rs.ended && s.rstCode == http2.ErrCodeNo) {
			e.Incomplete = true
		}
	}
	if s.pushed {
		e.Extra.Set("_pushed", true)
	}
	if c := grpcComment(&req, resp); c != "" {
		if e.Comment != "" {
			e.Comment += "; "
		}
		e.Comment += c
	}
	p.conn.Requests++
	p.sink.Entry(p.conn, e)
}

// grpcComment says when gRPC messages were compressed with grpc-encoding:
// they are left as sent (the adapters decode them), but a reader of the
// HAR should know why the bytes look like gzip.
func grpcComment(req, resp *httpmsg.Message) string {
	var parts []string
	for _, m := range []*httpmsg.Message{req, resp} {
		if m == nil {
			continue
		}
		ct, _ := har.Header(m.Headers, "content-type")
		if !strings.HasPrefix(strings.ToLower(ct), "application/grpc") {
			continue
		}
		enc, ok := har.Header(m.Headers, "grpc-encoding")
		if !ok || strings.EqualFold(enc, "identity") {
			continue
		}
		what := "request"
		if m == resp {
			what = "response"
		}
		parts = append(parts, fmt.Sprintf("gRPC %s messages may be compressed with grpc-encoding %s; left as sent", what, enc))
	}
	return strings.Join(parts, "; ")
}
