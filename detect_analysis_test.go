package tracewire

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/tracewire/tracewire/report"
)

// report.DetectWriter.AddAnalysis writes an analysis's findings as the
// same rows report.Rows makes of it, and the json document lists every
// finding, the entries read and the inputs.
func TestDetectWriterAddAnalysis(t *testing.T) {
	a, err := Analyze(context.Background(), Input{Files: []string{filepath.Join("testdata", "golden", "tracking.har")}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Findings) == 0 {
		t.Fatal("no findings")
	}
	var want, got bytes.Buffer
	if err := report.WriteJSONL(&want, report.Rows(a)); err != nil {
		t.Fatal(err)
	}
	info := report.RowInfo{AnalysisID: a.ID, InputFile: a.MainInput(), ToolVersion: a.Tool.Version}
	d := report.NewDetectWriter(&got, report.DetectOptions{Format: "jsonl", Rows: info})
	if err := d.AddAnalysis(a); err != nil {
		t.Fatal(err)
	}
	if err := d.Finish(""); err != nil {
		t.Fatal(err)
	}
	if got.String() != want.String() {
		t.Errorf("rows differ from report.Rows:\n%s\nwant\n%s", got.String(), want.String())
	}

	got.Reset()
	d = report.NewDetectWriter(&got, report.DetectOptions{Format: "json", Rows: info})
	if err := d.AddAnalysis(a); err != nil {
		t.Fatal(err)
	}
	if err := d.Finish(""); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Findings    []json.RawMessage `json:"findings"`
		EntriesRead int               `json:"entries_read"`
		ID          string            `json:"id"`
		Inputs      []report.InputFile
	}
	if err := json.Unmarshal(got.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Findings) != len(a.Findings) || doc.EntriesRead != a.EntriesRead || doc.ID != a.ID || len(doc.Inputs) != len(a.Inputs) {
		t.Errorf("json: %d findings (want %d), %d entries (want %d), id %q (want %q), %d inputs", len(doc.Findings), len(a.Findings), doc.EntriesRead, a.EntriesRead, doc.ID, a.ID, len(doc.Inputs))
	}
}
