package websocket

import (
	"bytes"
	"cmp"
	"compress/flate"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/pcap/internal/stream"
)

// Opcodes of RFC 6455 §5.2.
const (
	OpContinuation = 0
	OpText         = 1
	OpBinary       = 2
	OpClose        = 8
	OpPing         = 9
	OpPong         = 10
)

// Defaults for Config.
const (
	DefaultMaxMessage  = 4 << 20
	DefaultMaxMessages = 10000
	// maxControl is the largest control frame payload RFC 6455 allows.
	maxControl = 125
	// window is the LZ77 window of DEFLATE, kept as dictionary for context
	// takeover.
	window = 32 << 10
)

// Config configures the decoding of one connection.
type Config struct {
	// Deflate says permessage-deflate was negotiated; ClientNoContext and
	// ServerNoContext say a direction resets its context per message.
	Deflate                          bool
	ClientNoContext, ServerNoContext bool
	// MaxMessage bounds the bytes kept per message (after inflation);
	// MaxMessages bounds the messages kept per connection.
	MaxMessage  int
	MaxMessages int
}

// ConfigFrom reads the negotiated extensions from the handshake response's
// Sec-WebSocket-Extensions headers.
func ConfigFrom(resp []har.NameValue) Config {
	var c Config
	for _, h := range resp {
		if !strings.EqualFold(h.Name, "Sec-WebSocket-Extensions") {
			continue
		}
		for ext := range strings.SplitSeq(h.Value, ",") {
			params := strings.Split(ext, ";")
			if !strings.EqualFold(strings.TrimSpace(params[0]), "permessage-deflate") {
				continue
			}
			c.Deflate = true
			for _, p := range params[1:] {
				name, _, _ := strings.Cut(p, "=")
				switch strings.ToLower(strings.TrimSpace(name)) {
				case "client_no_context_takeover":
					c.ClientNoContext = true
				case "server_no_context_takeover":
					c.ServerNoContext = true
				}
			}
		}
	}
	return c
}

// Message is one WebSocket message.
type Message struct {
	// Send is true for messages from the client.
	Send   bool
	Time   time.Time
	Opcode int
	Data   []byte
	// Size is the message's length (inflated), counting dropped bytes; -1
	// when inflation stopped at the cap.
	Size int64
	// Truncated marks a message longer than Config.MaxMessage; Broken one
	// whose data could not be inflated (Data is then as sent) or that was
	// cut off by a gap or the end of the capture.
	Truncated bool
	Broken    string
	// Compressed says Data is as sent, still compressed.
	Compressed bool
	// order numbers messages by their first frame.
	order uint64
}

// HAR returns the messages as Chrome's HAR export writes them in
// "_webSocketMessages", with tracewire's marks as "_"-properties.
func HAR(msgs []Message) []any {
	out := make([]any, 0, len(msgs))
	for _, m := range msgs {
		o := map[string]any{
			"type":   "receive",
			"time":   har.Seconds(m.Time),
			"opcode": m.Opcode,
		}
		if m.Send {
			o["type"] = "send"
		}
		if m.Opcode == OpText && !m.Compressed && utf8.Valid(m.Data) {
			o["data"] = string(m.Data)
		} else {
			o["data"] = base64.StdEncoding.EncodeToString(m.Data)
			if m.Opcode == OpText {
				o["_encoding"] = "base64"
			}
		}
		if m.Truncated {
			o["_truncated"] = true
			if m.Size >= 0 {
				o["_size"] = m.Size
			}
		}
		if m.Broken != "" {
			o["_warning"] = m.Broken
		}
		out = append(out, o)
	}
	return out
}

// Done receives the messages of a connection when it ends, in capture
// order, and warnings about what could not be decoded.
type Done func(msgs []Message, warnings []string)

// New returns the parser of the bytes after the handshake.
func New(cfg Config, done Done) stream.Parser {
	if cfg.MaxMessage <= 0 {
		cfg.MaxMessage = DefaultMaxMessage
	}
	if cfg.MaxMessages <= 0 {
		cfg.MaxMessages = DefaultMaxMessages
	}
	p := &parser{cfg: cfg, done: done}
	for d := range p.d {
		p.d[d] = &dir{p: p, send: d == int(stream.ClientToServer)}
	}
	p.d[stream.ClientToServer].noContext = cfg.ClientNoContext
	p.d[stream.ServerToClient].noContext = cfg.ServerNoContext
	return p
}

type parser struct {
	cfg      Config
	done     Done
	d        [2]*dir
	msgs     []Message
	dropped  int
	warnings []string
	ended    bool
	frames   uint64
}

func (p *parser) warn(format string, a ...any) {
	s := fmt.Sprintf(format, a...)
	for _, w := range p.warnings {
		if w == s {
			return
		}
	}
	p.warnings = append(p.warnings, s)
}

func (p *parser) Feed(c *stream.Chunk) {
	if p.ended {
		return
	}
	p.d[c.Dir&1].feed(c)
}

func (p *parser) End(at time.Time, why stream.EndReason) {
	if p.ended {
		return
	}
	p.ended = true
	for _, d := range p.d {
		d.end()
	}
	if p.dropped > 0 {
		p.warn("%d WebSocket messages after the first %d not kept", p.dropped, p.cfg.MaxMessages)
	}
	// Fragmented messages are complete after control frames sent between
	// their fragments: order by first frame.
	slices.SortStableFunc(p.msgs, func(a, b Message) int { return cmp.Compare(a.order, b.order) })
	if p.done != nil {
		p.done(p.msgs, p.warnings)
	}
}

func (p *parser) add(m Message) {
	if len(p.msgs) >= p.cfg.MaxMessages {
		p.dropped++
		return
	}
	p.msgs = append(p.msgs, m)
}

// dir decodes one direction.
type dir struct {
	p    *parser
	send bool
	dead bool

	// hdr collects the bytes of the frame header being read.
	hdr []byte
	// Current frame: payload bytes left, mask and position in it.
	inFrame bool
	left    uint64
	masked  bool
	mask    [4]byte
	pos     uint64
	fin     bool
	op      int
	ftime   time.Time

	// cur is the data message being assembled (fragments), ctl a control
	// frame that arrives between them.
	cur, ctl   *partial
	noContext  bool
	dict       []byte
	flateState io.ReadCloser
}

// partial is a message whose frames are still coming.
type partial struct {
	m        Message
	deflated bool
	raw      []byte // compressed bytes (deflated messages)
	size     int64
	over     bool
}

func (d *dir) name() string {
	if d.send {
		return "client"
	}
	return "server"
}

func (d *dir) feed(c *stream.Chunk) {
	if d.dead {
		return
	}
	if c.Skip != 0 {
		d.p.warn("gap in the %s's WebSocket frames: the frames after it are not decoded", d.name())
		d.abandon("cut off by a gap in the capture")
		return
	}
	d.write(c.Data, c.Time)
}

// write consumes bytes of this direction that arrived at t.
func (d *dir) write(b []byte, t time.Time) {
	for len(b) > 0 && !d.dead {
		if !d.inFrame {
			n, ok := d.header(b, t)
			b = b[n:]
			if !ok {
				return
			}
			if d.left == 0 {
				d.frameDone()
			}
			continue
		}
		n := uint64(len(b))
		if n > d.left {
			n = d.left
		}
		d.payload(b[:n])
		b = b[n:]
		d.left -= n
		if d.left == 0 {
			d.frameDone()
		}
	}
}

// header reads header bytes from b; ok is true once the header is complete.
func (d *dir) header(b []byte, t time.Time) (n int, ok bool) {
	if len(d.hdr) == 0 {
		d.ftime = t
	}
	for n < len(b) {
		d.hdr = append(d.hdr, b[n])
		n++
		need := 2
		if len(d.hdr) >= 2 {
			switch d.hdr[1] & 0x7f {
			case 126:
				need += 2
			case 127:
				need += 8
			}
			if d.hdr[1]&0x80 != 0 {
				need += 4
			}
		}
		if len(d.hdr) < need {
			continue
		}
		d.startFrame()
		d.hdr = d.hdr[:0]
		return n, !d.dead
	}
	return n, false
}

func (d *dir) startFrame() {
	h := d.hdr
	d.fin = h[0]&0x80 != 0
	rsv1 := h[0]&0x40 != 0
	d.op = int(h[0] & 0x0f)
	d.masked = h[1]&0x80 != 0
	i := 2
	switch h[1] & 0x7f {
	case 126:
		d.left = uint64(h[2])<<8 | uint64(h[3])
		i = 4
	case 127:
		d.left = 0
		for _, x := range h[2:10] {
			d.left = d.left<<8 | uint64(x)
		}
		i = 10
	default:
		d.left = uint64(h[1] & 0x7f)
	}
	if d.masked {
		copy(d.mask[:], h[i:i+4])
	}
	d.pos = 0
	d.inFrame = true
	d.p.frames++
	switch {
	case d.op >= 8 && d.op <= 10:
		if d.left > maxControl || !d.fin {
			d.fail("invalid control frame")
			return
		}
		d.ctl = &partial{m: Message{Send: d.send, Time: d.ftime, Opcode: d.op, order: d.p.frames}}
	case d.op == OpContinuation:
		if d.cur == nil {
			d.fail("continuation frame without a message to continue")
			return
		}
	case d.op == OpText || d.op == OpBinary:
		if d.cur != nil {
			d.cur.m.Broken = "not finished: a new message began"
			d.finish(d.cur)
		}
		d.cur = &partial{m: Message{Send: d.send, Time: d.ftime, Opcode: d.op, order: d.p.frames}, deflated: rsv1 && d.p.cfg.Deflate}
		if rsv1 && !d.p.cfg.Deflate {
			d.cur.m.Broken = "compressed (RSV1) without a negotiated extension: data as sent"
			d.cur.m.Compressed = true
		}
	default:
		d.fail(fmt.Sprintf("reserved opcode %d", d.op))
	}
}

// fail stops decoding the direction after bytes that are not valid frames.
func (d *dir) fail(why string) {
	d.p.warn("the %s's bytes stopped being valid WebSocket frames (%s): the rest is not decoded", d.name(), why)
	d.abandon("cut off: " + why)
}

// abandon keeps the message in progress, marked, and stops the direction.
func (d *dir) abandon(why string) {
	if d.cur != nil {
		if d.cur.m.Broken == "" {
			d.cur.m.Broken = why
		}
		d.finish(d.cur)
		d.cur = nil
	}
	d.dead, d.inFrame, d.ctl = true, false, nil
}

func (d *dir) target() *partial {
	if d.op >= 8 {
		return d.ctl
	}
	return d.cur
}

func (d *dir) payload(b []byte) {
	t := d.target()
	if t == nil {
		return
	}
	limit := d.p.cfg.MaxMessage
	if t.deflated {
		// Compressed bytes are kept up to the same cap; inflation is
		// capped separately.
		t.size += int64(len(b))
		room := limit - len(t.raw)
		if room <= 0 {
			t.over = true
			return
		}
		k := min(room, len(b))
		start := len(t.raw)
		t.raw = append(t.raw, b[:k]...)
		d.unmask(t.raw[start:])
		if k < len(b) {
			t.over = true
		}
		return
	}
	t.m.Size += int64(len(b))
	room := limit - len(t.m.Data)
	if room <= 0 {
		t.m.Truncated = true
		d.pos += uint64(len(b))
		return
	}
	k := min(room, len(b))
	start := len(t.m.Data)
	t.m.Data = append(t.m.Data, b[:k]...)
	d.unmask(t.m.Data[start:])
	d.pos += uint64(len(b) - k)
	if k < len(b) {
		t.m.Truncated = true
	}
}

// unmask removes the client's mask from b, the next bytes of the payload.
func (d *dir) unmask(b []byte) {
	if d.masked {
		for i := range b {
			b[i] ^= d.mask[(d.pos+uint64(i))&3]
		}
	}
	d.pos += uint64(len(b))
}

func (d *dir) frameDone() {
	d.inFrame = false
	if d.op >= 8 {
		if d.ctl != nil {
			d.finish(d.ctl)
			d.ctl = nil
		}
		return
	}
	if d.fin && d.cur != nil {
		d.finish(d.cur)
		d.cur = nil
	}
}

// finish inflates a message when needed and keeps it.
func (d *dir) finish(t *partial) {
	if t.deflated {
		if t.over {
			// The compressed data is incomplete: inflating would give a
			// prefix at best, and a broken context for what follows.
			t.m.Data = t.raw
			t.m.Size = t.size
			t.m.Broken = "compressed message longer than the limit: kept as sent, not inflated"
			t.m.Compressed = true
			d.lose()
		} else {
			out, err := d.inflate(t.raw)
			switch {
			case err != nil:
				t.m.Data = t.raw
				t.m.Size = int64(len(t.raw))
				t.m.Broken = "could not inflate (permessage-deflate): " + err.Error() + "; data as sent"
				t.m.Compressed = true
			default:
				t.m.Data = out
				t.m.Size = int64(len(out))
				if len(out) > d.p.cfg.MaxMessage {
					// Inflation stopped at the cap: the full size is unknown.
					t.m.Data = out[:d.p.cfg.MaxMessage]
					t.m.Truncated, t.m.Size = true, -1
				}
			}
		}
	}
	d.p.add(t.m)
}

// inflate decompresses one permessage-deflate message (RFC 7692 §7.2.2),
// using the previous messages' output as window when the context is kept.
func (d *dir) inflate(raw []byte) ([]byte, error) {
	// The sender removed the 0x00 0x00 0xff 0xff of a sync flush; put it
	// back, then end the stream with an empty final stored block.
	in := make([]byte, 0, len(raw)+9)
	in = append(in, raw...)
	in = append(in, 0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff)
	var dict []byte
	if !d.noContext {
		dict = d.dict
	}
	if d.flateState == nil {
		d.flateState = flate.NewReaderDict(bytes.NewReader(in), dict)
	} else if err := d.flateState.(flate.Resetter).Reset(bytes.NewReader(in), dict); err != nil {
		return nil, fmt.Errorf("resetting the inflater: %w", err)
	}
	limit := int64(d.p.cfg.MaxMessage)
	out, err := io.ReadAll(io.LimitReader(d.flateState, limit+1))
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		d.lose()
		return nil, err
	}
	if err != nil {
		d.lose()
		return nil, fmt.Errorf("incomplete compressed data: %w", err)
	}
	if int64(len(out)) > limit {
		// The rest is not inflated, so the window is unknown from here.
		d.lose()
		return out, nil
	}
	if !d.noContext {
		d.dict = append(d.dict, out...)
		if len(d.dict) > window {
			d.dict = append(d.dict[:0], d.dict[len(d.dict)-window:]...)
		}
	}
	return out, nil
}

// lose marks the compression context of the direction as unknown: later
// messages that rely on it cannot be inflated.
func (d *dir) lose() {
	if d.noContext {
		return
	}
	d.dead = true
	d.p.warn("the %s's compression context was lost: later messages are not decoded", d.name())
}

// end keeps what is left when the connection ends.
func (d *dir) end() {
	if d.ctl != nil && d.inFrame {
		d.ctl.m.Broken = "cut off by the end of the capture"
		d.finish(d.ctl)
		d.ctl = nil
	}
	if d.cur != nil {
		if d.cur.m.Broken == "" {
			d.cur.m.Broken = "cut off by the end of the capture"
		}
		if d.cur.deflated {
			// Incomplete compressed data is kept as sent.
			d.cur.m.Data, d.cur.m.Size = d.cur.raw, d.cur.size
			d.cur.m.Compressed, d.cur.deflated = true, false
		}
		d.finish(d.cur)
		d.cur = nil
	}
	if d.flateState != nil {
		d.flateState.Close()
	}
}
