// Package tracewire is the library facade of tracewire: Analyze runs the
// whole pipeline over one set of inputs, from a packet capture or HAR file
// to the transmissions of personal data found in it, and package report
// turns the result into reports and tables.
//
//	captures ──pcap──▶ HAR ──enrich──▶ HAR + stack traces/owners ──match──▶ findings ──report──▶ HTML/Markdown/PDF/JSONL/Parquet
//
// Entries stream through every stage: only the requests that carried
// findings are kept in memory, as evidence for the report, so a capture of
// any size analyses in bounded memory. Discover finds the analyses in
// folders of captures (PiRogue experiment folders, captures with their key
// logs and traces) for batch runs.
//
// Each command's job is a call here, so that the command line only maps
// flags to options: Enrich (tracewire enrich), DetectTo (tracewire detect),
// Settings (the options as flags give them) and Settings.Load (report's
// inputs). A run that finished without analysing everything returns
// ErrIncomplete, with its output written.
//
// The stages are usable on their own: packages pcap (capture → HAR),
// enrich (stack traces, provenance), match and adapters (tracker
// detection), report (output formats).
package tracewire

import (
	"github.com/tracewire/tracewire/report"
)

// Analysis is the result of Analyze: metadata of the inputs, how the
// capture was decoded, the findings and the requests that carried them.
// It is defined in package report, which renders it; see report.Analysis.
type Analysis = report.Analysis
