package pcap

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/internal/gencap"
)

// FuzzConvertHAR runs whole captures through the pipeline: whatever the
// bytes, no parser fails (a panic would be an "internal" note), and the
// output, when there is one, is a HAR that reads back with every entry.
func FuzzConvertHAR(f *testing.F) {
	if b, err := os.ReadFile(sample(f)); err == nil {
		f.Add(b)
	}
	var g bytes.Buffer
	gencap.Write(&g, gencap.Config{Seed: 2, Size: 8 << 10, Concurrent: 2, MaxBody: 800, Disorder: 0.5})
	f.Add(g.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "f.pcap")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		sum, err := ConvertHAR(context.Background(), []string{p}, Options{MemoryBudget: 4 << 10}, &out)
		if err != nil {
			if out.Len() != 0 {
				t.Fatalf("output written before the error %v", err)
			}
			return
		}
		for _, n := range sum.Notes {
			if n.Kind == "internal" {
				t.Fatal(n)
			}
		}
		h, _, err := har.ReadAll(bytes.NewReader(out.Bytes()))
		if err != nil {
			t.Fatalf("output is not a HAR: %v", err)
		}
		if len(h.Log.Entries) != sum.Entries {
			t.Fatalf("%d entries written, %d found", len(h.Log.Entries), sum.Entries)
		}
	})
}
