package tls

import (
	"bytes"
	"encoding/binary"
)

// Handshake message types.
const (
	hsHelloRequest       = 0
	hsClientHello        = 1
	hsServerHello        = 2
	hsNewSessionTicket   = 4
	hsEndOfEarlyData     = 5
	hsHelloRetryRequest  = 6 // TLS 1.3 drafts before 22
	hsEncryptedExts      = 8
	hsCertificate        = 11
	hsServerKeyExchange  = 12
	hsCertificateRequest = 13
	hsServerHelloDone    = 14
	hsCertificateVerify  = 15
	hsClientKeyExchange  = 16
	hsFinished           = 20
	hsKeyUpdate          = 24
)

// Extension types.
const (
	extServerName        = 0
	extALPN              = 16
	extEncryptThenMAC    = 22
	extExtendedMaster    = 23
	extSessionTicket     = 35
	extPreSharedKey      = 41
	extEarlyData         = 42
	extSupportedVersions = 43
)

// Record content types.
const (
	recChangeCipherSpec = 20
	recAlert            = 21
	recHandshake        = 22
	recApplicationData  = 23
	recHeartbeat        = 24
)

// helloRetryRandom is the ServerHello random that marks a
// HelloRetryRequest (RFC 8446 section 4.1.3).
var helloRetryRandom = []byte{
	0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
	0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
}

// reader reads the vectors of a handshake message; every read fails
// softly (ok false) on a short message, so malformed input never panics.
type reader struct {
	b  []byte
	ok bool
}

func newReader(b []byte) *reader { return &reader{b: b, ok: true} }

func (r *reader) bytes(n int) []byte {
	if !r.ok || n < 0 || n > len(r.b) {
		r.ok = false
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) u8() int {
	v := r.bytes(1)
	if v == nil {
		return 0
	}
	return int(v[0])
}

func (r *reader) u16() int {
	v := r.bytes(2)
	if v == nil {
		return 0
	}
	return int(binary.BigEndian.Uint16(v))
}

func (r *reader) u24() int {
	v := r.bytes(3)
	if v == nil {
		return 0
	}
	return int(v[0])<<16 | int(v[1])<<8 | int(v[2])
}

func (r *reader) vec8() []byte  { return r.bytes(r.u8()) }
func (r *reader) vec16() []byte { return r.bytes(r.u16()) }
func (r *reader) vec24() []byte { return r.bytes(r.u24()) }

// extensions calls f for each extension of a hello message's extension
// block; a missing block is fine (SSL 3.0 and old TLS have none).
func (r *reader) extensions(f func(typ int, data []byte)) {
	if !r.ok || len(r.b) == 0 {
		return
	}
	er := newReader(r.vec16())
	for er.ok && len(er.b) >= 4 {
		typ := er.u16()
		data := er.vec16()
		if !er.ok {
			break
		}
		f(typ, data)
	}
}

// clientHello is what we use of a ClientHello.
type clientHello struct {
	version   uint16
	random    []byte
	sessionID []byte
	sni       string
	alpn      []string
	ticket    []byte
	etm, ems  bool
	earlyData bool
	versions  []uint16 // supported_versions
}

func parseClientHello(b []byte) (*clientHello, bool) {
	r := newReader(b)
	ch := &clientHello{version: uint16(r.u16())}
	ch.random = bytes.Clone(r.bytes(32))
	ch.sessionID = bytes.Clone(r.vec8())
	r.vec16() // cipher suites
	r.vec8()  // compression methods
	if !r.ok {
		return nil, false
	}
	r.extensions(func(typ int, data []byte) {
		x := newReader(data)
		switch typ {
		case extServerName:
			l := newReader(x.vec16())
			for l.ok && len(l.b) > 0 {
				kind := l.u8()
				name := l.vec16()
				if l.ok && kind == 0 && ch.sni == "" {
					ch.sni = string(name)
				}
			}
		case extALPN:
			l := newReader(x.vec16())
			for l.ok && len(l.b) > 0 {
				if p := l.vec8(); l.ok {
					ch.alpn = append(ch.alpn, string(p))
				}
			}
		case extEncryptThenMAC:
			ch.etm = true
		case extExtendedMaster:
			ch.ems = true
		case extSessionTicket:
			ch.ticket = bytes.Clone(data)
		case extEarlyData:
			ch.earlyData = true
		case extSupportedVersions:
			l := newReader(x.vec8())
			for l.ok && len(l.b) >= 2 {
				ch.versions = append(ch.versions, uint16(l.u16()))
			}
		}
	})
	return ch, true
}

// parseSSLv2Hello parses an SSL 2.0-format ClientHello (after its 2-byte
// record header). Its challenge, right-aligned in 32 zero bytes, is the
// client random of the SSL 3.0 or TLS session it negotiates.
func parseSSLv2Hello(b []byte) (*clientHello, bool) {
	r := newReader(b)
	if r.u8() != hsClientHello {
		return nil, false
	}
	ch := &clientHello{version: uint16(r.u16())}
	csLen, sidLen, chLen := r.u16(), r.u16(), r.u16()
	r.bytes(csLen)
	ch.sessionID = bytes.Clone(r.bytes(sidLen))
	chal := r.bytes(chLen)
	if !r.ok || chLen < 16 || chLen > 32 {
		return nil, false
	}
	ch.random = make([]byte, 32)
	copy(ch.random[32-chLen:], chal)
	return ch, true
}

// serverHello is what we use of a ServerHello (or HelloRetryRequest).
type serverHello struct {
	// version is the negotiated version: supported_versions if present,
	// else the legacy field.
	version   uint16
	random    []byte
	sessionID []byte
	suite     uint16
	// compression is the compression method: 0 none, 1 DEFLATE.
	compression uint8
	alpn        string
	etm, ems    bool
	ticketExt   bool
	retry       bool // HelloRetryRequest
}

// isTLS13 reports whether v is TLS 1.3 or one of its drafts (0x7fNN, and
// Facebook's 0xfbNN experiments).
func isTLS13(v uint16) bool {
	return v == verTLS13 || v>>8 == 0x7f || v>>8 == 0xfb
}

// draftOf returns the draft number of a TLS 1.3 draft version, 0 for the
// RFC and for non-drafts.
func draftOf(v uint16) int {
	if v>>8 == 0x7f {
		return int(v & 0xff)
	}
	if v>>8 == 0xfb { // Facebook's builds of draft 23 and 26
		return int(v & 0xff)
	}
	return 0
}

func parseServerHello(b []byte) (*serverHello, bool) {
	r := newReader(b)
	sh := &serverHello{version: uint16(r.u16())}
	sh.random = bytes.Clone(r.bytes(32))
	if d := draftOf(sh.version); d > 0 && d < 22 {
		// Drafts before 22 had neither session ID nor compression.
		sh.suite = uint16(r.u16())
	} else {
		sh.sessionID = bytes.Clone(r.vec8())
		sh.suite = uint16(r.u16())
		sh.compression = uint8(r.u8())
	}
	if !r.ok {
		return nil, false
	}
	sh.retry = bytes.Equal(sh.random, helloRetryRandom)
	r.extensions(func(typ int, data []byte) {
		x := newReader(data)
		switch typ {
		case extALPN:
			l := newReader(x.vec16())
			if p := l.vec8(); l.ok {
				sh.alpn = string(p)
			}
		case extEncryptThenMAC:
			sh.etm = true
		case extExtendedMaster:
			sh.ems = true
		case extSessionTicket:
			sh.ticketExt = true
		case extSupportedVersions:
			if v := x.u16(); x.ok {
				sh.version = uint16(v)
			}
		}
	})
	return sh, true
}

// parseEncryptedExtensions returns the ALPN protocol and whether the
// server accepted early data.
func parseEncryptedExtensions(b []byte) (alpn string, early bool) {
	r := newReader(b)
	r.extensions(func(typ int, data []byte) {
		x := newReader(data)
		switch typ {
		case extALPN:
			l := newReader(x.vec16())
			if p := l.vec8(); l.ok {
				alpn = string(p)
			}
		case extEarlyData:
			early = true
		}
	})
	return alpn, early
}

// leafCertificate returns the first certificate of a TLS 1.2 (or older)
// Certificate message.
func leafCertificate(b []byte) []byte {
	r := newReader(b)
	l := newReader(r.vec24())
	c := l.vec24()
	if !l.ok {
		return nil
	}
	return c
}

// encryptedPreMaster returns the RSA-encrypted pre-master secret of a
// ClientKeyExchange: SSL 3.0 sends it bare, TLS with a 2-byte length.
func encryptedPreMaster(version uint16, b []byte) []byte {
	if version == verSSL30 {
		return b
	}
	r := newReader(b)
	v := r.vec16()
	if !r.ok || len(r.b) != 0 {
		// Some SSL 3.0-era TLS 1.0 stacks sent it bare too.
		return b
	}
	return v
}

// sessionTicket returns the ticket of a TLS 1.2 NewSessionTicket.
func sessionTicket(b []byte) []byte {
	r := newReader(b)
	r.bytes(4) // lifetime hint
	t := r.vec16()
	if !r.ok {
		return nil
	}
	return t
}
