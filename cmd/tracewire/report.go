package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tracewire/tracewire"
	"github.com/tracewire/tracewire/adapters"
	"github.com/tracewire/tracewire/enrich"
	"github.com/tracewire/tracewire/internal/atomicfile"
	prog "github.com/tracewire/tracewire/internal/progress"
	"github.com/tracewire/tracewire/match"
	rep "github.com/tracewire/tracewire/report"
)

func init() { subcommands = append(subcommands, newReportCmd) }

// analysisFlags are the inputs and detection options of an analysis run
// on the fly: capture, enrichment and indicator flags, as detect and
// enrich take them.
type analysisFlags struct {
	capture    captureFlags
	enrich     enrichFlags
	indicators []string
	indFile    string
	everywhere bool
	adapterDir string
	// appID is the analysed app's ID, for device reports.
	appID string
}

func (f *analysisFlags) register(cmd *cobra.Command, withEnrich bool) {
	f.capture.register(cmd)
	if withEnrich {
		f.enrich.register(cmd)
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&f.indicators, "indicator", nil, "known value as property=value (e.g. advertisingId=...); repeatable")
	fl.StringVar(&f.indFile, "indicators", "", "JSON file of indicators: {\"property\": \"value\" or [values]} or [{\"property\":…, \"value\":…}]")
	fl.BoolVar(&f.everywhere, "indicators-everywhere", false, "search indicators in every request, also those an adapter handled")
	fl.StringVar(&f.adapterDir, "adapters", "", "directory of adapter files to use instead of the embedded database")
	fl.StringVar(&f.appID, "app-id", "", "ID (package name or bundle ID) of the analysed app that device reports are filtered by (default: from the HAR's metadata or experiment.json)")
}

// paths are the files the flags name as inputs (key logs, traces,
// indicators), for the check that no output overwrites one.
func (f *analysisFlags) paths() []string {
	e := &f.enrich
	out := append([]string(nil), f.capture.keylogs...)
	out = append(out, f.capture.rsaKeys...)
	return append(out, f.indFile, e.socketTrace, e.experiment, e.aesInfo, e.provenance, e.ebpf)
}

// input returns the library input for files, with the flags' trace files.
func (f *analysisFlags) input(files []string) (tracewire.Input, error) {
	in := tracewire.Input{Files: files, KeyLogs: f.capture.keylogs, RSAKeys: f.capture.rsaKeys}
	for _, s := range f.indicators {
		ind, err := match.ParseIndicator(s)
		if err != nil {
			return in, err
		}
		in.Indicators = append(in.Indicators, ind)
	}
	if f.indFile != "" {
		in.IndicatorFiles = []string{f.indFile}
	}
	e := &f.enrich
	add := func(list *[]string, p string) {
		if p != "" {
			*list = append(*list, p)
		}
	}
	add(&in.SocketTraces, e.socketTrace)
	add(&in.EBPFEvents, e.ebpf)
	add(&in.AESInfo, e.aesInfo)
	add(&in.Provenance, e.provenance)
	in.Experiment = e.experiment
	if len(files) == 1 {
		if st, err := os.Stat(files[0]); err == nil && st.IsDir() {
			// An experiment folder: it names its own files.
			in.Files, in.Experiment = nil, files[0]
		}
	}
	if e.timeShift != "" {
		d, err := parseSeconds(e.timeShift)
		if err != nil {
			return in, fmt.Errorf("--time-shift %q: %w", e.timeShift, err)
		}
		in.TimeShift = &d
	}
	return in, nil
}

// options returns the library options of the flags.
func (f *analysisFlags) options(e *env) (tracewire.Options, error) {
	o := tracewire.Options{IndicatorsEverywhere: f.everywhere}
	o.Capture.CommunityIDSeed = f.capture.seed
	o.Capture.FlowBudget = f.capture.flowBudget << 20
	if e != nil {
		o.Capture.Progress = prog.Capture(e.stderr)
	}
	if f.adapterDir != "" {
		db, err := adapters.LoadDir(f.adapterDir)
		if err != nil {
			return o, err
		}
		o.DB = db
	}
	if f.enrich.reqWindow != "" || f.enrich.respWindow != "" {
		c := enrich.DefaultCorrelation()
		var err error
		if f.enrich.reqWindow != "" {
			if c.Request, err = parseWindow(f.enrich.reqWindow); err != nil {
				return o, fmt.Errorf("--request-window: %w", err)
			}
		}
		if f.enrich.respWindow != "" {
			if c.Response, err = parseWindow(f.enrich.respWindow); err != nil {
				return o, fmt.Errorf("--response-window: %w", err)
			}
		}
		o.Correlation = &c
	}
	po, err := f.enrich.provenanceOptions()
	if err != nil {
		return o, err
	}
	if f.enrich.provWindow != "" {
		o.ProvenanceWindow = &po.Window
	}
	o.ProvenanceTimeShift = po.TimeShift
	return o, nil
}

type reportFlags struct {
	an       analysisFlags
	findings string
	format   string
	lang     string
	compare  string
	// compareAny compares with an analysis that may be of another app.
	compareAny bool
	devices    []string
	out        string
	maxBody    int
	document   string
	details    string
}

func newReportCmd(e *env) *cobra.Command {
	var f reportFlags
	cmd := &cobra.Command{
		Use:   "report IN... -o OUT",
		Short: "Write a report of the personal data sent to trackers (HTML, Markdown, PDF, JSONL, Parquet)",
		Long: `Report writes what an analysis found as a technical report for people (HTML,
Markdown or PDF, in English or German) or as flat finding rows for notebooks
(JSONL, Parquet): what was analysed (metadata, period, SHA-256 of every input,
tool and adapter database versions), a table of data types per recipient, a
timeline, and for every request that transmitted personal data the values, where
they were found, how they were decoded and why, with the request in full in the
appendix.

IN is a capture (pcap, pcapng) or HAR file, analysed on the fly with the same
options as detect and enrich (several captures are one analysis; a PiRogue
experiment folder names its own files); or a findings file, written by
"tracewire batch" or by "tracewire detect --format json" (then give the HAR or
capture with it, or use --findings F IN). "-" reads standard input. With
--findings, F must have been made from IN: its input SHA-256 and analysis ID
(when it names them), its entry count and the method and URL of every request
its findings refer to are checked first; when anything differs, report says
what, writes nothing and exits with status 2.

--compare OTHER compares with an earlier analysis of the same app (which
transmissions persisted, appeared, disappeared); an analysis of another app
(another app ID, or no host in common) is refused unless --compare-any is
given, and the report then says that the apps may differ. OTHER's SHA-256 is
listed with the inputs; --device-report adds a
TrackerControl CSV export or an iOS App Privacy Report of the user's own phone
as evidence that the user was affected: only the contacts of the analysed app
count, whose ID comes from the HAR's metadata, experiment.json or --app-id;
with none known, device reports are not used and a warning says so. The output goes to -o (default:
standard output); the format follows --format, else the extension of -o
(.html, .htm, .md, .markdown, .pdf, .jsonl, .ndjson, .parquet; another extension
is a usage error), else HTML. PDF and Parquet are not written to standard output
when it is a terminal: give -o, or redirect it.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runReport(cmd.Context(), e, args, &f)
		},
	}
	f.an.register(cmd, true)
	fl := cmd.Flags()
	fl.StringVar(&f.findings, "findings", "", "findings file (detect --format json, or a batch findings.json) for IN instead of detecting again")
	fl.StringVar(&f.format, "format", "", "html, md, pdf, jsonl or parquet (default: from -o's extension, else html)")
	fl.StringVar(&f.lang, "lang", "en", "language of the report: en or de")
	fl.StringVar(&f.compare, "compare", "", "an earlier analysis of the same app (findings file, HAR or capture) to compare with")
	fl.BoolVar(&f.compareAny, "compare-any", false, "compare with --compare even when it may be of another app (other app ID, or no host in common); the report says so")
	fl.StringArrayVar(&f.devices, "device-report", nil, "TrackerControl CSV export or iOS App Privacy Report (ndjson) of the user's phone; repeatable")
	fl.StringVarP(&f.out, "output", "o", "-", "output file (\"-\": standard output)")
	fl.IntVar(&f.maxBody, "max-body", 0, "bytes of each request body reproduced in the appendix (default 256 KiB)")
	fl.StringVar(&f.document, "document", "report", "report, notice (to the controller), complaint or complaint-informal (to the authority)")
	fl.StringVar(&f.details, "details", "", "details.yaml with what only you know (parties, dates, circumstances); needed for notice and complaints")
	return cmd
}

func runReport(ctx context.Context, e *env, args []string, f *reportFlags) error {
	ins := append(append(append([]string(nil), args...), f.findings, f.compare, f.details), f.devices...)
	if err := checkOutput(f.out, append(ins, f.an.paths()...)...); err != nil {
		return err
	}
	if err := checkLang(f.lang); err != nil {
		return err
	}
	doc, err := rep.ParseDocument(f.document)
	if err != nil {
		return err
	}
	var details *rep.Details
	if doc != rep.DocReport {
		// Checked before the analysis: a missing field is found at once.
		if details, err = readDetails(f.details, doc); err != nil {
			return err
		}
	}
	format, err := reportFormat(f.format, f.out)
	if err != nil {
		return err
	}
	if _, tty := prog.Terminal(e.stdout); tty && (f.out == "" || f.out == "-") && (format == rep.PDF || format == rep.Parquet) {
		// Binary on a terminal is garbage for the user and can upset the
		// terminal; a pipe or a redirection is fine.
		return usageErrorf("report: %s is binary and standard output is a terminal; write it to a file with -o (e.g. -o report%s), or redirect standard output", format, format.Ext())
	}
	inputs, cleanup, err := stdinInputs(e, args)
	if err != nil {
		return err
	}
	defer cleanup()
	if err := checkInputs("report", readsCaptures|readsHAR|readsFindings, inputs...); err != nil {
		return err
	}
	opts, err := f.an.options(e)
	if err != nil {
		return err
	}
	a, err := loadAnalysis(ctx, inputs, f.findings, &f.an, opts)
	if err != nil {
		var me *tracewire.MismatchError
		if errors.As(err, &me) {
			// Findings of another input would make a report that is
			// wrong without saying so: refused, with what differs.
			fmt.Fprintf(e.stderr, "tracewire: report: the findings file %s does not belong to %s (no report written):\n", f.findings, strings.Join(args, " "))
			for _, d := range me.Differences {
				fmt.Fprintf(e.stderr, "  - %s\n", d)
			}
			return &exitError{code: 2}
		}
		return err
	}
	for i := range a.Inputs {
		a.Inputs[i].Path = displayPath(a.Inputs[i].Path)
	}
	ro := rep.Options{Lang: f.lang, DB: opts.DB, MaxBody: f.maxBody, AppID: f.an.appID}
	if f.compare != "" {
		an := f.an
		an.enrich = enrichFlags{}
		o2 := opts
		o2.Capture.Progress = nil
		if ro.Compare, err = loadAnalysis(ctx, []string{f.compare}, "", &an, o2); err != nil {
			return fmt.Errorf("--compare: %w", err)
		}
		if diffs := rep.CompareDifferences(ro.Compare, a); len(diffs) > 0 && !f.compareAny {
			fmt.Fprintf(e.stderr, "tracewire: report: --compare %s may be an analysis of another app (no report written; --compare-any compares anyway, and the report says so):\n", f.compare)
			for _, d := range diffs {
				fmt.Fprintf(e.stderr, "  - %s\n", d)
			}
			return &exitError{code: 2}
		}
		compared, err := comparedFiles(f.compare, ro.Compare)
		if err != nil {
			return fmt.Errorf("--compare: %w", err)
		}
		a.Inputs = append(a.Inputs, compared...)
	}
	for _, d := range f.devices {
		dr, err := readDeviceReport(d)
		if err != nil {
			return err
		}
		ro.DeviceReports = append(ro.DeviceReports, dr)
	}
	a.Warnings = append(a.Warnings, rep.DeviceWarnings(a, ro)...)
	for _, w := range a.Warnings {
		fmt.Fprintln(e.stderr, "tracewire: warning:", w)
	}
	if doc != rep.DocReport && len(a.Findings) == 0 {
		return fmt.Errorf("--document %s: %w", doc, rep.ErrNoFindings)
	}
	if err := writeOutput(f.out, e.stdout, func(w io.Writer) error { return rep.WriteDocument(w, format, doc, a, details, ro) }); err != nil {
		return err
	}
	return incomplete(a)
}

// reportFormat is the format of a report: --format, else the extension
// of -o, else HTML. An extension no report format has (r.txt) is a usage
// error that lists the ones there are, as is an extension of another
// format than --format: the file would not be what its name says.
func reportFormat(flag, out string) (rep.Format, error) {
	ext := ""
	if out != "" && out != "-" {
		ext = filepath.Ext(out)
	}
	byExt := rep.FormatOf(ext)
	if flag != "" {
		format, err := rep.ParseFormat(flag)
		if err != nil {
			return "", &exitError{code: exitFailed, err: fmt.Errorf("--format: %w", err)}
		}
		if byExt != "" && byExt != format {
			return "", usageErrorf("-o %s: the extension %s is that of %s, but --format is %s; name the file %s", out, ext, byExt, format, strings.TrimSuffix(out, ext)+format.Ext())
		}
		return format, nil
	}
	switch {
	case byExt != "":
		return byExt, nil
	case ext == "":
		return rep.HTML, nil
	}
	return "", usageErrorf("-o %s: report cannot write %s files; the format follows -o's extension, one of %s (or give --format)", out, ext, strings.Join(rep.Extensions(), " "))
}

// incomplete is exit status 1 for an analysis that left entries out, or a
// capture not read to its end (the warnings have named them), nil
// otherwise.
func incomplete(a *tracewire.Analysis) error {
	if len(a.SkippedEntries) > 0 || a.Capture != nil && a.Capture.Truncated {
		return &exitError{code: exitIncomplete}
	}
	return nil
}

func readDetails(path string, doc rep.Document) (*rep.Details, error) {
	if path == "" {
		return nil, fmt.Errorf("--document %s needs --details details.yaml (the parties and dates; see testdata/details.yaml)", doc)
	}
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--details: %w", err)
	}
	defer fh.Close()
	return rep.ReadDetails(fh, path, doc)
}

// comparedFiles are the files of --compare as the report lists them
// under its inputs: the file given, or for a folder the captures or HAR
// its analysis read.
func comparedFiles(path string, c *tracewire.Analysis) ([]rep.InputFile, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		var out []rep.InputFile
		for _, in := range c.Inputs {
			if in.Role == rep.RoleCapture || in.Role == rep.RoleHAR {
				in.Role = rep.RoleCompared
				out = append(out, in)
			}
		}
		return out, nil
	}
	in, err := tracewire.HashFile(rep.RoleCompared, path)
	if err != nil {
		return nil, err
	}
	return []rep.InputFile{in}, nil
}

func readDeviceReport(path string) (*rep.DeviceReport, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	d, err := rep.ReadDeviceReport(fh, baseName(path))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return d, nil
}

func baseName(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}

// loadAnalysis reads a findings file, or analyses captures or a HAR (with
// the findings of findingsFile, when given, instead of detecting again).
func loadAnalysis(ctx context.Context, inputs []string, findingsFile string, f *analysisFlags, o tracewire.Options) (*tracewire.Analysis, error) {
	if len(inputs) == 1 && findingsFile == "" {
		if ok, err := isFindingsFile(inputs[0]); err != nil {
			return nil, err
		} else if ok {
			return readFindings(inputs[0])
		}
	}
	in, err := f.input(inputs)
	if err != nil {
		return nil, err
	}
	if findingsFile == "" {
		return tracewire.Analyze(ctx, in, o)
	}
	fa, err := readFindings(findingsFile)
	if err != nil {
		return nil, err
	}
	a, err := tracewire.Evidence(ctx, in, o, fa)
	if err != nil {
		return nil, err
	}
	a.Warnings = append(a.Warnings, fa.Warnings...)
	return a, nil
}

func isFindingsFile(path string) (bool, error) {
	st, err := os.Stat(path)
	if err != nil {
		return false, err
	}
	if st.IsDir() {
		return false, nil
	}
	fh, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer fh.Close()
	head := make([]byte, 64<<10)
	n, err := io.ReadFull(fh, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return false, err
	}
	return rep.IsFindingsJSON(head[:n]), nil
}

func readFindings(path string) (*tracewire.Analysis, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	return rep.ReadAnalysis(fh, path)
}

// checkOutput refuses an output that is an input, a folder or in a folder
// that does not exist, before any work (atomicfile.CheckOutput), as a
// usage error.
func checkOutput(path string, inputs ...string) error {
	if err := atomicfile.CheckOutput(path, inputs...); err != nil {
		return &exitError{code: exitFailed, err: err}
	}
	return nil
}

// writeOutput writes to path atomically, or to stdout for "-" or "".
func writeOutput(path string, stdout io.Writer, write func(io.Writer) error) error {
	if path == "" || path == "-" {
		return write(stdout)
	}
	fh, err := atomicfile.Create(path, 0o644)
	if err != nil {
		return err
	}
	defer fh.Abort()
	if err := write(fh); err != nil {
		return err
	}
	return fh.Commit()
}
