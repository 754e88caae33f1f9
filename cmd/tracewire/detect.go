package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tracewire/tracewire"
	"github.com/tracewire/tracewire/adapters"
	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/i18n"
	"github.com/tracewire/tracewire/internal/atomicfile"
	"github.com/tracewire/tracewire/internal/filekind"
	"github.com/tracewire/tracewire/match"
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
	wide        bool
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
like indicators.

--format jsonl writes one flat row per finding, the rows of "tracewire report
--format jsonl" and of batch's findings.jsonl (analysis_id, input_file,
entry_index, host, tracker, property, value, ...); --format json one document
with the findings in full (decoding steps, template paths), the requests to
tracking companies no adapter decoded, the warnings and the inputs' SHA-256.
Both count entries from 0 ("index", entry_index); the table (at most 120
columns, --wide for the tracker and adapter) numbers requests from 1, as HAR
viewers do.`,
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
	fl.BoolVar(&f.wide, "wide", false, "table: add the tracker and what found each value, and do not fit the table into 120 columns")
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
	// that a report made from it can be checked against the input, and
	// the rows of JSON Lines carry the analysis ID made from it. Standard
	// input is hashed as it is read, a file on the side while it is read.
	needMeta := !f.valuesOnly && f.format != "table"
	var dg *digester
	if needMeta && in == "-" {
		dg = newDigester()
		r = io.TeeReader(r, dg)
	}
	br := bufio.NewReaderSize(r, 1<<20)
	head, _ := br.Peek(filekind.HeadSize)
	out := newDetectOutput(e.stdout, rep.RowInfo{InputFile: in, ToolVersion: rep.ThisTool().Version}, f)
	info := filekind.Sniff(head)
	if err := kindError("detect", readsCaptures|readsHAR, in, info); err != nil {
		return out.fail(e, errors.Unwrap(err))
	}
	capture := info.Capture()
	// cut is exit status 1 for a capture not read to its end.
	var cut error
	var meta *metaFuture
	if needMeta && in != "-" {
		meta = f.hashAhead(in, capture)
	}
	add := out.Add
	if meta != nil && f.format == "jsonl" {
		// Rows wait for the analysis ID only until the hash is done.
		add = func(r *match.Result) error {
			if m, ok := meta.poll(); ok && out.HoldsRows() {
				if err := out.SetAnalysisID(m.ID); err != nil {
					return err
				}
			}
			return out.Add(r)
		}
	}
	if capture {
		// The capture goes through the conversion pipeline in memory; the
		// bytes already peeked are still in br.
		inputs, cleanup, err := stdinInputs(&env{stdin: br, stdout: e.stdout, stderr: e.stderr}, []string{in})
		if err != nil {
			return err
		}
		defer cleanup()
		src := tracewire.NewCaptureEntries(ctx, inputs, f.capture.options(e))
		err = m.Stream(ctx, src.All(), f.workers, add)
		for _, w := range src.Warnings() {
			// Standard input's spool file is named "-", as the user gave it.
			out.Warn(strings.ReplaceAll(w, inputs[0], in))
		}
		if err == nil {
			err = tracewire.CaptureReadError(src.Summary())
		}
		cut = truncated(src.Summary())
		if err != nil {
			if in == "-" {
				err = errors.New(strings.ReplaceAll(err.Error(), inputs[0], "-"))
			}
			return out.fail(e, err)
		}
	} else {
		hr := har.NewReader(br)
		err := m.StreamHAR(ctx, hr, f.workers, add)
		for _, w := range hr.Warnings() {
			if w.Skipped {
				out.Skip(w.Entry, tracewire.SkippedWarning(w.Entry, w.Msg))
				continue
			}
			out.Warn(w.String())
		}
		if err != nil {
			var se *har.SyntaxError
			if errors.As(err, &se) {
				err = fmt.Errorf("%s: %w", in, err)
				if out.Written() > 0 {
					err = fmt.Errorf("%w (the findings before this point were written)", err)
				}
			}
			return out.fail(e, err)
		}
	}
	if needMeta {
		var m *rep.DetectMeta
		var err error
		if meta != nil {
			m, err = meta.wait()
		} else {
			m, err = f.stdinMeta(capture, br, dg)
		}
		if err != nil {
			return err
		}
		out.SetMeta(m)
		if err := out.SetAnalysisID(m.ID); err != nil {
			return err
		}
	}
	if err := out.done(e); err != nil {
		return err
	}
	return cut
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

// metaFuture is the description of detect's inputs, hashed on the side.
type metaFuture struct {
	ch   chan struct{}
	meta *rep.DetectMeta
	err  error
}

// hashAhead starts hashing the input file in (a capture or HAR) and the
// key logs, RSA keys and indicator file.
func (f *detectFlags) hashAhead(in string, capture bool) *metaFuture {
	mf := &metaFuture{ch: make(chan struct{})}
	go func() {
		defer close(mf.ch)
		role := rep.RoleHAR
		if capture {
			role = rep.RoleCapture
		}
		main, err := tracewire.HashFile(role, in)
		if err != nil {
			mf.err = err
			return
		}
		mf.meta, mf.err = f.meta(main)
	}()
	return mf
}

// poll returns the description when it is ready.
func (mf *metaFuture) poll() (*rep.DetectMeta, bool) {
	select {
	case <-mf.ch:
		return mf.meta, mf.err == nil
	default:
		return nil, false
	}
}

func (mf *metaFuture) wait() (*rep.DetectMeta, error) {
	<-mf.ch
	return mf.meta, mf.err
}

// stdinMeta describes standard input, read through dg (drained to its
// end), and the other inputs.
func (f *detectFlags) stdinMeta(capture bool, rest io.Reader, dg *digester) (*rep.DetectMeta, error) {
	role := rep.RoleHAR
	if capture {
		role = rep.RoleCapture
	}
	if _, err := io.Copy(io.Discard, rest); err != nil {
		return nil, fmt.Errorf("-: %w", err)
	}
	return f.meta(rep.InputFile{Role: role, Path: "-", Name: "stdin", Size: dg.n, SHA256: hex.EncodeToString(dg.h.Sum(nil))})
}

// meta describes detect's inputs: main, then the key logs, RSA keys and
// indicator file, in the order an analysis lists them.
func (f *detectFlags) meta(main rep.InputFile) (*rep.DetectMeta, error) {
	m := &rep.DetectMeta{Tool: rep.ThisTool(), Inputs: []rep.InputFile{main}}
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

// detectOutput is the library's writer of detect's formats, ended as the
// command ends.
type detectOutput struct{ *rep.DetectWriter }

func newDetectOutput(w io.Writer, rows rep.RowInfo, f *detectFlags) detectOutput {
	return detectOutput{rep.NewDetectWriter(w, rep.DetectOptions{
		Format: f.format, ValuesOnly: f.valuesOnly, Lang: f.lang, MaxValueLen: f.maxValueLen, Wide: f.wide,
		Rows: rows,
	})}
}

// done ends a complete run: warnings to stderr, the output's end, and
// exit status 1 when entries were skipped.
func (o detectOutput) done(e *env) error {
	for _, w := range o.Warnings() {
		fmt.Fprintln(e.stderr, "tracewire: warning:", w)
	}
	if err := o.Finish(""); err != nil {
		return err
	}
	if o.Skipped() > 0 {
		return &exitError{code: exitIncomplete}
	}
	return nil
}

// fail ends a run stopped by err (an input that cannot be read, or not to
// its end): the output says so instead of looking complete, and the exit
// status is 2.
func (o detectOutput) fail(e *env, err error) error {
	for _, w := range o.Warnings() {
		fmt.Fprintln(e.stderr, "tracewire: warning:", w)
	}
	if ferr := o.Finish(err.Error()); ferr != nil {
		return ferr
	}
	return &exitError{code: exitFailed, err: err}
}
