package tracewire_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"strings"

	"github.com/tracewire/tracewire"
	"github.com/tracewire/tracewire/report"
)

// The README's library example (TestREADMELibraryExample keeps the two
// the same): one call analyses a capture; every finding says which
// adapter found which value where.
func ExampleAnalyze() {
	ctx := context.Background()
	a, err := tracewire.Analyze(ctx, tracewire.Input{
		Files: []string{"testdata/sample/tracking.pcapng"},
	}, tracewire.Options{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(a.Findings), "findings in", a.EntriesRead, "requests")
	for _, f := range a.Findings {
		if f.Property == "advertisingId" {
			fmt.Println(f.Entry.Index, f.Adapter, f.Value, f.Context, f.Path)
		}
	}
	// Output:
	// 63 findings in 8 requests
	// 3 google/app-measurement 6f1c2a3e-8b4d-4e2f-9a1b-3c5d7e9f0a2b body 1[0].19
	// 4 facebook/graph-activities-qs 6f1c2a3e-8b4d-4e2f-9a1b-3c5d7e9f0a2b body advertiser_id
	// 5 adjust/body 6f1c2a3e-8b4d-4e2f-9a1b-3c5d7e9f0a2b body gps_adid
}

// A capture goes through conversion, enrichment and detection in one call.
// The sample is a made-up weather app that reports to analytics and
// advertising SDKs' endpoints, mostly over TLS 1.3 whose keys the capture
// embeds; ptcpdump-style packet comments name its process. Here, the
// advertising ID each tracker received:
func ExampleAnalyze_capture() {
	a, err := tracewire.Analyze(context.Background(), tracewire.Input{
		Files: []string{"testdata/sample/tracking.pcapng"},
	}, tracewire.Options{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d requests in %d connections, %d findings\n", a.EntriesRead, a.Capture.Connections, len(a.Findings))
	for _, f := range a.Findings {
		if f.Property == "advertisingId" {
			fmt.Printf("request #%d → %s: %s = %s (%s %s)\n", f.Entry.Index, f.Tracker.Name, f.Property, f.Value, f.Context, f.Path)
		}
	}
	fmt.Println("sent by:", a.Entry(3).Extra["_process"].(map[string]any)["cmd"])
	// Output:
	// 8 requests in 6 connections, 63 findings
	// request #3 → Google LLC: advertisingId = 6f1c2a3e-8b4d-4e2f-9a1b-3c5d7e9f0a2b (body 1[0].19)
	// request #4 → Meta Platforms Ireland Ltd.: advertisingId = 6f1c2a3e-8b4d-4e2f-9a1b-3c5d7e9f0a2b (body advertiser_id)
	// request #5 → Adjust GmbH: advertisingId = 6f1c2a3e-8b4d-4e2f-9a1b-3c5d7e9f0a2b (body gps_adid)
	// sent by: com.example.weatherapp
}

// A backend's egress, recorded as HAR, with its provenance log: the log
// says whose data the request to Meta's Conversions API carried, and the
// owner's email is then looked for in every request, hashed too.
func ExampleAnalyze_har() {
	a, err := tracewire.Analyze(context.Background(), tracewire.Input{
		Files:      []string{"testdata/report/shop-backend.har"},
		Provenance: []string{"testdata/report/provenance.jsonl"},
	}, tracewire.Options{IndicatorsEverywhere: true})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("backend:", a.Subject.Backend.Name)
	for _, f := range a.Findings {
		if f.Indicator != nil {
			fmt.Printf("request #%d to %s: %s %s (%s), owners %v\n", f.Entry.Index, f.Tracker.Name,
				f.Property, f.Indicator.Value, f.Indicator.Encoding, a.Entry(f.Entry.Index).Extra["_owners"])
		}
	}
	// Output:
	// backend: example shop backend
	// request #1 to Meta Platforms Ireland Ltd.: email alice@example.com (sha256), owners [alice@example.com]
}

// An analysis becomes a report in HTML, Markdown or PDF, in English or
// German, or flat rows for data frames (JSONL, Parquet).
func Example_report() {
	a, err := tracewire.Analyze(context.Background(), tracewire.Input{
		Files: []string{"testdata/sample/tracking.pcapng"},
	}, tracewire.Options{})
	if err != nil {
		log.Fatal(err)
	}
	var md bytes.Buffer
	if err := report.Write(&md, report.Markdown, a, report.Options{Lang: "de"}); err != nil {
		log.Fatal(err)
	}
	// Print the summary table.
	sc := bufio.NewScanner(&md)
	for sc.Scan() {
		if l := sc.Text(); strings.HasPrefix(l, "| **") {
			fmt.Println(l)
		}
		if sc.Text() == "## Was untersucht wurde" {
			break
		}
	}
	rows := report.Rows(a)
	fmt.Printf("%d rows; the first: %s %s %s=%s\n", len(rows), rows[0].Host, rows[0].Adapter, rows[0].Property, rows[0].Value)
	// Output:
	// | **Untersuchte Anfragen** | 8 |
	// | **Anfragen mit personenbezogenen Daten** | 5 |
	// | **Empfänger** | Adjust GmbH, Google LLC, Meta Platforms Ireland Ltd. |
	// | **Datenarten** | 29 |
	// | **Gefundene Werte** | 63 |
	// | **Nicht dekodierte Anfragen an Tracking-Unternehmen** | 0 |
	// 63 rows; the first: app-measurement.com google/app-measurement-config propertyId=1:123456789012:android:0a1b2c3d4e5f6a7b
}

// What "tracewire detect" does, as a call: the results stream to Out in
// one of detect's formats (here JSON Lines, a row per finding), warnings
// go to Err, and ErrIncomplete says that entries were left out or a
// capture was cut short.
func ExampleDetectTo() {
	var out, warnings bytes.Buffer
	err := tracewire.DetectTo(context.Background(), tracewire.Input{Files: []string{"testdata/sample/tracking.pcapng"}},
		tracewire.Options{}, report.DetectOptions{Format: "jsonl"}, tracewire.Streams{Out: &out, Err: &warnings})
	if err != nil && !errors.Is(err, tracewire.ErrIncomplete) {
		log.Fatal(err)
	}
	rows := strings.Split(strings.TrimSpace(out.String()), "\n")
	fmt.Println(len(rows), "rows; incomplete:", err != nil)
	// Output:
	// 63 rows; incomplete: false
}
