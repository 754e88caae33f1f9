package http3

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/quic-go/qpack"

	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/pcap/internal/httpmsg"
	"github.com/tracewire/tracewire/pcap/internal/quic"
	"github.com/tracewire/tracewire/pcap/internal/stream"
)

// Config configures a parser.
type Config struct {
	Limits httpmsg.Limits
}

// Unidirectional stream types (RFC 9114 section 6.2, RFC 9204 section 4.2).
const (
	uniControl = 0x00
	uniPush    = 0x01
	uniEncoder = 0x02
	uniDecoder = 0x03
)

// maxOpenStreams bounds the request streams tracked at once.
const maxOpenStreams = 4096

// maxHeaderBytes bounds a decoded field section.
const maxHeaderBytes = 1 << 20

// parser is the HTTP/3 layer of one QUIC connection.
type parser struct {
	c    *stream.Conn
	sink stream.Sink
	lim  httpmsg.Limits
	reqs map[uint64]*request
	uni  map[uint64]*uniStream
	// tables[d] is the dynamic table d's encoder stream fills, for the
	// field sections d sends.
	tables [2]table
	// blocked lists the streams with field sections waiting for
	// tables[d], by direction.
	blocked [2][]uint64
	notes   map[string]bool
	done    map[uint64]bool
	// doneFloor: streams below it were written (see emit).
	doneFloor uint64
}

// maxDone bounds the IDs of written streams remembered one by one.
const maxDone = 1 << 15

// New returns the HTTP/3 parser of a QUIC connection; it emits one entry
// per request stream.
func New(c *stream.Conn, sink stream.Sink, cfg Config) quic.App {
	lim := cfg.Limits
	if lim.MaxBody <= 0 {
		lim = httpmsg.DefaultLimits
	}
	c.Protocol = "quic→h3"
	return &parser{c: c, sink: sink, lim: lim, reqs: map[uint64]*request{}, uni: map[uint64]*uniStream{},
		notes: map[string]bool{}, done: map[uint64]bool{}}
}

type uniStream struct {
	typ    uint64
	typBuf []byte
	known  bool
	fr     FrameReader
}

type request struct {
	id   uint64
	half [2]half
}

type half struct {
	msg     httpmsg.Message
	fr      FrameReader
	headers bool // the final field section was applied
	ended   bool // FIN
	reset   bool
	code    uint64
	broken  bool
	// pending holds field sections waiting for the encoder stream.
	pending []section
}

type section struct {
	b []byte
	m quic.Meta
}

func (p *parser) note(t time.Time, key, reason string) {
	if p.notes[key] {
		return
	}
	p.notes[key] = true
	p.sink.Note(stream.Note{Conn: p.c, Time: t, Kind: "http", Reason: reason})
}

// Data implements quic.App.
func (p *parser) Data(id uint64, from stream.Dir, data []byte, skip uint64, m quic.Meta) {
	if id&2 != 0 {
		p.uniData(id, from, data, skip, m)
		return
	}
	if id&1 != 0 {
		return // server-initiated bidirectional streams are not HTTP/3's
	}
	r := p.request(id)
	if r == nil {
		return
	}
	h := &r.half[from]
	if h.reset || h.broken {
		return
	}
	if h.msg.Start.IsZero() && !m.Time.IsZero() {
		h.msg.Start = m.Time
	}
	if m.Time.After(h.msg.End) {
		h.msg.End = m.Time
	}
	h.msg.Comments = appendComments(h.msg.Comments, m.Comments)
	if skip > 0 {
		h.broken = true
		h.msg.Incomplete = true
		p.note(m.Time, "gap", fmt.Sprintf("HTTP/3 stream %d (%s): %d bytes missing from the capture; the rest of that direction is not parsed", id, from, skip))
		return
	}
	err := h.fr.Feed(data, func(b []byte) {
		h.msg.BodySize += int64(len(b))
		if room := p.lim.MaxBody - int64(len(h.msg.Body)); room > 0 {
			h.msg.Body = append(h.msg.Body, b[:min(int64(len(b)), room)]...)
		}
		if int64(len(h.msg.Body)) < h.msg.BodySize {
			h.msg.Truncated = true
			h.msg.BodyLen = h.msg.BodySize
		}
	}, func(typ uint64, payload []byte) {
		switch typ {
		case frameHeaders:
			h.msg.HeadersSize += int64(len(payload))
			p.fieldSection(r, from, section{b: append([]byte(nil), payload...), m: m})
		case framePushPromise:
			p.note(m.Time, "push", fmt.Sprintf("HTTP/3 server push on stream %d: pushed responses are not parsed", id))
		}
	})
	if err != nil {
		h.broken = true
		h.msg.Incomplete = true
		p.note(m.Time, "frame", fmt.Sprintf("HTTP/3 stream %d (%s): %v", id, from, err))
	}
}

func (p *parser) request(id uint64) *request {
	if r := p.reqs[id]; r != nil {
		return r
	}
	if p.done[id] || id < p.doneFloor {
		return nil // a late retransmission of a stream already written
	}
	if len(p.reqs) >= maxOpenStreams {
		oldest := uint64(1<<63 - 1)
		for sid := range p.reqs {
			oldest = min(oldest, sid)
		}
		p.note(time.Time{}, "streams", fmt.Sprintf("HTTP/3: more than %d request streams open at once; the oldest are written as incomplete entries", maxOpenStreams))
		p.emit(p.reqs[oldest], true)
	}
	r := &request{id: id}
	for i := range r.half {
		r.half[i].msg.Version = "HTTP/3"
		r.half[i].msg.HeadersSize = 0
	}
	p.reqs[id] = r
	return r
}

// fieldSection decodes a HEADERS frame's field section, or queues it when
// it waits for the encoder stream.
func (p *parser) fieldSection(r *request, from stream.Dir, s section) {
	h := &r.half[from]
	if len(h.pending) > 0 {
		h.pending = append(h.pending, s)
		return
	}
	fields, err := p.tables[from].decodeSection(s.b)
	if errors.Is(err, errBlocked) {
		h.pending = append(h.pending, s)
		if !slices.Contains(p.blocked[from], r.id) {
			p.blocked[from] = append(p.blocked[from], r.id)
		}
		return
	}
	p.apply(r, from, fields, err, s.m)
}

func (p *parser) apply(r *request, from stream.Dir, fields []qpack.HeaderField, err error, m quic.Meta) {
	h := &r.half[from]
	if err != nil {
		h.msg.Incomplete = true
		p.note(m.Time, "qpack"+strconv.Itoa(int(from)), fmt.Sprintf("HTTP/3 %s: field section of stream %d not fully decoded: %v", from, r.id, err))
	}
	size := 0
	for _, f := range fields {
		size += len(f.Name) + len(f.Value)
	}
	if size > maxHeaderBytes {
		h.msg.Incomplete = true
		fields = nil
	}
	switch {
	case h.headers:
		for _, f := range fields {
			h.msg.Trailers = append(h.msg.Trailers, har.NameValue{Name: f.Name, Value: f.Value})
		}
	case from == stream.ServerToClient:
		status, ok := statusOf(fields)
		if ok && status >= 100 && status < 200 {
			return // informational; the final response follows
		}
		responseFields(&h.msg, fields)
		h.headers = true
	default:
		requestFields(&h.msg, fields)
		h.headers = true
	}
}

// unblock decodes the sections that waited for entries now inserted.
func (p *parser) unblock(d stream.Dir) {
	ids := p.blocked[d]
	p.blocked[d] = nil
	for _, id := range ids {
		r := p.reqs[id]
		if r == nil {
			continue
		}
		h := &r.half[d]
		for len(h.pending) > 0 {
			s := h.pending[0]
			fields, err := p.tables[d].decodeSection(s.b)
			if errors.Is(err, errBlocked) {
				p.blocked[d] = append(p.blocked[d], id)
				break
			}
			h.pending = h.pending[1:]
			p.apply(r, d, fields, err, s.m)
		}
		p.maybeDone(r)
	}
}

func (p *parser) uniData(id uint64, from stream.Dir, data []byte, skip uint64, m quic.Meta) {
	u := p.uni[id]
	if u == nil {
		if len(p.uni) >= 64 {
			return
		}
		u = &uniStream{}
		p.uni[id] = u
	}
	if skip > 0 {
		if u.known && u.typ == uniEncoder {
			p.tables[from].broken = fmt.Errorf("QPACK: %d bytes of the %s encoder stream missing from the capture", skip, from)
			p.note(m.Time, "enc-gap", fmt.Sprintf("HTTP/3 %s: %d bytes of the QPACK encoder stream are missing; header fields that refer to later insertions cannot be decoded", from, skip))
		}
		u.known, u.typ = true, 1<<62 // ignored from here
		return
	}
	for !u.known && len(data) > 0 {
		u.typBuf = append(u.typBuf, data[0])
		data = data[1:]
		if v, n := quic.Varint(u.typBuf); n > 0 {
			u.typ, u.known = v, true
		}
	}
	if !u.known || len(data) == 0 {
		return
	}
	switch u.typ {
	case uniControl:
		u.fr.Feed(data, func([]byte) {}, func(typ uint64, payload []byte) {
			if typ == frameSettings {
				p.settings(from, payload)
			}
		})
	case uniEncoder:
		t := &p.tables[from]
		if t.broken != nil {
			return
		}
		if err := t.encoderStream(data); err != nil {
			p.note(m.Time, "enc", fmt.Sprintf("HTTP/3 %s: QPACK encoder stream: %v", from, err))
		}
		p.unblock(from)
	case uniPush:
		p.note(m.Time, "push", "HTTP/3 server push stream: pushed responses are not parsed")
	}
}

// settings reads a SETTINGS frame: the sender's
// SETTINGS_QPACK_MAX_TABLE_CAPACITY bounds the table the other side's
// encoder fills.
func (p *parser) settings(from stream.Dir, b []byte) {
	for len(b) > 0 {
		k, n := quic.Varint(b)
		if n == 0 {
			return
		}
		v, m := quic.Varint(b[n:])
		if m == 0 {
			return
		}
		b = b[n+m:]
		if k == 0x01 {
			p.tables[from.Reverse()].maxCap = v
		}
	}
}

// Fin implements quic.App.
func (p *parser) Fin(id uint64, from stream.Dir, m quic.Meta) {
	r := p.reqs[id]
	if id&3 != 0 || r == nil {
		return
	}
	h := &r.half[from]
	h.ended = true
	if m.Time.After(h.msg.End) {
		h.msg.End = m.Time
	}
	if h.fr.Partial() && !h.broken {
		h.msg.Incomplete = true
	}
	p.maybeDone(r)
}

// Reset implements quic.App.
func (p *parser) Reset(id uint64, from stream.Dir, code uint64, m quic.Meta) {
	if id&3 != 0 {
		return
	}
	r := p.request(id)
	if r == nil {
		return
	}
	h := &r.half[from]
	h.reset, h.code = true, code
	p.maybeDone(r)
}

func (p *parser) maybeDone(r *request) {
	req, resp := &r.half[stream.ClientToServer], &r.half[stream.ServerToClient]
	fin := func(h *half) bool { return (h.ended || h.reset) && len(h.pending) == 0 }
	if fin(resp) && (fin(req) || resp.reset) {
		p.emit(r, false)
	}
}

// End implements quic.App: open streams become incomplete entries, in
// stream order.
func (p *parser) End(time.Time) {
	ids := make([]uint64, 0, len(p.reqs))
	for id := range p.reqs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		r := p.reqs[id]
		for d := range r.half {
			h := &r.half[d]
			for _, s := range h.pending {
				fields, err := p.tables[d].decodeSection(s.b)
				if errors.Is(err, errBlocked) {
					err = errors.New("it refers to QPACK encoder stream entries that are not in the capture")
				}
				p.apply(r, stream.Dir(d), fields, err, s.m)
			}
			h.pending = nil
		}
		p.emit(r, true)
	}
}

// h3Errors names the HTTP/3 error codes (RFC 9114 section 8.1).
var h3Errors = map[uint64]string{
	0x100: "H3_NO_ERROR", 0x101: "H3_GENERAL_PROTOCOL_ERROR", 0x102: "H3_INTERNAL_ERROR",
	0x103: "H3_STREAM_CREATION_ERROR", 0x104: "H3_CLOSED_CRITICAL_STREAM", 0x105: "H3_FRAME_UNEXPECTED",
	0x106: "H3_FRAME_ERROR", 0x107: "H3_EXCESSIVE_LOAD", 0x108: "H3_ID_ERROR", 0x109: "H3_SETTINGS_ERROR",
	0x10a: "H3_MISSING_SETTINGS", 0x10b: "H3_REQUEST_REJECTED", 0x10c: "H3_REQUEST_CANCELLED",
	0x10d: "H3_REQUEST_INCOMPLETE", 0x10e: "H3_MESSAGE_ERROR", 0x10f: "H3_CONNECT_ERROR",
	0x110: "H3_VERSION_FALLBACK", 0x200: "QPACK_DECOMPRESSION_FAILED",
}

func errName(code uint64) string {
	if n, ok := h3Errors[code]; ok {
		return n
	}
	return fmt.Sprintf("%#x", code)
}

// emit turns r into an entry and frees it; cut says the stream did not
// end in the capture.
func (p *parser) emit(r *request, cut bool) {
	delete(p.reqs, r.id)
	p.done[r.id] = true
	if len(p.done) > maxDone {
		// Request streams are opened in ID order: the older half becomes
		// a floor.
		ids := make([]uint64, 0, len(p.done))
		for id := range p.done {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		p.doneFloor = ids[len(ids)/2]
		for _, id := range ids[:len(ids)/2] {
			delete(p.done, id)
		}
	}
	rq, rs := &r.half[stream.ClientToServer], &r.half[stream.ServerToClient]
	if !rq.headers {
		if rq.msg.BodySize > 0 || rs.headers || rq.broken {
			p.note(rq.msg.Start, "nohdr", fmt.Sprintf("HTTP/3 stream %d: the request's header section is not in the capture (or could not be decoded); no entry", r.id))
		}
		return
	}
	req := rq.msg
	if !rq.ended {
		req.Incomplete = true
	}
	var resp *httpmsg.Message
	if rs.headers {
		x := rs.msg
		if !rs.ended {
			x.Incomplete = true
		}
		resp = &x
	} else if rs.reset || rs.ended || rs.msg.BodySize > 0 {
		req.Incomplete = true
	}
	e := httpmsg.BuildEntry(p.c, &req, resp, true, p.lim)
	if cut || req.Incomplete || resp != nil && resp.Incomplete {
		e.Incomplete = true
	}
	for _, h := range []*half{rq, rs} {
		if h.reset {
			e.Extra.Set("_rstStream", errName(h.code))
			if !(h == rs && rs.ended) && !(h == rq && h.code == 0x100) {
				e.Incomplete = true
			}
			break
		}
	}
	e.Extra.Set("_streamId", int64(r.id))
	p.c.Requests++
	p.sink.Entry(p.c, e)
}

func appendComments(dst, src []string) []string {
	for _, s := range src {
		if !slices.Contains(dst, s) {
			dst = append(dst, s)
		}
	}
	return dst
}

func statusOf(fields []qpack.HeaderField) (int, bool) { return httpmsg.StatusOf(fields, qpackNV) }

// qpackNV reads a QPACK field for httpmsg's field mapping.
func qpackNV(f qpack.HeaderField) (string, string) { return f.Name, f.Value }

// requestFields and responseFields map field sections onto m as HTTP/2
// does (httpmsg.RequestFields, httpmsg.ResponseFields).
func requestFields(m *httpmsg.Message, fields []qpack.HeaderField) {
	httpmsg.RequestFields(m, fields, qpackNV)
}

func responseFields(m *httpmsg.Message, fields []qpack.HeaderField) {
	httpmsg.ResponseFields(m, fields, qpackNV)
}
