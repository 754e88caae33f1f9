package http2

import (
	"bytes"
	"fmt"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/tracewire/tracewire/pcap/internal/httpmsg"
	"github.com/tracewire/tracewire/pcap/internal/stream"
)

// Config configures a parser.
type Config struct {
	// TLS says the bytes were decrypted from TLS (h2 rather than h2c).
	TLS    bool
	Limits httpmsg.Limits
	// Upgraded is the HTTP/1.1 request that was upgraded with "Upgrade:
	// h2c"; it becomes stream 1 and the client's connection preface comes
	// next. Nil for prior knowledge and TLS.
	Upgraded *httpmsg.Message
}

// preface is the client connection preface (RFC 9113, section 3.4).
const preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// minPrefaceMatch is how many bytes IsPreface needs before it says yes:
// "PRI " is already no HTTP/1 method a client would send.
const minPrefaceMatch = 4

// IsPreface reports whether b starts with the client connection preface
// ("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), or with as much of it as b holds
// when that is at least 4 bytes.
func IsPreface(b []byte) bool {
	if len(b) < minPrefaceMatch {
		return false
	}
	if len(b) > len(preface) {
		b = b[:len(preface)]
	}
	return string(b) == preface[:len(b)]
}

// Bounds on what one connection may hold in memory.
const (
	frameHeaderLen = 9
	// maxFrameLen is the largest length a frame header can express. Frames
	// longer than the receiver allowed are read anyway (a capture may miss
	// the SETTINGS that allowed them, and a forensic tool should not drop
	// what was sent), so this is also the most a direction buffers.
	maxFrameLen = 1<<24 - 1
	// syncFrameLen is the longest frame accepted while looking for frame
	// boundaries: the default SETTINGS_MAX_FRAME_SIZE, which most frames
	// keep to. Longer candidates are more likely false and would make the
	// parser wait long for the next header that confirms them.
	syncFrameLen = 16384
	// maxPending caps the candidate frame boundaries waiting for bytes.
	maxPending = 64
	// trialFrames is how many frames after a boundary found by sync may
	// still show it was wrong; later a malformed header is an error.
	trialFrames = 4
	// syncMaxStream is the highest stream ID accepted while looking for
	// frame boundaries; real connections stay far below, random bytes do
	// not.
	syncMaxStream = 1 << 24
	// bigFrame is the frame length above which the Framer is replaced after
	// the read, so that it does not keep its large read buffer.
	bigFrame = 1 << 16
	// defaultTableSize is the HPACK dynamic table size both sides start
	// with (SETTINGS_HEADER_TABLE_SIZE's initial value).
	defaultTableSize = 4096
	// maxTableSize caps the dynamic table size an encoder may switch to
	// and the size of the table of a decoder restarted mid-connection.
	// Browsers advertise 64 KiB; 1 MiB leaves room without letting one
	// connection hold much memory.
	maxTableSize = 1 << 20
	// maxHeaderBytes caps the decoded header bytes kept per header block.
	// The block is still decoded to keep the HPACK state in sync.
	maxHeaderBytes = 1 << 20
	// maxOpenStreams caps the streams tracked per connection; servers
	// usually allow 100 to 256 concurrent streams.
	maxOpenStreams = 1000
	// maxNotes caps the notes one connection produces.
	maxNotes = 16
	// maxComments caps the packet comments kept per message.
	maxComments = 32
)

// New returns a parser for one connection.
func New(c *stream.Conn, sink stream.Sink, cfg Config) stream.Parser {
	p := &parser{
		conn:    c,
		sink:    sink,
		cfg:     cfg,
		lim:     cfg.Limits,
		streams: map[uint32]*h2stream{},
	}
	if p.lim.MaxBody <= 0 {
		p.lim.MaxBody = httpmsg.DefaultLimits.MaxBody
	}
	if p.lim.MaxDecoded <= 0 {
		p.lim.MaxDecoded = httpmsg.DefaultLimits.MaxDecoded
	}
	if c.Protocol == "" {
		if cfg.TLS {
			c.Protocol = "h2"
		} else {
			c.Protocol = "h2c"
		}
	}
	for i := range p.dirs {
		d := &dirState{wire: stream.Dir(i)}
		p.dirs[i] = d
		d.fr = newFramer(&d.rd)
		d.dec = hpack.NewDecoder(defaultTableSize, d.emit)
		// Encoders may grow their table up to the decoder's
		// SETTINGS_HEADER_TABLE_SIZE, which the capture may not show;
		// allow any size up to the bound instead of failing.
		d.dec.SetAllowedMaxDynamicTableSize(maxTableSize)
		d.dec.SetMaxStringLength(maxHeaderBytes)
	}
	if u := cfg.Upgraded; u != nil {
		// RFC 7540, 3.2: the upgrading request is stream 1, half-closed
		// from the client; the client's preface comes next, so the
		// directions are known.
		s := p.newStream(1)
		s.half[request].msg = *u
		s.half[request].headers = true
		s.half[request].ended = true
		p.roleKnown = true
	}
	return p
}

func newFramer(r *bytes.Reader) *http2.Framer {
	fr := http2.NewFramer(nil, r)
	fr.AllowIllegalReads = true
	fr.SetMaxReadFrameSize(maxFrameLen)
	return fr
}

// role is which side of the exchange a direction carries: the requests
// (client) or the responses (server).
type role uint8

const (
	request  role = 0
	response role = 1
)

// phase is where a direction's parsing stands.
type phase uint8

const (
	phaseStart  phase = iota // nothing parsed yet: preface, frame or garbage?
	phaseFrames              // in step with frame boundaries
	phaseSync                // looking for a frame boundary
	phaseDead                // stopped
)

// parser is the state of one connection.
type parser struct {
	conn *stream.Conn
	sink stream.Sink
	cfg  Config
	lim  httpmsg.Limits

	// dirs are indexed by the chunks' Dir, which each dirState keeps as
	// wire.
	dirs [2]*dirState
	// flip is set when, inside TLS, the side that sent the preface (or
	// requests) is the one the connection called the server: roles are
	// then wire direction XOR flip.
	flip      bool
	roleKnown bool

	streams map[uint32]*h2stream
	// maxID is the highest stream ID seen per parity (odd: client
	// initiated, even: pushed); a lower unknown ID is a closed stream.
	maxID [2]uint32

	dead       bool
	notes      int
	noRequest  int // streams dropped because their request was not seen
	evicted    int // streams emitted early because too many were open
	badFrames  int // frames the Framer rejected
	lastTime   time.Time
	lastFrameN uint64
}

// role returns the role of the chunks with Dir d.
func (p *parser) role(d stream.Dir) role {
	r := role(d)
	if p.flip {
		r = 1 - r
	}
	return r
}

// Feed implements stream.Parser.
func (p *parser) Feed(c *stream.Chunk) {
	if p.dead {
		return
	}
	d := p.dirs[c.Dir]
	if d.phase == phaseDead {
		return
	}
	p.lastTime, p.lastFrameN = c.Time, c.Frame
	if c.Skip != 0 {
		p.gap(d, c)
	}
	if len(c.Data) == 0 {
		return
	}
	d.addMark(c)
	d.buf = append(d.buf, c.Data...)
	p.drain(d)
	d.compact()
}

// End implements stream.Parser.
func (p *parser) End(at time.Time, why stream.EndReason) {
	if !p.dead {
		for _, d := range p.dirs {
			if d.block.active {
				p.finishBlock(d, true)
			}
		}
	}
	p.flushAll()
	if p.noRequest > 0 {
		p.note(at, fmt.Sprintf("HTTP/2: %d stream(s) without a request in the capture (it began mid-connection or lost their headers); no entry written for them", p.noRequest))
	}
	if p.badFrames > 0 {
		p.note(at, fmt.Sprintf("HTTP/2: %d malformed frame(s) skipped", p.badFrames))
	}
	for _, d := range p.dirs {
		d.free()
	}
	p.dead = true
}

// gap handles lost bytes before chunk c: the partial frame and the header
// block in progress are lost, the HPACK table may miss entries, and every
// stream with data in flight in that direction may have lost some.
func (p *parser) gap(d *dirState, c *stream.Chunk) {
	if d.block.active {
		p.finishBlock(d, true)
	}
	r := p.role(d.wire)
	for _, s := range p.streams {
		if !s.half[r].ended {
			s.half[r].msg.Incomplete = true
		}
	}
	p.wsGap(r)
	if d.phase == phaseFrames || d.phase == phaseStart {
		what := "an unknown number of"
		if c.Skip > 0 {
			what = fmt.Sprint(c.Skip)
		}
		p.note(c.Time, fmt.Sprintf("HTTP/2 %s: %s bytes lost before frame %d; resynchronising on the next frame header", d.wire, what, c.Frame))
	}
	d.pos += int64(len(d.buf))
	d.buf = d.buf[:0]
	d.marks = d.marks[:0]
	d.resync()
	p.resetDecoder(d)
}

// drain parses as much of d's buffer as it can.
func (p *parser) drain(d *dirState) {
	for !p.dead && d.phase != phaseDead {
		switch d.phase {
		case phaseStart:
			if !p.start(d) {
				return
			}
		case phaseSync:
			if !p.sync(d) {
				return
			}
		case phaseFrames:
			if !p.frame(d) {
				return
			}
		}
	}
}

// start decides how a direction begins: with the client preface, with a
// frame, or in the middle of one. It returns false when it needs more
// bytes.
func (p *parser) start(d *dirState) bool {
	n := min(len(d.buf), len(preface))
	if string(d.buf[:n]) == preface[:n] {
		if n < len(preface) {
			return false
		}
		d.consume(len(preface))
		d.phase = phaseFrames
		d.trial = trialFrames
		if !p.roleKnown {
			p.setClient(d.wire)
		}
		return true
	}
	if len(d.buf) < frameHeaderLen {
		return false
	}
	if h := parseHeader(d.buf); h.typ == uint8(http2.FrameSettings) && h.flags == 0 && h.plausibleSync() == "" {
		// Both sides begin with SETTINGS.
		d.phase = phaseFrames
		d.trial = trialFrames
	} else {
		// Anything else means the capture began mid-connection: find a
		// frame boundary, with the HPACK state unknown.
		d.resync()
		p.resetDecoder(d)
	}
	return true
}

// setClient records that the chunks with Dir w carry the requests.
func (p *parser) setClient(w stream.Dir) {
	p.roleKnown = true
	if w == stream.ClientToServer {
		return
	}
	for _, s := range p.streams {
		s.half[0], s.half[1] = s.half[1], s.half[0]
	}
	if p.cfg.TLS {
		// The TLS parser owns the Conn and has placed the client from
		// the handshake; only our view turns.
		p.flip = !p.flip
		return
	}
	// The connection was seen from the wrong side. After Swap, the TCP
	// layer labels the next chunks the other way round, so the
	// directions' state changes places too.
	p.conn.Swap()
	p.dirs[0], p.dirs[1] = p.dirs[1], p.dirs[0]
	p.dirs[0].wire, p.dirs[1].wire = stream.ClientToServer, stream.ServerToClient
}

// sync looks for a frame boundary. A candidate is an offset with a
// plausible frame header followed by more: at the start of a chunk
// (packets usually begin with a frame) one more plausible header after its
// frame, elsewhere two more, or a chain of frames that ends exactly where
// the buffered bytes do. The earliest confirmed candidate wins. A
// candidate that needs more bytes to be judged is kept pending, and the
// bytes before the first pending one are dropped; syncFrameLen bounds how
// long one can wait. Offsets already judged are not scanned again, so the
// work is linear in the bytes however they are chunked. It returns false
// when it needs more bytes.
func (p *parser) sync(d *dirState) bool {
	b := d.buf
	// judge follows plausible headers from i: 1 confirmed, 0 rejected,
	// -1 needs more bytes.
	judge := func(i int) int {
		want := 3
		if d.isChunkStart(i) {
			want = 2
		}
		for n := 0; n < want; n++ {
			if i == len(b) && n > 0 {
				return 1 // ends where the packet does
			}
			if i+frameHeaderLen > len(b) {
				return -1
			}
			h := parseHeader(b[i:])
			if h.plausibleSync() != "" {
				return 0
			}
			i += frameHeaderLen + int(h.length)
		}
		return 1
	}
	pend := d.pend[:0]
	for _, i := range d.pend {
		switch judge(i) {
		case 1:
			return p.synced(d, i)
		case -1:
			pend = append(pend, i)
		}
	}
	for ; d.scan+frameHeaderLen <= len(b); d.scan++ {
		switch judge(d.scan) {
		case 1:
			return p.synced(d, d.scan)
		case -1:
			if len(pend) < maxPending {
				pend = append(pend, d.scan)
			}
		}
	}
	d.pend = pend
	// Drop what no candidate needs, keeping the bytes that may begin a
	// header.
	drop := d.scan
	if len(pend) > 0 {
		drop = pend[0]
	}
	p.skipped(d, drop)
	return false
}

func (p *parser) synced(d *dirState, i int) bool {
	p.skipped(d, i)
	d.phase = phaseFrames
	d.trial = 0
	d.pend, d.scan = d.pend[:0], 0
	return true
}

// resync makes d look for a frame boundary again from its next byte.
func (d *dirState) resync() {
	d.phase = phaseSync
	d.pend, d.scan = d.pend[:0], 0
}

// skipped drops n bytes that belong to no frame we can read.
func (p *parser) skipped(d *dirState, n int) {
	if n == 0 {
		return
	}
	r := p.role(d.wire)
	for _, s := range p.streams {
		if !s.half[r].ended {
			s.half[r].msg.Incomplete = true
		}
	}
	p.wsGap(r)
	d.consume(n)
	d.scan -= n
	for i := range d.pend {
		d.pend[i] -= n
	}
}

// frame parses the next frame when it is buffered whole. It returns false
// when it needs more bytes.
func (p *parser) frame(d *dirState) bool {
	if len(d.buf) < frameHeaderLen {
		return false
	}
	h := parseHeader(d.buf)
	if why := h.wellFormed(); why != "" && d.trial < trialFrames {
		// The boundary found by sync was wrong after all.
		p.skipped(d, 1)
		d.resync()
		return true
	} else if why != "" {
		t, _, _ := d.times(0, frameHeaderLen)
		p.fail(d, t, fmt.Sprintf("HTTP/2 %s: frame at byte %d %s; the framing is lost, stopped parsing the connection", d.wire, d.pos, why))
		return false
	}
	n := frameHeaderLen + int(h.length)
	if len(d.buf) < n {
		d.want = n
		return false
	}
	d.want = 0
	d.trial++
	start, end, comments := d.times(0, n)
	d.rd.Reset(d.buf[:n])
	f, err := d.fr.ReadFrame()
	if h.length > bigFrame {
		d.fr = newFramer(&d.rd)
	}
	if err != nil {
		p.badFrame(d, h, start, err)
	} else {
		p.handle(d, f, frameInfo{start: start, end: end, comments: comments})
	}
	d.consume(n)
	return true
}

// frameInfo is where a frame was in the capture.
type frameInfo struct {
	start, end time.Time
	comments   []string
}

// badFrame handles a frame the Framer rejected. Its extent is known, so
// parsing goes on; a lost header fragment desynchronises HPACK, so the
// decoder restarts and the stream is marked.
func (p *parser) badFrame(d *dirState, h frameHeader, t time.Time, err error) {
	p.badFrames++
	switch http2.FrameType(h.typ) {
	case http2.FrameHeaders, http2.FrameContinuation, http2.FramePushPromise:
		if d.block.active {
			p.finishBlock(d, true)
		}
		if s := p.streams[h.stream]; s != nil {
			s.half[p.role(d.wire)].msg.Incomplete = true
		}
		p.resetDecoder(d)
		p.note(t, fmt.Sprintf("HTTP/2 %s: unreadable %s frame on stream %d: %v; header compression restarted", d.wire, http2.FrameType(h.typ), h.stream, err))
	case http2.FrameData:
		if s := p.streams[h.stream]; s != nil {
			r := p.role(d.wire)
			s.half[r].msg.Incomplete = true
			if s.ws != nil {
				s.ws.p.Feed(&stream.Chunk{Dir: stream.Dir(r), Skip: -1, Time: t})
			}
		}
	}
}

// fail stops parsing the connection after an error that loses the
// framing; the streams seen so far are emitted as incomplete.
func (p *parser) fail(d *dirState, t time.Time, reason string) {
	p.note(t, reason)
	p.dead = true
	for _, dd := range p.dirs {
		if dd.block.active {
			p.finishBlock(dd, true)
		}
		dd.phase = phaseDead
		dd.free()
	}
	p.flushAll()
}

func (p *parser) note(t time.Time, reason string) {
	p.notes++
	switch {
	case p.notes > maxNotes+1:
		return
	case p.notes == maxNotes+1:
		reason = "HTTP/2: further notes about this connection suppressed"
	}
	p.sink.Note(stream.Note{Conn: p.conn, Time: t, Kind: "http", Reason: reason})
}

// handle processes one frame.
func (p *parser) handle(d *dirState, f http2.Frame, fi frameInfo) {
	switch f := f.(type) {
	case *http2.DataFrame:
		p.data(d, f, fi)
	case *http2.HeadersFrame:
		p.beginBlock(d, blockHeaders, f.StreamID, 0, f.StreamEnded(), fi)
		p.fragment(d, f.HeaderBlockFragment(), f.HeadersEnded(), fi)
	case *http2.PushPromiseFrame:
		p.beginBlock(d, blockPush, f.StreamID, f.PromiseID, false, fi)
		p.fragment(d, f.HeaderBlockFragment(), f.HeadersEnded(), fi)
	case *http2.ContinuationFrame:
		if !d.block.active || d.block.stream != f.StreamID {
			p.badFrames++
			return
		}
		p.fragment(d, f.HeaderBlockFragment(), f.HeadersEnded(), fi)
	case *http2.RSTStreamFrame:
		p.reset(d, f, fi)
	case *http2.GoAwayFrame:
		if f.ErrCode != http2.ErrCodeNo {
			msg := fmt.Sprintf("HTTP/2 %s: GOAWAY %s after stream %d", d.wire, f.ErrCode, f.LastStreamID)
			if dbg := f.DebugData(); len(dbg) > 0 {
				msg += fmt.Sprintf(" (%q)", truncate(string(dbg), 200))
			}
			p.note(fi.start, msg)
		}
	}
	// SETTINGS, PRIORITY, PING, WINDOW_UPDATE and unknown frame types say nothing
	// about the exchanges.
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// data appends a DATA frame's payload (without padding) to its message.
func (p *parser) data(d *dirState, f *http2.DataFrame, fi frameInfo) {
	s := p.lookup(f.StreamID, true)
	if s == nil {
		return
	}
	r := p.role(d.wire)
	h := &s.half[r]
	if s.ws != nil {
		// WebSocket frames: the entry's times stay those of the
		// handshake, as for HTTP/1.1.
		s.ws.p.Feed(&stream.Chunk{Dir: stream.Dir(r), Data: f.Data(), Time: fi.start})
		if f.StreamEnded() {
			h.ended = true
			p.maybeDone(s)
		}
		return
	}
	h.touch(fi)
	b := f.Data()
	m := &h.msg
	if m.BodySize < 0 {
		m.BodySize = 0
	}
	m.BodySize += int64(len(b))
	if room := p.lim.MaxBody - int64(len(m.Body)); room < int64(len(b)) {
		b = b[:max(room, 0)]
		m.Truncated = true
	}
	m.Body = append(m.Body, b...)
	if m.Truncated {
		m.BodyLen = m.BodySize
	}
	if f.StreamEnded() {
		h.ended = true
		p.maybeDone(s)
	}
}

// reset handles RST_STREAM: the stream ends here.
func (p *parser) reset(d *dirState, f *http2.RSTStreamFrame, fi frameInfo) {
	s := p.streams[f.StreamID]
	if s == nil {
		return
	}
	s.rst = f.ErrCode.String()
	s.rstCode = f.ErrCode
	p.emit(s, false)
}
