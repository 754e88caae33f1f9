package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tracewire/tracewire"
	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/i18n"
	"github.com/tracewire/tracewire/internal/atomicfile"
	"github.com/tracewire/tracewire/internal/filekind"
	"github.com/tracewire/tracewire/match"
	rep "github.com/tracewire/tracewire/report"
)

func init() { subcommands = append(subcommands, newDetectCmd) }

type detectFlags struct {
	s           tracewire.Settings
	format      string
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
	registerAnalysis(cmd, &f.s, true, false)
	fl.StringVar(&f.format, "format", "table", "output format: json, jsonl or table")
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
	if err := checkOutput(f.out, append([]string{in}, f.s.Paths()...)...); err != nil {
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

// detectTo runs detect with its output to e.stdout: tracewire.Detect
// streams the results into detect's writer.
func detectTo(ctx context.Context, e *env, in string, f *detectFlags) error {
	if os.Getenv("GOGC") == "" {
		// Detection makes much short-lived garbage around a small live
		// heap (the read buffers and the entries in flight): a higher
		// target cuts the collector's work by about a tenth for some
		// 20 MB more, still independent of the number of entries.
		defer debug.SetGCPercent(debug.SetGCPercent(200))
	}
	input, err := f.s.Input([]string{in})
	if err != nil {
		return err
	}
	opts, err := options(e, &f.s)
	if err != nil {
		return err
	}
	opts.Workers = f.workers
	rows := rep.RowInfo{InputFile: in, ToolVersion: rep.ThisTool().Version}
	// With trace files (or an experiment folder) the enrichment runs too,
	// and says what it paired; the table then lists the senders.
	enriched := f.enriched(in)
	stdin := e.stdin
	if !enriched {
		var info filekind.Info
		if in == "-" {
			info, stdin = filekind.SniffReader(e.stdin)
		} else if info, err = filekind.SniffFile(in); err != nil {
			return err
		}
		if err := kindError("detect", readsCaptures|readsHAR, in, info); err != nil {
			return newDetectOutput(e.stdout, rows, f).fail(e, errors.Unwrap(err))
		}
	}
	if in == "-" {
		inputs, cleanup, err := stdinInputs(&env{stdin: stdin, stdout: e.stdout, stderr: e.stderr}, []string{in})
		if err != nil {
			return err
		}
		defer cleanup()
		input.Files = inputs
	}
	main, err := tracewire.MainFile(input)
	if err != nil {
		return err
	}
	rows.InputFile = displayPath(main)
	out := newDetectOutput(e.stdout, rows, f)
	var senders []rep.Evidence
	d := tracewire.Detection{Result: func(r *match.Result) error {
		if enriched && f.format == "table" && len(r.Findings) > 0 {
			senders = append(senders, rep.Evidence{Index: r.Entry.Index, Entry: rep.EvidenceEntry(r.Parsed)})
		}
		return out.Add(r)
	}}
	if !f.valuesOnly && f.format != "table" {
		// A findings file names the inputs it was made from (their
		// SHA-256), and JSON Lines rows carry the analysis ID made from
		// them: the rows wait for it until the inputs are hashed.
		d.Hashed = func(a *tracewire.Analysis) error { return out.SetAnalysisID(a.ID) }
	}
	a, err := tracewire.Detect(ctx, input, opts, d)
	if a == nil {
		return err
	}
	name := func(s string) string {
		if in == "-" {
			// Standard input's spool file is named "-", as the user gave it.
			return strings.ReplaceAll(s, input.Files[0], in)
		}
		return s
	}
	if err == nil && enriched && a.Enrichment != nil {
		// What was paired and what was not, as `tracewire enrich` says it.
		if err := a.Enrichment.WriteText(e.stderr); err != nil {
			return err
		}
	}
	out.AddWarnings(a.Warnings, a.SkippedEntries, name)
	if err != nil {
		var se *har.SyntaxError
		if errors.As(err, &se) && out.Written() > 0 {
			err = fmt.Errorf("%w (the findings before this point were written)", err)
		}
		return out.fail(e, errors.New(name(err.Error())))
	}
	if d.Hashed != nil && f.format == "json" {
		m := &rep.DetectMeta{Tool: a.Tool, ID: a.ID, Inputs: a.Inputs}
		for i := range m.Inputs {
			m.Inputs[i].Path = displayPath(m.Inputs[i].Path)
			if i == 0 && in == "-" {
				m.Inputs[i].Name = "stdin"
			}
		}
		out.SetMeta(m)
	}
	status := out.done(e)
	if exitStatus(status) == exitFailed {
		return status
	}
	if enriched && f.format == "table" {
		if err := rep.WriteSenders(e.stdout, senders, f.lang); err != nil {
			return err
		}
	}
	if status == nil {
		status = incomplete(a) // a capture not read to its end
	}
	return status
}

// enriched reports whether detect must run the enrichment stage first: a
// trace file is given, or the input is a PiRogue experiment folder.
func (f *detectFlags) enriched(in string) bool {
	s := &f.s
	if s.SocketTrace != "" || s.Experiment != "" || s.AESInfo != "" || s.Provenance != "" || s.EBPF != "" {
		return true
	}
	st, err := os.Stat(in)
	return err == nil && st.IsDir()
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
	if err := o.End(e.stderr, ""); err != nil {
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
	if ferr := o.End(e.stderr, err.Error()); ferr != nil {
		return ferr
	}
	return &exitError{code: exitFailed, err: err}
}
