package tracewire

import (
	"context"
	"os"
	"testing"

	json "github.com/go-json-experiment/json/v1"
	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/internal/testutil"
	"github.com/tracewire/tracewire/match"
	"github.com/tracewire/tracewire/report"
)

// TestAnalyzeUndecoded checks the analysis's list of requests to tracking
// companies that no adapter decoded against the matcher run by hand over
// every entry of the nytimes.com capture, and what Evidence keeps: the
// findings file's list when it has one, else this run's without the
// requests that have findings.
func TestAnalyzeUndecoded(t *testing.T) {
	p := testutil.Corpus(t, "har", "pagexray", "www.nytimes.com.har")
	a, err := Analyze(context.Background(), Input{Files: []string{p}}, Options{})
	if err != nil {
		t.Fatal(err)
	}

	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h, _, err := har.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	m, err := match.New(match.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var want []report.UndecodedRequest
	for i := range h.Log.Entries {
		res := m.Entry(i, &h.Log.Entries[i])
		if res.Undecoded != nil {
			want = append(want, report.UndecodedRequest{Entry: res.Entry, Undecoded: res.Undecoded})
		}
	}
	// Most of the capture's beacons have adapters now; a few (Rocket Fuel's
	// adb.gif and ca.html, Yahoo's cms) stay undecoded, enough for the
	// checks below, which take the first two.
	if len(want) < 3 {
		t.Fatalf("the matcher lists %d undecoded requests, want the capture's remaining beacons", len(want))
	}
	js := func(v any) string {
		b, err := json.MarshalIndent(v, "", " ")
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if got := js(a.Undecoded); got != js(want) {
		t.Errorf("Analyze's undecoded list differs from the matcher's:\n got %s\nwant %s", got, js(want))
	}

	// Evidence: findings made elsewhere, without a list, and with one.
	made := &Analysis{ID: a.ID, Inputs: a.Inputs, EntriesRead: a.EntriesRead, Findings: a.Findings}
	b, err := Evidence(context.Background(), Input{Files: []string{p}}, Options{}, made)
	if err != nil {
		t.Fatal(err)
	}
	if js(b.Undecoded) != js(want) {
		t.Errorf("Evidence without a list: %d undecoded requests, want this run's %d", len(b.Undecoded), len(want))
	}
	// Findings that name an undecoded request: it leaves the list.
	made.Findings = append([]match.Finding{{Entry: want[0].Entry, Property: "userId", Value: "x", Source: "indicator"}}, a.Findings...)
	b, err = Evidence(context.Background(), Input{Files: []string{p}}, Options{}, made)
	if err != nil {
		t.Fatal(err)
	}
	if js(b.Undecoded) != js(want[1:]) {
		t.Errorf("Evidence lists a request with findings as undecoded: %d, want %d", len(b.Undecoded), len(want)-1)
	}
	made.Findings = a.Findings
	made.Undecoded = want[:2]
	b, err = Evidence(context.Background(), Input{Files: []string{p}}, Options{}, made)
	if err != nil {
		t.Fatal(err)
	}
	if js(b.Undecoded) != js(want[:2]) {
		t.Errorf("Evidence does not keep the findings file's list: %s", js(b.Undecoded))
	}
}
