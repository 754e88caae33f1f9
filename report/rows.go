package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	json "github.com/go-json-experiment/json/v1"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"

	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/match"
)

// Row is one finding as a flat record, for notebooks and data frames: the
// rows of tracewire's findings.jsonl and findings.parquet.
type Row struct {
	AnalysisID string `json:"analysis_id" parquet:"analysis_id,dict"`
	// InputFile names the analysis's main input (capture, HAR or
	// experiment folder): the path as given, or in the tables of a batch
	// output folder the analysis's ID there (its path below the folder
	// given to batch, with that folder's name), which does not depend on
	// where the folders lie.
	InputFile  string `json:"input_file" parquet:"input_file,dict"`
	EntryIndex int64  `json:"entry_index" parquet:"entry_index"`
	// Timestamp is the request's capture time in microseconds since the
	// epoch (UTC), 0 when unknown.
	Timestamp   int64  `json:"timestamp" parquet:"timestamp,timestamp(microsecond)"`
	Method      string `json:"method" parquet:"method,dict"`
	Host        string `json:"host" parquet:"host,dict"`
	Path        string `json:"path" parquet:"path"`
	Tracker     string `json:"tracker" parquet:"tracker,dict"`
	TrackerName string `json:"tracker_name" parquet:"tracker_name,dict"`
	Adapter     string `json:"adapter" parquet:"adapter,dict"`
	// Source is "adapter" or "indicator".
	Source   string `json:"source" parquet:"source,dict"`
	Property string `json:"property" parquet:"property,dict"`
	Value    string `json:"value" parquet:"value"`
	// ValueEncoding is "base64" when Value is the base64 of bytes.
	ValueEncoding string `json:"value_encoding" parquet:"value_encoding,dict"`
	Context       string `json:"context" parquet:"context,dict"`
	// ValuePath is where in the decoded context the value was
	// ("batch[2].advertiser_id").
	ValuePath string `json:"value_path" parquet:"value_path"`
	Reasoning string `json:"reasoning" parquet:"reasoning,dict"`
	// Decoding is the chain of decoding steps, "parseJson(body) → ...".
	Decoding string `json:"decoding" parquet:"decoding,dict"`
	// IndicatorEncoding says how an indicator was found (plain, sha256, ...).
	IndicatorEncoding string `json:"indicator_encoding" parquet:"indicator_encoding,dict"`
	// Process is the process that sent the request, when enrichment knew.
	Process string `json:"process" parquet:"process,dict"`
	// Owner lists the data owners of the request (provenance), ", "-joined.
	Owner       string `json:"owner" parquet:"owner,dict"`
	ToolVersion string `json:"tool_version" parquet:"tool_version,dict"`
}

// MainInput returns the path of an analysis's capture or HAR (the first
// one), "" when there is none.
func (a *Analysis) MainInput() string {
	for _, in := range a.Inputs {
		if in.Role == RoleCapture || in.Role == RoleHAR {
			return in.Path
		}
	}
	return ""
}

// Rows flattens the findings of a, in finding order.
func Rows(a *Analysis) []Row {
	rows := make([]Row, 0, len(a.Findings))
	info := RowInfo{AnalysisID: a.ID, InputFile: a.MainInput(), ToolVersion: a.Tool.Version}
	for i := range a.Findings {
		f := &a.Findings[i]
		rows = append(rows, RowOf(f, a.Entry(f.Entry.Index), info))
	}
	return rows
}

// RowInfo is what the rows of one analysis share.
type RowInfo struct {
	AnalysisID  string
	InputFile   string
	ToolVersion string
}

// RowOf flattens one finding; e is the request it was found in (its
// time, process and owners), nil when unknown.
func RowOf(f *match.Finding, e *har.Entry, info RowInfo) Row {
	r := Row{
		AnalysisID: info.AnalysisID, InputFile: info.InputFile, EntryIndex: int64(f.Entry.Index),
		Method: f.Entry.Method, Host: HostOf(f.Entry.URL), Path: PathOf(f.Entry.URL),
		Adapter: f.Adapter, Source: f.Source, Property: f.Property, Value: f.Value,
		ValueEncoding: f.ValueEncoding, Context: f.Context, ValuePath: f.Path, Reasoning: f.Reasoning,
		ToolVersion: info.ToolVersion,
	}
	if t := entryTime(f.Entry, e); !t.IsZero() {
		r.Timestamp = t.UnixMicro()
	}
	if f.Tracker != nil {
		r.Tracker, r.TrackerName = f.Tracker.Slug, f.Tracker.Name
	}
	if len(f.Decoding) > 0 {
		parts := make([]string, len(f.Decoding))
		for j, s := range f.Decoding {
			parts[j] = s.Function + "(" + s.Input + ")"
		}
		r.Decoding = strings.Join(parts, " → ")
	}
	if f.Indicator != nil {
		r.IndicatorEncoding = f.Indicator.Encoding
	}
	if e != nil {
		r.Process = processOf(e)
		r.Owner = strings.Join(ownersOf(e), ", ")
	}
	return r
}

// rowEncoder writes rows as JSON Lines, as WriteJSONL does.
type rowEncoder struct {
	enc *json.Encoder
}

func newRowEncoder(w io.Writer) rowEncoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return rowEncoder{enc}
}

func (e rowEncoder) encode(r *Row) error {
	if err := e.enc.Encode(r); err != nil {
		return fmt.Errorf("findings JSONL: %w", err)
	}
	return nil
}

// WriteJSONL writes rows as JSON Lines.
func WriteJSONL(w io.Writer, rows []Row) error {
	bw := bufio.NewWriter(w)
	enc := newRowEncoder(bw)
	for i := range rows {
		if err := enc.encode(&rows[i]); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// ParquetWriter writes rows to a Parquet file in row groups, so any number
// of rows can be written in bounded memory. Close must be called.
type ParquetWriter struct {
	w *parquet.GenericWriter[Row]
}

// parquetRowGroup bounds the rows buffered before a row group is written.
const parquetRowGroup = 64 << 10

// NewParquetWriter starts a Parquet file on w (zstd-compressed columns).
func NewParquetWriter(w io.Writer) *ParquetWriter {
	return &ParquetWriter{w: parquet.NewGenericWriter[Row](w,
		parquet.Compression(&zstd.Codec{}),
		parquet.MaxRowsPerRowGroup(parquetRowGroup),
		parquet.CreatedBy("tracewire", "", ""),
	)}
}

// Write adds rows.
func (p *ParquetWriter) Write(rows []Row) error {
	if _, err := p.w.Write(rows); err != nil {
		return fmt.Errorf("findings parquet: %w", err)
	}
	return nil
}

// Close writes the footer.
func (p *ParquetWriter) Close() error {
	if err := p.w.Close(); err != nil {
		return fmt.Errorf("findings parquet: %w", err)
	}
	return nil
}
