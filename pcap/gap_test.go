package pcap

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tracewire/tracewire/internal/gencap"
)

// writeKeepAlive writes a generated keep-alive connection to a file.
func writeKeepAlive(t testing.TB, k gencap.KeepAlive, copies int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keepalive.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := gencap.WriteKeepAlives(f, gencap.PCAP, start, 20*time.Second, copies, k); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// A response lost in a gap of the capture does not shift the others: on a
// keep-alive connection where one response (its headers, or a segment of
// its body) was never captured, every later response stays with its own
// request, the request whose response was lost is the one marked
// incomplete, and timings come from the right packets.
func TestLostResponseKeepsPairing(t *testing.T) {
	tests := []struct {
		name          string
		resp, segment int
		// noResponse: the lost response's entry has none (its headers were
		// lost); otherwise the entry keeps it, incomplete.
		noResponse bool
	}{
		{"headers of the first response", 0, 0, true},
		{"headers of a later response", 7, 0, true},
		{"a segment inside a body", 2, 1, false},
		{"the last segment of a body", 3, 2, false},
		{"nothing lost", -1, 0, false},
	}
	const n = 200
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeKeepAlive(t, gencap.KeepAlive{Requests: n, LostResponse: tt.resp, LostSegment: tt.segment}, 1)
			b, sum := convertFiles(t, Options{}, path)
			h := readHAR(t, b)
			if len(h.Log.Entries) != n || sum.Entries != n {
				t.Fatalf("%d entries, want %d", len(h.Log.Entries), n)
			}
			for i, e := range h.Log.Entries {
				if want := gencap.KeepAlivePath(i); !strings.HasSuffix(e.Request.URL, want) {
					t.Fatalf("entry %d: %s, want %s", i, e.Request.URL, want)
				}
				lost := i == tt.resp
				if e.Incomplete != lost {
					t.Errorf("entry %d: incomplete %v, want %v", i, e.Incomplete, lost)
				}
				if lost && tt.noResponse {
					if e.Response.Status != 0 || !strings.Contains(fmt.Sprint(e.Request.Extra["_warnings"]), "lost in a gap") {
						t.Errorf("entry %d: status %d, request warnings %s", i, e.Response.Status, e.Request.Extra["_warnings"])
					}
					continue
				}
				if e.Response.Status != 200 {
					t.Errorf("entry %d: status %d", i, e.Response.Status)
				}
				if !lost || tt.segment > 0 {
					if body := e.Response.Content.Text; !strings.HasPrefix(body, gencap.KeepAliveMarker(i)) {
						t.Errorf("entry %d: body starts %.20q, want %q", i, body, gencap.KeepAliveMarker(i))
					}
				}
				// The generator's server answers 1 ms (latency) + 2 ms
				// (think time) after the request: a response taken from
				// another exchange waits ~10 ms more or less.
				if w := e.Timings.Wait; w < 2.5 || w > 3.5 {
					t.Errorf("entry %d: wait %.2f ms, want ~3", i, w)
				}
			}
		})
	}
}
