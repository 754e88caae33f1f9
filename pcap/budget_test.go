package pcap

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/internal/gencap"
)

// Open flows cost what they hold: 200,000 connections that each sent a
// partial request and never closed are all open at the end of the capture.
// Without a budget the heap per open flow stays at a few KB; with one, the
// flows idle the longest are ended (their requests written, incomplete),
// a warning counts them, and the heap stays near the budget.
func TestOpenFlowsMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("200,000 flows: not in -short")
	}
	const flows = 200000
	path := filepath.Join(t.TempDir(), "open.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := gencap.WriteOpenFlows(f, gencap.PCAP, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), flows); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		budget  int64
		evicted bool
		// maxHeap bounds the live heap seen while reading (after a GC).
		maxHeap uint64
	}{
		// ~2.2 KB per flow measured: 4 KB each leaves room.
		{"no budget", -1, false, flows * 4 << 10},
		{"64 MiB budget", 64 << 20, true, 64<<20 + 48<<20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var peak uint64
			n := 0
			opts := Options{FlowBudget: tt.budget, Progress: func(p Progress) {
				if n++; n%16 != 0 || p.Done {
					return
				}
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapAlloc)
			}}
			entries, incomplete := 0, 0
			sum, err := Convert(context.Background(), []string{path}, opts, func(e *har.Entry) error {
				entries++
				if e.Incomplete {
					incomplete++
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if entries != flows || incomplete != flows {
				t.Errorf("%d entries, %d incomplete; want %d each", entries, incomplete, flows)
			}
			var warned string
			for _, w := range sum.Warnings {
				if strings.Contains(w.Message, "flow memory budget") {
					warned = w.Message
				}
			}
			if tt.evicted != (warned != "") {
				t.Errorf("budget warning %q, want one: %v", warned, tt.evicted)
			}
			t.Logf("peak live heap %d MiB (%d B per flow); %s", peak>>20, peak/flows, warned)
			if peak == 0 || peak > tt.maxHeap {
				t.Errorf("peak live heap %d MiB, want at most %d MiB", peak>>20, tt.maxHeap>>20)
			}
		})
	}
}
