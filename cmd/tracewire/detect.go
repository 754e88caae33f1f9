package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/spf13/cobra"

	"github.com/tracewire/tracewire"
	"github.com/tracewire/tracewire/adapters"
	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/i18n"
	"github.com/tracewire/tracewire/internal/atomicfile"
	"github.com/tracewire/tracewire/match"
	"github.com/tracewire/tracewire/pcap"
	rep "github.com/tracewire/tracewire/report"
)

func init() { subcommands = append(subcommands, newDetectCmd) }

type detectFlags struct {
	capture     captureFlags
	enrich      enrichFlags
	indicators  []string
	indFile     string
	everywhere  bool
	format      string
	adapterDir  string
	workers     int
	lang        string
	valuesOnly  bool
	maxValueLen int
	out         string
}

func newDetectCmd(e *env) *cobra.Command {
	var f detectFlags
	cmd := &cobra.Command{
		Use:   "detect IN.har|IN.pcap|IN.pcapng|DIR|-",
		Short: "Report which personal data each request sent to which tracker",
		Long: `Detect reads a HAR file (streamed; "-" is standard input) or a capture (pcap or
pcapng, converted in memory, TLS decrypted with --keylog) and reports, for each
request, the personal data it transmitted to a tracking company: which property
(advertisingId, osVersion, ...), the value, where in the request and decoded how,
and why. The tracker adapters come from the embedded database (see
"tracewire adapters list") or from --adapters DIR.

Indicators are values known to belong to the test device or user
(--indicator advertisingId=..., --indicators F.json with {"email": "..."}); they
are searched in plain, URL-encoded, base64, hex, JSON-escaped and MD5/SHA-1/SHA-256
hashed form in entries no adapter handled, or in all with --indicators-everywhere.

With the enrichment options (--socket-trace, --ebpf, --aes-info, --provenance,
--experiment, or a PiRogue experiment folder as input) the whole pipeline runs:
stack traces and data owners are attached, bodies the app encrypted itself are
decrypted before detection, and the owner IDs of a provenance log are searched
like indicators.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDetect(cmd.Context(), e, args[0], &f)
		},
	}
	fl := cmd.Flags()
	f.capture.register(cmd)
	f.enrich.register(cmd)
	fl.StringArrayVar(&f.indicators, "indicator", nil, "known value as property=value (e.g. advertisingId=...); repeatable")
	fl.StringVar(&f.indFile, "indicators", "", "JSON file of indicators: {\"property\": \"value\" or [values]} or [{\"property\":…, \"value\":…}]")
	fl.BoolVar(&f.everywhere, "indicators-everywhere", false, "search indicators in every entry, also those an adapter handled")
	fl.StringVar(&f.format, "format", "table", "output format: json, jsonl or table")
	fl.StringVar(&f.adapterDir, "adapters", "", "directory of adapter files to use instead of the embedded database")
	fl.IntVar(&f.workers, "workers", 0, "parallel workers (default: number of CPUs)")
	fl.StringVar(&f.lang, "lang", "en", "language of table labels: en or de")
	fl.BoolVar(&f.valuesOnly, "values-only", false, "json/jsonl: per entry only {property: [values]}")
	fl.IntVar(&f.maxValueLen, "max-value", 80, "table: cut values longer than this (0: never)")
	fl.StringVarP(&f.out, "output", "o", "", "write to this file instead of standard output")
	return cmd
}

func runDetect(ctx context.Context, e *env, in string, f *detectFlags) error {
	switch f.format {
	case "json", "jsonl", "table":
	default:
		return usageErrorf("--format %q: want json, jsonl or table", f.format)
	}
	if err := checkLang(f.lang); err != nil {
		return err
	}
	an := analysisFlags{capture: f.capture, enrich: f.enrich, indFile: f.indFile}
	if err := checkOutput(f.out, append([]string{in}, an.paths()...)...); err != nil {
		return err
	}
	if f.out == "" || f.out == "-" {
		return detectTo(ctx, e, in, f)
	}
	af, err := atomicfile.Create(f.out, 0o644)
	if err != nil {
		return err
	}
	defer af.Abort()
	err = detectTo(ctx, &env{stdin: e.stdin, stdout: af, stderr: e.stderr}, in, f)
	if exitStatus(err) == exitFailed {
		return err // no output file for an input that could not be read
	}
	if cerr := af.Commit(); cerr != nil {
		return cerr
	}
	return err
}

// detectTo runs detect with its output to e.stdout.
func detectTo(ctx context.Context, e *env, in string, f *detectFlags) error {
	if f.enriched(in) {
		return runDetectEnriched(ctx, e, in, f)
	}
	if os.Getenv("GOGC") == "" {
		// Detection makes much short-lived garbage around a small live
		// heap (the read buffers and the entries in flight): a higher
		// target cuts the collector's work by about a tenth for some
		// 20 MB more, still independent of the number of entries.
		defer debug.SetGCPercent(debug.SetGCPercent(200))
	}
	opts := match.Options{IndicatorsEverywhere: f.everywhere}
	if f.adapterDir != "" {
		db, err := adapters.LoadDir(f.adapterDir)
		if err != nil {
			return err
		}
		opts.DB = db
	}
	for _, s := range f.indicators {
		ind, err := match.ParseIndicator(s)
		if err != nil {
			return err
		}
		opts.Indicators = append(opts.Indicators, ind)
	}
	if f.indFile != "" {
		fh, err := os.Open(f.indFile)
		if err != nil {
			return err
		}
		inds, err := match.ReadIndicators(fh)
		fh.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", f.indFile, err)
		}
		opts.Indicators = append(opts.Indicators, inds...)
	}
	m, err := match.New(opts)
	if err != nil {
		return err
	}

	var r io.Reader
	if in == "-" {
		r = e.stdin
	} else {
		fh, err := os.Open(in)
		if err != nil {
			return err
		}
		defer fh.Close()
		r = fh
	}
	// A findings file names the input it was made from (its SHA-256), so
	// that a report made from it can be checked against the input.
	var dg *digester
	if f.format == "json" && !f.valuesOnly {
		dg = newDigester()
		r = io.TeeReader(r, dg)
	}
	br := bufio.NewReaderSize(r, 1<<20)
	head, _ := br.Peek(16)
	out := newDetectOutput(e.stdout, f)
	if len(head) == 0 {
		return out.fail(e, fmt.Errorf("%s: empty file, nothing to analyse", in))
	}
	capture := isCapture(head)
	if capture {
		// The capture goes through the conversion pipeline in memory; the
		// bytes already peeked are still in br.
		inputs, cleanup, err := stdinInputs(&env{stdin: br, stdout: e.stdout, stderr: e.stderr}, []string{in})
		if err != nil {
			return err
		}
		defer cleanup()
		src := newCaptureSource(ctx, inputs, f.capture.options(e))
		err = m.Stream(ctx, src, f.workers, out.add)
		src.stop()
		for _, w := range src.warnings() {
			// Standard input's spool file is named "-", as the user gave it.
			out.warnings = append(out.warnings, strings.ReplaceAll(w, inputs[0], in))
		}
		if err == nil {
			err = tracewire.CaptureReadError(src.sum)
		}
		if err != nil {
			if in == "-" {
				err = errors.New(strings.ReplaceAll(err.Error(), inputs[0], "-"))
			}
			return out.fail(e, err)
		}
	} else {
		hr := har.NewReader(br)
		// Detection looks at requests only: skip responses unparsed.
		hr.RequestOnly = true
		err := m.Stream(ctx, hr, f.workers, out.add)
		for _, w := range hr.Warnings() {
			if w.Skipped {
				out.skip(w.Entry, w.Msg)
				continue
			}
			out.warnings = append(out.warnings, w.String())
		}
		if err != nil {
			var se *har.SyntaxError
			if errors.As(err, &se) {
				err = fmt.Errorf("%s: %w", in, err)
				if out.n > 0 {
					err = fmt.Errorf("%w (the findings before this point were written)", err)
				}
			}
			return out.fail(e, err)
		}
	}
	if dg != nil {
		var err error
		if out.meta, err = f.meta(in, capture, br, dg); err != nil {
			return err
		}
	}
	return out.done(e)
}

// usageErrorf is a usage error: exit status 2.
func usageErrorf(format string, args ...any) error {
	return &exitError{code: exitFailed, err: fmt.Errorf(format, args...)}
}

// checkLang refuses a language the reports and labels do not have.
func checkLang(lang string) error {
	if !slices.Contains(i18n.Languages, lang) {
		return usageErrorf("--lang %q: not a supported language; want one of %s", lang, strings.Join(i18n.Languages, ", "))
	}
	return nil
}

// digester hashes and counts what is written to it.
type digester struct {
	h hash.Hash
	n int64
}

func newDigester() *digester { return &digester{h: sha256.New()} }

func (d *digester) Write(p []byte) (int, error) {
	d.n += int64(len(p))
	return d.h.Write(p)
}

// analysisMeta is what detect's JSON says about the analysis besides the
// findings: the build that made it and the inputs, with the same ID and
// digests that "tracewire report" and batch's findings.json give them.
type analysisMeta struct {
	Tool   rep.Tool        `json:"tool"`
	ID     string          `json:"id"`
	Inputs []rep.InputFile `json:"inputs"`
}

// meta describes detect's inputs: the input read through dg (drained to
// its end), or hashed again for a capture file, which pcap reads itself;
// then the key logs, RSA keys and indicator file, in the order an
// analysis lists them.
func (f *detectFlags) meta(in string, capture bool, rest io.Reader, dg *digester) (*analysisMeta, error) {
	role := rep.RoleHAR
	if capture {
		role = rep.RoleCapture
	}
	var main rep.InputFile
	if capture && in != "-" {
		var err error
		if main, err = tracewire.HashFile(role, in); err != nil {
			return nil, err
		}
	} else {
		if _, err := io.Copy(io.Discard, rest); err != nil {
			return nil, fmt.Errorf("%s: %w", in, err)
		}
		main = rep.InputFile{Role: role, Path: in, Name: filepath.Base(in), Size: dg.n, SHA256: hex.EncodeToString(dg.h.Sum(nil))}
		if in == "-" {
			main.Name = "stdin"
		}
	}
	m := &analysisMeta{Tool: rep.ThisTool(), Inputs: []rep.InputFile{main}}
	more := [][2]string{}
	for _, k := range f.capture.keylogs {
		more = append(more, [2]string{rep.RoleKeyLog, k})
	}
	for _, k := range f.capture.rsaKeys {
		more = append(more, [2]string{rep.RoleRSAKey, k})
	}
	if f.indFile != "" {
		more = append(more, [2]string{rep.RoleIndicators, f.indFile})
	}
	for _, x := range more {
		in, err := tracewire.HashFile(x[0], x[1])
		if err != nil {
			return nil, err
		}
		m.Inputs = append(m.Inputs, in)
	}
	m.ID = tracewire.AnalysisID(m.Inputs)
	return m, nil
}

// isCapture tells pcap, pcapng and gzip (a gzipped capture) from JSON.
func isCapture(head []byte) bool {
	if len(head) < 4 {
		return false
	}
	switch {
	case bytes.HasPrefix(head, []byte{0x0a, 0x0d, 0x0d, 0x0a}), // pcapng
		bytes.HasPrefix(head, []byte{0xd4, 0xc3, 0xb2, 0xa1}), bytes.HasPrefix(head, []byte{0xa1, 0xb2, 0xc3, 0xd4}),
		bytes.HasPrefix(head, []byte{0x4d, 0x3c, 0xb2, 0xa1}), bytes.HasPrefix(head, []byte{0xa1, 0xb2, 0x3c, 0x4d}),
		bytes.HasPrefix(head, []byte{0x1f, 0x8b}), bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return true
	}
	return false
}

// detectOutput writes results as they come.
type detectOutput struct {
	// warnings are what the inputs' readers worked around; skips the
	// entries left out as malformed.
	warnings []string
	skips    []skipped
	enc      findingEncoder
	buf      []byte
	w        *bufio.Writer
	raw      io.Writer
	f        *detectFlags
	n        int
	entries  int
	rows     [][]string
	// meta, when set, is written into the JSON document after warnings.
	meta *analysisMeta
	// undecoded lists the requests to tracking companies no adapter
	// decoded (json format), in entry order.
	undecoded  []undecodedEntry
	nUndecoded int
}

// undecodedEntry is a request to a tracking company that no adapter
// decoded, as detect's JSON lists it (never as findings).
type undecodedEntry struct {
	Entry match.EntryRef `json:"entry"`
	*match.Undecoded
}

func newDetectOutput(w io.Writer, f *detectFlags) *detectOutput {
	o := &detectOutput{w: bufio.NewWriterSize(w, 256<<10), raw: w, f: f}
	if f.format == "json" {
		key := "findings"
		if f.valuesOnly {
			key = "values"
		}
		o.w.WriteString("{\n\"" + key + "\": [")
	}
	return o
}

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

// skip records an entry left out as malformed.
func (o *detectOutput) skip(index int, why string) {
	o.skips = append(o.skips, skipped{index, tracewire.SkippedWarning(index, why)})
}

// allWarnings are the skipped entries' warnings, in entry order, then the
// others.
func (o *detectOutput) allWarnings() []string {
	sort.SliceStable(o.skips, func(i, j int) bool { return o.skips[i].index < o.skips[j].index })
	var out []string
	for _, sk := range o.skips {
		out = append(out, sk.text)
	}
	return append(out, o.warnings...)
}

// done ends a complete run: warnings to stderr, the output's end, and
// exit status 1 when entries were skipped.
func (o *detectOutput) done(e *env) error {
	for _, w := range o.allWarnings() {
		fmt.Fprintln(e.stderr, "tracewire: warning:", w)
	}
	if err := o.finish(""); err != nil {
		return err
	}
	if len(o.skips) > 0 {
		return &exitError{code: exitIncomplete}
	}
	return nil
}

// fail ends a run stopped by err (an input that cannot be read, or not to
// its end): the output says so instead of looking complete (json: an
// "error" member, jsonl: an {"error": ...} line, table: no "nothing
// found"), and the exit status is 2.
func (o *detectOutput) fail(e *env, err error) error {
	for _, w := range o.allWarnings() {
		fmt.Fprintln(e.stderr, "tracewire: warning:", w)
	}
	if ferr := o.finish(err.Error()); ferr != nil {
		return ferr
	}
	return &exitError{code: exitFailed, err: err}
}

func (o *detectOutput) add(r *match.Result) error {
	if r.Skipped {
		o.skip(r.Entry.Index, strings.Join(r.Warnings, "; "))
		o.entries++
		return nil
	}
	o.entries++
	if r.Undecoded != nil {
		o.nUndecoded++
		if o.f.format == "json" {
			o.undecoded = append(o.undecoded, undecodedEntry{Entry: r.Entry, Undecoded: r.Undecoded})
		}
	}
	if o.f.valuesOnly && o.f.format != "table" {
		if len(r.Findings) == 0 {
			return nil
		}
		v := valuesLine{Entry: r.Entry, Adapter: r.Adapter, Values: r.Values()}
		b, ok := appendValuesJSON(o.buf[:0], &v)
		return o.writeJSON(b, ok, v)
	}
	for i := range r.Findings {
		fd := &r.Findings[i]
		if o.f.format == "table" {
			o.rows = append(o.rows, o.row(fd))
			continue
		}
		b, ok := o.enc.append(o.buf[:0], fd)
		if err := o.writeJSON(b, ok, fd); err != nil {
			return err
		}
	}
	return nil
}

// writeJSON writes one finding or values line, b as encoded by the
// appendJSON functions when ok, else v through json.Marshal (which then
// reports what it cannot encode).
func (o *detectOutput) writeJSON(b []byte, ok bool, v any) error {
	if ok {
		o.buf = b
	} else {
		var err error
		if b, err = json.Marshal(v); err != nil {
			return err
		}
	}
	if o.f.format == "json" {
		if o.n > 0 {
			o.w.WriteByte(',')
		}
		o.w.WriteString("\n")
	}
	o.w.Write(b)
	if o.f.format == "jsonl" {
		o.w.WriteByte('\n')
	}
	o.n++
	return nil
}

func (o *detectOutput) row(fd *match.Finding) []string {
	tracker := ""
	if fd.Tracker != nil {
		tracker = fd.Tracker.Slug
	}
	how := fd.Adapter
	if fd.Indicator != nil {
		how = "indicator: " + i18n.Encoding(o.f.lang, fd.Indicator.Encoding)
	}
	where := i18n.Context(o.f.lang, fd.Context)
	if fd.Path != "" {
		where += " " + fd.Path
	}
	return []string{
		strconv.Itoa(fd.Entry.Index),
		tracker,
		i18n.Property(o.f.lang, fd.Property),
		cut(fd.Value, o.f.maxValueLen),
		where,
		how,
	}
}

func cut(s string, n int) string {
	if n <= 0 || utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

// finish writes the end of the output; failure is the error that stopped
// the run, "" when it completed.
func (o *detectOutput) finish(failure string) error {
	warnings := o.allWarnings()
	switch o.f.format {
	case "json":
		o.w.WriteString("\n],\n\"undecoded\": ")
		if o.undecoded == nil {
			o.undecoded = []undecodedEntry{}
		}
		ub, err := json.Marshal(o.undecoded)
		if err != nil {
			return err
		}
		o.w.Write(ub)
		o.w.WriteString(",\n\"entries_read\": ")
		o.w.WriteString(strconv.Itoa(o.entries))
		o.w.WriteString(",\n\"warnings\": ")
		if warnings == nil {
			warnings = []string{}
		}
		b, _ := json.Marshal(warnings)
		o.w.Write(b)
		if m := o.meta; m != nil {
			tool, err := json.Marshal(m.Tool)
			if err != nil {
				return err
			}
			inputs, err := json.Marshal(m.Inputs)
			if err != nil {
				return err
			}
			id, _ := json.Marshal(m.ID)
			fmt.Fprintf(o.w, ",\n\"tool\": %s,\n\"id\": %s,\n\"inputs\": %s", tool, id, inputs)
		}
		if len(o.skips) > 0 {
			idx := make([]int, len(o.skips))
			for i, sk := range o.skips {
				idx[i] = sk.index
			}
			b, _ := json.Marshal(idx)
			o.w.WriteString(",\n\"skippedEntries\": ")
			o.w.Write(b)
		}
		if failure != "" {
			b, _ := json.Marshal(failure)
			o.w.WriteString(",\n\"error\": ")
			o.w.Write(b)
		}
		o.w.WriteString("\n}\n")
	case "jsonl":
		// After the findings, a line per entry left out and one for the
		// error, so a reader of the lines knows what they do not cover
		// (the other warnings, which name the input as given, go to
		// standard error only).
		for _, sk := range o.skips {
			b, _ := json.Marshal(struct {
				Warning    string `json:"warning"`
				EntryIndex int    `json:"entry_index"`
			}{sk.text, sk.index})
			o.w.Write(b)
			o.w.WriteByte('\n')
		}
		if failure != "" {
			b, _ := json.Marshal(struct {
				Error string `json:"error"`
			}{failure})
			o.w.Write(b)
			o.w.WriteByte('\n')
		}
	case "table":
		if failure != "" && len(o.rows) == 0 {
			break // the error says what happened; nothing was found or not
		}
		if len(o.rows) == 0 {
			fmt.Fprintln(o.w, i18n.UI(o.f.lang, "detect.noFindings"))
			break
		}
		t := tablewriter.NewTable(o.w, tablewriter.WithRowAutoWrap(tw.WrapNone), tablewriter.WithHeaderAutoFormat(tw.Off))
		t.Header([]string{"#", "tracker", "property", "value", "where", "found by"})
		if err := t.Bulk(o.rows); err != nil {
			return err
		}
		if err := t.Render(); err != nil {
			return err
		}
	}
	if o.f.format == "table" && o.nUndecoded > 0 {
		fmt.Fprintf(o.w, i18n.UI(o.f.lang, "detect.undecoded")+"\n", o.nUndecoded)
	}
	return o.w.Flush()
}

// The appendJSON functions write findings exactly as json.Marshal does,
// without its reflection, which took most of the output's time on large
// HARs (TestFindingJSON compares the two, and fails when the types gain a
// field these functions do not know). ok is false for what json.Marshal
// refuses (a NaN or infinite number): the caller then lets it say so.

func appendFindingJSON(b []byte, f *match.Finding) ([]byte, bool) {
	e := findingEncoder{noCache: true}
	return e.append(b, f)
}

func appendIndicatorJSON(b []byte, in *match.IndicatorMatch) []byte {
	b = append(b, `,"indicator":{"value":`...)
	b = appendJSONString(b, in.Value)
	b = append(b, `,"encoding":`...)
	b = appendJSONString(b, in.Encoding)
	if in.Of != "" {
		b = append(b, `,"of":`...)
		b = appendJSONString(b, in.Of)
	}
	if in.Field != "" {
		b = append(b, `,"field":`...)
		b = appendJSONString(b, in.Field)
	}
	b = append(b, `,"offset":`...)
	b = strconv.AppendInt(b, int64(in.Offset), 10)
	return append(b, '}')
}

// findingEncoder writes findings as json.Marshal does, reusing the
// encoding of what repeats: the entry reference, the same for all the
// findings of an entry, and the longer texts and the decoding steps, which
// come from the adapter database. Its caches are bounded; with noCache
// (appendFindingJSON, the reference the caches are tested against) it
// encodes everything afresh.
type findingEncoder struct {
	noCache  bool
	ref      match.EntryRef
	refJSON  []byte
	refOK    bool
	haveRef  bool
	strs     map[string][]byte
	steps    map[adapters.StepRecord][]byte
	maxCache int // entries per cache before it starts afresh; 0: 4096
}

func (e *findingEncoder) append(b []byte, f *match.Finding) ([]byte, bool) {
	if e.noCache || !e.haveRef || f.Entry != e.ref {
		e.ref, e.haveRef = f.Entry, true
		e.refJSON, e.refOK = appendEntryRefJSON(e.refJSON[:0], &f.Entry)
	}
	ok := e.refOK
	b = append(b, `{"entry":`...)
	b = append(b, e.refJSON...)
	if f.Tracker != nil {
		b = append(b, `,"tracker":{"slug":`...)
		b = appendJSONString(b, f.Tracker.Slug)
		b = append(b, `,"name":`...)
		b = e.str(b, f.Tracker.Name)
		b = append(b, '}')
	}
	if f.Adapter != "" {
		b = append(b, `,"adapter":`...)
		b = appendJSONString(b, f.Adapter)
	}
	b = append(b, `,"source":`...)
	b = appendJSONString(b, f.Source)
	b = append(b, `,"property":`...)
	b = appendJSONString(b, f.Property)
	b = append(b, `,"value":`...)
	b = appendJSONString(b, f.Value)
	if f.ValueEncoding != "" {
		b = append(b, `,"valueEncoding":`...)
		b = appendJSONString(b, f.ValueEncoding)
	}
	b = append(b, `,"context":`...)
	b = appendJSONString(b, f.Context)
	b = append(b, `,"path":`...)
	b = appendJSONString(b, f.Path)
	if f.TemplatePath != "" {
		b = append(b, `,"templatePath":`...)
		b = e.str(b, f.TemplatePath)
	}
	b = append(b, `,"reasoning":`...)
	b = e.str(b, f.Reasoning)
	if len(f.Decoding) > 0 {
		b = append(b, `,"decoding":[`...)
		for i := range f.Decoding {
			if i > 0 {
				b = append(b, ',')
			}
			b = e.step(b, &f.Decoding[i])
		}
		b = append(b, ']')
	}
	if f.Indicator != nil {
		b = appendIndicatorJSON(b, f.Indicator)
	}
	return append(b, '}'), ok
}

// str appends s quoted, from the cache when it is long enough for a
// lookup to cost less than quoting it.
func (e *findingEncoder) str(b []byte, s string) []byte {
	if e.noCache || len(s) < 24 {
		return appendJSONString(b, s)
	}
	q, ok := e.strs[s]
	if !ok {
		if e.strs == nil || len(e.strs) >= e.limit() {
			e.strs = map[string][]byte{}
		}
		q = appendJSONString(nil, s)
		e.strs[s] = q
	}
	return append(b, q...)
}

func (e *findingEncoder) step(b []byte, s *adapters.StepRecord) []byte {
	if e.noCache {
		return appendStepJSON(b, s)
	}
	q, ok := e.steps[*s]
	if !ok {
		if e.steps == nil || len(e.steps) >= e.limit() {
			e.steps = map[adapters.StepRecord][]byte{}
		}
		q = appendStepJSON(nil, s)
		e.steps[*s] = q
	}
	return append(b, q...)
}

func (e *findingEncoder) limit() int {
	if e.maxCache > 0 {
		return e.maxCache
	}
	return 4096
}

func appendEntryRefJSON(b []byte, e *match.EntryRef) ([]byte, bool) {
	b = append(b, `{"index":`...)
	b = strconv.AppendInt(b, int64(e.Index), 10)
	ok := true
	if e.Timestamp != 0 {
		b = append(b, `,"timestamp":`...)
		b, ok = appendJSONFloat(b, e.Timestamp)
	}
	if e.StartedDateTime != "" {
		b = append(b, `,"startedDateTime":`...)
		b = appendJSONString(b, e.StartedDateTime)
	}
	b = append(b, `,"method":`...)
	b = appendJSONString(b, e.Method)
	b = append(b, `,"url":`...)
	b = appendJSONString(b, e.URL)
	return append(b, '}'), ok
}

func appendStepJSON(b []byte, s *adapters.StepRecord) []byte {
	b = append(b, `{"index":`...)
	b = strconv.AppendInt(b, int64(s.Index), 10)
	b = append(b, `,"function":`...)
	b = appendJSONString(b, s.Function)
	b = append(b, `,"input":`...)
	b = appendJSONString(b, s.Input)
	b = append(b, `,"output":`...)
	b = appendJSONString(b, s.Output)
	if s.Options != "" {
		b = append(b, `,"options":`...)
		b = appendJSONString(b, s.Options)
	}
	b = append(b, `,"status":`...)
	b = appendJSONString(b, s.Status)
	if s.Error != "" {
		b = append(b, `,"error":`...)
		b = appendJSONString(b, s.Error)
	}
	return append(b, '}')
}

func appendValuesJSON(b []byte, v *valuesLine) ([]byte, bool) {
	b = append(b, `{"entry":`...)
	b, ok := appendEntryRefJSON(b, &v.Entry)
	if v.Adapter != "" {
		b = append(b, `,"adapter":`...)
		b = appendJSONString(b, v.Adapter)
	}
	b = append(b, `,"values":`...)
	if v.Values == nil {
		b = append(b, "null"...)
	} else {
		keys := make([]string, 0, len(v.Values))
		for k := range v.Values {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			if vs := v.Values[k]; vs == nil {
				b = append(b, "null"...)
			} else {
				b = append(b, '[')
				for j, s := range vs {
					if j > 0 {
						b = append(b, ',')
					}
					b = appendJSONString(b, s)
				}
				b = append(b, ']')
			}
		}
		b = append(b, '}')
	}
	return append(b, '}'), ok
}

// appendJSONFloat formats f as encoding/json does (ES6 number formatting).
func appendJSONFloat(b []byte, f float64) ([]byte, bool) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return b, false
	}
	abs := math.Abs(f)
	fmt := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		fmt = 'e'
	}
	b = strconv.AppendFloat(b, f, fmt, -1, 64)
	if fmt == 'e' {
		// e-09 becomes e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, true
}

// appendJSONString quotes s as encoding/json does: HTML characters and
// U+2028/U+2029 escaped, invalid UTF-8 as U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		// Eight plain bytes at a time (most of a finding's text).
		for i+8 <= len(s) && plain8(load64(s, i)) {
			i += 8
		}
		if i == len(s) {
			break
		}
		c := s[i]
		if jsonPlain[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// load64 is the little-endian uint64 at s[i:] (one load once compiled).
func load64(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// plain8 reports whether the eight bytes of x are all ones jsonPlain
// marks: none at or above 0x80 or below 0x20, no '"', '&', '\\', '<', '>'.
func plain8(x uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	// With no byte at or above 0x80 (the first term), each haszero term
	// below is exact: '"' and '&' differ in bit 2 only, '<' and '>' in
	// bit 1 only.
	y := x | 0x0404040404040404 ^ 0x2626262626262626
	z := x | 0x0202020202020202 ^ 0x3e3e3e3e3e3e3e3e
	w := x ^ 0x5c5c5c5c5c5c5c5c
	return (x|(x-ones*0x20)|(y-ones)&^y|(z-ones)&^z|(w-ones)&^w)&highs == 0
}

// jsonPlain marks the bytes appendJSONString copies as they are: ASCII
// but control characters, quote, backslash and the HTML ones.
var jsonPlain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = true
	}
	for _, c := range "\"\\<>&" {
		t[c] = false
	}
	return t
}()

// captureSource is an EntrySource over the entries pcap.Convert emits,
// which it runs on its own goroutine.
type captureSource struct {
	entries chan *har.Entry
	done    chan struct{}
	cancel  context.CancelFunc
	sum     *pcap.Summary
	err     error
}

func newCaptureSource(ctx context.Context, inputs []string, opts pcap.Options) *captureSource {
	ctx, cancel := context.WithCancel(ctx)
	s := &captureSource{entries: make(chan *har.Entry, 64), done: make(chan struct{}), cancel: cancel}
	go func() {
		defer close(s.done)
		defer close(s.entries)
		s.sum, s.err = pcap.Convert(ctx, inputs, opts, func(e *har.Entry) error {
			select {
			case s.entries <- e:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	return s
}

// Next implements match.EntrySource.
func (s *captureSource) Next() (*har.Entry, error) {
	if e, ok := <-s.entries; ok {
		return e, nil
	}
	<-s.done
	if s.err != nil {
		return nil, s.err
	}
	return nil, io.EOF
}

// stop ends the conversion (when matching stopped early) and waits for it.
func (s *captureSource) stop() {
	s.cancel()
	for range s.entries {
	}
	<-s.done
}

func (s *captureSource) warnings() []string {
	if s.sum == nil {
		return nil
	}
	var out []string
	for _, w := range s.sum.Warnings {
		out = append(out, w.String())
	}
	if n := len(s.sum.TLSErrors); n > 0 {
		out = append(out, fmt.Sprintf("%d TLS connection(s) could not be decrypted (give their keys with --keylog; see \"tracewire flows\")", n))
	}
	return out
}
