package http2

import (
	"fmt"
	"time"

	"golang.org/x/net/http2/hpack"

	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/pcap/internal/httpmsg"
)

type blockKind uint8

const (
	blockHeaders blockKind = iota // HEADERS (+ CONTINUATION)
	blockPush                     // PUSH_PROMISE (+ CONTINUATION)
)

// headerBlock is a header block being received: its fragments are decoded
// as they arrive, so only the decoded fields are kept.
type headerBlock struct {
	active    bool
	kind      blockKind
	stream    uint32
	promised  uint32
	endStream bool
	fields    []hpack.HeaderField
	size      int   // decoded bytes in fields
	dropped   bool  // fields past maxHeaderBytes were not kept
	wire      int64 // encoded bytes (fragments without padding)
	start     time.Time
	end       time.Time
	comments  []string
	err       error
	// raw holds the encoded block while decoding loosely, which needs it
	// whole.
	raw []byte
}

// emit receives the decoder's fields for the block in progress.
func (d *dirState) emit(f hpack.HeaderField) {
	b := &d.block
	n := len(f.Name) + len(f.Value)
	if b.size+n > maxHeaderBytes {
		b.dropped = true
		return
	}
	b.size += n
	b.fields = append(b.fields, f)
}

// resetDecoder switches d to a new loose decoder after its HPACK state was
// lost (see looseDecoder).
func (p *parser) resetDecoder(d *dirState) {
	d.dec = nil
	d.loose = &looseDecoder{}
}

func (p *parser) beginBlock(d *dirState, kind blockKind, id, promised uint32, endStream bool, fi frameInfo) {
	if d.block.active {
		// The previous block never got its last CONTINUATION.
		p.finishBlock(d, true)
	}
	d.block = headerBlock{
		active:    true,
		kind:      kind,
		stream:    id,
		promised:  promised,
		endStream: endStream,
		fields:    d.block.fields[:0],
		raw:       d.block.raw[:0],
		start:     fi.start,
	}
}

func (p *parser) fragment(d *dirState, frag []byte, ended bool, fi frameInfo) {
	b := &d.block
	b.wire += int64(len(frag))
	b.end = fi.end
	b.comments = appendComments(b.comments, fi.comments)
	switch {
	case b.err != nil:
	case d.loose != nil:
		if len(b.raw)+len(frag) > maxHeaderBytes {
			b.err = fmt.Errorf("encoded header block longer than %d bytes", maxHeaderBytes)
			break
		}
		b.raw = append(b.raw, frag...)
	default:
		if _, err := d.dec.Write(frag); err != nil {
			b.err = err
		}
	}
	if ended {
		p.finishBlock(d, false)
	}
}

// finishBlock ends the block in progress; cut says it did not end with
// END_HEADERS (lost CONTINUATION, gap, end of capture).
func (p *parser) finishBlock(d *dirState, cut bool) {
	err := d.block.err
	skipped := 0
	if d.loose != nil {
		if err == nil {
			// d.emit adds to d.block.
			err = d.loose.decode(d.block.raw, d.emit)
			skipped = d.loose.skipped
		}
	} else if cerr := d.dec.Close(); err == nil {
		err = cerr
	}
	b := d.block
	d.block = headerBlock{fields: b.fields[:0], raw: b.raw[:0]}
	if cut || err != nil {
		p.resetDecoder(d)
	}
	if skipped > 0 && !d.looseNoted {
		d.looseNoted = true
		p.note(b.start, fmt.Sprintf("HTTP/2 %s: header compression state unknown from stream %d on (the capture began mid-connection or lost bytes); header fields that refer to earlier ones are left out and their entries marked incomplete", d.wire, b.stream))
	}
	if err != nil {
		p.note(b.start, fmt.Sprintf("HTTP/2 %s: header block of stream %d not fully decoded: %v; header compression restarted", d.wire, b.stream, err))
	}
	if b.dropped {
		p.note(b.start, fmt.Sprintf("HTTP/2 %s: header block of stream %d longer than %d bytes; the rest was dropped", d.wire, b.stream, maxHeaderBytes))
	}
	p.applyBlock(d, &b, cut || err != nil || b.dropped || skipped > 0)
}

// applyBlock gives a decoded header block to its stream.
func (p *parser) applyBlock(d *dirState, b *headerBlock, incomplete bool) {
	if !p.roleKnown {
		// Without a preface, the first header block says which side is
		// which.
		switch {
		case b.kind == blockPush || hasField(b.fields, ":status"):
			p.setClient(d.wire.Reverse())
		case hasField(b.fields, ":method") || hasField(b.fields, ":path"):
			p.setClient(d.wire)
		}
	}
	fi := frameInfo{start: b.start, end: b.end, comments: b.comments}
	if b.kind == blockPush {
		s := p.lookup(b.promised, true)
		if s == nil || s.half[request].headers {
			return
		}
		s.pushed = true
		h := &s.half[request]
		requestFields(&h.msg, b.fields)
		h.headers, h.ended = true, true
		h.msg.HeadersSize += b.wire
		h.msg.Incomplete = h.msg.Incomplete || incomplete
		h.touch(fi)
		return
	}
	s := p.lookup(b.stream, true)
	if s == nil {
		return
	}
	r := p.role(d.wire)
	h := &s.half[r]
	switch {
	case h.headers:
		// Trailers: kept as sent, pseudo-headers included.
		for _, f := range b.fields {
			h.msg.Trailers = append(h.msg.Trailers, har.NameValue{Name: f.Name, Value: f.Value})
		}
	case r == response:
		status, ok := statusOf(b.fields)
		if ok && status >= 100 && status < 200 && !b.endStream {
			// An informational response (100 Continue, 103 Early Hints)
			// precedes the final one, which the entry is about.
			h.informational += b.wire
			return
		}
		responseFields(&h.msg, b.fields)
		h.headers = true
		h.msg.HeadersSize += h.informational
		p.startWebSocket(s)
	default:
		requestFields(&h.msg, b.fields)
		h.headers = true
	}
	h.msg.HeadersSize += b.wire
	h.msg.Incomplete = h.msg.Incomplete || incomplete
	h.touch(fi)
	if b.endStream {
		h.ended = true
		p.maybeDone(s)
	}
}

func hasField(fields []hpack.HeaderField, name string) bool {
	for _, f := range fields {
		if f.Name == name {
			return true
		}
	}
	return false
}

func statusOf(fields []hpack.HeaderField) (int, bool) { return httpmsg.StatusOf(fields, hpackNV) }

// hpackNV reads an HPACK field for httpmsg's field mapping.
func hpackNV(f hpack.HeaderField) (string, string) { return f.Name, f.Value }

// requestFields maps a request header block onto m (see
// httpmsg.RequestFields).
func requestFields(m *httpmsg.Message, fields []hpack.HeaderField) {
	m.Version = "HTTP/2"
	httpmsg.RequestFields(m, fields, hpackNV)
}

// responseFields maps a response header block onto m (see
// httpmsg.ResponseFields).
func responseFields(m *httpmsg.Message, fields []hpack.HeaderField) {
	m.Version = "HTTP/2"
	httpmsg.ResponseFields(m, fields, hpackNV)
}
