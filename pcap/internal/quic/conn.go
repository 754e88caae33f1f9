package quic

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tracewire/tracewire/pcap/internal/stream"
	"github.com/tracewire/tracewire/pcap/internal/tls"
)

// Meta says which packet carried some bytes.
type Meta struct {
	Time     time.Time
	Frame    uint64
	Comments []string
}

// App receives the streams of a decrypted connection (HTTP/3): each
// stream's bytes in order, per sender.
type App interface {
	// Data gives the next bytes of stream id sent by from; skip counts
	// the bytes lost before them (0 normally).
	Data(id uint64, from stream.Dir, data []byte, skip uint64, m Meta)
	// Fin says the sender ended the stream and all of it was given.
	Fin(id uint64, from stream.Dir, m Meta)
	// Reset says the sender abandoned the stream (RESET_STREAM) with an
	// application error code.
	Reset(id uint64, from stream.Dir, code uint64, m Meta)
	// End is called once, at the end of the flow.
	End(at time.Time)
}

// Config configures a Flow.
type Config struct {
	Keys *tls.Keys
	// NewApp makes the receiver of a connection's streams once 1-RTT data
	// is decrypted; alpn is the protocol negotiated (or offered). nil
	// drops the stream data.
	NewApp func(c *stream.Conn, sink stream.Sink, alpn string) App
}

// Flow follows the QUIC connections of one UDP flow (usually one).
type Flow struct {
	c     *stream.Conn
	sink  stream.Sink
	cfg   Config
	conns []*conn
	// orphans counts packets that belong to no connection whose start was
	// seen (short headers before any handshake, unknown versions).
	orphans     int
	orphanFirst time.Time
	orphanWhy   string
	vn          int // Version Negotiation packets
	scratch     []byte
	plain       []byte
	last        time.Time
}

// NewFlow returns the QUIC parser of a UDP flow whose client is c.Client.
// It sets c.Protocol to "quic" and fills SNI, ALPN, TLS version and cipher
// suite as they become known.
func NewFlow(c *stream.Conn, sink stream.Sink, cfg Config) *Flow {
	c.Protocol = "quic"
	return &Flow{c: c, sink: sink, cfg: cfg}
}

// maxWaiting bounds the packets held while their keys are not known yet.
const maxWaiting = 1024

// conn is one QUIC connection.
type conn struct {
	f       *Flow
	version uint32
	// cids[d] are the connection IDs that packets sent in direction d
	// carry as destination (the receiver's).
	cids [2][][]byte
	// initDCID is the destination of the client's Initial packets that
	// derived the Initial keys.
	initDCID   []byte
	retrySCIDs [][]byte
	// keys[d][level] protect what d sends; keys[d][levelApp] is the
	// current key phase.
	keys [2][4]*keys
	// oldInitial are the Initial keys replaced after a Retry.
	oldInitial [2]*keys
	phase      [2]bool
	prev       [2]*keys
	largest    [2][3]int64
	crypto     [2][3]*reasm
	hs         [2][3]hsReader
	random     []byte
	sni        string
	offered    []string
	alpn       string
	suite      uint16
	secrets    *tls.Secrets13
	noKeys     bool // the ClientHello was seen and the key logs lack it
	// replayDue marks keys installed while a packet's frames are handled.
	replayDue bool
	app       App
	streams   map[streamKey]*reasm
	ended     closedSet
	held      int // bytes the streams hold while waiting for holes
	tooMany   bool
	waiting   []waitingPacket
	packets   int
	bad       [4]int // packets not decrypted, by level
	badWhy    [4]string
	unknownF  bool // an unknown frame type was noted
	first     time.Time
	closed    string
}

type streamKey struct {
	id   uint64
	from stream.Dir
}

type waitingPacket struct {
	from stream.Dir
	h    header
	pkt  []byte
	m    Meta
}

// Datagram parses one UDP payload sent in direction from.
func (f *Flow) Datagram(from stream.Dir, b []byte, m Meta) {
	f.last = m.Time
	for len(b) > 0 {
		if b[0]&0x80 == 0 {
			f.short(from, b, m)
			return
		}
		h, err := parseHeader(b, 0)
		if err != nil {
			f.orphan(m.Time, err.Error())
			return
		}
		f.long(from, h, b[:h.end], m)
		b = b[h.end:]
		// Padding after the last packet of a datagram is zeros, which
		// no packet starts with.
		if len(b) > 0 && b[0] == 0 {
			return
		}
	}
}

func (f *Flow) orphan(t time.Time, why string) {
	if f.orphans == 0 {
		f.orphanFirst, f.orphanWhy = t, why
	}
	f.orphans++
}

// find returns the connection whose connection IDs match the destination
// at the start of b (longest match) and its length.
func (f *Flow) find(from stream.Dir, dst []byte, exact bool) (*conn, int) {
	var best *conn
	bestLen := -1
	for _, c := range f.conns {
		for _, id := range c.cids[from] {
			if exact && !bytes.Equal(dst, id) || !exact && !bytes.HasPrefix(dst, id) {
				continue
			}
			if len(id) > bestLen {
				best, bestLen = c, len(id)
			}
		}
	}
	return best, bestLen
}

func (f *Flow) long(from stream.Dir, h header, pkt []byte, m Meta) {
	switch h.typ {
	case typeVersionNegotiation:
		f.vn++
		return
	}
	c, _ := f.find(from, h.dcid, true)
	if c == nil && h.typ == typeInitial && from == stream.ClientToServer {
		// A client Initial to a connection ID not seen yet (the server's
		// Initial that chose it is later in the capture) still uses the
		// Initial keys of its connection.
		for i := len(f.conns) - 1; i >= 0 && c == nil; i-- {
			if f.conns[i].opens(from, h, pkt) {
				c = f.conns[i]
				c.addCID(stream.ClientToServer, h.dcid)
			}
		}
	}
	if c == nil && h.typ == typeInitial && from == stream.ClientToServer {
		c = &conn{f: f, version: h.version, streams: map[streamKey]*reasm{}, first: m.Time}
		for d := range c.largest {
			c.largest[d] = [3]int64{-1, -1, -1}
		}
		c.cids[stream.ClientToServer] = [][]byte{bytes.Clone(h.dcid)}
		f.conns = append(f.conns, c)
	}
	if c == nil && len(f.conns) > 0 && (h.typ != typeInitial || from == stream.ServerToClient) {
		// A zero-length connection ID matches everything; otherwise the
		// newest connection is the best guess.
		c = f.conns[len(f.conns)-1]
	}
	if c == nil {
		f.orphan(m.Time, fmt.Sprintf("a %s packet of a connection whose first Initial packet is not in the capture", h.typ))
		return
	}
	c.longPacket(from, h, pkt, m)
}

func (f *Flow) short(from stream.Dir, b []byte, m Meta) {
	c, n := f.find(from, b[1:], false)
	if c == nil && len(f.conns) > 0 {
		c = f.conns[len(f.conns)-1]
		n = 0
		if len(c.cids[from]) > 0 {
			n = len(c.cids[from][0])
		}
	}
	if c == nil {
		f.orphan(m.Time, "1-RTT packets of a connection whose handshake is not in the capture")
		return
	}
	h, err := parseHeader(b, n)
	if err != nil {
		c.bad[levelApp]++
		return
	}
	c.packet(from, h, b, m)
}

func (c *conn) addCID(d stream.Dir, id []byte) {
	for _, x := range c.cids[d] {
		if bytes.Equal(x, id) {
			return
		}
	}
	if len(c.cids[d]) < 64 {
		c.cids[d] = append(c.cids[d], bytes.Clone(id))
	}
}

func (c *conn) longPacket(from stream.Dir, h header, pkt []byte, m Meta) {
	switch {
	case h.typ == typeRetry:
		// The client starts again towards the Retry's connection ID, with
		// Initial keys derived from it (RFC 9001 section 5.2).
		// A server answers each of the client's first Initial datagrams
		// (two when the ClientHello is large) with a Retry; the client
		// follows one of them.
		if len(c.retrySCIDs) < 8 {
			c.retrySCIDs = append(c.retrySCIDs, bytes.Clone(h.scid))
		}
		c.addCID(stream.ClientToServer, h.scid)
		return
	case from == stream.ServerToClient:
		c.addCID(stream.ClientToServer, h.scid)
	default:
		c.addCID(stream.ServerToClient, h.scid)
		c.addCID(stream.ClientToServer, h.dcid)
	}
	if h.typ == typeInitial && from == stream.ClientToServer && (c.initDCID == nil || h.version != c.version ||
		!bytes.Equal(c.initDCID, h.dcid) && slices.ContainsFunc(c.retrySCIDs, func(id []byte) bool { return bytes.Equal(id, h.dcid) })) {
		if c.initDCID != nil && h.version != c.version {
			// After Version Negotiation the client starts a new handshake
			// (a new ClientHello, with a new random) in another version.
			c.crypto, c.hs = [2][3]*reasm{}, [2][3]hsReader{}
			c.random, c.secrets, c.noKeys, c.suite = nil, nil, false, 0
			for d := range c.largest {
				c.largest[d][levelInitial] = -1
			}
		}
		c.version = h.version
		c.initDCID = bytes.Clone(h.dcid)
		// Initial packets sent before the Retry (or the other version)
		// may still follow in the capture.
		c.oldInitial = [2]*keys{c.keys[stream.ClientToServer][levelInitial], c.keys[stream.ServerToClient][levelInitial]}
		cl, sv := initialKeys(h.version, h.dcid)
		c.keys[stream.ClientToServer][levelInitial] = cl
		c.keys[stream.ServerToClient][levelInitial] = sv
	}
	c.packet(from, h, pkt, m)
}

// opens reports whether an Initial packet decrypts with c's Initial keys,
// without changing any state.
func (c *conn) opens(from stream.Dir, h header, pkt []byte) bool {
	k := c.keys[from][levelInitial]
	if k == nil {
		return false
	}
	b := bytes.Clone(pkt[:h.end])
	tpn, pnLen, _, err := unprotect(k, &h, b)
	if err != nil {
		return false
	}
	pn := decodePN(c.largest[from][levelInitial], tpn, pnLen)
	_, err = k.open(nil, pn, b[:h.pnOffset+pnLen], b[h.pnOffset+pnLen:])
	return err == nil
}

// packet decrypts one packet and handles its frames.
func (c *conn) packet(from stream.Dir, h header, pkt []byte, m Meta) {
	c.packets++
	lv := h.typ.level()
	if c.keys[from][lv] == nil {
		c.tryGuess(from, lv)
	}
	if c.keys[from][lv] == nil {
		if !c.noKeys && len(c.waiting) < maxWaiting && lv != levelInitial {
			c.waiting = append(c.waiting, waitingPacket{from: from, h: h, pkt: bytes.Clone(pkt), m: m})
			// Offsets into the copy.
			w := &c.waiting[len(c.waiting)-1]
			w.h.dcid, w.h.scid, w.h.token = nil, nil, nil
			return
		}
		c.fail(lv, "no keys")
		return
	}
	c.decrypt(from, h, pkt, m)
}

func (c *conn) fail(lv level, why string) {
	c.bad[lv]++
	if c.badWhy[lv] == "" {
		c.badWhy[lv] = why
	}
}

// tryGuess installs the keys of a level whose secrets are known but whose
// cipher suite is not (the ServerHello was lost), with the suite the
// secret's length suggests; decrypt tries the others.
func (c *conn) tryGuess(from stream.Dir, lv level) {
	if c.secrets == nil || c.suite != 0 || lv == levelInitial {
		return
	}
	s := c.secretOf(from, lv)
	if s == nil {
		return
	}
	suite := uint16(suiteAES128)
	if len(s) == 48 {
		suite = suiteAES256
	}
	c.keys[from][lv], _ = newKeys(suite, s, labelsOf(c.version))
}

func (c *conn) secretOf(from stream.Dir, lv level) []byte {
	s := c.secrets
	if s == nil {
		return nil
	}
	switch {
	case lv == levelEarly && from == stream.ClientToServer:
		return s.ClientEarly
	case lv == levelHandshake && from == stream.ClientToServer:
		return s.ClientHandshake
	case lv == levelHandshake:
		return s.ServerHandshake
	case lv == levelApp && from == stream.ClientToServer:
		return s.ClientTraffic
	case lv == levelApp:
		return s.ServerTraffic
	}
	return nil
}

func (c *conn) decrypt(from stream.Dir, h header, pkt []byte, m Meta) {
	lv := h.typ.level()
	space := lv
	if space == levelEarly {
		space = levelApp
	}
	k := c.keys[from][lv]
	f := c.f
	try := func(k *keys) (uint64, bool, bool) {
		f.scratch = append(f.scratch[:0], pkt[:h.end]...)
		tpn, pnLen, phase, err := unprotect(k, &h, f.scratch)
		if err != nil {
			return 0, false, false
		}
		pn := decodePN(c.largest[from][space], tpn, pnLen)
		hdr := f.scratch[:h.pnOffset+pnLen]
		var plain []byte
		plain, err = k.open(f.plain[:0], pn, hdr, f.scratch[h.pnOffset+pnLen:h.end])
		if err != nil {
			return 0, phase, false
		}
		f.plain = plain
		return pn, phase, true
	}
	pn, phase, ok := try(k)
	if lv == levelApp && h.typ == typeShort {
		if ok && phase != c.phase[from] {
			// Header protection is the same for every phase, so the phase
			// bit is known even though this key failed or passed by
			// chance: the other phase's keys decide.
			ok = false
		}
		if !ok && phase != c.phase[from] {
			if nk := k.next(); nk != nil {
				if pn2, _, ok2 := try(nk); ok2 {
					c.prev[from], c.keys[from][lv], c.phase[from] = k, nk, phase
					pn, ok = pn2, true
				} else if p := c.prev[from]; p != nil {
					pn, _, ok = try(p)
				}
			}
		}
	}
	if !ok && lv == levelInitial && c.oldInitial[from] != nil {
		pn, _, ok = try(c.oldInitial[from])
	}
	if !ok && c.suite == 0 && c.secrets != nil && lv != levelInitial {
		// Suite unknown: the other ones.
		for _, s := range []uint16{suiteAES128, suiteChaCha, suiteAES256} {
			nk, err := newKeys(s, c.secretOf(from, lv), labelsOf(c.version))
			if err != nil || nk.suite == k.suite {
				continue
			}
			if pn, _, ok = try(nk); ok {
				c.keys[from][lv] = nk
				break
			}
		}
	}
	if !ok {
		c.fail(lv, "packets that do not authenticate with the keys")
		return
	}
	if int64(pn) > c.largest[from][space] {
		c.largest[from][space] = int64(pn)
	}
	if lv == levelApp && !c.f.c.Decrypted {
		c.f.c.Decrypted = true
		if c.suite == 0 {
			c.f.c.CipherSuite = tls.SuiteName(c.keys[from][lv].suite)
		}
	}
	c.frames(from, lv, f.plain, m)
	if c.replayDue {
		c.replayDue = false
		c.replay()
	}
}

var errFrame = errors.New("malformed frame")

// frames handles the frames of a decrypted packet.
func (c *conn) frames(from stream.Dir, lv level, p []byte, m Meta) {
	if err := c.frameLoop(from, lv, p, m); err != nil && !c.unknownF {
		c.unknownF = true
		c.f.sink.Note(stream.Note{Conn: c.f.c, Time: m.Time, Kind: "quic",
			Reason: fmt.Sprintf("QUIC %s: %v at frame %d; the rest of that packet (and of later ones like it) was skipped", from, err, m.Frame)})
	}
}

// frameLoop walks the frames of a packet (RFC 9000 section 19).
func (c *conn) frameLoop(from stream.Dir, lv level, p []byte, m Meta) error {
	r := frameReader{b: p, ok: true}
	for len(r.b) > 0 {
		t := r.v()
		if !r.ok {
			return errFrame
		}
		switch {
		case t == 0x00: // PADDING
			for len(r.b) > 0 && r.b[0] == 0 {
				r.b = r.b[1:]
			}
		case t == 0x01, t == 0x1e, t == 0x1f: // PING, HANDSHAKE_DONE, IMMEDIATE_ACK
		case t == 0x02, t == 0x03: // ACK
			r.v()
			r.v()
			n := r.v()
			r.v()
			for i := uint64(0); i < n && r.ok; i++ {
				r.v()
				r.v()
			}
			if t == 0x03 {
				r.v()
				r.v()
				r.v()
			}
		case t == 0x04: // RESET_STREAM
			id, code := r.v(), r.v()
			r.v()
			if r.ok {
				c.reset(id, from, code, m)
			}
		case t == 0x05: // STOP_SENDING
			r.v()
			r.v()
		case t == 0x06: // CRYPTO
			off := r.v()
			data := r.bytes(r.v())
			if r.ok && lv != levelEarly {
				c.cryptoData(from, lv, off, data, m)
			}
		case t == 0x07: // NEW_TOKEN
			r.bytes(r.v())
		case t >= 0x08 && t <= 0x0f: // STREAM
			id := r.v()
			var off uint64
			if t&0x04 != 0 {
				off = r.v()
			}
			var data []byte
			if t&0x02 != 0 {
				data = r.bytes(r.v())
			} else {
				data, r.b = r.b, nil
			}
			if r.ok {
				c.streamData(id, from, off, data, t&0x01 != 0, m)
			}
		case t == 0x10, t == 0x12, t == 0x13, t == 0x14, t == 0x16, t == 0x17, t == 0x19:
			r.v()
		case t == 0x11, t == 0x15:
			r.v()
			r.v()
		case t == 0x18: // NEW_CONNECTION_ID
			r.v()
			r.v()
			n := r.bytes(1)
			var id []byte
			if len(n) == 1 {
				id = r.bytes(uint64(n[0]))
			}
			r.bytes(16)
			if r.ok && len(id) > 0 {
				// The sender's new ID is the destination of what the other
				// side sends.
				c.addCID(from.Reverse(), id)
			}
		case t == 0x1a, t == 0x1b: // PATH_CHALLENGE, PATH_RESPONSE
			r.bytes(8)
		case t == 0x1c, t == 0x1d: // CONNECTION_CLOSE
			code := r.v()
			if t == 0x1c {
				r.v()
			}
			reason := r.bytes(r.v())
			if r.ok && c.closed == "" {
				c.closed = fmt.Sprintf("closed by the %s with error %#x %q", sideName(from), code, reason)
			}
		case t == 0x30: // DATAGRAM to the end
			r.b = nil
		case t == 0x31:
			r.bytes(r.v())
		case t == 0xaf: // ACK_FREQUENCY (draft)
			r.v()
			r.v()
			r.v()
			r.v()
		default:
			return fmt.Errorf("unknown frame type %#x", t)
		}
		if !r.ok {
			return errFrame
		}
	}
	return nil
}

func sideName(d stream.Dir) string {
	if d == stream.ClientToServer {
		return "client"
	}
	return "server"
}

// frameReader reads frame fields; a short frame sets ok to false.
type frameReader struct {
	b  []byte
	ok bool
}

func (r *frameReader) v() uint64 {
	if !r.ok {
		return 0
	}
	v, n := Varint(r.b)
	if n == 0 {
		r.ok = false
		r.b = nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *frameReader) bytes(n uint64) []byte {
	if !r.ok || n > uint64(len(r.b)) {
		r.ok = false
		r.b = nil
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

// hsReader splits a CRYPTO sequence into handshake messages, keeping only
// those it needs (the certificate chain is skipped unbuffered).
type hsReader struct {
	buf  []byte
	skip int
}

// maxHandshakeMsg bounds a buffered handshake message.
const maxHandshakeMsg = 64 << 10

func (c *conn) cryptoData(from stream.Dir, lv level, off uint64, data []byte, m Meta) {
	r := c.crypto[from][lv]
	if r == nil {
		r = newReasm()
		c.crypto[from][lv] = r
	}
	r.add(off, data, m, func(b []byte, skip uint64, m Meta) {
		h := &c.hs[from][lv]
		if skip > 0 {
			*h = hsReader{skip: -1}
		}
		if h.skip < 0 {
			return // lost track of the message boundaries
		}
		for len(b) > 0 {
			if h.skip > 0 {
				n := min(h.skip, len(b))
				h.skip -= n
				b = b[n:]
				continue
			}
			h.buf = append(h.buf, b...)
			b = nil
			for len(h.buf) >= 4 {
				typ := h.buf[0]
				n := int(h.buf[1])<<16 | int(h.buf[2])<<8 | int(h.buf[3])
				if !wanted(typ) {
					rest := len(h.buf) - 4
					if rest >= n {
						h.buf = h.buf[4+n:]
						continue
					}
					h.skip = n - rest
					h.buf = h.buf[:0]
					break
				}
				if n > maxHandshakeMsg {
					h.skip = -1
					return
				}
				if len(h.buf) < 4+n {
					break
				}
				c.handshake(typ, h.buf[4:4+n], m)
				h.buf = h.buf[4+n:]
			}
		}
	})
}

func wanted(typ byte) bool {
	return typ == tls.HandshakeClientHello || typ == tls.HandshakeServerHello || typ == tls.HandshakeEncryptedExtensions
}

func (c *conn) handshake(typ byte, body []byte, m Meta) {
	fc := c.f.c
	switch typ {
	case tls.HandshakeClientHello:
		if c.f.cfg.Keys == nil {
			c.f.cfg.Keys = tls.NewKeys()
		}
		if c.random != nil {
			return
		}
		hello, ok := tls.ParseClientHello(body)
		if !ok {
			return
		}
		c.random, c.sni, c.offered = hello.Random, hello.SNI, hello.ALPN
		if fc.SNI == "" {
			fc.SNI = hello.SNI
		}
		fc.TLSVersion = "TLS 1.3"
		if s, ok := c.f.cfg.Keys.TLS13(hello.Random); ok && (s.ClientTraffic != nil || s.ServerTraffic != nil || s.ClientHandshake != nil) {
			c.secrets = &s
			c.install(m)
		} else {
			c.noKeys = true
			c.dropWaiting()
		}
	case tls.HandshakeServerHello:
		suite, _, retry, ok := tls.ParseServerHello(body)
		if !ok || retry || c.suite != 0 {
			return
		}
		c.suite = suite
		fc.CipherSuite = tls.SuiteName(suite)
		c.install(m)
	case tls.HandshakeEncryptedExtensions:
		c.alpn = tls.ParseEncryptedExtensions(body)
		if c.alpn != "" {
			fc.ALPN = c.alpn
		}
	}
}

// install derives the Handshake, 0-RTT and 1-RTT keys once secrets and
// suite are known (without the suite, tryGuess does it per packet), and
// has the packets that waited for them decrypted.
func (c *conn) install(m Meta) {
	if c.secrets == nil {
		return
	}
	if c.suite == 0 {
		// The suite is guessed per level when a packet needs it.
		c.replayDue = len(c.waiting) > 0
		return
	}
	lab := labelsOf(c.version)
	for _, d := range []stream.Dir{stream.ClientToServer, stream.ServerToClient} {
		for _, lv := range []level{levelHandshake, levelApp, levelEarly} {
			if s := c.secretOf(d, lv); s != nil {
				k, err := newKeys(c.suite, s, lab)
				if err != nil {
					c.f.sink.Note(stream.Note{Conn: c.f.c, Time: m.Time, Kind: "tls", Cause: "suite",
						Reason: fmt.Sprintf("QUIC: cipher suite %s is not supported; cannot decrypt", tls.SuiteName(c.suite))})
					c.noKeys = true
					c.dropWaiting()
					return
				}
				if c.keys[d][lv] == nil || c.keys[d][lv].suite != c.suite {
					c.keys[d][lv] = k
				}
			}
		}
	}
	c.replayDue = true
}

// dropWaiting counts the packets that waited for keys that will not come.
func (c *conn) dropWaiting() {
	for _, w := range c.waiting {
		c.fail(w.h.typ.level(), "no keys")
	}
	c.waiting = nil
}

// replay decrypts the packets that waited for keys. It runs after the
// frames of the packet that brought the keys, since it reuses the
// decryption buffers.
func (c *conn) replay() {
	w := c.waiting
	c.waiting = nil
	for _, p := range w {
		// The header is parsed again from the copy.
		dl := 0
		if p.h.typ == typeShort {
			dl = p.h.pnOffset - 1
		}
		h, err := parseHeader(p.pkt, dl)
		if err != nil {
			continue
		}
		c.packets--
		c.packet(p.from, h, p.pkt, p.m)
	}
}

func (c *conn) appFor() App {
	if c.app != nil {
		return c.app
	}
	alpn := c.alpn
	if alpn == "" {
		for _, a := range c.offered {
			if strings.HasPrefix(a, "h3") {
				alpn = a
				break
			}
		}
	}
	if c.f.cfg.NewApp != nil {
		c.app = c.f.cfg.NewApp(c.f.c, c.f.sink, alpn)
	}
	if c.app == nil {
		c.app = dropApp{}
	}
	return c.app
}

func (c *conn) streamData(id uint64, from stream.Dir, off uint64, data []byte, fin bool, m Meta) {
	// A unidirectional stream carries data from its initiator only (bit
	// 0: 0 client, 1 server).
	if id&2 != 0 && stream.Dir(id&1) != from {
		return
	}
	k := streamKey{id, from}
	if c.ended.has(k) {
		return // a retransmission after the end
	}
	r := c.streams[k]
	if r == nil {
		if len(c.streams) >= maxStreams {
			if !c.tooMany {
				c.tooMany = true
				c.f.sink.Note(stream.Note{Conn: c.f.c, Time: m.Time, Kind: "quic",
					Reason: fmt.Sprintf("QUIC: more than %d streams open at once; data of further streams is dropped", maxStreams)})
			}
			return
		}
		r = newReasm()
		c.streams[k] = r
	}
	if fin && r.fin < 0 {
		r.fin = int64(off + uint64(len(data)))
	}
	app := c.appFor()
	out := func(b []byte, skip uint64, m Meta) { app.Data(id, from, b, skip, m) }
	before := r.held
	r.add(off, data, m, out)
	c.held += r.held - before
	if c.held > maxConnPending {
		// Too much waiting for holes across the streams: this stream's
		// holes are given up.
		before = r.held
		r.flush(out)
		c.held += r.held - before
	}
	if r.complete() {
		app.Fin(id, from, m)
		c.held -= r.held
		c.finish(k)
	}
}

// maxStreams bounds the streams a connection tracks at once;
// maxConnPending the bytes its streams hold while waiting for holes.
const (
	maxStreams     = 1 << 14
	maxConnPending = 32 << 20
)

// finish forgets a stream that ended (its later retransmissions are
// recognised by ended).
func (c *conn) finish(k streamKey) {
	delete(c.streams, k)
	c.ended.add(k)
}

func (c *conn) reset(id uint64, from stream.Dir, code uint64, m Meta) {
	k := streamKey{id, from}
	if c.ended.has(k) {
		return
	}
	app := c.appFor()
	if r := c.streams[k]; r != nil {
		r.flush(func(b []byte, skip uint64, m Meta) { app.Data(id, from, b, skip, m) })
		c.held -= r.held
	}
	c.finish(k)
	app.Reset(id, from, code, m)
}

// closedSet remembers the streams that ended. Streams of a kind are opened
// in ID order, so when it grows large the oldest half is replaced by a
// floor per kind: IDs below it count as ended.
type closedSet struct {
	ids   map[streamKey]bool
	floor [2][4]uint64 // by sender and the ID's two low bits
}

const maxClosed = 1 << 15

func (s *closedSet) has(k streamKey) bool {
	return k.id < s.floor[k.from][k.id&3] || s.ids[k]
}

func (s *closedSet) add(k streamKey) {
	if s.ids == nil {
		s.ids = map[streamKey]bool{}
	}
	s.ids[k] = true
	if len(s.ids) <= maxClosed {
		return
	}
	// Per kind, the median ID of the closed ones becomes the floor.
	var byKind [2][4][]uint64
	for x := range s.ids {
		byKind[x.from][x.id&3] = append(byKind[x.from][x.id&3], x.id)
	}
	for d := range byKind {
		for t, ids := range byKind[d] {
			if len(ids) < 2 {
				continue
			}
			slices.Sort(ids)
			s.floor[d][t] = max(s.floor[d][t], ids[len(ids)/2])
		}
	}
	for x := range s.ids {
		if x.id < s.floor[x.from][x.id&3] {
			delete(s.ids, x)
		}
	}
}

// End finishes the flow: what waits in the stream buffers is given after
// its holes, and what could not be decrypted is reported.
func (f *Flow) End(at time.Time) {
	for _, c := range f.conns {
		c.end(at)
	}
	if f.orphans > 0 {
		f.sink.Note(stream.Note{Conn: f.c, Time: f.orphanFirst, Kind: "quic",
			Reason: fmt.Sprintf("QUIC: %d packets could not be attributed to a connection whose handshake is in the capture (the first: %s); not decrypted", f.orphans, f.orphanWhy)})
		if len(f.conns) == 0 {
			f.sink.Note(stream.Note{Conn: f.c, Time: f.orphanFirst, Kind: "tls", Cause: "handshake",
				Reason: "QUIC connection whose handshake is not in the capture; cannot decrypt"})
		}
	}
	if f.vn > 0 && len(f.conns) == 0 {
		f.sink.Note(stream.Note{Conn: f.c, Time: f.c.First, Kind: "quic",
			Reason: fmt.Sprintf("QUIC: %d Version Negotiation packets and no connection in a version tracewire reads", f.vn)})
	}
}

func (c *conn) end(at time.Time) {
	fc := c.f.c
	c.dropWaiting()
	// Streams in ID order, so entries come out the same way every time.
	keys := make([]streamKey, 0, len(c.streams))
	for k, r := range c.streams {
		if len(r.pending) > 0 {
			keys = append(keys, k)
		}
	}
	sortKeys(keys)
	for _, k := range keys {
		app := c.appFor()
		c.streams[k].flush(func(b []byte, skip uint64, m Meta) { app.Data(k.id, k.from, b, skip, m) })
	}
	if c.app != nil {
		c.app.End(at)
	}
	bad := c.bad[levelHandshake] + c.bad[levelApp] + c.bad[levelEarly] + c.bad[levelInitial]
	switch {
	case c.random == nil:
		fc.Protocol = "quic"
		c.f.sink.Note(stream.Note{Conn: fc, Time: c.first, Kind: "tls", Cause: "handshake",
			Reason: "QUIC: the client's Initial packets with the ClientHello are not in the capture (or could not be read); cannot decrypt"})
	case c.noKeys && c.secrets == nil:
		c.f.sink.Note(stream.Note{Conn: fc, Time: c.first, Kind: "tls", Cause: "key",
			Reason: fmt.Sprintf("QUIC: no TLS 1.3 traffic secrets for client random %s in the key logs or the capture; %d packets not decrypted", hex.EncodeToString(c.random), bad)})
	case bad > 0:
		var parts []string
		for lv, n := range c.bad {
			if n > 0 {
				name := [...]string{"Initial", "Handshake", "1-RTT", "0-RTT"}[lv]
				parts = append(parts, fmt.Sprintf("%d %s (%s)", n, name, c.badWhy[lv]))
			}
		}
		kind := "quic"
		if !fc.Decrypted {
			kind = "tls"
		}
		c.f.sink.Note(stream.Note{Conn: fc, Time: c.first, Kind: kind, Cause: "decrypt",
			Reason: fmt.Sprintf("QUIC: %d of %d packets could not be decrypted: %s", bad, c.packets, strings.Join(parts, ", "))})
	}
}

func sortKeys(k []streamKey) {
	for i := 1; i < len(k); i++ {
		for j := i; j > 0 && (k[j].id < k[j-1].id || k[j].id == k[j-1].id && k[j].from < k[j-1].from); j-- {
			k[j], k[j-1] = k[j-1], k[j]
		}
	}
}

type dropApp struct{}

func (dropApp) Data(uint64, stream.Dir, []byte, uint64, Meta) {}
func (dropApp) Fin(uint64, stream.Dir, Meta)                  {}
func (dropApp) Reset(uint64, stream.Dir, uint64, Meta)        {}
func (dropApp) End(time.Time)                                 {}
