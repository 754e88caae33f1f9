package tls

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/tracewire/tracewire/pcap/internal/stream"
)

// Limits that bound a connection's memory whatever the input.
const (
	// maxRecord is the largest record fragment accepted (TLSCiphertext may
	// exceed 2^14 by 2048 bytes).
	maxRecord = 1<<14 + 2048
	// maxHandshake is the largest handshake message kept; longer ones
	// (huge certificate chains) are skipped.
	maxHandshake = 256 << 10
	// maxQueued bounds the client records held until the ServerHello says
	// how to decrypt them (0-RTT data).
	maxQueued = 1 << 20
	// maxPending bounds the plaintext held until the inner parser can be
	// made (0-RTT data waiting for EncryptedExtensions' ALPN).
	maxPending = 4 << 20
	// maxTranscript bounds the handshake kept for the extended master
	// secret's session hash.
	maxTranscript = 512 << 10
	// maxScan is how far a direction is searched for a record after a gap
	// before giving up.
	maxScan = 4 << 20
	// maxSeqTries bounds the sequence numbers tried on a record found
	// after a gap.
	maxSeqTries = 1024
	// maxTrialBytes bounds the bytes decrypted to test one candidate.
	maxTrialBytes = 4 << 20
	// maxBadRecords is how many records in a row may fail authentication
	// before a direction is given up.
	maxBadRecords = 8
)

// TLS 1.3 client phases: after the ClientHello the client may send 0-RTT
// data under the early secret, then its handshake under the handshake
// secret, then application data.
const (
	phaseNone = iota
	phaseTrial
	phaseHandshake
	phaseApp
)

// meta says where a record's first byte came from.
type meta struct {
	time     time.Time
	frame    uint64
	comments []string
}

func metaOf(c *stream.Chunk) meta {
	return meta{time: c.Time, frame: c.Frame, comments: c.Comments}
}

type mark struct {
	off int
	m   meta
}

type queued struct {
	rec []byte
	m   meta
}

type pendingChunk struct {
	dir  stream.Dir
	data []byte
	m    meta
	skip bool
}

// half is the state of one direction of a connection.
type half struct {
	role stream.Dir
	// buf holds an incomplete record; bufMeta is where its first byte
	// came from.
	buf     []byte
	bufMeta meta
	// hs reassembles handshake messages across records; hsDrop counts the
	// bytes of an oversized message still to skip.
	hs       []byte
	hsDrop   int
	hsResync bool
	// cipher decrypts the records; nil while they are cleartext.
	cipher recordCipher
	seq    uint64
	// good counts records authenticated under the current cipher, bad the
	// failures in a row.
	good, bad int
	// secret is the TLS 1.3 traffic secret of cipher, for KeyUpdate.
	secret []byte
	// phase is the TLS 1.3 client's (see phaseTrial).
	phase int
	// early and hsCipher are the TLS 1.3 client's candidates in
	// phaseTrial; earlySeq numbers the early records.
	early    recordCipher
	earlySeq uint64
	hsCipher recordCipher
	hsSecret []byte
	dead     bool
	// Resynchronisation after a gap: resync is set until a record
	// authenticates; rbuf holds the bytes searched with the meta of each
	// chunk in rmarks; lost is the size of the gap (-1 unknown).
	resync  bool
	lost    int
	rbuf    []byte
	rmarks  []mark
	scanned int
	// skipInner makes the next chunk given to the inner parser say that
	// bytes were lost before it.
	skipInner bool
	// avgRec is a running average of record sizes, for guessing how many
	// records a gap swallowed.
	avgRec int
	// inflate undoes TLS compression (TLS 1.2 and older, DEFLATE).
	inflate *inflater
	queue   []queued
	queueN  int
}

// parser decrypts one TLS connection.
type parser struct {
	conn *stream.Conn
	sink stream.Sink
	cfg  Config
	half [2]half

	// The current handshake; a renegotiation starts a new one.
	ch          *clientHello
	sh          *serverHello
	retried     bool // a HelloRetryRequest was seen
	version     uint16
	suite       *suite
	sec         *secrets
	transcript  []byte
	transcriptX bool // the transcript is complete up to the ClientKeyExchange
	transcriptB bool // the transcript is broken (a gap, an oversized message)
	cert        []byte
	encPMS      []byte
	master      []byte
	next        [2]recordCipher // TLS 1.2: what each ChangeCipherSpec activates
	keyed       bool            // next was derived for this handshake
	prefix      string          // TLS 1.3 HKDF label prefix
	noAAD       bool            // TLS 1.3 drafts before 25
	eeSeen      bool

	inner    stream.Parser
	made     bool
	pending  []pendingChunk
	pendingN int
	noted    map[string]bool
	dead     bool
	scratch  []byte
	// nested is set for TLS inside TLS (the Conn was already claimed);
	// flip turns the chunks' directions when the inner ClientHello came
	// from the outer server.
	nested bool
	flip   stream.Dir
	chunk  stream.Chunk
}

func newParser(c *stream.Conn, sink stream.Sink, cfg Config) *parser {
	p := &parser{conn: c, sink: sink, cfg: cfg}
	p.half[0].role = stream.ClientToServer
	p.half[1].role = stream.ServerToClient
	p.nested = strings.HasPrefix(c.Protocol, "tls")
	c.Protocol = "tls"
	return p
}

// scratchPool holds the buffers records are decrypted into. A parser
// borrows one for the duration of a Feed, so thousands of open connections
// do not hold one each.
var scratchPool = sync.Pool{New: func() any {
	b := make([]byte, maxRecord)
	return &b
}}

// Feed implements stream.Parser.
func (p *parser) Feed(c *stream.Chunk) {
	if p.dead || c == nil {
		return
	}
	if p.scratch == nil {
		b := scratchPool.Get().(*[]byte)
		p.scratch = *b
		defer func() {
			p.scratch = nil
			scratchPool.Put(b)
		}()
	}
	dir := c.Dir ^ p.flip
	if p.ch == nil && dir == stream.ServerToClient && c.Skip == 0 && LooksLikeClientHello(c.Data) {
		// The ClientHello comes from the side taken for the server: the
		// capture began mid-connection and the guess was wrong (Swap makes
		// the next chunks arrive the right way round), or, inside a
		// tunnel, the inner connection goes the other way (the outer
		// parser owns the Conn, so only our view is turned).
		if p.nested {
			p.flip ^= 1
		} else {
			p.conn.Swap()
		}
		dir = stream.ClientToServer
	}
	h := &p.half[dir&1]
	if h.dead {
		return
	}
	if c.Skip != 0 {
		p.gap(h, c.Skip, metaOf(c))
	}
	if len(c.Data) == 0 {
		return
	}
	if h.resync {
		p.resyncFeed(h, c.Data, metaOf(c))
		return
	}
	p.feed(h, c.Data, metaOf(c))
}

// End implements stream.Parser.
func (p *parser) End(at time.Time, why stream.EndReason) {
	for i := range p.half {
		h := &p.half[i]
		if len(h.queue) > 0 && !p.dead {
			for _, q := range h.queue {
				if q.rec[0] == recApplicationData {
					p.note("key", q.m.time, "no ServerHello seen: %d bytes of early client data not decrypted", h.queueN)
					break
				}
			}
		}
		h.queue = nil
		h.inflate.close()
		h.inflate = nil
	}
	if !p.made && len(p.pending) > 0 {
		p.makeInner()
	}
	if p.inner != nil {
		p.inner.End(at, why)
	}
	p.pending = nil
}

// note reports a problem with the flow once per class.
func (p *parser) note(class string, t time.Time, format string, args ...any) {
	if p.noted == nil {
		p.noted = map[string]bool{}
	}
	if p.noted[class] {
		return
	}
	p.noted[class] = true
	if p.sink != nil {
		p.sink.Note(stream.Note{Conn: p.conn, Time: t, Kind: "tls", Cause: class, Reason: fmt.Sprintf(format, args...)})
	}
}

// fail gives up a direction (or the whole connection when both are
// dead), with a note.
func (p *parser) fail(h *half, class string, t time.Time, format string, args ...any) {
	p.note(class, t, format, args...)
	h.dead = true
	h.buf, h.hs, h.rbuf, h.rmarks, h.queue = nil, nil, nil, nil, nil
	h.inflate.close()
	h.inflate = nil
	if p.half[0].dead && p.half[1].dead {
		p.dead = true
	}
}

func (p *parser) failAll(class string, t time.Time, format string, args ...any) {
	p.fail(&p.half[0], class, t, format, args...)
	p.fail(&p.half[1], class, t, format, args...)
}

func (p *parser) randomHex() string {
	if p.ch == nil {
		return "(none)"
	}
	return hex.EncodeToString(p.ch.random)
}

// plausible reports whether b starts with a record header we would accept.
// Strict headers (searching after a gap) must have a non-empty fragment.
func plausible(b []byte, strict bool) bool {
	if len(b) < 5 || b[0] < recChangeCipherSpec || b[0] > recHeartbeat || b[1] != 3 || b[2] > 4 {
		return false
	}
	n := int(binary.BigEndian.Uint16(b[3:]))
	if n > maxRecord {
		return false
	}
	return !strict || n > 0
}

func recLen(b []byte) int { return int(binary.BigEndian.Uint16(b[3:5])) }

// frameLen returns the length of the record that b starts with (header
// included), 0 when b is too short to tell, or -1 when b starts with no
// record header. The client's first record may be an SSL 2.0-format
// ClientHello, which has a 2-byte header.
func (p *parser) frameLen(h *half, b []byte) int {
	if h.role == stream.ClientToServer && p.ch == nil && len(b) > 0 && b[0]&0x80 != 0 {
		if len(b) < 2 {
			return 0
		}
		return 2 + (int(b[0]&0x7f)<<8 | int(b[1]))
	}
	if len(b) < 5 {
		return 0
	}
	if !plausible(b, false) {
		return -1
	}
	return 5 + recLen(b)
}

// feed splits a direction's bytes into records.
func (p *parser) feed(h *half, data []byte, m meta) {
	for len(data) > 0 && !h.dead && !h.resync {
		if len(h.buf) > 0 {
			total := p.frameLen(h, h.buf)
			for total == 0 && len(data) > 0 {
				h.buf = append(h.buf, data[0])
				data = data[1:]
				total = p.frameLen(h, h.buf)
			}
			if total == 0 {
				return
			}
			if total < 0 {
				p.badFraming(h, append([]byte(nil), h.buf...), h.bufMeta)
				h.buf = h.buf[:0]
				if h.resync {
					p.resyncFeed(h, data, m)
				}
				return
			}
			n := min(total-len(h.buf), len(data))
			h.buf = append(h.buf, data[:n]...)
			data = data[n:]
			if len(h.buf) < total {
				return
			}
			p.record(h, h.buf, h.bufMeta)
			h.buf = h.buf[:0]
			continue
		}
		total := p.frameLen(h, data)
		if total < 0 {
			p.badFraming(h, data, m)
			return
		}
		if total == 0 || len(data) < total {
			if cap(h.buf) < 5+maxRecord {
				h.buf = make([]byte, 0, 5+maxRecord)
			}
			h.buf = append(h.buf[:0], data...)
			h.bufMeta = m
			return
		}
		p.record(h, data[:total], m)
		data = data[total:]
	}
	if h.resync && len(data) > 0 {
		p.resyncFeed(h, data, m)
	}
}

// badFraming handles bytes that are no record header where one should be:
// the stream is not (or no longer) TLS, or a previous record was cut.
func (p *parser) badFraming(h *half, data []byte, m meta) {
	if h.cipher == nil && h.phase != phaseTrial {
		p.fail(h, "framing", m.time, "%s: not a TLS record at frame %d", h.role, m.frame)
		return
	}
	p.gap(h, -1, m)
	p.resyncFeed(h, data, m)
}

// gap starts searching a direction for the next record after lost bytes.
func (p *parser) gap(h *half, lost int, m meta) {
	h.buf = h.buf[:0]
	h.hs = h.hs[:0]
	h.hsDrop = 0
	h.hsResync = true
	if p.half[0].role == h.role {
		// A lost client message breaks the session hash.
		p.transcriptB = p.transcriptB || !p.transcriptX
	} else if !p.transcriptX {
		p.transcriptB = true
	}
	if h.cipher != nil {
		if sc, ok := h.cipher.(*streamCipher); ok && sc.rc4 != nil {
			p.fail(h, "gap", m.time, "%s: %s lost at frame %d; an RC4 stream cannot be resumed", h.role, lostText(lost), m.frame)
			return
		}
	}
	if h.phase == phaseTrial {
		p.fail(h, "gap", m.time, "%s: %s lost in the 0-RTT data at frame %d", h.role, lostText(lost), m.frame)
		return
	}
	if !h.resync {
		h.resync = true
		h.lost = lost
		h.scanned = 0
	} else if lost < 0 || h.lost < 0 {
		h.lost = -1
	} else {
		h.lost += lost
	}
}

func lostText(n int) string {
	if n < 0 {
		return "bytes"
	}
	return fmt.Sprintf("%d bytes", n)
}

// record handles one complete record (header and fragment).
func (p *parser) record(h *half, rec []byte, m meta) {
	if p.dead || h.dead {
		return
	}
	if rec[0]&0x80 != 0 {
		p.sslv2Hello(rec, m)
		return
	}
	typ := rec[0]
	body := rec[5:]
	if h.role == stream.ClientToServer && p.ch != nil && (p.sh == nil || p.retried && p.sh.retry) && typ != recHandshake {
		// Client data before the ServerHello (0-RTT data, or a TLS 1.3
		// compatibility ChangeCipherSpec): keep it until the ServerHello
		// says how to decrypt it.
		if h.queueN+len(rec) > maxQueued {
			p.fail(h, "limit", m.time, "%s: more than %d bytes before the ServerHello", h.role, maxQueued)
			return
		}
		h.queue = append(h.queue, queued{rec: bytes.Clone(rec), m: m})
		h.queueN += len(rec)
		return
	}
	if h.phase == phaseTrial {
		p.trialRecord(h, rec, m)
		return
	}
	if h.cipher == nil {
		p.clearRecord(h, typ, body, m)
		return
	}
	if typ == recChangeCipherSpec && isTLS13(p.version) {
		return // compatibility mode
	}
	pt, err := h.cipher.open(p.scratch, h.seq, rec[:5], body)
	if err != nil {
		if p.tryAppKey(h, rec, m) {
			return
		}
		p.badRecord(h, rec, m)
		return
	}
	h.seq++
	h.good++
	h.bad = 0
	h.avgRec = (h.avgRec*7 + len(rec)) / 8
	if h.inflate != nil {
		if pt, err = h.inflate.inflate(pt); err != nil {
			p.fail(h, "decrypt", m.time, "%s: %v at frame %d", h.role, err, m.frame)
			return
		}
	}
	p.plain(h, typ, pt, m)
}

// tryAppKey handles a TLS 1.3 record that fails under the handshake key
// because the Finished that switches keys was lost (in a gap): it tries
// the application key.
func (p *parser) tryAppKey(h *half, rec []byte, m meta) bool {
	if !isTLS13(p.version) || h.phase != phaseHandshake || p.sec == nil {
		return false
	}
	secret := p.sec.serverApp
	if h.role == stream.ClientToServer {
		secret = p.sec.clientApp
	}
	if secret == nil {
		return false
	}
	c, err := newCipher13(p.suite, secret, p.prefix, p.noAAD)
	if err != nil {
		return false
	}
	pt, err := c.open(p.scratch, 0, rec[:5], rec[5:])
	if err != nil {
		return false
	}
	h.cipher, h.secret, h.seq, h.good, h.bad = c, secret, 1, 1, 0
	h.phase = phaseApp
	h.hs = h.hs[:0]
	if h.role == stream.ServerToClient {
		p.eeSeen = true // EncryptedExtensions went by in the gap
	}
	p.plain(h, rec[0], pt, m)
	return true
}

// badRecord handles a record that does not authenticate.
func (p *parser) badRecord(h *half, rec []byte, m meta) {
	if h.good == 0 {
		reason := "wrong key"
		if p.sec == nil && p.master != nil {
			reason = "wrong RSA key or session"
		}
		p.fail(h, "decrypt", m.time, "%s: decryption failed (%s?) for client random %s at frame %d", h.role, reason, p.randomHex(), m.frame)
		return
	}
	h.bad++
	if c, ok := h.cipher.(*cbc); ok && c.iv != nil {
		// The next record's IV is this one's last ciphertext block.
		if bs := c.block.BlockSize(); len(rec)-5 >= bs {
			c.iv = append(c.iv[:0], rec[len(rec)-bs:]...)
		}
	} else if h.cipher.chained() {
		p.fail(h, "decrypt", m.time, "%s: decryption failed (bad record MAC) at frame %d; an RC4 stream cannot go on", h.role, m.frame)
		return
	}
	if h.bad > maxBadRecords {
		p.fail(h, "decrypt", m.time, "%s: decryption failed (bad record MAC) at frame %d", h.role, m.frame)
		return
	}
	// A damaged record: skip it, the next one has the next number.
	p.note("damaged", m.time, "%s: record at frame %d failed authentication; its data is missing", h.role, m.frame)
	h.seq++
	h.skipInner = true
	h.hs = h.hs[:0]
}

// clearRecord handles a record sent before encryption started.
func (p *parser) clearRecord(h *half, typ byte, body []byte, m meta) {
	switch typ {
	case recHandshake:
		p.handshakeData(h, body, m)
	case recChangeCipherSpec:
		p.changeCipherSpec(h, m)
	case recApplicationData:
		if p.sh != nil && !isTLS13(p.version) && !p.lostCCS(h, typ, body, m) {
			p.fail(h, "framing", m.time, "%s: application data before ChangeCipherSpec at frame %d", h.role, m.frame)
		}
	}
}

// lostCCS handles encrypted application data where the ChangeCipherSpec
// and Finished that precede it were lost (in a gap): it activates the
// direction's pending cipher if the record authenticates under it.
func (p *parser) lostCCS(h *half, typ byte, body []byte, m meta) bool {
	if !p.keyed {
		p.keyed = true
		if !p.deriveKeys(m) {
			return true // failed with a note already
		}
	}
	c := p.next[h.role]
	if c == nil || c.chained() {
		return false
	}
	hdr := []byte{typ, byte(p.version >> 8), byte(p.version), byte(len(body) >> 8), byte(len(body))}
	seqs := make([]uint64, 16)
	for i := range seqs {
		seqs[i] = uint64(i)
	}
	pt, seq, err := openAny(c, p.scratch, seqs, hdr, body)
	if err != nil {
		return false
	}
	p.next[h.role] = nil
	h.cipher, h.seq, h.good, h.bad = c, seq+1, 1, 0
	h.skipInner = true
	h.inflate.close()
	h.inflate = nil
	if p.sh.compression == 1 {
		// The DEFLATE stream began in the lost records.
		p.fail(h, "gap", m.time, "%s: compressed stream lost at frame %d", h.role, m.frame)
		return true
	}
	p.plain(h, typ, pt, m)
	return true
}

// plain handles a decrypted record.
func (p *parser) plain(h *half, typ byte, pt []byte, m meta) {
	if isTLS13(p.version) {
		// TLSInnerPlaintext: content, the real type, zero padding.
		i := len(pt) - 1
		for i >= 0 && pt[i] == 0 {
			i--
		}
		if i < 0 {
			return // all padding: nothing to deliver
		}
		typ, pt = pt[i], pt[:i]
	}
	switch typ {
	case recApplicationData:
		p.emit(h, pt, m)
	case recHandshake:
		p.handshakeData(h, pt, m)
	case recChangeCipherSpec:
		if !isTLS13(p.version) {
			// A renegotiation's ChangeCipherSpec, under the old keys.
			p.changeCipherSpec(h, m)
		}
	case recAlert:
		if len(pt) >= 2 && pt[1] == 1 && h.phase == phaseTrial {
			// end_of_early_data as an alert (TLS 1.3 drafts).
			p.endEarly(h)
		}
	}
}

// trialRecord handles a TLS 1.3 client record after the ServerHello
// while we do not know yet whether it is 0-RTT data (early secret) or the
// client's handshake (handshake secret): authentication decides.
func (p *parser) trialRecord(h *half, rec []byte, m meta) {
	typ := rec[0]
	if typ == recChangeCipherSpec || typ == recAlert && h.early == nil && h.hsCipher == nil {
		return
	}
	if typ != recApplicationData {
		if typ == recHandshake {
			p.handshakeData(h, rec[5:], m) // a second ClientHello
		}
		return
	}
	if h.early != nil {
		if pt, err := h.early.open(p.scratch, h.earlySeq, rec[:5], rec[5:]); err == nil {
			h.earlySeq++
			p.plain(h, typ, pt, m)
			return
		}
	}
	if h.hsCipher != nil {
		if pt, err := h.hsCipher.open(p.scratch, 0, rec[:5], rec[5:]); err == nil {
			h.phase = phaseHandshake
			h.cipher, h.secret, h.seq = h.hsCipher, h.hsSecret, 1
			h.good, h.bad = 1, 0
			h.early, h.hsCipher, h.hsSecret = nil, nil, nil
			p.plain(h, typ, pt, m)
			return
		}
	}
	if p.ch != nil && p.ch.earlyData {
		// 0-RTT data we cannot decrypt: report it, go on with the
		// handshake records that follow.
		if h.early == nil {
			p.note("early", m.time, "%s: 0-RTT early data at frame %d not decrypted: no CLIENT_EARLY_TRAFFIC_SECRET for client random %s", h.role, m.frame, p.randomHex())
		} else {
			p.note("early", m.time, "%s: 0-RTT early data at frame %d does not decrypt with the CLIENT_EARLY_TRAFFIC_SECRET of client random %s", h.role, m.frame, p.randomHex())
		}
		h.skipInner = true
		return
	}
	p.fail(h, "decrypt", m.time, "%s: decryption failed (wrong key?) for client random %s at frame %d", h.role, p.randomHex(), m.frame)
}

// endEarly switches the TLS 1.3 client from 0-RTT data to its handshake.
func (p *parser) endEarly(h *half) {
	if h.hsCipher == nil {
		return
	}
	h.phase = phaseHandshake
	h.cipher, h.secret, h.seq = h.hsCipher, h.hsSecret, 0
	h.good, h.bad = 0, 0
	h.early, h.hsCipher, h.hsSecret = nil, nil, nil
}

// emit gives decrypted application data to the inner parser, made when
// the handshake has told its ALPN.
func (p *parser) emit(h *half, data []byte, m meta) {
	p.conn.Decrypted = true
	skip := h.skipInner
	h.skipInner = false
	if !p.made {
		ready := !isTLS13(p.version) || p.eeSeen || p.half[1].dead
		if !ready && p.pendingN+len(data) <= maxPending {
			p.pending = append(p.pending, pendingChunk{dir: h.role, data: bytes.Clone(data), m: m, skip: skip})
			p.pendingN += len(data)
			return
		}
		p.makeInner()
	}
	p.deliver(h.role, data, m, skip)
}

func (p *parser) deliver(dir stream.Dir, data []byte, m meta, skip bool) {
	if p.inner == nil || len(data) == 0 {
		return
	}
	// One Chunk per parser, reused: the inner parser may not keep it.
	p.chunk = stream.Chunk{Dir: dir, Data: data, Time: m.time, Frame: m.frame, Comments: m.comments}
	if skip {
		p.chunk.Skip = -1
	}
	p.inner.Feed(&p.chunk)
}

func (p *parser) makeInner() {
	if p.made {
		return
	}
	p.made = true
	if p.cfg.Inner != nil {
		p.inner = p.cfg.Inner(p.conn, p.sink)
	}
	for _, c := range p.pending {
		p.deliver(c.dir, c.data, c.m, c.skip)
	}
	p.pending, p.pendingN = nil, 0
}

// handshakeData reassembles handshake messages from record fragments.
func (p *parser) handshakeData(h *half, data []byte, m meta) {
	if h.hsDrop > 0 {
		n := min(h.hsDrop, len(data))
		h.hsDrop -= n
		data = data[n:]
	}
	if len(data) == 0 {
		return
	}
	if h.hsResync {
		// After a gap, skip handshake fragments until one starts with
		// something like a message header.
		if len(data) < 4 || data[0] > hsKeyUpdate || int(data[1])<<16|int(data[2])<<8|int(data[3]) > maxHandshake {
			return
		}
		h.hsResync = false
	}
	h.hs = append(h.hs, data...)
	for len(h.hs) >= 4 && !h.dead && !p.dead {
		typ := h.hs[0]
		n := int(h.hs[1])<<16 | int(h.hs[2])<<8 | int(h.hs[3])
		if n > maxHandshake {
			h.hsDrop = n - (len(h.hs) - 4)
			if h.hsDrop < 0 {
				h.hsDrop = 0
			}
			if !p.transcriptX {
				p.transcriptB = true
			}
			h.hs = h.hs[:0]
			return
		}
		if len(h.hs) < 4+n {
			return
		}
		msg := h.hs[:4+n]
		p.handshake(h, typ, msg[4:], msg, m)
		if h.dead || p.dead {
			return
		}
		h.hs = h.hs[:copy(h.hs, h.hs[4+n:])]
	}
	if len(h.hs) == 0 && cap(h.hs) > 4096 {
		h.hs = nil // a certificate chain's worth, not needed any more
	}
}

// handshake handles one handshake message.
func (p *parser) handshake(h *half, typ byte, body, raw []byte, m meta) {
	if !p.transcriptX && typ != hsHelloRequest && !(p.ch != nil && typ == hsClientHello) {
		p.addTranscript(raw)
	}
	if h.role == stream.ClientToServer {
		switch typ {
		case hsClientHello:
			p.clientHello(body, raw, m)
		case hsClientKeyExchange:
			p.encPMS = bytes.Clone(encryptedPreMaster(p.version, body))
			p.transcriptX = true
		case hsEndOfEarlyData:
			p.endEarly(h)
		case hsFinished:
			// After the handshake a Finished ends post-handshake client
			// authentication and changes no key.
			if isTLS13(p.version) && h.phase != phaseApp {
				p.appKeys(h, m)
			}
		case hsKeyUpdate:
			p.keyUpdate(h, m)
		}
		return
	}
	switch typ {
	case hsServerHello, hsHelloRetryRequest:
		p.serverHello(typ, body, m)
	case hsCertificate:
		if !isTLS13(p.version) && p.cert == nil {
			p.cert = bytes.Clone(leafCertificate(body))
		}
	case hsNewSessionTicket:
		if !isTLS13(p.version) {
			if t := sessionTicket(body); len(t) > 0 {
				p.cfg.Keys.remember("tk:", t, p.master)
			}
		}
	case hsEncryptedExts:
		alpn, _ := parseEncryptedExtensions(body)
		if alpn != "" {
			p.conn.ALPN = alpn
		}
		p.eeSeen = true
		if !p.made && len(p.pending) > 0 {
			p.makeInner()
		}
	case hsFinished:
		if isTLS13(p.version) && h.phase != phaseApp {
			p.appKeys(h, m)
		}
	case hsKeyUpdate:
		p.keyUpdate(h, m)
	}
}

func (p *parser) addTranscript(raw []byte) {
	if p.transcriptB {
		return
	}
	if len(p.transcript)+len(raw) > maxTranscript {
		p.transcriptB = true
		p.transcript = nil
		return
	}
	p.transcript = append(p.transcript, raw...)
}

func (p *parser) clientHello(body, raw []byte, m meta) {
	ch, ok := parseClientHello(body)
	if !ok {
		p.fail(&p.half[0], "framing", m.time, "client→server: malformed ClientHello at frame %d", m.frame)
		return
	}
	p.startHandshake(ch, raw)
}

// sslv2Hello handles a ClientHello in SSL 2.0 format, which clients of the
// 2000s sent to reach SSL 2.0 servers while offering SSL 3.0 and TLS.
func (p *parser) sslv2Hello(rec []byte, m meta) {
	ch, ok := parseSSLv2Hello(rec[2:])
	if !ok {
		p.fail(&p.half[0], "framing", m.time, "client→server: malformed SSL 2.0 ClientHello at frame %d", m.frame)
		return
	}
	p.startHandshake(ch, rec[2:])
}

func (p *parser) startHandshake(ch *clientHello, raw []byte) {
	if p.ch != nil && bytes.Equal(p.ch.random, ch.random) {
		// The second ClientHello after a HelloRetryRequest keeps the
		// random; TLS 1.3 needs no transcript of ours.
		p.ch = ch
		return
	}
	// A new handshake (the first, or a TLS 1.2 renegotiation).
	p.ch = ch
	p.sh = nil
	p.retried = false
	p.sec = p.cfg.Keys.lookup(ch.random)
	p.transcript = append(p.transcript[:0], raw...)
	p.transcriptX, p.transcriptB = false, false
	p.cert, p.encPMS, p.master = nil, nil, nil
	p.next = [2]recordCipher{}
	p.keyed = false
	if p.conn.SNI == "" {
		p.conn.SNI = ch.sni
	}
}

func (p *parser) serverHello(typ byte, body []byte, m meta) {
	if p.ch == nil {
		p.failAll("framing", m.time, "server→client: ServerHello without ClientHello at frame %d", m.frame)
		return
	}
	sh, ok := parseServerHello(body)
	if !ok {
		p.failAll("framing", m.time, "server→client: malformed ServerHello at frame %d", m.frame)
		return
	}
	if typ == hsHelloRetryRequest {
		sh.retry = true
	}
	p.sh = sh
	p.version = sh.version
	p.conn.TLSVersion = versionName(sh.version)
	if sh.retry {
		p.retried = true
		p.replayQueue(m)
		return
	}
	p.suite = suiteByID(sh.suite)
	p.conn.CipherSuite = p.suite.name
	if sh.alpn != "" {
		p.conn.ALPN = sh.alpn
	}
	if sh.compression != 0 && (sh.compression != 1 || isTLS13(sh.version)) {
		p.failAll("suite", m.time, "unsupported compression method %d", sh.compression)
		return
	}
	if p.suite.bulk == bulkUnsupported {
		p.failAll("suite", m.time, "unsupported cipher suite %s (%s)", hex4(sh.suite), p.suite.name)
		return
	}
	if isTLS13(sh.version) != p.suite.tls13 {
		p.failAll("suite", m.time, "cipher suite %s (%s) does not go with %s", hex4(sh.suite), p.suite.name, versionName(sh.version))
		return
	}
	if isTLS13(sh.version) {
		p.setup13(m)
	}
	p.replayQueue(m)
}

func (p *parser) replayQueue(m meta) {
	h := &p.half[0]
	q := h.queue
	h.queue, h.queueN = nil, 0
	for _, r := range q {
		if h.dead || p.dead {
			return
		}
		p.record(h, r.rec, r.m)
	}
}

// setup13 prepares the TLS 1.3 handshake ciphers after the ServerHello.
func (p *parser) setup13(m meta) {
	p.transcript, p.transcriptB = nil, true // TLS 1.3 needs none of ours
	d := draftOf(p.version)
	p.prefix = labelPrefix
	if d > 0 && d < 20 {
		p.prefix = labelPrefixDraft
	}
	p.noAAD = d > 0 && d < 25
	s := p.sec
	if s == nil || s.serverHS == nil && s.clientHS == nil {
		p.failAll("key", m.time, "no key for client random %s", p.randomHex())
		return
	}
	srv, cli := &p.half[1], &p.half[0]
	if s.serverHS != nil {
		c, err := newCipher13(p.suite, s.serverHS, p.prefix, p.noAAD)
		if err != nil {
			p.failAll("suite", m.time, "%v", err)
			return
		}
		srv.cipher, srv.secret, srv.seq, srv.good, srv.bad = c, s.serverHS, 0, 0, 0
		srv.phase = phaseHandshake
	} else {
		p.fail(srv, "key13", m.time, "server→client: no SERVER_HANDSHAKE_TRAFFIC_SECRET for client random %s", p.randomHex())
	}
	cli.phase = phaseTrial
	if s.clientHS != nil {
		if c, err := newCipher13(p.suite, s.clientHS, p.prefix, p.noAAD); err == nil {
			cli.hsCipher, cli.hsSecret = c, s.clientHS
		}
	}
	if s.early != nil && p.ch.earlyData {
		if c, err := newCipher13(p.suite, s.early, p.prefix, p.noAAD); err == nil {
			cli.early = c
		}
	}
	if cli.hsCipher == nil && cli.early == nil {
		p.fail(cli, "key13", m.time, "client→server: no CLIENT_HANDSHAKE_TRAFFIC_SECRET for client random %s", p.randomHex())
	}
}

// appKeys switches a TLS 1.3 direction to its application secret after its
// Finished.
func (p *parser) appKeys(h *half, m meta) {
	var secret []byte
	if p.sec != nil {
		if h.role == stream.ClientToServer {
			secret = p.sec.clientApp
		} else {
			secret = p.sec.serverApp
		}
	}
	if secret == nil {
		name := "CLIENT_TRAFFIC_SECRET_0"
		if h.role == stream.ServerToClient {
			name = "SERVER_TRAFFIC_SECRET_0"
		}
		p.fail(h, "key13", m.time, "%s: no %s for client random %s", h.role, name, p.randomHex())
		return
	}
	c, err := newCipher13(p.suite, secret, p.prefix, p.noAAD)
	if err != nil {
		p.fail(h, "suite", m.time, "%s: %v", h.role, err)
		return
	}
	h.cipher, h.secret, h.seq, h.good, h.bad = c, secret, 0, 0, 0
	h.phase = phaseApp
}

// keyUpdate derives a TLS 1.3 direction's next traffic secret.
func (p *parser) keyUpdate(h *half, m meta) {
	if !isTLS13(p.version) || h.secret == nil {
		return
	}
	n := 32
	if p.suite.sha384 {
		n = 48
	}
	next := expandLabel(p.suite.sha384, h.secret, p.prefix, "traffic upd", nil, n)
	c, err := newCipher13(p.suite, next, p.prefix, p.noAAD)
	if err != nil {
		p.fail(h, "suite", m.time, "%s: %v", h.role, err)
		return
	}
	h.cipher, h.secret, h.seq, h.good, h.bad = c, next, 0, 0, 0
}

// changeCipherSpec activates a TLS 1.2 (or older) direction's cipher.
func (p *parser) changeCipherSpec(h *half, m meta) {
	if p.sh == nil || isTLS13(p.version) {
		return
	}
	if !p.keyed {
		p.keyed = true
		if !p.deriveKeys(m) {
			return
		}
	}
	c := p.next[h.role]
	if c == nil {
		return
	}
	p.next[h.role] = nil
	h.cipher, h.seq, h.good, h.bad = c, 0, 0, 0
	h.inflate.close()
	h.inflate = nil
	if p.sh.compression == 1 {
		h.inflate = newInflater()
	}
}

// deriveKeys finds the master secret of a TLS 1.2 (or older) handshake
// and makes both directions' ciphers.
func (p *parser) deriveKeys(m meta) bool {
	master, why := p.masterSecret()
	if master == nil {
		p.failAll("key", m.time, "no key for client random %s%s", p.randomHex(), why)
		return false
	}
	p.master = master
	p.transcript, p.transcriptB = nil, true // used up
	s, sh := p.suite, p.sh
	if len(sh.sessionID) > 0 {
		p.cfg.Keys.remember("id:", sh.sessionID, master)
	}
	macLen, keyLen, ivLen := s.mac.size(), s.bulk.keyLen(), s.bulk.fixedIVLen()
	if p.version >= verTLS11 && s.bulk.blockSize() > 0 || s.export {
		ivLen = 0 // explicit IVs, or export IVs made apart
	}
	if s.export {
		if p.version == verSSL30 {
			p.failAll("suite", m.time, "unsupported cipher suite %s (%s) in SSL 3.0", hex4(s.id), s.name)
			return false
		}
		keyLen = 5
	}
	kb := keyBlock(p.version, s.sha384, master, p.ch.random, sh.random, 2*(macLen+keyLen+ivLen))
	if kb == nil {
		p.failAll("key", m.time, "cannot derive keys for client random %s", p.randomHex())
		return false
	}
	cMAC, kb := kb[:macLen], kb[macLen:]
	sMAC, kb := kb[:macLen], kb[macLen:]
	cKey, kb := kb[:keyLen], kb[keyLen:]
	sKey, kb := kb[:keyLen], kb[keyLen:]
	cIV, sIV := kb[:ivLen], kb[ivLen:2*ivLen]
	if s.export {
		seed := cat(p.ch.random, sh.random)
		n := s.bulk.keyLen()
		cKey = prf(p.version, s.sha384, cKey, "client write key", seed, n)
		sKey = prf(p.version, s.sha384, sKey, "server write key", seed, n)
		if bs := s.bulk.blockSize(); bs > 0 {
			ivs := prf(p.version, s.sha384, nil, "IV block", seed, 2*bs)
			cIV, sIV = ivs[:bs], ivs[bs:]
		}
	}
	etm := p.ch.etm && sh.etm && s.bulk.blockSize() > 0
	var err error
	if p.next[0], err = newCipher12(s, p.version, etm, cMAC, cKey, cIV); err == nil {
		p.next[1], err = newCipher12(s, p.version, etm, sMAC, sKey, sIV)
	}
	if err != nil {
		p.failAll("suite", m.time, "%v", err)
		return false
	}
	return true
}

// masterSecret returns the master secret of the current TLS 1.2 (or
// older) handshake, or nil and why not.
func (p *parser) masterSecret() ([]byte, string) {
	s := p.sec
	if s != nil && s.master != nil {
		return s.master, ""
	}
	ems := p.ch.ems && p.sh.ems
	fromPMS := func(pms []byte) ([]byte, string) {
		var hash []byte
		if ems {
			if !p.transcriptX || p.transcriptB {
				return nil, " (extended master secret: handshake incomplete)"
			}
			hash = sessionHash(p.version, p.suite.sha384, p.transcript)
		}
		return masterFromPMS(p.version, p.suite.sha384, pms, p.ch.random, p.sh.random, hash), ""
	}
	if s != nil && s.pms != nil {
		return fromPMS(s.pms)
	}
	// An abbreviated handshake resumes the session of an earlier one.
	if ms := p.cfg.Keys.session("id:", p.sh.sessionID); ms != nil && bytes.Equal(p.sh.sessionID, p.ch.sessionID) {
		return ms, ""
	}
	if ms := p.cfg.Keys.session("tk:", p.ch.ticket); ms != nil {
		return ms, ""
	}
	if p.encPMS == nil {
		return nil, ""
	}
	if pms := p.cfg.Keys.lookupRSAPMS(p.encPMS); pms != nil {
		return fromPMS(pms)
	}
	keys := p.cfg.Keys.rsaKeyList()
	for _, k := range orderRSAKeys(keys, p.cert) {
		if pms := rsaDecryptPMS(k, p.encPMS); pms != nil {
			return fromPMS(pms)
		}
	}
	if len(keys) > 0 {
		return nil, fmt.Sprintf(" (none of the %d RSA keys decrypts the pre-master secret)", len(keys))
	}
	return nil, ""
}

// versionName names a protocol version for flow listings.
func versionName(v uint16) string {
	switch v {
	case verSSL30:
		return "SSL 3.0"
	case verTLS10:
		return "TLS 1.0"
	case verTLS11:
		return "TLS 1.1"
	case verTLS12:
		return "TLS 1.2"
	case verTLS13:
		return "TLS 1.3"
	}
	if d := draftOf(v); d > 0 {
		return fmt.Sprintf("TLS 1.3 (draft %d)", d)
	}
	return hex4(v)
}
