package tcp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/tracewire/tracewire/internal/gencap"
	"github.com/tracewire/tracewire/pcap/internal/capture"
	"github.com/tracewire/tracewire/pcap/internal/decode"
	"github.com/tracewire/tracewire/pcap/internal/stream"
)

type countParser struct{ n *int64 }

func (p countParser) Feed(c *stream.Chunk)          { *p.n += int64(len(c.Data)) }
func (countParser) End(time.Time, stream.EndReason) {}

// benchPackets decodes a generated capture into TCP packets held in memory,
// so the benchmark measures reassembly alone.
func benchPackets(b *testing.B, size int64) ([]Packet, int64, int64) {
	var buf bytes.Buffer
	st, err := gencap.Write(&buf, gencap.Config{Seed: 1, Size: size})
	if err != nil {
		b.Fatal(err)
	}
	pkts, payload := decodePackets(b, &buf)
	if payload != st.Payload {
		b.Fatalf("decoded %d payload bytes, the generator wrote %d", payload, st.Payload)
	}
	return pkts, payload, payload - st.Retransmitted
}

// decodePackets decodes a capture into TCP packets held in memory.
func decodePackets(b *testing.B, buf *bytes.Buffer) ([]Packet, int64) {
	r, err := capture.NewReader("bench", buf)
	if err != nil {
		b.Fatal(err)
	}
	dec := decode.NewDecoder()
	var pkts []Packet
	var payload int64
	for {
		p, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		d, err := dec.Decode(p)
		if err != nil || d.TCP == nil {
			continue
		}
		t := new(layers.TCP)
		if err := t.DecodeFromBytes(append(append([]byte(nil), d.TCP.Contents...), d.TCP.Payload...), nil); err != nil {
			b.Fatal(err)
		}
		payload += int64(len(t.Payload))
		pkts = append(pkts, Packet{Src: d.Src, Dst: d.Dst, TCP: t, Time: p.Time, Frame: p.Frame})
	}
	return pkts, payload
}

// BenchmarkReassembly feeds the packets of a 32 MiB generated capture (many
// concurrent HTTP connections, some reordered segments) through the
// assembler to parsers that only count bytes. The bytes/s figure is TCP
// payload.
func BenchmarkReassembly(b *testing.B) {
	pkts, payload, unique := benchPackets(b, 32<<20)
	b.SetBytes(payload)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var n int64
		a := New(Config{
			Factory: func(*stream.Conn, stream.Sink) stream.Parser { return countParser{&n} },
			Sink:    nopSink{},
		})
		for j := range pkts {
			a.Add(&pkts[j])
		}
		a.Close()
		// Every byte once: retransmitted copies are dropped.
		if n != unique {
			b.Fatalf("reassembled %d bytes, want %d", n, unique)
		}
	}
	b.ReportMetric(float64(len(pkts)), "packets/op")
}

// BenchmarkReassemblyGaps is the realbench-like case of issue 12: the
// generated traffic of BenchmarkReassembly (many live connections,
// reordering, retransmissions) with long keep-alive connections
// interleaved whose server side lost one early segment that never comes,
// so everything behind the hole waits (up to the gap wait or the
// per-connection limit) and is then delivered at once. Each copy of the
// gap connection carries n exchanges; with cost linear in the data the
// bytes/s stay the same whatever n (gopacket's reassembly, probing
// CaptureInfo per packet, fell from ~1 GB/s to ~50 MB/s at n=2000).
func BenchmarkReassemblyGaps(b *testing.B) {
	base, _, _ := benchPackets(b, 8<<20)
	for _, n := range []int{250, 1000, 2000} {
		b.Run(fmt.Sprintf("exchanges=%d", n), func(b *testing.B) {
			var buf bytes.Buffer
			start := gencap.DefaultStart
			k := gencap.KeepAlive{Requests: n, LostResponse: 1, LostSegment: 1}
			if err := gencap.WriteKeepAlives(&buf, gencap.PCAP, start, 2*time.Second, 8, k); err != nil {
				b.Fatal(err)
			}
			gaps, _ := decodePackets(b, &buf)
			pkts := append(slices.Clone(base), gaps...)
			slices.SortStableFunc(pkts, func(x, y Packet) int { return x.Time.Compare(y.Time) })
			var payload int64
			for i := range pkts {
				payload += int64(len(pkts[i].TCP.Payload))
			}
			b.SetBytes(payload)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				var n int64
				a := New(Config{
					Factory: func(*stream.Conn, stream.Sink) stream.Parser { return countParser{&n} },
					Sink:    nopSink{},
				})
				for j := range pkts {
					a.Add(&pkts[j])
				}
				a.Close()
			}
			b.ReportMetric(float64(len(pkts)), "packets/op")
		})
	}
}
