// Package batch runs many analyses as one job: it finds the captures, HAR
// files and experiment folders under folders (tracewire.Discover),
// analyses each with tracewire.Analyze on a pool of workers, and writes per
// analysis its findings, reports, converted or enriched HAR and a
// manifest, plus tables of the finding rows of all analyses.
//
// A run resumes an earlier one into the same folder: an analysis whose
// inputs (by SHA-256), analysis options and tracewire build are unchanged
// is not run again. When only the report formats changed, its reports are
// rendered again from the stored analysis (findings.json).
package batch

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/tracewire/tracewire"
	"github.com/tracewire/tracewire/adapters"
	"github.com/tracewire/tracewire/internal/atomicfile"
	"github.com/tracewire/tracewire/internal/version"
	"github.com/tracewire/tracewire/match"
	"github.com/tracewire/tracewire/report"
)

// Options configure a batch run. The zero value works: every analysis
// runs with tracewire.Analyze's defaults on GOMAXPROCS workers, nothing
// is written and the finding rows are dropped (Run's Summary still counts
// them).
type Options struct {
	// Out is the output folder. Each analysis writes to
	// Out/<job ID>/: findings.json, report.<format> for each of Formats,
	// analysis.har (the converted or enriched HAR; not for a HAR read as
	// is) and manifest.json; Out/findings.jsonl and Out/findings.parquet
	// hold the finding rows of all analyses, in job order. Empty: no file
	// is written, the rows go to Rows and nothing is resumed.
	Out string
	// Rows, when Out is empty, receives the finding rows of all analyses
	// as JSON Lines, in job order whatever Jobs (the map-step mode of
	// distributed engines). Rows name the input path as found.
	Rows io.Writer
	// Jobs is the number of analyses run in parallel (default
	// GOMAXPROCS). Each analysis matches on one goroutine.
	Jobs int
	// Formats are the report formats written per analysis (HTML,
	// Markdown, PDF; JSONL and Parquet are left out: the tables across
	// all analyses hold those rows). None: findings.json only.
	Formats []report.Format
	// Documents are letters written per analysis besides the report, in
	// each of Formats; each needs a details.yaml beside the analysis's
	// main input, which becomes one of its inputs.
	Documents []report.Document
	// Lang is the language of reports and letters ("" is "en").
	Lang string
	// AppID is the analysed app's ID that device reports are filtered by
	// (see report.Options.AppID).
	AppID string
	// RetryFailed runs analyses again that failed in an earlier run with
	// the same inputs and options; by default they are reported as
	// failed again without running.
	RetryFailed bool
	// Analysis are the options of every analysis. Workers, Hashed and HAR
	// are set per analysis.
	Analysis tracewire.Options
	// Common are inputs every analysis reads besides its own: its
	// Indicators, IndicatorFiles, KeyLogs and RSAKeys are added to each;
	// its other fields are ignored.
	Common tracewire.Input
	// Started, when set, is called once the analyses are found, before
	// any runs, with their number and the folders given that hold none
	// (a mistyped or unmounted path would otherwise look like a clean
	// run).
	Started func(analyses int, emptyFolders []string)
	// Ended, when set, is called as each analysis ends, one call at a
	// time, in the order they end.
	Ended func(Result)
}

// Status is the outcome of one analysis of a run.
type Status string

// Outcomes.
const (
	// OK: analysed, outputs written.
	OK Status = "ok"
	// Skipped: unchanged since an earlier run, outputs intact.
	Skipped Status = "skipped"
	// Rendered: unchanged since an earlier run but for the report
	// formats; the reports were rendered from the stored analysis.
	Rendered Status = "rendered"
	// Failed: the analysis failed in this run.
	Failed Status = "failed"
	// FailedBefore: the analysis failed in an earlier run with the same
	// inputs and options, and was not run again (Options.RetryFailed).
	FailedBefore Status = "failed before"
)

// Result is what became of one analysis.
type Result struct {
	// ID is the job's ID (tracewire.Job.ID), the path of its outputs
	// under Options.Out.
	ID     string
	Status Status
	// Err says why the analysis failed, on one line.
	Err string
	// Findings counts the analysis's findings.
	Findings int
	// SkippedEntries counts the entries left out as malformed.
	SkippedEntries int
	// Truncated: the capture could not be read to its end.
	Truncated bool
	// Warnings are the analysis's warnings worth a line of their own
	// (with Out empty: all of them, having no other place to go).
	Warnings []string

	rows []report.Row // the finding rows, until written
}

// Summary is the outcome of a run.
type Summary struct {
	// Results are the analyses' outcomes, in job order.
	Results []Result
}

// Count counts the results of each status given.
func (s *Summary) Count(st ...Status) int {
	n := 0
	for _, r := range s.Results {
		for _, x := range st {
			if r.Status == x {
				n++
			}
		}
	}
	return n
}

// Incomplete counts the analyses that left out entries they could not
// read.
func (s *Summary) Incomplete() int {
	n := 0
	for _, r := range s.Results {
		if r.SkippedEntries > 0 || r.Truncated {
			n++
		}
	}
	return n
}

// Run finds the analyses under paths (folders or files) and runs them. A
// failing analysis is reported in its Result and does not stop the
// others; Run's error is for what stops the run (an output folder that
// cannot be written, ctx cancelled).
func Run(ctx context.Context, paths []string, o Options) (*Summary, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	o.Formats = reportFormats(o.Formats)
	if o.Lang == "" {
		o.Lang = "en"
	}
	if len(o.Documents) > 0 && o.Out == "" {
		return nil, errors.New("batch: letters (Documents) are files; they need an output folder")
	}
	if o.Out != "" {
		if err := atomicfile.CheckDir(o.Out, paths...); err != nil {
			return nil, err
		}
	}
	jobs, err := tracewire.Discover(paths)
	if err != nil {
		return nil, err
	}
	empty := emptyFolders(paths)
	if o.Out != "" {
		jobs = outside(jobs, o.Out)
		// The tables of all analyses must not replace an input either
		// (an output folder that is an input folder).
		if _, err := os.Stat(o.Out); err == nil {
			var all []string
			for _, j := range jobs {
				all = append(append(all, tracewire.InputFiles(j.Input)...), j.DeviceReports...)
			}
			for _, n := range []string{"findings.jsonl", "findings.parquet"} {
				if err := atomicfile.CheckOutput(filepath.Join(o.Out, n), all...); err != nil {
					return nil, err
				}
			}
		}
	}
	b := &runner{o: o, jobs: jobs, results: make([]Result, len(jobs)), ready: make([]bool, len(jobs))}
	// Parallelism is across analyses; each one matches on one goroutine.
	b.o.Analysis.Workers = 1
	if b.db, err = adapterInfo(o.Analysis.DB); err != nil {
		return nil, err
	}
	if o.Out != "" {
		b.key = optionsKey(&b.o)
		b.build = buildDigest()
		if err := os.MkdirAll(o.Out, 0o755); err != nil {
			return nil, err
		}
		if err := b.openTables(); err != nil {
			return nil, err
		}
		defer b.jf.Abort()
		defer b.pf.Abort()
	}
	if o.Started != nil {
		o.Started(len(jobs), empty)
	}
	workers := o.Jobs
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if err := b.run(ctx, workers); err != nil {
		return nil, err
	}
	if o.Out != "" {
		if err := b.closeTables(); err != nil {
			return nil, err
		}
	}
	return &Summary{Results: b.results}, nil
}

// reportFormats drops the table formats and repeats.
func reportFormats(fs []report.Format) []report.Format {
	var out []report.Format
	for _, f := range fs {
		if f == report.JSONL || f == report.Parquet {
			continue // written across all analyses anyway
		}
		if !containsFormat(out, f) {
			out = append(out, f)
		}
	}
	return out
}

func containsFormat(fs []report.Format, f report.Format) bool {
	for _, x := range fs {
		if x == f {
			return true
		}
	}
	return false
}

// emptyFolders are the folders of paths that hold nothing to analyse.
func emptyFolders(paths []string) []string {
	var out []string
	for _, d := range paths {
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			continue
		}
		if js, err := tracewire.Discover([]string{d}); err == nil && len(js) == 0 {
			out = append(out, d)
		}
	}
	return out
}

// outside drops the jobs that are this batch's own outputs: an
// analysis.har with the manifest.json of an earlier run beside it, in the
// output folder (after symbolic links), found in a folder given rather
// than named itself (a named file's ID is its base name, without "/").
// A batch over "." into ./results must not analyse the HARs of its last
// run; anything else in the output folder (a capture put there, an
// experiment folder the outputs go into) is an input like any other, so
// an output folder that is, or holds, an input does not silently leave it
// out.
func outside(jobs []tracewire.Job, out string) []tracewire.Job {
	root := realPath(out) + string(filepath.Separator)
	var keep []tracewire.Job
	for _, j := range jobs {
		if len(j.Input.Files) == 1 && j.Input.Experiment == "" && filepath.Base(j.Input.Files[0]) == harName && strings.Contains(j.ID, "/") {
			p := realPath(j.Input.Files[0])
			if strings.HasPrefix(p, root) {
				if m, ok := readManifest(filepath.Dir(p)); ok && m.lists(harName) {
					continue
				}
			}
		}
		keep = append(keep, j)
	}
	return keep
}

// realPath is p made absolute after symbolic links, as far as it exists.
func realPath(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return filepath.Clean(p)
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		return r
	}
	dir, base := filepath.Split(abs)
	if dir = filepath.Clean(dir); dir == abs {
		return abs
	}
	return filepath.Join(realPath(dir), base)
}

// buildDigest is the SHA-256 of the running binary when the VCS revision
// does not name the build ("" when it does). A binary that cannot be read
// gives "unknown", which never matches a digest.
func buildDigest() string {
	if version.Revision != "" && !version.Modified {
		return ""
	}
	exe, err := os.Executable()
	if err != nil {
		return "unknown"
	}
	f, err := tracewire.HashFile("", exe)
	if err != nil {
		return "unknown"
	}
	return f.SHA256
}

func adapterInfo(db *adapters.DB) (*report.AdapterDB, error) {
	embedded := db == nil
	if db == nil {
		var err error
		if db, err = adapters.Default(); err != nil {
			return nil, err
		}
	}
	return tracewire.AdapterDBInfo(db, embedded)
}

// optionsKey digests the options that change what an analysis finds and
// the letters written from it. The report formats are not among them:
// reports are rendered again from the stored analysis.
func optionsKey(o *Options) string {
	h := sha256.New()
	a := &o.Analysis
	fmt.Fprintf(h, "lang=%s\neverywhere=%v\nseed=%d\n", o.Lang, a.IndicatorsEverywhere, a.Capture.CommunityIDSeed)
	if o.AppID != "" {
		fmt.Fprintf(h, "app-id=%s\n", o.AppID)
	}
	for _, d := range o.Documents {
		fmt.Fprintf(h, "document=%s\n", d)
	}
	for _, ind := range o.Common.Indicators {
		fmt.Fprintf(h, "indicator=%s=%s\n", ind.Property, ind.Value)
	}
	for _, group := range [][]string{o.Common.KeyLogs, o.Common.RSAKeys, o.Common.IndicatorFiles} {
		for _, p := range group {
			fmt.Fprintf(h, "file=%s\n", p)
		}
	}
	// Options a library caller may set; the command line leaves them at
	// their defaults, which add nothing.
	if c := a.Correlation; c != nil {
		fmt.Fprintf(h, "correlation=%+v\n", *c)
	}
	if w := a.ProvenanceWindow; w != nil {
		fmt.Fprintf(h, "provenance-window=%+v\n", *w)
	}
	if s := a.ProvenanceTimeShift; s != nil {
		fmt.Fprintf(h, "provenance-time-shift=%d\n", *s)
	}
	if a.MaxEvidence != 0 {
		fmt.Fprintf(h, "max-evidence=%d\n", a.MaxEvidence)
	}
	c := &a.Capture
	for _, x := range []struct {
		name string
		v    int64
	}{{"idle-timeout", int64(c.IdleTimeout)}, {"max-body", c.MaxBodySize}, {"max-decoded", c.MaxDecodedSize},
		{"memory-budget", c.MemoryBudget}, {"flow-budget", c.FlowBudget}} {
		if x.v != 0 {
			fmt.Fprintf(h, "%s=%d\n", x.name, x.v)
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// runner is one run in progress.
type runner struct {
	o       Options
	jobs    []tracewire.Job
	results []Result
	db      *report.AdapterDB
	key     string
	build   string

	// The tables across all analyses (with Out).
	jf, pf *atomicfile.File
	jw     *bufio.Writer
	pw     *report.ParquetWriter

	mu      sync.Mutex
	ready   []bool
	next    int // the next job whose rows are due
	emitErr error
}

func (b *runner) dir(j *tracewire.Job) string {
	return filepath.Join(b.o.Out, filepath.FromSlash(j.ID))
}

// escapes reports whether a job's outputs would lie outside the output
// folder (an ID with ".."): never written.
func escapes(id string) bool {
	return !filepath.IsLocal(strings.TrimPrefix(filepath.FromSlash(id), string(filepath.Separator)))
}

func (b *runner) run(ctx context.Context, workers int) error {
	// Largest first, so a big capture does not start last and leave the
	// other workers idle; outputs do not depend on the order.
	order := make([]int, len(b.jobs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(x, y int) bool { return b.jobs[order[x]].Size > b.jobs[order[y]].Size })
	work := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				r := b.one(ctx, &b.jobs[i])
				r.ID = b.jobs[i].ID
				b.finish(i, r)
			}
		}()
	}
	for _, i := range order {
		select {
		case work <- i:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(work)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	return b.emitErr
}

// finish records a job's result, reports it, and writes the rows of every
// job now due, in job order.
func (b *runner) finish(i int, r Result) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.results[i] = r
	b.ready[i] = true
	if b.o.Ended != nil {
		b.o.Ended(r)
	}
	// Rows are written in job order, whatever order the jobs end in; a
	// result that comes early waits for those before it.
	for b.next < len(b.jobs) && b.ready[b.next] {
		res := &b.results[b.next]
		if b.emitErr == nil && len(res.rows) > 0 {
			b.emitErr = b.writeRows(res.rows)
		}
		res.rows = nil
		b.next++
	}
}

func (b *runner) writeRows(rows []report.Row) error {
	if b.o.Out == "" {
		if b.o.Rows == nil {
			return nil
		}
		return report.WriteJSONL(b.o.Rows, rows)
	}
	if err := report.WriteJSONL(b.jw, rows); err != nil {
		return err
	}
	return b.pw.Write(rows)
}

// input is a job's input with the common inputs added.
func (b *runner) input(j *tracewire.Job) tracewire.Input {
	in := j.Input
	c := &b.o.Common
	in.Indicators = append(append([]match.Indicator(nil), in.Indicators...), c.Indicators...)
	in.IndicatorFiles = append(append([]string(nil), in.IndicatorFiles...), c.IndicatorFiles...)
	in.KeyLogs = append(append([]string(nil), in.KeyLogs...), c.KeyLogs...)
	in.RSAKeys = append(append([]string(nil), in.RSAKeys...), c.RSAKeys...)
	return in
}

// one runs, renders or skips one job.
func (b *runner) one(ctx context.Context, j *tracewire.Job) Result {
	if j.Err != nil {
		return Result{Status: Failed, Err: j.Err.Error()}
	}
	if b.o.Out != "" && escapes(j.ID) {
		return Result{Status: Failed, Err: fmt.Sprintf("its outputs would lie outside the output folder %s (job ID %q); not written", b.o.Out, j.ID)}
	}
	in := b.input(j)
	if b.o.Out == "" {
		a, err := tracewire.Analyze(ctx, in, b.o.Analysis)
		if err != nil {
			return Result{Status: Failed, Err: oneLine(err)}
		}
		// The rows name the path as given, for the engine to join on;
		// the warnings go with the result, the only place they can.
		return Result{Status: OK, Findings: len(a.Findings), SkippedEntries: len(a.SkippedEntries), rows: report.Rows(a), Warnings: a.Warnings}
	}
	old, _ := readManifest(b.dir(j))
	inputs, err := tracewire.HashInputs(in)
	if err != nil {
		return b.failed(j, nil, nil, nil, err)
	}
	devices, err := hashDevices(j.DeviceReports)
	if err != nil {
		return b.failed(j, inputs, nil, old, err)
	}
	if len(b.o.Documents) > 0 {
		// The letters' details are an input: a changed file makes them again.
		p := detailsBeside(j)
		df, err := tracewire.HashFile("details", p)
		if err != nil {
			return b.failed(j, inputs, devices, old, fmt.Errorf("--document %s needs %s beside the input (the parties and dates; see testdata/details.yaml): %w", b.o.Documents[0], p, err))
		}
		inputs = append(inputs, df)
	}
	m := Manifest{Tool: report.ThisTool(), Build: b.build, AdapterDB: b.db, Options: b.key, Inputs: inputs, Devices: devices}
	if old != nil && sameRun(old, &m) {
		switch {
		case old.Status == string(OK) && b.intact(j, old):
			// The rows for the tables come from the findings file; one
			// that cannot be read is made again.
			a, err := b.readAnalysis(j)
			if err != nil {
				break
			}
			if b.rendered(old) {
				return Result{Status: Skipped, Findings: old.Findings, SkippedEntries: old.SkippedEntries, rows: jobRows(j, a)}
			}
			if r, ok := b.render(j, a, m, old); ok {
				return r
			}
		case old.Status == string(Failed) && !b.o.RetryFailed:
			return Result{Status: FailedBefore, Err: old.Error}
		}
	}
	return b.analyse(ctx, j, in, m, old)
}

// rendered reports whether an earlier run's outputs are the reports and
// letters this run asks for, no more and no fewer.
func (b *runner) rendered(old *Manifest) bool {
	want := b.renderNames()
	var have []string
	for _, o := range old.Outputs {
		if !analysisOutput(o.Name) {
			have = append(have, o.Name)
		}
	}
	if len(want) != len(have) {
		return false
	}
	for i := range want {
		if want[i] != have[i] {
			return false
		}
	}
	return true
}

// renderNames are the files rendered from an analysis, in the order they
// are written.
func (b *runner) renderNames() []string {
	var out []string
	for _, fm := range b.o.Formats {
		out = append(out, "report"+fm.Ext())
	}
	for _, doc := range b.o.Documents {
		for _, fm := range b.o.Formats {
			out = append(out, string(doc)+fm.Ext())
		}
	}
	return out
}

// Names of the outputs of the analysis itself, as opposed to those
// rendered from it.
const (
	harName      = "analysis.har"
	findingsName = "findings.json"
	manifestName = "manifest.json"
)

func analysisOutput(name string) bool { return name == harName || name == findingsName }

func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

func hashDevices(paths []string) ([]report.InputFile, error) {
	var out []report.InputFile
	for _, p := range paths {
		f, err := tracewire.HashFile("deviceReport", p)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// detailsBeside is the details.yaml in the folder of a job's main input.
func detailsBeside(j *tracewire.Job) string {
	if len(j.Input.Files) == 0 {
		return "details.yaml"
	}
	return filepath.Join(filepath.Dir(j.Input.Files[0]), "details.yaml")
}

// jobRows are the finding rows of a job's analysis, named by the job.
func jobRows(j *tracewire.Job, a *tracewire.Analysis) []report.Row {
	rows := report.Rows(a)
	for k := range rows {
		rows[k].InputFile = j.ID
	}
	return rows
}

// readAnalysis reads the analysis an earlier run stored.
func (b *runner) readAnalysis(j *tracewire.Job) (*tracewire.Analysis, error) {
	fh, err := os.Open(filepath.Join(b.dir(j), findingsName))
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	return report.ReadAnalysis(bufio.NewReaderSize(fh, 1<<20), j.ID)
}

// openTables starts findings.jsonl and findings.parquet, the finding rows
// of all analyses; they replace the old ones only when the run ends.
func (b *runner) openTables() error {
	var err error
	if b.jf, err = atomicfile.Create(filepath.Join(b.o.Out, "findings.jsonl"), 0o644); err != nil {
		return err
	}
	if b.pf, err = atomicfile.Create(filepath.Join(b.o.Out, "findings.parquet"), 0o644); err != nil {
		b.jf.Abort()
		return err
	}
	b.jw = bufio.NewWriterSize(b.jf, 1<<20)
	b.pw = report.NewParquetWriter(b.pf)
	return nil
}

func (b *runner) closeTables() error {
	if err := b.jw.Flush(); err != nil {
		return err
	}
	if err := b.pw.Close(); err != nil {
		return err
	}
	if err := b.jf.Commit(); err != nil {
		return err
	}
	return b.pf.Commit()
}
