package report

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/tracewire/tracewire/adapters"

	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/match"
)

// Values of the synthetic analysis; all invented.
const (
	sampleAdID  = "6a1c2f6e-0d5c-4f3b-9a7e-0123456789ab"
	sampleEmail = "alice@example.com"
)

func sampleEntry(url, body string, ts float64) *har.Entry {
	e := &har.Entry{
		StartedDateTime: har.TimeOf(ts),
		Timestamp:       ts,
		Timings:         har.NoTimings,
		Request: har.Request{
			Method: "POST", URL: url, HTTPVersion: "HTTP/1.1",
			Headers:     []har.NameValue{{Name: "Content-Type", Value: "application/json"}, {Name: "User-Agent", Value: "ExampleApp/1.0"}},
			PostData:    &har.PostData{MimeType: "application/json", Text: body},
			HeadersSize: -1, BodySize: int64(len(body)), Timestamp: ts,
		},
		Response: har.Response{Status: 200, HTTPVersion: "HTTP/1.1", HeadersSize: -1, BodySize: -1,
			Content: har.Content{MimeType: "application/json", Text: `{"ok":true}`, Size: 11}},
	}
	return e
}

// sampleAnalysis is a small analysis made by the real matcher: a Branch
// request with an advertising ID, a stack trace and an owner, and a
// request to an unknown host carrying the SHA-256 of a known email.
func sampleAnalysis() *Analysis {
	h := sha256.Sum256([]byte(sampleEmail))
	entries := map[int]*har.Entry{
		3: sampleEntry("https://api2.branch.io/v1/open", `{"google_advertising_id":"`+sampleAdID+`","os":"Android"}`, 1700000001.5),
		5: sampleEntry("https://collect.example-analytics.net/e", `{"em":"`+hex.EncodeToString(h[:])+`","ev":"purchase"}`, 1700000004.25),
	}
	e3 := entries[3]
	e3.Request.Extra.Set("_stacktrace", map[string]any{
		"process": "com.example.app", "pid": int64(4242),
		"compact": []any{"io.branch.referral.network.BranchRemoteInterface", "io.branch.referral.ServerRequestQueue"},
	})
	e3.Extra.Set("_owners", []any{sampleEmail})
	m, err := match.New(match.Options{Indicators: []match.Indicator{{Property: "email", Value: sampleEmail}}})
	if err != nil {
		panic(err)
	}
	a := &Analysis{
		ID: "0123456789abcdef", Name: "Example App",
		Tool:        Tool{Name: "tracewire", Version: "0.1.0-test"},
		AdapterDB:   &AdapterDB{Version: "embedded 0.1.0-test", SHA256: "00ff", Trackers: 1, Adapters: 1},
		Inputs:      []InputFile{{Role: RoleCapture, Path: "app.pcapng", Name: "app.pcapng", Size: 1234, SHA256: "abcd"}},
		Period:      &Period{Start: time.Unix(1700000000, 0).UTC(), End: time.Unix(1700000010, 0).UTC()},
		EntriesRead: 7,
		Hosts:       []HostCount{{Host: "api2.branch.io", Requests: 2}, {Host: "collect.example-analytics.net", Requests: 1}},
		Indicators:  []IndicatorCount{{Property: "email", Count: 1}},
	}
	for _, i := range []int{3, 5} {
		res := m.Entry(i, entries[i])
		a.Findings = append(a.Findings, res.Findings...)
		a.Entries = append(a.Entries, Evidence{Index: i, Entry: EvidenceEntry(entries[i])})
	}
	return a
}

func mustDB(t *testing.T) *adapters.DB {
	t.Helper()
	db, err := adapters.Default()
	if err != nil {
		t.Fatal(err)
	}
	return db
}
