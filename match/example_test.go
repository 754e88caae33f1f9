package match_test

import (
	"fmt"
	"log"
	"strings"

	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/match"
)

// A Matcher applies the tracker adapters (the embedded database unless
// Options.DB says otherwise) to one entry, and searches known values of
// the test device (indicators) in the requests no adapter handled.
func ExampleMatcher_Entry() {
	ind, err := match.ParseIndicator("email=jane@example.org")
	if err != nil {
		log.Fatal(err)
	}
	m, err := match.New(match.Options{Indicators: []match.Indicator{ind}})
	if err != nil {
		log.Fatal(err)
	}
	entries := []*har.Entry{
		{Request: har.Request{Method: "POST", URL: "https://api2.branch.io/v1/open",
			PostData: &har.PostData{MimeType: "application/json",
				Text: `{"google_advertising_id":"6a1c2f6e-0d5c-4f3b-9a7e-0123456789ab","os":"Android"}`}}},
		{Request: har.Request{Method: "GET", URL: "https://example.net/p?u=" + strings.ReplaceAll("jane@example.org", "@", "%40")}},
	}
	for i, e := range entries {
		r := m.Entry(i, e)
		for _, f := range r.Findings {
			fmt.Printf("entry %d: %s %s=%s in %s %s\n", i, f.Source, f.Property, f.Value, f.Context, f.Path)
		}
	}
	// Output:
	// entry 0: adapter advertisingId=6a1c2f6e-0d5c-4f3b-9a7e-0123456789ab in body google_advertising_id
	// entry 0: adapter osName=Android in body os
	// entry 1: indicator email=jane%40example.org in query u
}
