package decode

import (
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/tracewire/tracewire/pcap/internal/capture"
)

// checkResult asserts the decoder's contract on any input.
func checkResult(t *testing.T, p *Packet, err error) {
	if err != nil {
		if errors.Is(err, ErrSkip) == errors.Is(err, ErrMalformed) {
			t.Fatalf("error %v is neither (or both) ErrSkip and ErrMalformed", err)
		}
		if p != nil {
			t.Fatalf("packet returned with error %v", err)
		}
		return
	}
	if !p.Src.IsValid() || p.Src.Is4() != p.Dst.Is4() {
		t.Fatalf("addresses %v %v", p.Src, p.Dst)
	}
	if (p.Proto == protoTCP) != (p.TCP != nil) {
		t.Fatalf("protocol %d with TCP layer %v", p.Proto, p.TCP != nil)
	}
	if p.Tunnels > maxDepth {
		t.Fatalf("%d tunnels", p.Tunnels)
	}
}

// FuzzDecode decodes data as one packet of the given link type, then as a
// sequence of raw IP packets (two-byte length prefixes) through one
// Decoder, which exercises fragment reassembly.
func FuzzDecode(f *testing.F) {
	tcp4 := ipv4(v4a, v4b, protoTCP, tcp(49152, 80, 1000, httpGet))
	tcp6 := ipv6(v6a, v6b, protoTCP, tcp(49152, 8080, 1000, httpGet))
	f.Add(uint16(LinkEthernet), eth(etherIPv4, tcp4))
	f.Add(uint16(LinkEthernet), cat(mac2, mac1, vlan(etherQinQ, 10, etherVLAN), vlan(0, 20, etherIPv6)[2:], tcp6))
	f.Add(uint16(LinkEthernet), eth(etherIPv4, ipv4(v4b, v4a, protoUDP, udp(51000, PortVXLAN, cat(vxlanHdr(42), eth(etherIPv4, tcp4))))))
	f.Add(uint16(LinkRaw), ipv6(v6a, v6b, protoHopByHop, cat(ext6(protoFragment, 0), frag6(protoTCP, 0, false, 1), tcp(1, 2, 3, nil))))
	f.Add(uint16(LinkRaw), ipv4(v4b, v4a, protoGRE, cat([]byte{0xb0, 0}, be16(etherTEB), make([]byte, 12), eth(etherIPv6, tcp6))))
	f.Add(uint16(LinkNull), cat([]byte{30, 0, 0, 0}, tcp6))
	f.Add(uint16(LinkSLL2), cat(be16(etherIPv4), be16(0), be32(2), be16(1), []byte{4, 6}, mac1, []byte{0, 0}, tcp4))
	f.Add(uint16(LinkNFLOG), cat([]byte{2, 0, 0, 0}, []byte{byte(4 + len(tcp4)), 0, 9, 0}, tcp4))
	f.Add(uint16(LinkPPP), cat([]byte{0xff, 0x03, 0x00, 0x21}, tcp4))
	// A fragmented datagram as a sequence.
	var seq []byte
	for _, fr := range [][]byte{
		ipv4Frag(v4a, v4b, protoTCP, 9, 16, false, nil, segment[16:40]),
		ipv4Frag(v4a, v4b, protoTCP, 9, 0, true, nil, segment[:16]),
	} {
		seq = append(seq, be16(uint16(len(fr)))...)
		seq = append(seq, fr...)
	}
	f.Add(uint16(LinkRaw), seq)
	f.Fuzz(func(t *testing.T, link uint16, data []byte) {
		d := NewDecoder()
		p, err := d.Decode(&capture.Packet{Data: data, LinkType: link})
		checkResult(t, p, err)
		d = NewDecoder()
		for i := 0; len(data) >= 2; i++ {
			n := min(int(binary.BigEndian.Uint16(data)), len(data)-2)
			p, err := d.Decode(&capture.Packet{Data: data[2 : 2+n], LinkType: LinkRaw, Time: time.Unix(int64(i), 0)})
			checkResult(t, p, err)
			data = data[2+n:]
		}
	})
}
