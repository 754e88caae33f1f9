package report

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/tracewire/tracewire/adapters"
)

// Format is an output format of a report.
type Format string

// Formats.
const (
	HTML     Format = "html"
	Markdown Format = "md"
	PDF      Format = "pdf"
	// JSONL writes one flat Row per finding, one JSON object a line.
	JSONL Format = "jsonl"
	// Parquet writes the same rows as a Parquet file.
	Parquet Format = "parquet"
)

// Formats lists every format.
var Formats = []Format{HTML, Markdown, PDF, JSONL, Parquet}

// formatNames are the names ParseFormat accepts, also as file extensions,
// in the order error messages list them.
var formatNames = []struct {
	name string
	f    Format
}{
	{"html", HTML}, {"htm", HTML}, {"md", Markdown}, {"markdown", Markdown},
	{"pdf", PDF}, {"jsonl", JSONL}, {"ndjson", JSONL}, {"parquet", Parquet},
}

// ParseFormat reads a format name ("markdown" is accepted for md).
func ParseFormat(s string) (Format, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	for _, n := range formatNames {
		if n.name == name {
			return n.f, nil
		}
	}
	return "", fmt.Errorf("report format %q: want html, md, pdf, jsonl or parquet", s)
}

// Extensions lists the file extensions (with the dot) FormatOf knows.
func Extensions() []string {
	out := make([]string, len(formatNames))
	for i, n := range formatNames {
		out[i] = "." + n.name
	}
	return out
}

// FormatOf guesses the format from an output file's extension; "" when the
// extension says nothing.
func FormatOf(path string) Format {
	f, err := ParseFormat(strings.TrimPrefix(filepath.Ext(path), "."))
	if err != nil {
		return ""
	}
	return f
}

// Ext returns the file extension of a format, with the dot.
func (f Format) Ext() string { return "." + string(f) }

// Options configure a report.
type Options struct {
	// Lang is the language, "en" (default) or "de".
	Lang string
	// Compare is an earlier analysis of the same app (for instance before
	// a notice to the controller); the report then says which
	// transmissions persisted, appeared and disappeared.
	Compare *Analysis
	// DeviceReports are records from the user's own device (TrackerControl,
	// iOS App Privacy Report); the report lists the hosts that received
	// personal data and also appear there.
	DeviceReports []*DeviceReport
	// AppID is the analysed app's ID (package name or bundle ID) that
	// device reports are filtered by; by default the app the analysis
	// names. With none, device reports are not used as evidence (see
	// DeviceWarnings).
	AppID string
	// DB is the adapter database used to decode the request excerpts
	// again; nil means the embedded one.
	DB *adapters.DB
	// MaxBody bounds each request body reproduced in the appendix, in
	// bytes (default 4 KiB; negative: no bound); the rest is counted, not
	// shown.
	MaxBody int
}

// Write writes a report of a in format f.
func Write(w io.Writer, f Format, a *Analysis, o Options) error {
	switch f {
	case HTML:
		return WriteHTML(w, a, o)
	case Markdown:
		return WriteMarkdown(w, a, o)
	case PDF:
		return WritePDF(w, a, o)
	case JSONL:
		return WriteJSONL(w, Rows(a))
	case Parquet:
		pw := NewParquetWriter(w)
		if err := pw.Write(Rows(a)); err != nil {
			return err
		}
		return pw.Close()
	}
	return fmt.Errorf("report: unknown format %q", f)
}
