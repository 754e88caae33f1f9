package har_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/internal/testutil"
)

var benchOnce struct {
	sync.Once
	har     []byte   // a HAR of about 32 MB
	entries [][]byte // its entries' texts
}

// benchHAR tiles the entries of the corpus HARs (as they are in the files,
// responses included) into one HAR of about 32 MB.
func benchHAR(b *testing.B) ([]byte, [][]byte) {
	dir := testutil.Corpus(b, "har")
	benchOnce.Do(func() {
		var raws [][]byte
		_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".har") {
				return err
			}
			fh, err := os.Open(p)
			if err != nil {
				return err
			}
			defer fh.Close()
			r := har.NewReader(fh)
			for {
				b, err := r.NextBatch(64)
				if err != nil {
					return nil // corrupt files stop early; their entries count
				}
				for _, raw := range b.Texts {
					raws = append(raws, bytes.Clone(raw))
				}
				b.Release()
			}
		})
		var buf bytes.Buffer
		buf.WriteString(`{"log":{"version":"1.2","creator":{"name":"bench","version":"1"},"entries":[`)
		for n := 0; buf.Len() < 32<<20; n++ {
			if n > 0 {
				buf.WriteString(",\n")
			}
			raw := raws[n%len(raws)]
			buf.Write(raw)
			benchOnce.entries = append(benchOnce.entries, raw)
		}
		buf.WriteString("]}}\n")
		benchOnce.har = buf.Bytes()
	})
	if len(benchOnce.entries) == 0 {
		b.Skip("no corpus entries")
	}
	return benchOnce.har, benchOnce.entries
}

// BenchmarkNextBatch measures cutting a HAR into entries (what the reading
// goroutine of match.Stream does).
func BenchmarkNextBatch(b *testing.B) {
	data, entries := benchHAR(b)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := har.NewReader(bytes.NewReader(data))
		n := 0
		for {
			batch, err := r.NextBatch(64)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n += len(batch.Texts)
			batch.Release()
		}
		if n != len(entries) {
			b.Fatalf("%d entries, want %d", n, len(entries))
		}
	}
}

// BenchmarkPeekRequest measures finding each entry's method and URL.
func BenchmarkPeekRequest(b *testing.B) {
	data, entries := benchHAR(b)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, e := range entries {
			if _, _, ok := har.PeekRequest(e); !ok {
				b.Fatalf("no request in %.200s", e)
			}
		}
	}
}

// BenchmarkParseRequest measures parsing entries' requests (what detection
// does for entries that go to a tracker's endpoint).
func BenchmarkParseRequest(b *testing.B) {
	data, entries := benchHAR(b)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j, e := range entries {
			if _, _, err := har.ParseRequest(e, j); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkAppendEntry measures writing entries (what conversion does for
// every entry of a capture).
func BenchmarkAppendEntry(b *testing.B) {
	data, raws := benchHAR(b)
	var entries []*har.Entry
	for j, raw := range raws[:min(len(raws), 2000)] {
		e, _, err := har.ParseEntry(raw, j)
		if err != nil {
			b.Fatal(err)
		}
		entries = append(entries, e)
	}
	_ = data
	var buf []byte
	var n int64
	for _, e := range entries {
		n += int64(len(har.AppendEntry(buf[:0], e)))
	}
	b.SetBytes(n)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, e := range entries {
			buf = har.AppendEntry(buf[:0], e)
		}
	}
}
