package quic

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Varint reads a QUIC variable-length integer (RFC 9000 section 16); n is
// 0 when b is too short.
func Varint(b []byte) (v uint64, n int) {
	if len(b) == 0 {
		return 0, 0
	}
	n = 1 << (b[0] >> 6)
	if len(b) < n {
		return 0, 0
	}
	v = uint64(b[0] & 0x3f)
	for _, c := range b[1:n] {
		v = v<<8 | uint64(c)
	}
	return v, n
}

// AppendVarint appends v in the shortest encoding (v < 2^62).
func AppendVarint(b []byte, v uint64) []byte {
	switch {
	case v < 1<<6:
		return append(b, byte(v))
	case v < 1<<14:
		return append(b, byte(v>>8)|0x40, byte(v))
	case v < 1<<30:
		return append(b, byte(v>>24)|0x80, byte(v>>16), byte(v>>8), byte(v))
	}
	return append(b, byte(v>>56)|0xc0, byte(v>>48), byte(v>>40), byte(v>>32), byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

// packetType is the kind of a packet, whatever the version's numbering.
type packetType uint8

const (
	typeInitial packetType = iota
	typeZeroRTT
	typeHandshake
	typeRetry
	typeShort
	typeVersionNegotiation
)

func (t packetType) String() string {
	return [...]string{"Initial", "0-RTT", "Handshake", "Retry", "1-RTT", "Version Negotiation"}[t]
}

// level is an encryption level (a packet number space, with 0-RTT and
// 1-RTT sharing one).
type level uint8

const (
	levelInitial level = iota
	levelHandshake
	levelApp
	levelEarly // 0-RTT keys; packet numbers in the application space
)

func (t packetType) level() level {
	switch t {
	case typeInitial:
		return levelInitial
	case typeHandshake:
		return levelHandshake
	case typeZeroRTT:
		return levelEarly
	}
	return levelApp
}

// header is a packet's header before header protection is removed.
type header struct {
	typ        packetType
	version    uint32
	dcid, scid []byte
	token      []byte
	// pnOffset is where the packet number starts; end is where the
	// packet ends in the datagram (long headers give a length; a short
	// header packet runs to the end).
	pnOffset, end int
	// versions lists a Version Negotiation packet's versions.
	versions []uint32
}

var errShort = errors.New("packet too short")

// knownVersion reports whether packets of v are laid out as version 1's
// (v1, v2 and the IETF drafts, whose long headers match).
func knownVersion(v uint32) bool {
	return v == Version1 || v == Version2 || v>>8 == 0xff0000
}

// IsLongHeader reports whether b starts like a QUIC long header packet of
// a version tracewire knows (or a Version Negotiation packet).
func IsLongHeader(b []byte) bool {
	if len(b) < 7 || b[0]&0x80 == 0 {
		return false
	}
	v := binary.BigEndian.Uint32(b[1:])
	return (v == 0 || knownVersion(v) && b[0]&0x40 != 0) && int(b[5]) <= 20
}

// parseHeader parses the packet at the start of b. dcidLen is the length
// of the connection ID a short header carries (the receiver's, known
// from the handshake).
func parseHeader(b []byte, dcidLen int) (header, error) {
	var h header
	if len(b) < 1 {
		return h, errShort
	}
	if b[0]&0x80 == 0 {
		h.typ = typeShort
		if len(b) < 1+dcidLen {
			return h, errShort
		}
		h.dcid = b[1 : 1+dcidLen]
		h.pnOffset = 1 + dcidLen
		h.end = len(b)
		return h, nil
	}
	if len(b) < 7 {
		return h, errShort
	}
	h.version = binary.BigEndian.Uint32(b[1:])
	p := 5
	n := int(b[p])
	if p+1+n > len(b) {
		return h, errShort
	}
	h.dcid = b[p+1 : p+1+n]
	p += 1 + n
	if p >= len(b) {
		return h, errShort
	}
	n = int(b[p])
	if p+1+n > len(b) {
		return h, errShort
	}
	h.scid = b[p+1 : p+1+n]
	p += 1 + n
	if h.version == 0 {
		h.typ = typeVersionNegotiation
		for p+4 <= len(b) {
			h.versions = append(h.versions, binary.BigEndian.Uint32(b[p:]))
			p += 4
		}
		h.end = len(b)
		return h, nil
	}
	if !knownVersion(h.version) {
		return h, fmt.Errorf("unknown QUIC version %#08x", h.version)
	}
	if len(h.dcid) > 20 || len(h.scid) > 20 {
		return h, fmt.Errorf("connection ID longer than 20 bytes")
	}
	t := (b[0] >> 4) & 3
	if h.version == Version2 {
		// RFC 9369 section 3.2: the types are rotated by one.
		t = (t + 3) & 3
	}
	h.typ = packetType(t)
	if h.typ == typeRetry {
		h.end = len(b)
		h.pnOffset = p
		return h, nil
	}
	if h.typ == typeInitial {
		tl, n := Varint(b[p:])
		if n == 0 || uint64(len(b)-p-n) < tl {
			return h, errShort
		}
		h.token = b[p+n : p+n+int(tl)]
		p += n + int(tl)
	}
	l, n := Varint(b[p:])
	if n == 0 {
		return h, errShort
	}
	p += n
	if uint64(len(b)-p) < l {
		return h, fmt.Errorf("%s packet of %d bytes, %d in the datagram: %w", h.typ, l, len(b)-p, errShort)
	}
	h.pnOffset = p
	h.end = p + int(l)
	return h, nil
}

// unprotect removes header protection from pkt (a copy of the packet,
// changed in place) and returns the truncated packet number, its length
// and the key phase bit (short headers).
func unprotect(k *keys, h *header, pkt []byte) (pn uint64, pnLen int, phase bool, err error) {
	if h.pnOffset+4+16 > len(pkt) {
		return 0, 0, false, errShort
	}
	m := k.hp.mask(pkt[h.pnOffset+4 : h.pnOffset+20])
	if h.typ == typeShort {
		pkt[0] ^= m[0] & 0x1f
	} else {
		pkt[0] ^= m[0] & 0x0f
	}
	pnLen = int(pkt[0]&3) + 1
	for i := range pnLen {
		pkt[h.pnOffset+i] ^= m[1+i]
		pn = pn<<8 | uint64(pkt[h.pnOffset+i])
	}
	return pn, pnLen, pkt[0]&0x04 != 0, nil
}

// decodePN reconstructs a full packet number from its truncated form and
// the largest one received in the space (RFC 9000 appendix A.3); largest
// is -1 before the first.
func decodePN(largest int64, truncated uint64, pnLen int) uint64 {
	expected := uint64(largest + 1)
	win := uint64(1) << (8 * pnLen)
	hwin := win / 2
	mask := win - 1
	cand := (expected &^ mask) | truncated
	switch {
	case cand+hwin <= expected && cand < (1<<62)-win:
		return cand + win
	case cand > expected+hwin && cand >= win:
		return cand - win
	}
	return cand
}
