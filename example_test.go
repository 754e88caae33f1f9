package tracewire_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/tracewire/tracewire"
	"github.com/tracewire/tracewire/report"
)

// A capture goes through conversion, enrichment and detection in one call.
// The sample is a made-up weather app that reports to analytics and
// advertising endpoints; ptcpdump-style packet comments name its process.
func ExampleAnalyze_capture() {
	a, err := tracewire.Analyze(context.Background(), tracewire.Input{
		Files: []string{"testdata/sample/tracking.pcapng"},
	}, tracewire.Options{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d requests in %d connections\n", a.EntriesRead, a.Capture.Connections)
	for _, f := range a.Findings {
		fmt.Printf("request #%d → %s: %s = %s (%s %s)\n", f.Entry.Index, f.Tracker.Name, f.Property, f.Value, f.Context, f.Path)
	}
	fmt.Println("sent by:", a.Entry(2).Extra["_process"].(map[string]any)["cmd"])
	// Output:
	// 6 requests in 5 connections
	// request #2 → Google LLC: propertyId = G-EXAMPLE123 (query tid)
	// request #2 → Google LLC: language = de-de (query ul)
	// request #2 → Google LLC: screenHeight = 1080x2400 (query sr)
	// request #2 → Google LLC: screenWidth = 1080x2400 (query sr)
	// request #2 → Google LLC: browserId = 1234567890.1710406800 (query cid)
	// request #2 → Google LLC: userAgent = WeatherApp/3.2.1 (Android 14; Pixel 7) (header User-Agent)
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
	// | **Untersuchte Anfragen** | 6 |
	// | **Anfragen mit personenbezogenen Daten** | 1 |
	// | **Empfänger** | Google LLC |
	// | **Datenarten** | 6 |
	// | **Gefundene Werte** | 6 |
	// 6 rows; the first: www.google-analytics.com google/google-analytics propertyId=G-EXAMPLE123
}
