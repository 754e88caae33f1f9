// Package decode takes captured packets apart down to TCP and UDP: link
// layers (Ethernet, 802.1Q and QinQ VLAN, raw IP, NULL/loopback, Linux SLL
// and SLL2, NFLOG, PPP), tunnels (VXLAN, GRE, IP in IP, GTP-U, AYIYA,
// Geneve, GRE in UDP, 802.11 in Aruba's GRE), IPv4 and IPv6 (extension
// headers), and reassembles IP fragments (inside tunnels too).
//
// Decoding is hand-written rather than gopacket's DecodingLayerParser: it
// covers link types and encapsulations gopacket lacks, yields netip
// addresses directly and allocates nothing per packet (BenchmarkDecode
// compares both). TCP is decoded with gopacket's layers.TCP (the TCP stage
// takes it), and the tunnel headers gopacket has layers for (GTP-U,
// Geneve, 802.11) with those, reused from packet to packet.
package decode

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/tracewire/tracewire/pcap/internal/capture"
)

// Packet is a decoded packet: its innermost IP header's addresses and
// protocol, and the transport layer.
type Packet struct {
	Src, Dst netip.Addr
	// Proto is the IP protocol number (6 TCP, 17 UDP, ...).
	Proto uint8
	// TCP is set for TCP packets; its Payload is the segment's data.
	TCP *layers.TCP
	// SrcPort and DstPort for TCP, UDP and SCTP (ICMP: type and code).
	SrcPort, DstPort uint16
	// Payload of the transport layer.
	Payload []byte
	// Truncated is set when the capture holds fewer bytes than the IP
	// header announces (snap length); Payload is then cut short.
	Truncated bool
	// Reassembled is set when the packet was put together from IP
	// fragments (an IPv6 atomic fragment does not count).
	Reassembled bool
	// Tunnels counts the encapsulations (VXLAN, GRE, IP in IP, ...) removed
	// to reach the innermost IP header.
	Tunnels int
}

// ErrSkip means the packet carries nothing to decode further (ARP, an IP
// fragment held for reassembly, an unsupported link type).
var ErrSkip = errors.New("nothing to decode")

// ErrMalformed is wrapped by the errors for packets whose headers are
// inconsistent (lengths beyond the data, bad versions).
var ErrMalformed = errors.New("malformed packet")

// Link-layer header types (LINKTYPE_* numbers, tcpdump.org/linktypes.html).
const (
	LinkNull     = 0
	LinkEthernet = 1
	LinkPPP      = 9
	LinkRawOld1  = 12 // DLT_RAW on most BSDs, sometimes written to files
	LinkRawOld2  = 14 // DLT_RAW on OpenBSD
	LinkPPPHDLC  = 50
	LinkRaw      = 101
	LinkLoop     = 108
	LinkSLL      = 113
	LinkIPv4     = 228
	LinkIPv6     = 229
	LinkNFLOG    = 239
	LinkSLL2     = 276
)

// EtherType values handled.
const (
	etherIPv4   = 0x0800
	etherARP    = 0x0806
	etherVLAN   = 0x8100
	etherIPv6   = 0x86DD
	etherPPPoE  = 0x8864
	etherMPLS   = 0x8847
	etherMPLSMC = 0x8848
	etherQinQ   = 0x88A8
	etherQinQ1  = 0x9100 // pre-standard QinQ
	etherQinQ2  = 0x9200
	etherTEB    = 0x6558 // transparent Ethernet bridging (GRE)
)

// IP protocol numbers handled.
const (
	protoHopByHop = 0
	protoICMP     = 1
	protoIPIP     = 4
	protoTCP      = 6
	protoUDP      = 17
	protoIPv6     = 41
	protoRouting  = 43
	protoFragment = 44
	protoGRE      = 47
	protoAH       = 51
	protoICMPv6   = 58
	protoNoNext   = 59
	protoDstOpts  = 60
	protoMobility = 135
	protoSCTP     = 132
	protoHIP      = 139
	protoShim6    = 140
)

// UDP ports of the tunnels decoded (IANA).
const (
	PortVXLAN     = 4789
	PortGTPU      = 2152 // GTP-U, mobile networks' user plane (3GPP TS 29.281)
	PortAYIYA     = 5072 // Anything In Anything (IPv6 tunnel brokers)
	PortGeneve    = 6081 // RFC 8926
	PortGREinUDP  = 4754 // RFC 8086
	etherAruba    = 0x8200
	gtpGPDU       = 0xff // GTP-U message type carrying a user packet
	ayiyaForward  = 1    // AYIYA opcode carrying a packet
	ayiyaMinBytes = 8
)

// maxDepth bounds nested encapsulations (VXLAN in GRE in ...), so a
// crafted packet cannot recurse without end.
const maxDepth = 8

// Decoder decodes packets; it keeps IP fragment state, so use one per
// capture.
type Decoder struct {
	pkt    Packet
	tcp    layers.TCP
	gtp    layers.GTPv1U
	geneve layers.Geneve
	dot11  layers.Dot11
	frag   defragmenter
}

// NewDecoder returns a Decoder.
func NewDecoder() *Decoder { return &Decoder{frag: newDefragmenter()} }

// Decode decodes p. The returned Packet is valid until the next call.
// Packets without an IP transport (ARP, held fragments, unsupported link
// types) give an error wrapping ErrSkip; damaged ones an error wrapping
// ErrMalformed.
func (d *Decoder) Decode(p *capture.Packet) (*Packet, error) {
	d.pkt = Packet{}
	d.frag.now = p.Time
	if len(p.Data) == 0 {
		return nil, ErrSkip // an empty record (trunc.pcap has dozens)
	}
	if err := d.link(p.LinkType, p.Data); err != nil {
		return nil, err
	}
	return &d.pkt, nil
}

// UnsupportedLinkError is returned (wrapping ErrSkip) for link types the
// decoder does not know.
type UnsupportedLinkError struct{ LinkType uint16 }

func (e *UnsupportedLinkError) Error() string {
	return fmt.Sprintf("unsupported link type %d", e.LinkType)
}

func (e *UnsupportedLinkError) Unwrap() error { return ErrSkip }

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}

func (d *Decoder) link(lt uint16, b []byte) error {
	switch lt {
	case LinkEthernet:
		return d.ethernet(b, 0)
	case LinkRaw, LinkRawOld1, LinkRawOld2:
		return d.ip(b, 0)
	case LinkIPv4:
		return d.ipv4(b, 0)
	case LinkIPv6:
		return d.ipv6(b, 0)
	case LinkNull, LinkLoop:
		return d.null(lt, b)
	case LinkSLL:
		if len(b) < 16 {
			return malformed("linux sll: %d bytes, header needs 16", len(b))
		}
		return d.sll(binary.BigEndian.Uint16(b[2:]), binary.BigEndian.Uint16(b[14:]), b[16:])
	case LinkSLL2:
		if len(b) < 20 {
			return malformed("linux sll2: %d bytes, header needs 20", len(b))
		}
		return d.sll(binary.BigEndian.Uint16(b[8:]), binary.BigEndian.Uint16(b[0:]), b[20:])
	case LinkNFLOG:
		return d.nflog(b)
	case LinkPPP, LinkPPPHDLC:
		return d.ppp(b, 0)
	}
	return &UnsupportedLinkError{LinkType: lt}
}

// null decodes the BSD loopback header: a 4-byte address family in the
// capturing host's byte order (NULL) or network order (LOOP).
func (d *Decoder) null(lt uint16, b []byte) error {
	if len(b) < 4 {
		return malformed("loopback: %d bytes, header needs 4", len(b))
	}
	af := binary.BigEndian.Uint32(b)
	if lt == LinkNull && af > 0xFFFF {
		// Written by a little-endian host (the family fits in 16 bits).
		af = binary.LittleEndian.Uint32(b)
	}
	switch af {
	case 2: // AF_INET everywhere
		return d.ipv4(b[4:], 0)
	case 24, 28, 30: // AF_INET6 on NetBSD/OpenBSD, FreeBSD, Darwin
		return d.ipv6(b[4:], 0)
	}
	return ErrSkip
}

// sll decodes what follows a Linux cooked header, given its ARPHRD type
// and protocol field.
func (d *Decoder) sll(arphrd, proto uint16, b []byte) error {
	switch arphrd {
	case 824: // ARPHRD_NETLINK: the protocol is a netlink family
		return ErrSkip
	}
	if proto < 0x0600 {
		// 802.2 LLC, Novell 802.3, CAN and other non-EtherType values.
		return ErrSkip
	}
	return d.etherType(proto, b, 0)
}

// nflog decodes Linux NFLOG: a 4-byte header, then TLVs whose length and
// type are in the capturing host's byte order; the packet is TLV type 9.
func (d *Decoder) nflog(b []byte) error {
	if len(b) < 4 {
		return malformed("nflog: %d bytes, header needs 4", len(b))
	}
	family := b[0]
	tlvs := b[4:]
	order := nflogOrder(tlvs)
	for len(tlvs) >= 4 {
		n := int(order.Uint16(tlvs))
		typ := order.Uint16(tlvs[2:])
		if n < 4 || n > len(tlvs) {
			return malformed("nflog: TLV length %d with %d bytes left", n, len(tlvs))
		}
		if typ&0x7fff == 9 { // NFULA_PAYLOAD (the top bit is NLA_F_NESTED)
			payload := tlvs[4:n]
			switch family {
			case 2: // AF_INET
				return d.ipv4(payload, 0)
			case 10: // AF_INET6
				return d.ipv6(payload, 0)
			}
			return d.ip(payload, 0)
		}
		tlvs = tlvs[min((n+3)&^3, len(tlvs)):]
	}
	return ErrSkip
}

// nflogOrder guesses the TLV byte order from the first TLV's length.
func nflogOrder(tlvs []byte) binary.ByteOrder {
	if len(tlvs) < 2 {
		return binary.LittleEndian
	}
	le := int(binary.LittleEndian.Uint16(tlvs))
	if le >= 4 && le <= len(tlvs) {
		return binary.LittleEndian
	}
	return binary.BigEndian
}

func (d *Decoder) ppp(b []byte, depth int) error {
	if len(b) >= 2 && b[0] == 0xff && b[1] == 0x03 {
		b = b[2:] // HDLC address and control
	}
	if len(b) < 1 {
		return malformed("ppp: no protocol field")
	}
	var proto uint16
	if b[0]&1 == 1 { // protocol field compressed to one byte
		proto, b = uint16(b[0]), b[1:]
	} else {
		if len(b) < 2 {
			return malformed("ppp: protocol field cut short")
		}
		proto, b = binary.BigEndian.Uint16(b), b[2:]
	}
	switch proto {
	case 0x0021:
		return d.ipv4(b, depth)
	case 0x0057:
		return d.ipv6(b, depth)
	}
	return ErrSkip
}

func (d *Decoder) ethernet(b []byte, depth int) error {
	if len(b) < 14 {
		return malformed("ethernet: %d bytes, header needs 14", len(b))
	}
	typ := binary.BigEndian.Uint16(b[12:])
	b = b[14:]
	if typ <= 1500 {
		// 802.3 length field: only LLC/SNAP carries an EtherType.
		if len(b) >= 8 && b[0] == 0xAA && b[1] == 0xAA && b[2] == 0x03 {
			return d.etherType(binary.BigEndian.Uint16(b[6:]), b[8:], depth)
		}
		return ErrSkip
	}
	return d.etherType(typ, b, depth)
}

func (d *Decoder) etherType(typ uint16, b []byte, depth int) error {
	for tags := 0; typ == etherVLAN || typ == etherQinQ || typ == etherQinQ1 || typ == etherQinQ2; tags++ {
		if len(b) < 4 {
			return malformed("vlan: tag cut short")
		}
		if tags == 8 {
			return malformed("vlan: more than 8 stacked tags")
		}
		typ, b = binary.BigEndian.Uint16(b[2:]), b[4:]
	}
	switch typ {
	case etherIPv4:
		return d.ipv4(b, depth)
	case etherIPv6:
		return d.ipv6(b, depth)
	case etherPPPoE:
		if len(b) < 6 {
			return malformed("pppoe: header cut short")
		}
		if n := int(binary.BigEndian.Uint16(b[4:])); n+6 <= len(b) {
			b = b[:n+6]
		}
		return d.ppp(b[6:], depth)
	case etherMPLS, etherMPLSMC:
		for i := 0; ; i++ {
			if len(b) < 4 {
				return malformed("mpls: label cut short")
			}
			if i == 16 {
				return malformed("mpls: more than 16 labels")
			}
			bottom := b[2]&1 == 1
			b = b[4:]
			if bottom {
				break
			}
		}
		// MPLS does not say what it carries; only IP is recognised, by its
		// version nibble (pseudowires with a control word start with 0).
		return d.ip(b, depth)
	}
	return ErrSkip
}

// ip dispatches on the IP version nibble (raw IP link types, MPLS).
func (d *Decoder) ip(b []byte, depth int) error {
	if len(b) == 0 {
		return malformed("ip: empty packet")
	}
	switch b[0] >> 4 {
	case 4:
		return d.ipv4(b, depth)
	case 6:
		return d.ipv6(b, depth)
	}
	return malformed("ip: version %d", b[0]>>4)
}

func (d *Decoder) ipv4(b []byte, depth int) error {
	if len(b) < 20 {
		return malformed("ipv4: %d bytes, header needs 20", len(b))
	}
	if v := b[0] >> 4; v != 4 {
		return malformed("ipv4: version %d", v)
	}
	ihl := int(b[0]&0x0f) * 4
	if ihl < 20 {
		return malformed("ipv4: header length %d", ihl)
	}
	if ihl > len(b) {
		return malformed("ipv4: header length %d with %d bytes", ihl, len(b))
	}
	total := int(binary.BigEndian.Uint16(b[2:]))
	switch {
	case total == 0:
		// TCP segmentation offload: the stack had not filled it in yet.
		total = len(b)
	case total < ihl:
		return malformed("ipv4: total length %d below header length %d", total, ihl)
	case total > len(b):
		d.pkt.Truncated = true
		total = len(b)
	}
	// Trailing bytes beyond total length are link-layer padding or FCS.
	b = b[:total]
	d.pkt.Src = netip.AddrFrom4([4]byte(b[12:16]))
	d.pkt.Dst = netip.AddrFrom4([4]byte(b[16:20]))
	proto := b[9]
	d.pkt.Proto = proto
	flags := binary.BigEndian.Uint16(b[6:])
	more, off := flags&0x2000 != 0, int(flags&0x1fff)*8
	payload := b[ihl:]
	if more || off != 0 {
		key := fragKey{src: d.pkt.Src, dst: d.pkt.Dst, id: uint32(binary.BigEndian.Uint16(b[4:])), proto: proto}
		whole, err := d.frag.add(key, off, payload, more, proto, d.pkt.Truncated)
		if err != nil || whole == nil {
			return held(err)
		}
		d.pkt.Reassembled = true
		d.pkt.Truncated = false
		payload = whole.data
	}
	return d.transport(proto, payload, depth)
}

func (d *Decoder) ipv6(b []byte, depth int) error {
	if len(b) < 40 {
		return malformed("ipv6: %d bytes, header needs 40", len(b))
	}
	if v := b[0] >> 4; v != 6 {
		return malformed("ipv6: version %d", v)
	}
	plen := int(binary.BigEndian.Uint16(b[4:]))
	nh := b[6]
	d.pkt.Src = netip.AddrFrom16([16]byte(b[8:24]))
	d.pkt.Dst = netip.AddrFrom16([16]byte(b[24:40]))
	b = b[40:]
	switch {
	case plen == 0 && nh == protoHopByHop:
		// Jumbogram (RFC 2675) or offload: use what was captured.
	case plen > len(b):
		d.pkt.Truncated = true
	default:
		b = b[:plen]
	}
	for hdrs := 0; ; hdrs++ {
		if hdrs == 32 {
			return malformed("ipv6: more than 32 extension headers")
		}
		switch nh {
		case protoHopByHop, protoRouting, protoDstOpts, protoMobility, protoHIP, protoShim6:
			if len(b) < 8 {
				return malformed("ipv6: extension header %d cut short", nh)
			}
			n := (int(b[1]) + 1) * 8
			if n > len(b) {
				return malformed("ipv6: extension header %d of %d bytes with %d left", nh, n, len(b))
			}
			if nh == protoMobility {
				// Its "payload proto" is always No Next Header in practice.
				d.pkt.Proto, d.pkt.Payload = nh, b
				return nil
			}
			nh, b = b[0], b[n:]
		case protoAH:
			if len(b) < 8 {
				return malformed("ipv6: authentication header cut short")
			}
			n := (int(b[1]) + 2) * 4
			if n > len(b) {
				return malformed("ipv6: authentication header of %d bytes with %d left", n, len(b))
			}
			nh, b = b[0], b[n:]
		case protoFragment:
			if len(b) < 8 {
				return malformed("ipv6: fragment header cut short")
			}
			next := b[0]
			fo := binary.BigEndian.Uint16(b[2:])
			off, more := int(fo&^7), fo&1 == 1
			id := binary.BigEndian.Uint32(b[4:])
			b = b[8:]
			if off == 0 && !more {
				// Atomic fragment (RFC 6946): nothing to reassemble.
				nh = next
				continue
			}
			key := fragKey{src: d.pkt.Src, dst: d.pkt.Dst, id: id, v6: true}
			whole, err := d.frag.add(key, off, b, more, next, d.pkt.Truncated)
			if err != nil || whole == nil {
				return held(err)
			}
			d.pkt.Reassembled = true
			d.pkt.Truncated = false
			nh, b = whole.proto, whole.data
		default:
			d.pkt.Proto = nh
			return d.transport(nh, b, depth)
		}
	}
}

func (d *Decoder) transport(proto uint8, b []byte, depth int) error {
	d.pkt.Proto = proto
	switch proto {
	case protoTCP:
		if err := d.tcp.DecodeFromBytes(b, gopacket.NilDecodeFeedback); err != nil {
			return fmt.Errorf("%w: tcp: %w", ErrMalformed, err)
		}
		d.pkt.TCP = &d.tcp
		d.pkt.SrcPort, d.pkt.DstPort = uint16(d.tcp.SrcPort), uint16(d.tcp.DstPort)
		d.pkt.Payload = d.tcp.Payload
	case protoUDP:
		if len(b) < 8 {
			return malformed("udp: %d bytes, header needs 8", len(b))
		}
		d.pkt.SrcPort = binary.BigEndian.Uint16(b)
		d.pkt.DstPort = binary.BigEndian.Uint16(b[2:])
		n := int(binary.BigEndian.Uint16(b[4:]))
		switch {
		case n == 0:
			// Jumbogram or offload: the IP length bounds it.
		case n < 8:
			return malformed("udp: length %d", n)
		case n <= len(b):
			b = b[:n]
		}
		d.pkt.Payload = b[8:]
		if inner := d.udpTunnel(b[8:], depth); inner != nil && depth < maxDepth {
			if err := d.tunnel(func() error { return inner(depth + 1) }); err == nil || errors.Is(err, errFragment) {
				return err
			}
		}
	case protoSCTP:
		if len(b) < 12 {
			return malformed("sctp: %d bytes, header needs 12", len(b))
		}
		d.pkt.SrcPort = binary.BigEndian.Uint16(b)
		d.pkt.DstPort = binary.BigEndian.Uint16(b[2:])
		d.pkt.Payload = b[12:]
	case protoICMP, protoICMPv6:
		if len(b) < 4 {
			return malformed("icmp: %d bytes, header needs 4", len(b))
		}
		// Community ID convention: type and code in the port fields.
		d.pkt.SrcPort, d.pkt.DstPort = uint16(b[0]), uint16(b[1])
		d.pkt.Payload = b[min(8, len(b)):]
	case protoIPIP, protoIPv6:
		if depth < maxDepth {
			if err := d.tunnel(func() error {
				if proto == protoIPIP {
					return d.ipv4(b, depth+1)
				}
				return d.ipv6(b, depth+1)
			}); err == nil || errors.Is(err, errFragment) {
				return err
			}
		}
		d.pkt.Payload = b
	case protoGRE:
		if depth < maxDepth {
			if err := d.tunnel(func() error { return d.gre(b, depth+1) }); err == nil || errors.Is(err, errFragment) {
				return err
			}
		}
		d.pkt.Payload = b
	default:
		d.pkt.Payload = b
	}
	return nil
}

// tunnel decodes an encapsulated packet with decodeInner. When the inner
// packet cannot be decoded, the outer one is restored and reported
// instead, so a tunnel of something else still shows as its outer flow.
func (d *Decoder) tunnel(decodeInner func() error) error {
	outer := d.pkt
	d.pkt = Packet{Tunnels: outer.Tunnels + 1}
	err := decodeInner()
	if err != nil {
		d.pkt = outer
	}
	return err
}

// gre decodes GRE version 0 (RFC 2784/2890) without source routing.
func (d *Decoder) gre(b []byte, depth int) error {
	if len(b) < 4 {
		return malformed("gre: header cut short")
	}
	flags := binary.BigEndian.Uint16(b)
	if flags&0x4007 != 0 { // routing present or version != 0
		return ErrSkip
	}
	n := 4
	for _, bit := range []uint16{0x8000, 0x2000, 0x1000} { // checksum, key, sequence
		if flags&bit != 0 {
			n += 4
		}
	}
	if n > len(b) {
		return malformed("gre: header of %d bytes with %d", n, len(b))
	}
	typ := binary.BigEndian.Uint16(b[2:])
	switch typ {
	case etherTEB:
		return d.ethernet(b[n:], depth)
	case etherAruba:
		// Aruba access points tunnel their clients' 802.11 frames to the
		// controller this way.
		return d.wifi(b[n:], depth)
	}
	return d.etherType(typ, b[n:], depth)
}

// errFragment is returned (wrapping ErrSkip) for an IP fragment held until
// its datagram is whole: inside a tunnel it is not a reason to report the
// outer packet instead.
var errFragment = fmt.Errorf("%w: ip fragment held for reassembly", ErrSkip)

// held turns the defragmenter's "incomplete" ErrSkip into errFragment.
func held(err error) error {
	if err == ErrSkip {
		return errFragment
	}
	return err
}

// udpTunnel returns the decoder of the packet a UDP payload p carries, by
// port, or nil when it carries none we know.
func (d *Decoder) udpTunnel(p []byte, depth int) func(depth int) error {
	src, dst := d.pkt.SrcPort, d.pkt.DstPort
	switch {
	case dst == PortVXLAN && len(p) >= 8 && p[0]&0x08 != 0:
		return func(depth int) error { return d.ethernet(p[8:], depth) }
	case dst == PortGeneve:
		return func(depth int) error {
			if err := d.geneve.DecodeFromBytes(p, gopacket.NilDecodeFeedback); err != nil {
				return malformed("geneve: %v", err)
			}
			if d.geneve.Version != 0 {
				return ErrSkip
			}
			if typ := uint16(d.geneve.Protocol); typ != etherTEB {
				return d.etherType(typ, d.geneve.Payload, depth)
			}
			return d.ethernet(d.geneve.Payload, depth)
		}
	case dst == PortGREinUDP:
		return func(depth int) error { return d.gre(p, depth) }
	case dst == PortGTPU || src == PortGTPU:
		return func(depth int) error {
			if err := d.gtp.DecodeFromBytes(p, gopacket.NilDecodeFeedback); err != nil {
				return malformed("gtp-u: %v", err)
			}
			if d.gtp.Version != 1 || d.gtp.ProtocolType != 1 || d.gtp.MessageType != gtpGPDU {
				return ErrSkip // signalling (echo, error indication), or GTP'
			}
			return d.ip(d.gtp.Payload, depth)
		}
	case dst == PortAYIYA || src == PortAYIYA:
		return func(depth int) error { return d.ayiya(p, depth) }
	}
	return nil
}

// ayiya decodes Anything In Anything (draft-massar-v6ops-ayiya): a header
// of 8 bytes, the sender's identity (2^n bytes) and a signature (4·n
// bytes), then the packet, whose protocol the header names.
func (d *Decoder) ayiya(b []byte, depth int) error {
	if len(b) < ayiyaMinBytes {
		return malformed("ayiya: header cut short")
	}
	n := ayiyaMinBytes + 1<<(b[0]>>4) + 4*int(b[1]>>4)
	if n > len(b) {
		return malformed("ayiya: header of %d bytes with %d", n, len(b))
	}
	if b[2]&0x0f != ayiyaForward {
		return ErrSkip // heartbeats and queries carry no packet
	}
	switch b[3] {
	case protoIPIP:
		return d.ipv4(b[n:], depth)
	case protoIPv6:
		return d.ipv6(b[n:], depth)
	}
	return ErrSkip
}

// wifi decodes an 802.11 data frame (no radio header) carrying an IP
// packet behind LLC/SNAP; other frames, and encrypted ones, are skipped.
func (d *Decoder) wifi(b []byte, depth int) error {
	if err := d.dot11.DecodeFromBytes(b, gopacket.NilDecodeFeedback); err != nil {
		return malformed("802.11: %v", err)
	}
	if d.dot11.Type.MainType() != layers.Dot11TypeData || d.dot11.Flags.WEP() {
		return ErrSkip
	}
	// gopacket takes the last 4 bytes for a frame check sequence; these
	// frames have none.
	p := b[len(d.dot11.Contents):]
	if len(p) < 8 || p[0] != 0xaa || p[1] != 0xaa || p[2] != 0x03 {
		return ErrSkip // no LLC/SNAP header: not an encapsulated EtherType
	}
	return d.etherType(binary.BigEndian.Uint16(p[6:]), p[8:], depth)
}
