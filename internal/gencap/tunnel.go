package gencap

import (
	"encoding/binary"
)

// Tunnel is an encapsulation a ConnWriter wraps every packet in, as seen
// on a link that carries tunnelled traffic: the outer packets go between
// 172.16.0.1 and 172.16.0.2.
type Tunnel int

const (
	NoTunnel Tunnel = iota
	// TunnelGTPU is GTP-U (UDP 2152), a mobile network's user plane; the
	// inner IP packets of more than 600 bytes are sent as two IP
	// fragments, each in its own GTP-U packet, as when the tunnel's MTU
	// is smaller than the user's.
	TunnelGTPU
	// TunnelAYIYA is Anything In Anything (UDP 5072), with a 16-byte
	// identity and a 20-byte signature.
	TunnelAYIYA
	// TunnelGeneve is Geneve (UDP 6081) carrying Ethernet, with one
	// option.
	TunnelGeneve
	// TunnelGREinUDP is GRE in UDP (UDP 4754, RFC 8086).
	TunnelGREinUDP
	// TunnelArubaGRE is 802.11 QoS data frames (LLC/SNAP) in GRE with
	// protocol 0x8200, as Aruba access points send their clients' traffic
	// to the controller.
	TunnelArubaGRE
)

var (
	tunnelA = [4]byte{172, 16, 0, 1}
	tunnelB = [4]byte{172, 16, 0, 2}
)

// encapsulate wraps an Ethernet/IPv4 frame in the tunnel; the result is
// one or more Ethernet frames.
func (fw *fileWriter) encapsulate(frame []byte) [][]byte {
	ip := frame[14:]
	switch fw.tunnel {
	case TunnelGTPU:
		var out [][]byte
		for _, p := range fragmentIPv4(ip, 600) {
			h := []byte{0x30, 0xff, 0, 0, 0, 0, 0x12, 0x34} // v1, PT=1, G-PDU, TEID 0x1234
			binary.BigEndian.PutUint16(h[2:], uint16(len(p)))
			out = append(out, fw.outerUDP(2152, 2152, append(h, p...)))
		}
		return out
	case TunnelAYIYA:
		h := make([]byte, 8+16+20)
		h[0] = 4<<4 | 1 // identity of 2^4 bytes, an IPv6 address
		h[1] = 5<<4 | 2 // signature of 5 words, SHA-1
		h[2] = 2<<4 | 1 // hash authentication, opcode forward
		h[3] = 4        // next header: IPv4
		binary.BigEndian.PutUint32(h[4:], 1704067200)
		return [][]byte{fw.outerUDP(5072, 5072, append(h, ip...))}
	case TunnelGeneve:
		// 8-byte header with 8 bytes of options (one option of 4 data bytes).
		h := []byte{0x02, 0, 0x65, 0x58, 0, 0x01, 0x00, 0, 0x01, 0x02, 0x03, 0x01, 0xde, 0xad, 0xbe, 0xef}
		return [][]byte{fw.outerUDP(49152, 6081, append(h, frame...))}
	case TunnelGREinUDP:
		h := []byte{0, 0, 0x08, 0x00}
		return [][]byte{fw.outerUDP(49153, 4754, append(h, ip...))}
	case TunnelArubaGRE:
		gre := []byte{0, 0, 0x82, 0x00}
		// QoS data, to the distribution system; duration; BSSID, source,
		// destination; sequence control; QoS control.
		w := []byte{0x88, 0x01, 0, 0}
		w = append(w, 0x02, 0xaa, 0, 0, 0, 0x01) // BSSID
		w = append(w, frame[6:12]...)            // source
		w = append(w, frame[0:6]...)             // destination
		w = append(w, 0x10, 0x00, 0x00, 0x00)
		w = append(w, 0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00) // LLC/SNAP, IPv4
		return [][]byte{fw.outerIP(47, append(append(gre, w...), ip...))}
	}
	return [][]byte{frame}
}

// outerUDP is an Ethernet/IPv4/UDP frame carrying payload (UDP checksum
// 0: none, as tunnels over IPv4 usually send).
func (fw *fileWriter) outerUDP(sport, dport uint16, payload []byte) []byte {
	u := make([]byte, 8, 8+len(payload))
	binary.BigEndian.PutUint16(u, sport)
	binary.BigEndian.PutUint16(u[2:], dport)
	binary.BigEndian.PutUint16(u[4:], uint16(8+len(payload)))
	return fw.outerIP(17, append(u, payload...))
}

func (fw *fileWriter) outerIP(proto byte, payload []byte) []byte {
	fw.ipID++
	h := ipv4Header(tunnelA, tunnelB, proto, fw.ipID, 0, false, len(payload))
	f := append(append([]byte(nil), macRouter...), macClient...)
	f = append(f, 0x08, 0x00)
	return append(append(f, h...), payload...)
}

// ipv4Header is an IPv4 header without options, its checksum filled in.
func ipv4Header(src, dst [4]byte, proto byte, id uint16, off int, more bool, n int) []byte {
	h := make([]byte, 20)
	h[0] = 0x45
	binary.BigEndian.PutUint16(h[2:], uint16(20+n))
	binary.BigEndian.PutUint16(h[4:], id)
	fo := uint16(off / 8)
	if more {
		fo |= 0x2000
	}
	binary.BigEndian.PutUint16(h[6:], fo)
	h[8] = 64
	h[9] = proto
	copy(h[12:], src[:])
	copy(h[16:], dst[:])
	binary.BigEndian.PutUint16(h[10:], checksum(h, 0))
	return h
}

// fragmentIPv4 cuts an IPv4 packet (header without options) whose
// payload is longer than max into two fragments.
func fragmentIPv4(ip []byte, max int) [][]byte {
	payload := ip[20:]
	if len(payload) <= max {
		return [][]byte{ip}
	}
	cut := max / 8 * 8
	src, dst := [4]byte(ip[12:16]), [4]byte(ip[16:20])
	id := binary.BigEndian.Uint16(ip[4:])
	a := append(ipv4Header(src, dst, ip[9], id, 0, true, cut), payload[:cut]...)
	b := append(ipv4Header(src, dst, ip[9], id, cut, false, len(payload)-cut), payload[cut:]...)
	return [][]byte{a, b}
}
