// Package report turns an Analysis (what tracewire found in one capture or
// HAR file) into documents for people and tables for programs.
//
// For people: a technical report in HTML (one self-contained file: inline
// styles and SVG figures, nothing loaded from elsewhere, a print style
// sheet for A4), Markdown, or PDF (pure Go, with the Go fonts embedded, so
// it renders the same on any machine). Every report, in English or German
// with all text from package i18n, says what was analysed (metadata, the
// capture period, tool and adapter database versions, SHA-256 of every
// input), which data types went to which recipient, when (a timeline) and
// to which hosts, and for every request the values found, where, decoded
// how and why, with an excerpt of the decoded request in which the values
// are marked and the request in full in an appendix. Options add a
// comparison with an earlier analysis of the same app (Compare: which
// transmissions persisted, appeared, disappeared) and the user's own
// device records (ReadDeviceReport: TrackerControl exports, iOS App
// Privacy Reports) as evidence that the user was affected.
//
// For programs: Rows flattens findings into one record each, written as
// JSON Lines or Parquet (through parquet-go, readable by any Parquet
// implementation).
//
// The content of a report is computed once per report (the view) and
// written by each format's renderer, so the formats never disagree. The
// same analysis and options always give the same bytes.
package report
