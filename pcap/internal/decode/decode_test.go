package decode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/tracewire/tracewire/pcap/internal/capture"
)

type expect struct {
	src, dst     netip.Addr
	proto        uint8
	sport, dport uint16
	payload      []byte
	tunnels      int
	truncated    bool
	reassembled  bool
}

type outcome int

const (
	ok outcome = iota
	skip
	bad
)

func summary(p *Packet) string {
	if p == nil {
		return "no packet"
	}
	return fmt.Sprintf("%s > %s proto %d ports %d>%d, %d payload bytes", p.Src, p.Dst, p.Proto, p.SrcPort, p.DstPort, len(p.Payload))
}

func check(t *testing.T, name string, p *Packet, err error, want outcome, exp expect) {
	t.Helper()
	switch want {
	case skip:
		if !errors.Is(err, ErrSkip) || errors.Is(err, ErrMalformed) {
			t.Errorf("%s: got %v (%s), want ErrSkip", name, err, summary(p))
		}
		return
	case bad:
		if !errors.Is(err, ErrMalformed) || errors.Is(err, ErrSkip) {
			t.Errorf("%s: got %v (%s), want ErrMalformed", name, err, summary(p))
		}
		return
	}
	if err != nil {
		t.Errorf("%s: %v", name, err)
		return
	}
	got := expect{p.Src, p.Dst, p.Proto, p.SrcPort, p.DstPort, p.Payload, p.Tunnels, p.Truncated, p.Reassembled}
	if got.src != exp.src || got.dst != exp.dst || got.proto != exp.proto || got.sport != exp.sport ||
		got.dport != exp.dport || !bytes.Equal(got.payload, exp.payload) || got.tunnels != exp.tunnels ||
		got.truncated != exp.truncated || got.reassembled != exp.reassembled {
		t.Errorf("%s:\n got %+v\nwant %+v", name, got, exp)
	}
	if (p.Proto == protoTCP) != (p.TCP != nil) {
		t.Errorf("%s: TCP layer %v for protocol %d", name, p.TCP != nil, p.Proto)
	}
	if p.TCP != nil && (!bytes.Equal(p.TCP.Payload, p.Payload) || uint16(p.TCP.SrcPort) != p.SrcPort || uint16(p.TCP.DstPort) != p.DstPort) {
		t.Errorf("%s: TCP layer %+v disagrees with the packet", name, p.TCP)
	}
}

func TestDecode(t *testing.T) {
	tcp4 := ipv4(v4a, v4b, protoTCP, tcp(49152, 80, 1000, httpGet))
	tcp6 := ipv6(v6a, v6b, protoTCP, tcp(49152, 8080, 1000, httpGet))
	want4 := expect{src: v4a, dst: v4b, proto: 6, sport: 49152, dport: 80, payload: httpGet}
	want6 := expect{src: v6a, dst: v6b, proto: 6, sport: 49152, dport: 8080, payload: httpGet}
	with := func(e expect, f func(*expect)) expect { f(&e); return e }
	inner := eth(etherIPv4, tcp4)

	nflogTLV := func(o binary.AppendByteOrder, typ uint16, v []byte) []byte {
		b := o.AppendUint16(nil, uint16(4+len(v)))
		b = o.AppendUint16(b, typ)
		b = append(b, v...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
		return b
	}
	nflog := func(o binary.AppendByteOrder, family byte, payload []byte) []byte {
		return cat([]byte{family, 0, 0, 0},
			nflogTLV(o, 1, []byte{0x08, 0x00, 3, 0}), // NFULA_PACKET_HDR
			nflogTLV(o, 10, []byte("prefix\x00")),    // NFULA_PREFIX
			nflogTLV(o, 9, payload))
	}
	sll := func(arphrd, proto uint16, payload []byte) []byte {
		return cat(be16(0), be16(arphrd), be16(6), mac1, []byte{0, 0}, be16(proto), payload)
	}
	sll2 := func(proto uint16, payload []byte) []byte {
		return cat(be16(proto), be16(0), be32(2), be16(1), []byte{4, 6}, mac1, []byte{0, 0}, payload)
	}
	le32 := func(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

	tests := []struct {
		name string
		link uint16
		data []byte
		want outcome
		exp  expect
	}{
		{"ethernet", LinkEthernet, eth(etherIPv4, tcp4), ok, want4},
		{"ethernet-padding", LinkEthernet, eth(etherIPv4, cat(ipv4(v4a, v4b, protoTCP, tcp(1, 2, 0, nil)), make([]byte, 6))), ok,
			expect{src: v4a, dst: v4b, proto: 6, sport: 1, dport: 2, payload: []byte{}}},
		{"ipv4-options", LinkEthernet, eth(etherIPv4, ipv4Frag(v4a, v4b, protoTCP, 1, 0, false, []byte{1, 1, 1, 0}, tcp(49152, 80, 1000, httpGet))), ok, want4},
		{"ipv4-tso-zero-length", LinkRaw, func() []byte {
			p := ipv4(v4a, v4b, protoTCP, tcp(49152, 80, 1000, httpGet))
			p[2], p[3] = 0, 0
			return p
		}(), ok, want4},
		{"ipv4-truncated", LinkRaw, tcp4[:len(tcp4)-5], ok, with(want4, func(e *expect) { e.payload = httpGet[:len(httpGet)-5]; e.truncated = true })},
		{"vlan", LinkEthernet, eth(etherVLAN, cat(vlan(etherVLAN, 0, etherIPv4)[2:], tcp4)), ok, want4},
		{"qinq-88a8", LinkEthernet, cat(mac2, mac1, vlan(etherQinQ, 10, etherVLAN), vlan(0, 20, etherIPv4)[2:], tcp4), ok, want4},
		{"qinq-9100", LinkEthernet, cat(mac2, mac1, vlan(etherQinQ1, 10, etherVLAN), vlan(0, 20, etherIPv6)[2:], tcp6), ok, want6},
		{"vlan-cut", LinkEthernet, cat(mac2, mac1, be16(etherVLAN), []byte{0}), bad, expect{}},
		{"llc-snap", LinkEthernet, cat(mac2, mac1, be16(uint16(8+len(tcp4))), []byte{0xaa, 0xaa, 3, 0, 0, 0}, be16(etherIPv4), tcp4), ok, want4},
		{"llc-other", LinkEthernet, cat(mac2, mac1, be16(3), []byte{0x42, 0x42, 3}), skip, expect{}},
		{"arp", LinkEthernet, eth(etherARP, make([]byte, 28)), skip, expect{}},
		{"ethernet-short", LinkEthernet, mac1, bad, expect{}},
		{"empty", LinkEthernet, nil, skip, expect{}},
		{"raw-101-v4", LinkRaw, tcp4, ok, want4},
		{"raw-101-v6", LinkRaw, tcp6, ok, want6},
		{"raw-12", LinkRawOld1, tcp4, ok, want4},
		{"raw-14", LinkRawOld2, tcp6, ok, want6},
		{"raw-228", LinkIPv4, tcp4, ok, want4},
		{"raw-229", LinkIPv6, tcp6, ok, want6},
		{"raw-228-with-v6", LinkIPv4, tcp6, bad, expect{}},
		{"raw-version-5", LinkRaw, append([]byte{0x50}, tcp4[1:]...), bad, expect{}},
		{"null-le-inet", LinkNull, cat(le32(2), tcp4), ok, want4},
		{"null-be-inet", LinkNull, cat(be32(2), tcp4), ok, want4},
		{"null-le-inet6-bsd", LinkNull, cat(le32(24), tcp6), ok, want6},
		{"null-le-inet6-freebsd", LinkNull, cat(le32(28), tcp6), ok, want6},
		{"null-be-inet6-darwin", LinkNull, cat(be32(30), tcp6), ok, want6},
		{"null-unknown-af", LinkNull, cat(le32(7), tcp4), skip, expect{}},
		{"loop-inet", LinkLoop, cat(be32(2), tcp4), ok, want4},
		{"loop-le-is-wrong", LinkLoop, cat(le32(2), tcp4), skip, expect{}},
		{"sll-ipv4", LinkSLL, sll(1, etherIPv4, tcp4), ok, want4},
		{"sll-vlan", LinkSLL, sll(1, etherVLAN, cat(be16(5), be16(etherIPv6), tcp6)), ok, want6},
		{"sll-netlink", LinkSLL, sll(824, 0, []byte{1, 2, 3, 4}), skip, expect{}},
		{"sll-llc", LinkSLL, sll(1, 4, []byte{0x42, 0x42, 3}), skip, expect{}},
		{"sll-short", LinkSLL, make([]byte, 15), bad, expect{}},
		{"sll2-ipv6", LinkSLL2, sll2(etherIPv6, tcp6), ok, want6},
		{"sll2-ipv4", LinkSLL2, sll2(etherIPv4, tcp4), ok, want4},
		{"sll2-short", LinkSLL2, make([]byte, 19), bad, expect{}},
		{"nflog-le", LinkNFLOG, nflog(binary.LittleEndian, 2, tcp4), ok, want4},
		{"nflog-be", LinkNFLOG, nflog(binary.BigEndian, 10, tcp6), ok, want6},
		{"nflog-no-payload", LinkNFLOG, cat([]byte{2, 0, 0, 0}, nflogTLV(binary.LittleEndian, 10, []byte("x"))), skip, expect{}},
		{"nflog-bad-tlv", LinkNFLOG, []byte{2, 0, 0, 0, 2, 0, 9, 0}, bad, expect{}},
		{"ppp-hdlc", LinkPPP, cat([]byte{0xff, 0x03, 0x00, 0x21}, tcp4), ok, want4},
		{"ppp-compressed", LinkPPP, cat([]byte{0x57}, tcp6), ok, want6},
		{"ppp-lcp", LinkPPPHDLC, []byte{0xff, 0x03, 0xc0, 0x21, 1, 1, 0, 4}, skip, expect{}},
		{"pppoe", LinkEthernet, eth(etherPPPoE, cat([]byte{0x11, 0, 0, 1}, be16(uint16(2+len(tcp4))), be16(0x0021), tcp4)), ok, want4},
		{"mpls", LinkEthernet, eth(etherMPLS, cat([]byte{0, 1, 0, 64}, []byte{0, 2, 1, 64}, tcp4)), ok, want4},
		{"unsupported-link", 105, tcp4, skip, expect{}},
		{"vxlan", LinkEthernet, eth(etherIPv4, ipv4(v4b, v4a, protoUDP, udp(51000, PortVXLAN, cat(vxlanHdr(42), inner)))), ok,
			with(want4, func(e *expect) { e.tunnels = 1 })},
		{"vxlan-arp-inside", LinkEthernet, eth(etherIPv4, ipv4(v4b, v4a, protoUDP, udp(51000, PortVXLAN, cat(vxlanHdr(42), eth(etherARP, make([]byte, 28)))))), ok,
			expect{src: v4b, dst: v4a, proto: 17, sport: 51000, dport: PortVXLAN, payload: cat(vxlanHdr(42), eth(etherARP, make([]byte, 28)))}},
		{"gre-key-ipv4", LinkRaw, ipv4(v4b, v4a, protoGRE, cat([]byte{0x20, 0}, be16(etherIPv4), be32(7), tcp4)), ok, with(want4, func(e *expect) { e.tunnels = 1 })},
		{"gre-teb", LinkRaw, ipv4(v4b, v4a, protoGRE, cat([]byte{0, 0}, be16(etherTEB), eth(etherIPv6, tcp6))), ok, with(want6, func(e *expect) { e.tunnels = 1 })},
		{"ipip", LinkRaw, ipv4(v4b, v4a, protoIPIP, tcp4), ok, with(want4, func(e *expect) { e.tunnels = 1 })},
		{"6in4", LinkRaw, ipv4(v4b, v4a, protoIPv6, tcp6), ok, with(want6, func(e *expect) { e.tunnels = 1 })},
		{"ipv6-ext-headers", LinkRaw, ipv6(v6a, v6b, protoHopByHop, cat(ext6(protoDstOpts, 0), ext6(protoRouting, 1), ext6(protoTCP, 0), tcp(49152, 8080, 1000, httpGet))), ok, want6},
		{"ipv6-ah", LinkRaw, ipv6(v6a, v6b, protoAH, cat([]byte{protoTCP, 4}, make([]byte, 22), tcp(49152, 8080, 1000, httpGet))), ok, want6},
		{"ipv6-atomic-fragment", LinkRaw, ipv6(v6a, v6b, protoFragment, cat(frag6(protoTCP, 0, false, 99), tcp(49152, 8080, 1000, httpGet))), ok, want6},
		{"ipv6-no-next", LinkRaw, ipv6(v6a, v6b, protoNoNext, nil), ok, expect{src: v6a, dst: v6b, proto: 59, payload: []byte{}}},
		{"ipv6-ext-cut", LinkRaw, ipv6(v6a, v6b, protoHopByHop, []byte{6, 3, 0, 0, 0, 0, 0, 0}), bad, expect{}},
		{"ipv6-truncated", LinkRaw, tcp6[:len(tcp6)-3], ok, with(want6, func(e *expect) { e.payload = httpGet[:len(httpGet)-3]; e.truncated = true })},
		{"ipv6-short", LinkRaw, tcp6[:39], bad, expect{}},
		{"icmp-echo", LinkRaw, ipv4(v4a, v4b, protoICMP, []byte{8, 0, 0, 0, 0, 1, 0, 1, 'x'}), ok, expect{src: v4a, dst: v4b, proto: 1, sport: 8, dport: 0, payload: []byte("x")}},
		{"icmp-unreachable", LinkRaw, ipv4(v4a, v4b, protoICMP, []byte{3, 3, 0, 0, 0, 0, 0, 0}), ok, expect{src: v4a, dst: v4b, proto: 1, sport: 3, dport: 3, payload: []byte{}}},
		{"icmpv6-echo", LinkRaw, ipv6(v6a, v6b, protoICMPv6, []byte{128, 0, 0, 0, 0, 1, 0, 1}), ok, expect{src: v6a, dst: v6b, proto: 58, sport: 128, payload: []byte{}}},
		{"icmp-short", LinkRaw, ipv4(v4a, v4b, protoICMP, []byte{8, 0}), bad, expect{}},
		{"udp", LinkRaw, ipv4(v4a, v4b, protoUDP, udp(5353, 53, []byte("query"))), ok, expect{src: v4a, dst: v4b, proto: 17, sport: 5353, dport: 53, payload: []byte("query")}},
		{"udp-length-trims", LinkRaw, ipv4(v4a, v4b, protoUDP, cat(be16(1), be16(2), be16(10), be16(0), []byte("abcdef"))), ok, expect{src: v4a, dst: v4b, proto: 17, sport: 1, dport: 2, payload: []byte("ab")}},
		{"udp-bad-length", LinkRaw, ipv4(v4a, v4b, protoUDP, cat(be16(1), be16(2), be16(5), be16(0))), bad, expect{}},
		{"sctp", LinkRaw, ipv4(v4a, v4b, protoSCTP, cat(be16(7), be16(9), be32(1), be32(0), []byte{1})), ok, expect{src: v4a, dst: v4b, proto: 132, sport: 7, dport: 9, payload: []byte{1}}},
		{"rsvp", LinkRaw, ipv4(v4a, v4b, 46, []byte{0x10, 1}), ok, expect{src: v4a, dst: v4b, proto: 46, payload: []byte{0x10, 1}}},
		{"ipv4-ihl-below-5", LinkRaw, append([]byte{0x44}, tcp4[1:]...), bad, expect{}},
		{"ipv4-total-below-ihl", LinkRaw, func() []byte { p := bytes.Clone(tcp4); p[2], p[3] = 0, 10; return p }(), bad, expect{}},
		{"ipv4-ihl-beyond-data", LinkRaw, append([]byte{0x4f}, tcp4[1:30]...), bad, expect{}},
		{"tcp-bad-offset", LinkRaw, ipv4(v4a, v4b, protoTCP, func() []byte { p := tcp(1, 2, 0, nil); p[12] = 0x40; return p }()), bad, expect{}},
		{"tcp-offset-beyond", LinkRaw, ipv4(v4a, v4b, protoTCP, func() []byte { p := tcp(1, 2, 0, nil); p[12] = 0xf0; return p }()), bad, expect{}},
		{"tcp-short", LinkRaw, ipv4(v4a, v4b, protoTCP, make([]byte, 10)), bad, expect{}},
	}
	d := NewDecoder()
	for _, tc := range tests {
		p, err := d.Decode(&capture.Packet{Data: tc.data, LinkType: tc.link, Time: time.Unix(1, 0)})
		check(t, tc.name, p, err, tc.want, tc.exp)
	}
	var ule *UnsupportedLinkError
	if _, err := d.Decode(&capture.Packet{Data: tcp4, LinkType: 105}); !errors.As(err, &ule) || ule.LinkType != 105 {
		t.Errorf("unsupported link type: %v", err)
	}
}

// TestNestingLimit wraps a packet in more VXLAN tunnels than the decoder
// follows: it stops at maxDepth and reports the flow it reached.
func TestNestingLimit(t *testing.T) {
	pkt := eth(etherIPv4, ipv4(v4a, v4b, protoTCP, tcp(1, 2, 3, []byte("x"))))
	for range maxDepth + 3 {
		pkt = eth(etherIPv4, ipv4(v4b, v4a, protoUDP, udp(1000, PortVXLAN, cat(vxlanHdr(1), pkt))))
	}
	p, err := NewDecoder().Decode(&capture.Packet{Data: pkt, LinkType: LinkEthernet})
	if err != nil {
		t.Fatal(err)
	}
	if p.Tunnels != maxDepth || p.Proto != protoUDP || p.DstPort != PortVXLAN {
		t.Errorf("got %d tunnels, protocol %d, port %d; want %d tunnels and the VXLAN flow", p.Tunnels, p.Proto, p.DstPort, maxDepth)
	}
}
