package report

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	json "github.com/go-json-experiment/json/v1"
)

// TestParquetReadByArrow writes rows with parquet-go and reads them back
// with Apache Arrow's independent Parquet implementation: the file is
// standard Parquet, and every column holds what was written.
func TestParquetReadByArrow(t *testing.T) {
	a := sampleAnalysis()
	rows := Rows(a)
	if len(rows) != 3 {
		t.Fatalf("%d rows, want 3", len(rows))
	}
	var buf bytes.Buffer
	pw := NewParquetWriter(&buf)
	// Two writes: rows arrive analysis by analysis in batch runs.
	if err := pw.Write(rows[:1]); err != nil {
		t.Fatal(err)
	}
	if err := pw.Write(rows[1:]); err != nil {
		t.Fatal(err)
	}
	if err := pw.Close(); err != nil {
		t.Fatal(err)
	}

	pr, err := file.NewParquetReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("arrow cannot open the file: %v", err)
	}
	if got := pr.NumRows(); got != int64(len(rows)) {
		t.Fatalf("arrow sees %d rows, want %d", got, len(rows))
	}
	fr, err := pqarrow.NewFileReader(pr, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()

	// Every field of Row is a column, named after its JSON tag.
	var want map[string]any
	b, _ := json.Marshal(rows[0])
	_ = json.Unmarshal(b, &want)
	if int(tbl.NumCols()) != len(want) {
		t.Errorf("%d columns, want %d", tbl.NumCols(), len(want))
	}
	col := func(name string) arrow.Array {
		t.Helper()
		for i := 0; i < int(tbl.NumCols()); i++ {
			if tbl.Schema().Field(i).Name == name {
				c := tbl.Column(i).Data()
				if len(c.Chunks()) != 1 {
					t.Fatalf("%s: %d chunks", name, len(c.Chunks()))
				}
				return c.Chunk(0)
			}
		}
		t.Fatalf("no column %q in %v", name, tbl.Schema())
		return nil
	}
	str := func(name string, i int) string {
		t.Helper()
		switch c := col(name).(type) {
		case *array.String:
			return c.Value(i)
		case *array.Dictionary:
			return c.Dictionary().(*array.String).Value(c.GetValueIndex(i))
		case *array.Binary:
			return string(c.Value(i))
		default:
			t.Fatalf("%s is a %T", name, c)
		}
		return ""
	}
	for i, r := range rows {
		for name, w := range map[string]string{
			"analysis_id": r.AnalysisID, "input_file": r.InputFile, "method": r.Method, "host": r.Host,
			"path": r.Path, "tracker": r.Tracker, "adapter": r.Adapter, "property": r.Property,
			"value": r.Value, "context": r.Context, "value_path": r.ValuePath, "reasoning": r.Reasoning,
			"process": r.Process, "owner": r.Owner, "tool_version": r.ToolVersion, "source": r.Source,
			"decoding": r.Decoding, "indicator_encoding": r.IndicatorEncoding,
		} {
			if got := str(name, i); got != w {
				t.Errorf("row %d %s = %q, want %q", i, name, got, w)
			}
		}
		if got := col("entry_index").(*array.Int64).Value(i); got != r.EntryIndex {
			t.Errorf("row %d entry_index = %d, want %d", i, got, r.EntryIndex)
		}
		ts, ok := col("timestamp").(*array.Timestamp)
		if !ok {
			t.Fatalf("timestamp is a %T, want a Parquet timestamp", col("timestamp"))
		}
		unit := ts.DataType().(*arrow.TimestampType).Unit
		if got := ts.Value(i).ToTime(unit); !got.Equal(time.UnixMicro(r.Timestamp)) {
			t.Errorf("row %d timestamp = %v, want %v", i, got, time.UnixMicro(r.Timestamp).UTC())
		}
	}
	// Spot checks against the analysis, not only against Rows.
	if str("owner", 0) != "alice@example.com" || !strings.HasPrefix(str("process", 0), "com.example.app") {
		t.Errorf("owner/process of row 0: %q, %q", str("owner", 0), str("process", 0))
	}
	if str("property", 2) != "email" || str("indicator_encoding", 2) != "sha256" {
		t.Errorf("row 2: %q %q", str("property", 2), str("indicator_encoding", 2))
	}
}

func TestJSONLRows(t *testing.T) {
	var buf bytes.Buffer
	a := sampleAnalysis()
	if err := WriteJSONL(&buf, Rows(a)); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines", len(lines))
	}
	var r Row
	if err := json.Unmarshal([]byte(lines[1]), &r); err != nil {
		t.Fatal(err)
	}
	want := Row{AnalysisID: "0123456789abcdef", InputFile: "app.pcapng", EntryIndex: 3, Timestamp: 1700000001500000,
		Method: "POST", Host: "api2.branch.io", Path: "/v1/open", Tracker: "branch-io", TrackerName: "Branch Metrics, Inc.",
		Adapter: "branch-io/v1", Source: "adapter", Property: "osName", Value: "Android", Context: "body", ValuePath: "os",
		Reasoning: a.Findings[1].Reasoning, Decoding: "parseJson(body)", Process: "com.example.app (pid 4242)",
		Owner: "alice@example.com", ToolVersion: "0.1.0-test"}
	if r != want {
		t.Errorf("row 1:\n got %+v\nwant %+v", r, want)
	}
}
