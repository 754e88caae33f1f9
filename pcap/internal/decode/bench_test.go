package decode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
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

// BenchmarkReadDecode reads a generated 40,000-packet Ethernet/IPv4/TCP
// pcap (30 MB, mostly full-size segments) from a file and decodes every
// packet: the first two stages of the converter.
func BenchmarkReadDecode(b *testing.B) {
	var buf bytes.Buffer
	le := binary.LittleEndian
	hdr := le.AppendUint32(nil, 0xa1b2c3d4)
	hdr = le.AppendUint16(hdr, 2)
	hdr = le.AppendUint16(hdr, 4)
	hdr = append(hdr, make([]byte, 8)...)
	hdr = le.AppendUint32(hdr, 262144)
	hdr = le.AppendUint32(hdr, LinkEthernet)
	buf.Write(hdr)
	sizes := []int{1460, 0, 1460, 1460, 0, 536, 1460, 0}
	const count = 40_000
	for i := range count {
		pkt := eth(etherIPv4, ipv4(v4a, v4b, protoTCP, tcp(uint16(40000+i%500), 80, uint32(i)*1460, bytes.Repeat([]byte{byte(i)}, sizes[i%len(sizes)]))))
		rec := le.AppendUint32(nil, uint32(1_700_000_000+i/1000))
		rec = le.AppendUint32(rec, uint32(i%1000)*1000)
		rec = le.AppendUint32(rec, uint32(len(pkt)))
		rec = le.AppendUint32(rec, uint32(len(pkt)))
		buf.Write(rec)
		buf.Write(pkt)
	}
	path := filepath.Join(b.TempDir(), "bench.pcap")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		r, err := capture.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		d := NewDecoder()
		for {
			p, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if _, err := d.Decode(p); err != nil {
				b.Fatal(err)
			}
			n++
		}
		r.Close()
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "packets/s")
}
