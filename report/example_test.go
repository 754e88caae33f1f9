package report_test

import (
	"bufio"
	"bytes"
	"fmt"
	"log"
	"os"
	"strings"

	"github.com/tracewire/tracewire/match"
	"github.com/tracewire/tracewire/report"
)

// exampleAnalysis is an analysis as tracewire.Analyze returns it (or
// report.ReadAnalysis reads it from a findings file), cut down to one
// finding.
func exampleAnalysis() *report.Analysis {
	return &report.Analysis{
		ID:          "0123456789abcdef",
		Name:        "app.har",
		Tool:        report.Tool{Name: "tracewire", Version: "example"},
		Inputs:      []report.InputFile{{Role: report.RoleHAR, Path: "app.har", Name: "app.har", Size: 1234, SHA256: strings.Repeat("ab", 32)}},
		EntriesRead: 1,
		Findings: []match.Finding{{
			Entry:   match.EntryRef{Index: 0, StartedDateTime: "2024-05-06T07:08:09Z", Method: "POST", URL: "https://api2.branch.io/v1/open"},
			Tracker: &match.TrackerRef{Slug: "branch-io", Name: "Branch Metrics, Inc."},
			Adapter: "branch-io/v1", Source: "adapter", Property: "advertisingId",
			Value: "6a1c2f6e-0d5c-4f3b-9a7e-0123456789ab", Context: "body", Path: "google_advertising_id",
			Reasoning: "obvious property name",
		}},
		Warnings: []string{},
	}
}

// Rows flattens an analysis into one record per finding, the columns of
// findings.jsonl and findings.parquet.
func ExampleRows() {
	if err := report.WriteJSONL(os.Stdout, report.Rows(exampleAnalysis())); err != nil {
		log.Fatal(err)
	}
	// Output:
	// {"analysis_id":"0123456789abcdef","input_file":"app.har","entry_index":0,"timestamp":1714979289000000,"method":"POST","host":"api2.branch.io","path":"/v1/open","tracker":"branch-io","tracker_name":"Branch Metrics, Inc.","adapter":"branch-io/v1","source":"adapter","property":"advertisingId","value":"6a1c2f6e-0d5c-4f3b-9a7e-0123456789ab","value_encoding":"","context":"body","value_path":"google_advertising_id","reasoning":"obvious property name","decoding":"","indicator_encoding":"","process":"","owner":"","tool_version":"example"}
}

// Write renders an analysis as HTML, Markdown or PDF, in English or
// German; here the headings of the German Markdown report.
func ExampleWrite() {
	var b bytes.Buffer
	if err := report.Write(&b, report.Markdown, exampleAnalysis(), report.Options{Lang: "de"}); err != nil {
		log.Fatal(err)
	}
	sc := bufio.NewScanner(&b)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "## ") {
			fmt.Println(sc.Text())
		}
	}
	// Output:
	// ## Zusammenfassung
	// ## Was untersucht wurde
	// ## Datenarten je Empfänger
	// ## Empfänger und Belege
	// ## Methodik
	// ## Anhang: die Tracking-Anfragen im Wortlaut
}
