package decode

import (
	"encoding/binary"
	"net/netip"
)

// Hand-written packet builders for the tests: independent of the decoder
// and of gopacket's serializers, and small enough to read.

var (
	mac1 = []byte{0x02, 0, 0, 0, 0, 1}
	mac2 = []byte{0x02, 0, 0, 0, 0, 2}
	v4a  = netip.MustParseAddr("192.0.2.1")
	v4b  = netip.MustParseAddr("198.51.100.2")
	v6a  = netip.MustParseAddr("2001:db8::1")
	v6b  = netip.MustParseAddr("2001:db8:ffff::2")
)

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func be16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

func eth(etherType uint16, payload []byte) []byte {
	return cat(mac2, mac1, be16(etherType), payload)
}

func vlan(tpid uint16, id uint16, inner uint16) []byte {
	return cat(be16(tpid), be16(id), be16(inner))
}

// ipv4Frag builds an IPv4 header (with opts, a multiple of 4 bytes).
func ipv4Frag(src, dst netip.Addr, proto uint8, id uint16, off int, more bool, opts, payload []byte) []byte {
	ihl := 20 + len(opts)
	h := make([]byte, 20)
	h[0] = 0x40 | byte(ihl/4)
	binary.BigEndian.PutUint16(h[2:], uint16(ihl+len(payload)))
	binary.BigEndian.PutUint16(h[4:], id)
	fo := uint16(off / 8)
	if more {
		fo |= 0x2000
	}
	binary.BigEndian.PutUint16(h[6:], fo)
	h[8] = 64
	h[9] = proto
	s, d := src.As4(), dst.As4()
	copy(h[12:], s[:])
	copy(h[16:], d[:])
	return cat(h, opts, payload)
}

func ipv4(src, dst netip.Addr, proto uint8, payload []byte) []byte {
	return ipv4Frag(src, dst, proto, 1, 0, false, nil, payload)
}

// ipv6 builds an IPv6 header; payload starts with any extension headers.
func ipv6(src, dst netip.Addr, next uint8, payload []byte) []byte {
	h := make([]byte, 40)
	h[0] = 0x60
	binary.BigEndian.PutUint16(h[4:], uint16(len(payload)))
	h[6] = next
	h[7] = 64
	s, d := src.As16(), dst.As16()
	copy(h[8:], s[:])
	copy(h[24:], d[:])
	return cat(h, payload)
}

// ext6 builds an 8-byte-multiple IPv6 option-style extension header.
func ext6(next uint8, units int) []byte {
	h := make([]byte, 8*(units+1))
	h[0] = next
	h[1] = byte(units)
	return h
}

func frag6(next uint8, off int, more bool, id uint32) []byte {
	fo := uint16(off)
	if more {
		fo |= 1
	}
	return cat([]byte{next, 0}, be16(fo), be32(id))
}

func tcp(sport, dport uint16, seq uint32, payload []byte) []byte {
	h := make([]byte, 20)
	binary.BigEndian.PutUint16(h, sport)
	binary.BigEndian.PutUint16(h[2:], dport)
	binary.BigEndian.PutUint32(h[4:], seq)
	h[12] = 5 << 4
	h[13] = 0x18 // PSH ACK
	binary.BigEndian.PutUint16(h[14:], 65535)
	return cat(h, payload)
}

func udp(sport, dport uint16, payload []byte) []byte {
	return cat(be16(sport), be16(dport), be16(uint16(8+len(payload))), be16(0), payload)
}

func vxlanHdr(vni uint32) []byte { return cat([]byte{0x08, 0, 0, 0}, be32(vni<<8)) }

var httpGet = []byte("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n")
