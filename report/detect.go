package report

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	json "github.com/go-json-experiment/json/v1"
	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/pkg/twwidth"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/tracewire/tracewire/i18n"
	"github.com/tracewire/tracewire/match"
)

// DetectOptions say what a DetectWriter writes.
type DetectOptions struct {
	// Format is "json" (one document), "jsonl" (JSON Lines) or "table".
	Format string
	// ValuesOnly writes, in json and jsonl, per entry only
	// {property: [values]}.
	ValuesOnly bool
	// Lang is the language of the table's labels.
	Lang string
	// MaxValueLen cuts longer values in the table (0: never).
	MaxValueLen int
	// Wide writes the table with the tracker and what found each value,
	// without fitting it into TableWidth columns.
	Wide bool
	// Rows names the analysis in jsonl's rows. When its AnalysisID is
	// "" (not known before the whole input is read), the rows are held
	// until SetAnalysisID.
	Rows RowInfo
}

// DetectMeta is what detect's JSON says about the analysis besides the
// findings: the build that made it and the inputs, with the same ID and
// digests that an Analysis gives them.
type DetectMeta struct {
	Tool   Tool        `json:"tool"`
	ID     string      `json:"id"`
	Inputs []InputFile `json:"inputs"`
}

// DetectWriter writes the results of a detection as they come, in
// detect's formats: the json document (findings, undecoded, entries_read,
// warnings, the inputs), JSON Lines (the Rows of report and batch, or
// with ValuesOnly an {entry, adapter, values} line per entry), or a
// table.
type DetectWriter struct {
	o DetectOptions
	w *bufio.Writer
	// warnings are what the inputs' readers worked around; skips the
	// entries left out as malformed.
	warnings []string
	skips    []skipped
	n        int
	entries  int
	rows     [][]string
	// meta, when set, is written into the JSON document after warnings.
	meta *DetectMeta
	// undecoded lists the requests to tracking companies no adapter
	// decoded (json format), in entry order, as an Analysis lists them.
	undecoded  []UndecodedRequest
	nUndecoded int
	// held are the jsonl rows waiting for the analysis ID.
	held []Row
	renc rowEncoder
}

// valuesLine is an entry's values in the values-only view.
type valuesLine struct {
	Entry   match.EntryRef      `json:"entry"`
	Adapter string              `json:"adapter,omitempty"`
	Values  map[string][]string `json:"values"`
}

// skipped is an entry left out as malformed, and its warning.
type skipped struct {
	index int
	text  string
}

// NewDetectWriter starts detect's output on w.
func NewDetectWriter(w io.Writer, o DetectOptions) *DetectWriter {
	d := &DetectWriter{w: bufio.NewWriterSize(w, 256<<10), o: o}
	d.renc = newRowEncoder(d.w)
	if o.Format == "json" {
		key := "findings"
		if o.ValuesOnly {
			key = "values"
		}
		d.w.WriteString("{\n\"" + key + "\": [")
	}
	return d
}

// Warn records a warning about the input, written after the results.
func (d *DetectWriter) Warn(w string) { d.warnings = append(d.warnings, w) }

// Skip records the entry index left out as malformed, with its warning.
func (d *DetectWriter) Skip(index int, warning string) {
	d.skips = append(d.skips, skipped{index, warning})
}

// Skipped is the number of entries left out as malformed.
func (d *DetectWriter) Skipped() int { return len(d.skips) }

// Written is the number of findings (or values lines) written so far.
func (d *DetectWriter) Written() int { return d.n }

// SetMeta sets what the JSON document says about the build and inputs.
func (d *DetectWriter) SetMeta(m *DetectMeta) { d.meta = m }

// SetAnalysisID sets the analysis ID of jsonl's rows and writes the rows
// held until then.
func (d *DetectWriter) SetAnalysisID(id string) error {
	d.o.Rows.AnalysisID = id
	return d.flushHeld()
}

// HoldsRows reports whether jsonl's rows wait for the analysis ID.
func (d *DetectWriter) HoldsRows() bool {
	return d.o.Format == "jsonl" && !d.o.ValuesOnly && d.o.Rows.AnalysisID == ""
}

func (d *DetectWriter) flushHeld() error {
	for i := range d.held {
		d.held[i].AnalysisID = d.o.Rows.AnalysisID
		if err := d.renc.encode(&d.held[i]); err != nil {
			return err
		}
	}
	d.held = nil
	return nil
}

// SetEntries sets the number of entries read, when the results did not
// come one per entry through Add.
func (d *DetectWriter) SetEntries(n int) { d.entries = n }

// Warnings are the skipped entries' warnings, in entry order, then the
// others.
func (d *DetectWriter) Warnings() []string {
	sort.SliceStable(d.skips, func(i, j int) bool { return d.skips[i].index < d.skips[j].index })
	var out []string
	for _, sk := range d.skips {
		out = append(out, sk.text)
	}
	return append(out, d.warnings...)
}

// AddWarnings records an analysis's warnings: those of the entries in
// skipped (left out as malformed, see SkippedWarning) as skips, the
// others as warnings, named by name.
func (d *DetectWriter) AddWarnings(warnings []string, skipped []int, name func(string) string) {
	isSkipped := make(map[int]bool, len(skipped))
	for _, idx := range skipped {
		isSkipped[idx] = true
	}
	for _, w := range warnings {
		var idx int
		if _, err := fmt.Sscanf(w, "entry %d skipped as malformed", &idx); err == nil && isSkipped[idx] {
			d.Skip(idx, w)
			continue
		}
		d.Warn(name(w))
	}
}

// End writes the warnings to stderr, each after "tracewire: warning: ",
// and then the end of the output (see Finish).
func (d *DetectWriter) End(stderr io.Writer, failure string) error {
	for _, w := range d.Warnings() {
		fmt.Fprintln(stderr, "tracewire: warning:", w)
	}
	return d.Finish(failure)
}

// SkippedWarning is the warning for an entry left out unread, the same
// in every command.
func SkippedWarning(index int, why string) string {
	why = strings.TrimSuffix(why, "; skipped")
	return fmt.Sprintf("entry %d skipped as malformed (%s): not analysed", index, why)
}

// Add writes the result of one entry.
func (d *DetectWriter) Add(r *match.Result) error {
	d.entries++
	if r.Skipped {
		d.Skip(r.Entry.Index, SkippedWarning(r.Entry.Index, strings.Join(r.Warnings, "; ")))
		return nil
	}
	if r.Undecoded != nil {
		d.nUndecoded++
		if d.o.Format == "json" {
			d.undecoded = append(d.undecoded, UndecodedRequest{Entry: r.Entry, Undecoded: r.Undecoded})
		}
	}
	if d.o.ValuesOnly && d.o.Format != "table" {
		if len(r.Findings) == 0 {
			return nil
		}
		return d.writeJSON(valuesLine{Entry: r.Entry, Adapter: r.Adapter, Values: r.Values()})
	}
	for i := range r.Findings {
		fd := &r.Findings[i]
		if d.o.Format == "jsonl" {
			row := RowOf(fd, r.Parsed, d.o.Rows)
			d.n++
			if d.o.Rows.AnalysisID == "" {
				d.held = append(d.held, row)
				continue
			}
			if err := d.renc.encode(&row); err != nil {
				return err
			}
			continue
		}
		if d.o.Format == "table" {
			d.rows = append(d.rows, d.row(fd))
			continue
		}
		if err := d.writeJSON(fd); err != nil {
			return err
		}
	}
	return nil
}

// writeJSON writes one finding or values line.
func (d *DetectWriter) writeJSON(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if d.o.Format == "json" {
		if d.n > 0 {
			d.w.WriteByte(',')
		}
		d.w.WriteString("\n")
	}
	d.w.Write(b)
	if d.o.Format == "jsonl" {
		d.w.WriteByte('\n')
	}
	d.n++
	return nil
}

// TableWidth is the width in columns that detect's table fits in unless
// DetectOptions.Wide is set.
const TableWidth = 120

// header is the table's header: request number, host, data, value and
// where it was found; the wide form adds the tracker and what found it.
func (d *DetectWriter) header() []string {
	t := func(k string) string { return i18n.UI(d.o.Lang, "detect.column."+k) }
	if d.o.Wide {
		return []string{"#", t("host"), t("tracker"), t("property"), t("value"), t("where"), t("foundBy")}
	}
	return []string{"#", t("host"), t("property"), t("value"), t("where")}
}

// row is a finding's table row. Requests are numbered from 1, as HAR
// viewers number them (the JSON's entry index counts from 0).
func (d *DetectWriter) row(fd *match.Finding) []string {
	where := i18n.Context(d.o.Lang, fd.Context)
	if fd.Path != "" {
		where += " " + fd.Path
	}
	num := strconv.Itoa(fd.Entry.Index + 1)
	host := HostOf(fd.Entry.URL)
	prop := i18n.Property(d.o.Lang, fd.Property)
	value := cut(fd.Value, d.o.MaxValueLen)
	if !d.o.Wide {
		return []string{num, host, prop, value, where}
	}
	tracker := ""
	if fd.Tracker != nil {
		tracker = fd.Tracker.Slug
	}
	how := fd.Adapter
	if fd.Indicator != nil {
		how = i18n.UI(d.o.Lang, "finding.source.indicator") + ": " + i18n.Encoding(d.o.Lang, fd.Indicator.Encoding)
	}
	return []string{num, host, tracker, prop, value, where, how}
}

// fitTable cuts the cells of the widest columns until the table with its
// borders and padding is at most width columns wide. The request number
// is never cut; the host (column 1) keeps 30 columns, the value column
// (valueCol) 36, room for an advertising ID, the others 16 or their
// header's width.
func fitTable(header []string, rows [][]string, width, valueCol int) {
	n := len(header)
	w := make([]int, n)
	for i, h := range header {
		w[i] = twwidth.Width(h)
	}
	for _, r := range rows {
		for i, c := range r {
			w[i] = max(w[i], twwidth.Width(c))
		}
	}
	low := make([]int, n)
	for i, h := range header {
		low[i] = min(w[i], max(twwidth.Width(h), 16))
	}
	low[0] = w[0]
	low[1] = min(w[1], 30)
	low[valueCol] = min(w[valueCol], 36)
	budget := width - (3*n + 1) // "│ " before each cell, " " after, and the last "│"
	total := 0
	for _, x := range w {
		total += x
	}
	for total > budget {
		widest := -1
		for i := range w {
			if w[i] > low[i] && (widest < 0 || w[i] > w[widest]) {
				widest = i
			}
		}
		if widest < 0 {
			break
		}
		w[widest]--
		total--
	}
	for _, r := range rows {
		for i, c := range r {
			if twwidth.Width(c) > w[i] {
				r[i] = twwidth.Truncate(c, w[i], "…")
			}
		}
	}
}

func cut(s string, n int) string {
	if n <= 0 || utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

// Finish writes the end of the output; failure is the error that stopped
// the run, "" when it completed. The output then says so instead of
// looking complete: json an "error" member, jsonl an {"error": ...} line,
// table no "nothing found".
func (d *DetectWriter) Finish(failure string) error {
	warnings := d.Warnings()
	switch d.o.Format {
	case "json":
		d.w.WriteString("\n],\n\"undecoded\": ")
		if d.undecoded == nil {
			d.undecoded = []UndecodedRequest{}
		}
		ub, err := json.Marshal(d.undecoded)
		if err != nil {
			return err
		}
		d.w.Write(ub)
		d.w.WriteString(",\n\"entries_read\": ")
		d.w.WriteString(strconv.Itoa(d.entries))
		d.w.WriteString(",\n\"warnings\": ")
		if warnings == nil {
			warnings = []string{}
		}
		b, _ := json.Marshal(warnings)
		d.w.Write(b)
		if m := d.meta; m != nil {
			tool, err := json.Marshal(m.Tool)
			if err != nil {
				return err
			}
			inputs, err := json.Marshal(m.Inputs)
			if err != nil {
				return err
			}
			id, _ := json.Marshal(m.ID)
			fmt.Fprintf(d.w, ",\n\"tool\": %s,\n\"id\": %s,\n\"inputs\": %s", tool, id, inputs)
		}
		if len(d.skips) > 0 {
			idx := make([]int, len(d.skips))
			for i, sk := range d.skips {
				idx[i] = sk.index
			}
			b, _ := json.Marshal(idx)
			d.w.WriteString(",\n\"skippedEntries\": ")
			d.w.Write(b)
		}
		if failure != "" {
			b, _ := json.Marshal(failure)
			d.w.WriteString(",\n\"error\": ")
			d.w.Write(b)
		}
		d.w.WriteString("\n}\n")
	case "jsonl":
		// Rows still waiting for an analysis ID that never came (the
		// input could not be read to its end) go out without it.
		if err := d.flushHeld(); err != nil {
			return err
		}
		// After the findings, a line per entry left out and one for the
		// error, so a reader of the lines knows what they do not cover
		// (the other warnings, which name the input as given, go to
		// standard error only).
		for _, sk := range d.skips {
			b, _ := json.Marshal(struct {
				Warning    string `json:"warning"`
				EntryIndex int    `json:"entry_index"`
			}{sk.text, sk.index})
			d.w.Write(b)
			d.w.WriteByte('\n')
		}
		if failure != "" {
			b, _ := json.Marshal(struct {
				Error string `json:"error"`
			}{failure})
			d.w.Write(b)
			d.w.WriteByte('\n')
		}
	case "table":
		if failure != "" && len(d.rows) == 0 {
			break // the error says what happened; nothing was found or not
		}
		if len(d.rows) == 0 {
			fmt.Fprintln(d.w, i18n.UI(d.o.Lang, "detect.noFindings"))
			break
		}
		header := d.header()
		if !d.o.Wide {
			fitTable(header, d.rows, TableWidth, 3)
		}
		t := tablewriter.NewTable(d.w, tablewriter.WithRowAutoWrap(tw.WrapNone), tablewriter.WithHeaderAutoFormat(tw.Off))
		t.Header(header)
		if err := t.Bulk(d.rows); err != nil {
			return err
		}
		if err := t.Render(); err != nil {
			return err
		}
	}
	if d.o.Format == "table" && len(warnings) > 0 {
		// A table with no findings, or fewer, must not read as complete
		// when entries were skipped or flows not decoded.
		if len(warnings) == 1 {
			fmt.Fprintln(d.w, i18n.UI(d.o.Lang, "detect.incompleteOne"))
		} else {
			fmt.Fprintf(d.w, i18n.UI(d.o.Lang, "detect.incomplete")+"\n", len(warnings))
		}
	}
	if d.o.Format == "table" && d.nUndecoded == 1 {
		fmt.Fprintln(d.w, i18n.UI(d.o.Lang, "detect.undecodedOne"))
	} else if d.o.Format == "table" && d.nUndecoded > 1 {
		fmt.Fprintf(d.w, i18n.UI(d.o.Lang, "detect.undecoded")+"\n", d.nUndecoded)
	}
	return d.w.Flush()
}
