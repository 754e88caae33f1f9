package match_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"

	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/match"
)

// benchEntries is the size of the tiled benchmark HAR (issue 4: at least
// 50,000 entries built from the corpus HARs).
const benchEntries = 50000

// writeTiledHAR writes a HAR of at least n entries by repeating the entries
// of the corpus HARs, and returns its path and entry count.
func writeTiledHAR(tb testing.TB, path string, n int) int {
	tb.Helper()
	files := corpusHARs(tb)
	var raws [][]byte
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			tb.Fatal(err)
		}
		h, _, err := har.ReadAll(fh)
		fh.Close()
		if err != nil {
			continue // corrupt corpus files are tested elsewhere
		}
		for i := range h.Log.Entries {
			raws = append(raws, har.MarshalEntry(&h.Log.Entries[i]))
		}
	}
	if len(raws) == 0 {
		tb.Fatal("no corpus entries")
	}
	out, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	bw := bufio.NewWriterSize(out, 1<<20)
	w := har.NewWriter(bw, &har.Log{Creator: har.Creator{Name: "tracewire-bench", Version: "1"}})
	count := 0
	for count < n {
		for _, r := range raws {
			if err := w.WriteRaw(r); err != nil {
				tb.Fatal(err)
			}
			count++
		}
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := out.Close(); err != nil {
		tb.Fatal(err)
	}
	return count
}

// BenchmarkDetectTiledHAR measures what "tracewire detect" does: stream a
// HAR of 50,000+ entries through the matcher on all CPUs. Set
// TRACEWIRE_BENCH_HAR=FILE to keep the generated HAR (for the TrackHAR
// side of the comparison, see BENCHMARKS.md).
func BenchmarkDetectTiledHAR(b *testing.B) {
	path := os.Getenv("TRACEWIRE_BENCH_HAR")
	if path == "" {
		path = filepath.Join(b.TempDir(), "tiled.har")
	}
	n := writeTiledHAR(b, path, benchEntries)
	st, _ := os.Stat(path)
	m, err := match.New(match.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	cpu0 := cpuSeconds()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		fh, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		r := har.NewReader(bufio.NewReaderSize(fh, 1<<20))
		got, findings := 0, 0
		err = m.StreamHAR(context.Background(), r, runtime.GOMAXPROCS(0), func(res *match.Result) error {
			got++
			findings += len(res.Findings)
			return nil
		})
		fh.Close()
		if err != nil && !errors.Is(err, io.EOF) {
			b.Fatal(err)
		}
		if got != n {
			b.Fatalf("read %d entries, want %d", got, n)
		}
		b.ReportMetric(float64(findings), "findings")
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
	// The machine is shared: CPU time is the steadier measure.
	b.ReportMetric(float64(n)*float64(b.N)/(cpuSeconds()-cpu0), "entries/cpu-s")
}

// cpuSeconds is the user+system CPU time of the process so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
