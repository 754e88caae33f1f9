package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	json "github.com/go-json-experiment/json/v1"
	"github.com/tracewire/tracewire/internal/testutil"
)

// detectCorpusJSON runs detect --format json on a corpus file.
func detectCorpusJSON(t *testing.T, rel ...string) (out struct {
	Findings []struct {
		Entry    struct{ Index int } `json:"entry"`
		Adapter  string              `json:"adapter"`
		Property string              `json:"property"`
	} `json:"findings"`
	Undecoded []struct {
		Entry   struct{ Index int } `json:"entry"`
		Company struct{ Name string }
		Host    string   `json:"host"`
		Keys    []string `json:"keys"`
	} `json:"undecoded"`
}) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	// Exit status 1 (a truncated capture, such as pcap2har's
	// out-of-order.pcap, read up to its end) still gives its findings.
	if err := run(context.Background(), []string{"detect", testutil.Corpus(t, rel...), "--format", "json"}, strings.NewReader(""), &stdout, &stderr); err != nil && exitStatus(err) != exitIncomplete {
		t.Fatalf("%v: %s", err, stderr.String())
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// The Meta Pixel, Floodlight and ga.js (__utm.gif) requests of the
// corpus's captures give findings (issue 14).
func TestDetectWebTrackers(t *testing.T) {
	for _, tt := range []struct {
		file []string
		want []string // adapter/property pairs
	}{
		{[]string{"har", "pagexray", "case-sensitive-protocol.har"}, []string{"facebook/pixel propertyId", "facebook/pixel eventName", "google/floodlight propertyId", "google/floodlight eventName"}},
		{[]string{"pcap2har", "out-of-order.pcap"}, []string{"google/utm-gif propertyId", "google/utm-gif browserId", "google/utm-gif viewedPage", "google/utm-gif screenWidth"}},
	} {
		out := detectCorpusJSON(t, tt.file...)
		got := map[string]bool{}
		for _, f := range out.Findings {
			got[f.Adapter+" "+f.Property] = true
		}
		for _, w := range tt.want {
			if !got[w] {
				t.Errorf("%s: no %s finding", tt.file[len(tt.file)-1], w)
			}
		}
	}
}

// Requests to tracking companies that no adapter decodes are listed under
// "undecoded", with company, host and keys, and never have findings.
func TestDetectUndecoded(t *testing.T) {
	out := detectCorpusJSON(t, "har", "pagexray", "www.nytimes.com.har")
	// Their number falls as adapters are added (62 before the web
	// adapters of issue 14, 9 after them); some stay.
	if len(out.Undecoded) == 0 {
		t.Fatal("no undecoded requests, want the nytimes.com capture's remaining beacons")
	}
	withFindings := map[int]bool{}
	for _, f := range out.Findings {
		withFindings[f.Entry.Index] = true
	}
	for _, u := range out.Undecoded {
		if u.Company.Name == "" || u.Host == "" || len(u.Keys) == 0 {
			t.Errorf("entry %d: incomplete: %+v", u.Entry.Index, u)
		}
		if withFindings[u.Entry.Index] {
			t.Errorf("entry %d is listed as undecoded and has findings", u.Entry.Index)
		}
	}
}
