package decode

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/tracewire/tracewire/internal/testutil"
	"github.com/tracewire/tracewire/pcap/internal/capture"
)

// BenchmarkDecode compares our decoder with gopacket's DecodingLayerParser
// (the fastest gopacket path, no allocation per packet) on the same
// Ethernet/IPv4/TCP segment of 1514 bytes.
func BenchmarkDecode(b *testing.B) {
	pkt := eth(etherIPv4, ipv4(v4a, v4b, protoTCP, tcp(49152, 80, 1000, bytes.Repeat([]byte("x"), 1460))))
	b.Run("tracewire", func(b *testing.B) {
		d := NewDecoder()
		c := &capture.Packet{Data: pkt, LinkType: LinkEthernet}
		b.SetBytes(int64(len(pkt)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := d.Decode(c); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("gopacket-DecodingLayerParser", func(b *testing.B) {
		var (
			eth     layers.Ethernet
			dot1q   layers.Dot1Q
			ip4     layers.IPv4
			ip6     layers.IPv6
			tcpL    layers.TCP
			udpL    layers.UDP
			payload gopacket.Payload
		)
		parser := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &eth, &dot1q, &ip4, &ip6, &tcpL, &udpL, &payload)
		decoded := make([]gopacket.LayerType, 0, 8)
		b.SetBytes(int64(len(pkt)))
		b.ReportAllocs()
		for b.Loop() {
			if err := parser.DecodeLayers(pkt, &decoded); err != nil {
				b.Fatal(err)
			}
			// What the converter needs next: netip addresses.
			_ = ip4.SrcIP.Equal(ip4.DstIP)
		}
	})
}

// BenchmarkDecodeCorpus decodes every packet of a real capture held in
// memory (pcap2har/out-of-order.pcap: 3214 Ethernet/IPv4/TCP packets).
func BenchmarkDecodeCorpus(b *testing.B) {
	path := testutil.Corpus(b, "pcap2har", "out-of-order.pcap")
	r, err := capture.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	var pkts []capture.Packet
	size := 0
	for {
		p, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		c := *p
		c.Data = bytes.Clone(p.Data)
		pkts = append(pkts, c)
		size += len(c.Data)
	}
	r.Close()
	b.SetBytes(int64(size))
	b.ReportAllocs()
	d := NewDecoder()
	n := 0
	for b.Loop() {
		for i := range pkts {
			d.Decode(&pkts[i])
			n++
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "packets/s")
}
