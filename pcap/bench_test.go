package pcap

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/tracewire/tracewire/internal/gencap"
)

// benchCapture writes a generated capture of size bytes once per run.
func benchCapture(b *testing.B, size int64) (string, gencap.Stats) {
	p := filepath.Join(b.TempDir(), "bench.pcap")
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	st, err := gencap.Write(f, gencap.Config{Seed: 1, Size: size})
	if err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return p, st
}

// BenchmarkConvertHAR converts a 64 MiB generated capture (cleartext
// HTTP/1.1, 64 concurrent connections, gzip and chunked bodies, some
// reordered segments) to HAR: reading, decoding, reassembly, HTTP parsing,
// body decoding, sorting and JSON encoding. bytes/s is of the capture file.
func BenchmarkConvertHAR(b *testing.B) {
	p, st := benchCapture(b, 64<<20)
	b.SetBytes(st.Bytes)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sum, err := ConvertHAR(context.Background(), []string{p}, Options{}, io.Discard)
		if err != nil {
			b.Fatal(err)
		}
		if sum.Entries != st.Requests {
			b.Fatalf("%d entries, %d requests", sum.Entries, st.Requests)
		}
	}
}

// BenchmarkConvertFlows is the same capture without output (tracewire
// flows): everything but sorting and encoding entries.
func BenchmarkConvertFlows(b *testing.B) {
	p, st := benchCapture(b, 64<<20)
	b.SetBytes(st.Bytes)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Convert(context.Background(), []string{p}, Options{ListFlows: true}, nil); err != nil {
			b.Fatal(err)
		}
	}
}
