package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/tracewire/tracewire"
	"github.com/tracewire/tracewire/adapters"
	"github.com/tracewire/tracewire/internal/atomicfile"
	"github.com/tracewire/tracewire/internal/version"
	rep "github.com/tracewire/tracewire/report"
)

func init() { subcommands = append(subcommands, newBatchCmd) }

type batchFlags struct {
	an          analysisFlags
	out         string
	jobs        int
	lang        string
	formats     []string
	documents   []string
	retryFailed bool
}

func newBatchCmd(e *env) *cobra.Command {
	var f batchFlags
	cmd := &cobra.Command{
		Use:   "batch DIR... -o OUTDIR",
		Short: "Analyse every capture and HAR file under folders, with a report each and tables of all findings",
		Long: `Batch finds captures (pcap, pcapng, gzipped too) and HAR files under the folders
(recursively) and analyses each: convert, enrich, detect, report. A folder with an
experiment.json (PiRogue) is one analysis with all its files; a capture goes with
the files beside it that belong to it (sslkeylog.txt, socket_trace.json,
aes_info.json, provenance.jsonl, <name>.keys, <name>_keylog.dat, <name>.key, ...);
TrackerControl exports and iOS App Privacy Reports in a folder go with its
analyses.

Analyses run in parallel (--jobs, default: the number of CPUs); --jobs N also
caps the CPUs the run uses at N, as make -j does, so that --jobs 1 leaves the
other cores to other work. Each writes to
OUTDIR/<folder>/<path of its input>/: findings.json, report.<format> for each
--format, analysis.har (the converted or enriched HAR; not for a HAR read as is)
and manifest.json with the SHA-256 of every input. A second run skips every
analysis whose inputs, options and tracewire build (version and VCS revision)
are unchanged, including
those that failed (--retry-failed runs them again). OUTDIR/findings.jsonl and
OUTDIR/findings.parquet hold one flat row per finding of all analyses, in the
same order whatever --jobs.

A failing input is reported on one line and does not stop the others; the exit
status is 1 when any analysis failed.

For distributed engines: "-" as DIR reads the paths (files or folders) from
standard input, one per line, and "-o -" writes the finding rows as JSON Lines
to standard output instead of files, so the command runs as a map step
(Spark's RDD.pipe, Hadoop streaming).`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBatch(cmd.Context(), e, args, &f)
		},
	}
	f.an.register(cmd, false)
	fl := cmd.Flags()
	fl.StringVarP(&f.out, "output", "o", "", "output folder (\"-\": finding rows as JSON Lines on standard output)")
	fl.IntVar(&f.jobs, "jobs", 0, "analyses run in parallel, and CPUs used at most (default: number of CPUs)")
	fl.StringVar(&f.lang, "lang", "en", "language of the reports: en or de")
	fl.StringSliceVar(&f.formats, "format", []string{"html"}, "report formats per analysis: html, md, pdf (comma-separated or repeated)")
	fl.BoolVar(&f.retryFailed, "retry-failed", false, "run analyses again that failed in an earlier run")
	fl.StringSliceVar(&f.documents, "document", nil, "letters per analysis besides the report: notice, complaint, complaint-informal (each needs a details.yaml beside the input)")
	return cmd
}

// manifest records an analysis's inputs and options, so a later run can
// tell whether its outputs are still current.
type manifest struct {
	Tool rep.Tool `json:"tool"`
	// Build is the SHA-256 of the tracewire binary when the tool's
	// revision does not name the build alone (unknown, or a tree with
	// uncommitted changes), so a rebuilt binary does not skip analyses
	// another build made.
	Build     string          `json:"build,omitempty"`
	AdapterDB *rep.AdapterDB  `json:"adapterDb,omitempty"`
	Options   string          `json:"options"`
	Inputs    []rep.InputFile `json:"inputs"`
	Devices   []rep.InputFile `json:"deviceReports,omitempty"`
	Status    string          `json:"status"`
	Error     string          `json:"error,omitempty"`
	// Outputs are the analysis's files with their SHA-256, checked before
	// a later run skips the analysis.
	Outputs []outputDigest `json:"outputs,omitempty"`
	// Notes say why an output that was asked for is not there.
	Notes    []string `json:"notes,omitempty"`
	Findings int      `json:"findings"`
	// SkippedEntries counts the entries left out as malformed.
	SkippedEntries int `json:"skippedEntries,omitempty"`
}

type outputDigest struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
}

// Job outcomes.
const (
	jobOK          = "ok"
	jobSkipped     = "skipped"
	jobFailed      = "failed"
	jobFailedAgain = "failed before"
)

type jobResult struct {
	status   string
	err      string
	findings int
	skipped  int // entries left out as malformed
	// warnings are printed when the job ends.
	warnings []string
	rows     []rep.Row // the analysis's finding rows, until written
}

func runBatch(ctx context.Context, e *env, dirs []string, f *batchFlags) error {
	if f.out == "" {
		return errors.New("batch: give the output folder with -o (or -o - for JSON Lines on standard output)")
	}
	stream := f.out == "-"
	var formats []rep.Format
	for _, s := range f.formats {
		for _, x := range strings.Split(s, ",") {
			if x = strings.TrimSpace(x); x == "" {
				continue
			}
			fm, err := rep.ParseFormat(x)
			if err != nil {
				return err
			}
			if fm == rep.JSONL || fm == rep.Parquet {
				continue // written across all analyses anyway
			}
			formats = append(formats, fm)
		}
	}
	var docs []rep.Document
	for _, s := range f.documents {
		for _, x := range strings.Split(s, ",") {
			if x = strings.TrimSpace(x); x == "" {
				continue
			}
			d, err := rep.ParseDocument(x)
			if err != nil {
				return err
			}
			if d != rep.DocReport && !slices.Contains(docs, d) {
				docs = append(docs, d)
			}
		}
	}
	if len(docs) > 0 && stream {
		return errors.New("batch: --document writes files; it cannot be used with -o -")
	}
	if len(dirs) == 1 && dirs[0] == "-" {
		var err error
		if dirs, err = readLines(e.stdin); err != nil {
			return err
		}
		if len(dirs) == 0 {
			return errors.New("batch: no paths on standard input")
		}
	}
	if err := checkLang(f.lang); err != nil {
		return err
	}
	if !stream {
		if err := atomicfile.CheckDir(f.out, dirs...); err != nil {
			return &exitError{code: exitFailed, err: err}
		}
	}
	jobs, err := tracewire.Discover(dirs)
	if err != nil {
		return err
	}
	warnEmptyFolders(e, dirs)
	if !stream {
		jobs = outside(jobs, f.out)
	}
	opts, err := f.an.options(nil)
	if err != nil {
		return err
	}
	// Parallelism is across analyses; each one matches on one goroutine.
	opts.Workers = 1
	db := opts.DB
	info, err := adapterInfo(db)
	if err != nil {
		return err
	}
	n := f.jobs
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	// --jobs is the run's CPU budget: fewer jobs than CPUs also means fewer
	// threads running Go code, or the garbage collector and the stages'
	// goroutines would spread one job over every core.
	if procs := runtime.GOMAXPROCS(0); n < procs {
		defer setProcs(setProcs(n))
	}
	b := &batch{e: e, f: f, opts: opts, formats: formats, docs: docs, stream: stream, db: info, jobs: jobs,
		results: make([]jobResult, len(jobs)), ready: make([]bool, len(jobs)), optKey: optionsKey(f, formats)}
	if !stream {
		b.build = buildDigest()
	}
	if !stream {
		if err := os.MkdirAll(f.out, 0o755); err != nil {
			return err
		}
	}
	b.progress = newBatchProgress(e, len(jobs))
	if !stream {
		if err := b.openTables(); err != nil {
			return err
		}
		defer b.jf.Abort()
		defer b.pf.Abort()
	}
	if err := b.run(ctx, n); err != nil {
		return err
	}
	failed, skipped := 0, 0
	counts := map[string]int{}
	for _, r := range b.results {
		counts[r.status]++
		if r.status == jobFailed || r.status == jobFailedAgain {
			failed++
		}
		if r.skipped > 0 {
			skipped++
		}
	}
	if !stream {
		if err := b.closeTables(); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stderr, "tracewire: batch: %s: %d done, %d skipped (unchanged), %d failed\n",
		plural(len(jobs), "analysis", "analyses"), counts[jobOK], counts[jobSkipped], failed)
	if skipped > 0 {
		fmt.Fprintf(e.stderr, "tracewire: batch: %s left out entries they could not read (see their warnings)\n", plural(skipped, "analysis", "analyses"))
	}
	if failed > 0 || skipped > 0 {
		return &exitError{code: exitIncomplete}
	}
	return nil
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

// setProcs is runtime.GOMAXPROCS, replaced by tests.
var setProcs = runtime.GOMAXPROCS

// outside drops the jobs whose inputs lie in the output folder: a batch
// over "." into ./results must not analyse the HARs of its last run.
func outside(jobs []tracewire.Job, out string) []tracewire.Job {
	abs, err := filepath.Abs(out)
	if err != nil {
		return jobs
	}
	abs = filepath.Clean(abs) + string(filepath.Separator)
	var keep []tracewire.Job
	for _, j := range jobs {
		p := j.Input.Experiment
		if len(j.Input.Files) > 0 {
			p = j.Input.Files[0]
		}
		if a, err := filepath.Abs(p); err == nil && strings.HasPrefix(a, abs) {
			continue
		}
		keep = append(keep, j)
	}
	return keep
}

func readLines(r io.Reader) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			out = append(out, l)
		}
	}
	return out, sc.Err()
}

func adapterInfo(db *adapters.DB) (*rep.AdapterDB, error) {
	embedded := db == nil
	if db == nil {
		var err error
		if db, err = adapters.Default(); err != nil {
			return nil, err
		}
	}
	return tracewire.AdapterDBInfo(db, embedded)
}

// optionsKey digests the options that change an analysis's outputs.
func optionsKey(f *batchFlags, formats []rep.Format) string {
	h := sha256.New()
	fmt.Fprintf(h, "lang=%s\neverywhere=%v\nseed=%d\n", f.lang, f.an.everywhere, f.an.capture.seed)
	if f.an.appID != "" {
		fmt.Fprintf(h, "app-id=%s\n", f.an.appID)
	}
	for _, fm := range formats {
		fmt.Fprintf(h, "format=%s\n", fm)
	}
	for _, d := range f.documents {
		fmt.Fprintf(h, "document=%s\n", d)
	}
	for _, s := range f.an.indicators {
		fmt.Fprintf(h, "indicator=%s\n", s)
	}
	for _, group := range [][]string{f.an.capture.keylogs, f.an.capture.rsaKeys, {f.an.indFile, f.an.adapterDir}} {
		for _, p := range group {
			fmt.Fprintf(h, "file=%s\n", p)
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

type batch struct {
	e        *env
	f        *batchFlags
	opts     tracewire.Options
	formats  []rep.Format
	docs     []rep.Document
	stream   bool
	db       *rep.AdapterDB
	jobs     []tracewire.Job
	results  []jobResult
	optKey   string
	build    string
	progress *batchProgress

	// The tables across all analyses (not with -o -).
	jf, pf *atomicfile.File
	jw     *bufio.Writer
	pw     *rep.ParquetWriter

	mu      sync.Mutex
	ready   []bool
	next    int // the next job whose rows are due
	emitErr error
}

func (b *batch) dir(j *tracewire.Job) string {
	return filepath.Join(b.f.out, filepath.FromSlash(j.ID))
}

func (b *batch) run(ctx context.Context, workers int) error {
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
	b.progress.done()
	if err := ctx.Err(); err != nil {
		return err
	}
	return b.emitErr
}

// finish records a job's result, reports it, and in stream mode writes
// the rows of every job now due, in job order.
func (b *batch) finish(i int, r jobResult) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.results[i] = r
	b.ready[i] = true
	j := &b.jobs[i]
	switch r.status {
	case jobFailed:
		b.progress.line(fmt.Sprintf("tracewire: batch: FAILED %s: %s", j.ID, r.err))
	case jobFailedAgain:
		b.progress.line(fmt.Sprintf("tracewire: batch: FAILED %s (in an earlier run; --retry-failed runs it again): %s", j.ID, r.err))
	default:
		b.progress.log(fmt.Sprintf("tracewire: batch: %s %s (%d findings)", r.status, j.ID, r.findings))
	}
	for _, w := range r.warnings {
		b.progress.line(fmt.Sprintf("tracewire: batch: warning: %s: %s", j.ID, w))
	}
	b.progress.add(r.status)
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

func (b *batch) writeRows(rows []rep.Row) error {
	if b.stream {
		return rep.WriteJSONL(b.e.stdout, rows)
	}
	if err := rep.WriteJSONL(b.jw, rows); err != nil {
		return err
	}
	return b.pw.Write(rows)
}

// one runs or skips one job.
func (b *batch) one(ctx context.Context, j *tracewire.Job) jobResult {
	if j.Err != nil {
		return jobResult{status: jobFailed, err: j.Err.Error()}
	}
	in := j.Input
	inds, err := b.f.an.input(nil)
	if err != nil {
		return jobResult{status: jobFailed, err: err.Error()}
	}
	in.Indicators, in.IndicatorFiles = inds.Indicators, inds.IndicatorFiles
	in.KeyLogs = append(append([]string(nil), in.KeyLogs...), b.f.an.capture.keylogs...)
	in.RSAKeys = append(append([]string(nil), in.RSAKeys...), b.f.an.capture.rsaKeys...)
	if b.stream {
		a, err := tracewire.Analyze(ctx, in, b.opts)
		if err != nil {
			return jobResult{status: jobFailed, err: oneLine(err)}
		}
		// The rows name the path as given, for the engine to join on;
		// the warnings go to standard error, the only place they can.
		return jobResult{status: jobOK, findings: len(a.Findings), skipped: len(a.SkippedEntries), rows: rep.Rows(a), warnings: a.Warnings}
	}
	inputs, err := tracewire.HashInputs(in)
	if err != nil {
		return b.failed(j, nil, nil, err)
	}
	devices, err := hashDevices(j.DeviceReports)
	if err != nil {
		return b.failed(j, inputs, nil, err)
	}
	if len(b.docs) > 0 {
		// The letters' details are an input: a changed file makes them again.
		p := detailsBeside(j)
		df, err := tracewire.HashFile("details", p)
		if err != nil {
			return b.failed(j, inputs, devices, fmt.Errorf("--document %s needs %s beside the input (the parties and dates; see testdata/details.yaml): %w", b.docs[0], p, err))
		}
		inputs = append(inputs, df)
	}
	m := manifest{Tool: rep.ThisTool(), Build: b.build, AdapterDB: b.db, Options: b.optKey, Inputs: inputs, Devices: devices}
	if old, ok := b.readManifest(j); ok && sameRun(old, &m) {
		switch {
		case old.Status == jobOK && b.outputsIntact(j, old):
			// The rows for the tables come from the findings file; one
			// that cannot be read is made again.
			if rows, err := b.readRows(j); err == nil {
				return jobResult{status: jobSkipped, findings: old.Findings, skipped: old.SkippedEntries, rows: rows}
			}
		case old.Status == jobFailed && !b.f.retryFailed:
			return jobResult{status: jobFailedAgain, err: old.Error}
		}
	}
	return b.analyse(ctx, j, in, m)
}

// inputPaths lists every file an input reads.
func inputPaths(in tracewire.Input, more []string) []string {
	var out []string
	for _, l := range [][]string{in.Files, in.KeyLogs, in.RSAKeys, in.SocketTraces, in.EBPFEvents, in.AESInfo, in.Provenance, in.IndicatorFiles, {in.Experiment}, more} {
		out = append(out, l...)
	}
	return out
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ", ")
}

func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

func hashDevices(paths []string) ([]rep.InputFile, error) {
	var out []rep.InputFile
	for _, p := range paths {
		f, err := tracewire.HashFile("deviceReport", p)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

func sameRun(a, b *manifest) bool {
	if a.Tool != b.Tool || a.Build != b.Build || a.Build == "unknown" || a.Options != b.Options || (a.AdapterDB == nil) != (b.AdapterDB == nil) ||
		a.AdapterDB != nil && a.AdapterDB.SHA256 != b.AdapterDB.SHA256 {
		return false
	}
	same := func(x, y []rep.InputFile) bool {
		if len(x) != len(y) {
			return false
		}
		for i := range x {
			if x[i].Role != y[i].Role || x[i].SHA256 != y[i].SHA256 || x[i].Name != y[i].Name {
				return false
			}
		}
		return true
	}
	return same(a.Inputs, b.Inputs) && same(a.Devices, b.Devices)
}

func (b *batch) readManifest(j *tracewire.Job) (*manifest, bool) {
	raw, err := os.ReadFile(filepath.Join(b.dir(j), "manifest.json"))
	if err != nil {
		return nil, false
	}
	var m manifest
	if json.Unmarshal(raw, &m) != nil {
		return nil, false
	}
	return &m, true
}

// outputsIntact reports whether every output the manifest lists is there
// with the content it had when written.
func (b *batch) outputsIntact(j *tracewire.Job, m *manifest) bool {
	for _, o := range m.Outputs {
		f, err := tracewire.HashFile("", filepath.Join(b.dir(j), o.Name))
		if err != nil || f.SHA256 != o.SHA256 {
			return false
		}
	}
	return len(m.Outputs) > 0
}

// writeManifest writes the manifest last, after the outputs it lists;
// unsynced like them (a manifest lost in a crash means the analysis runs
// again).
func (b *batch) writeManifest(j *tracewire.Job, m *manifest) error {
	raw, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return err
	}
	f, err := atomicfile.Create(filepath.Join(b.dir(j), "manifest.json"), 0o644)
	if err != nil {
		return err
	}
	defer f.Abort()
	f.NoSync = true
	if _, err := f.Write(append(raw, '\n')); err != nil {
		return err
	}
	return f.Commit()
}

func (b *batch) failed(j *tracewire.Job, inputs, devices []rep.InputFile, err error) jobResult {
	msg := oneLine(err)
	if len(j.Input.Files) > 0 {
		// The job's ID already says which file.
		msg = strings.TrimPrefix(msg, j.Input.Files[0]+": ")
	}
	if inputs != nil {
		m := manifest{Tool: rep.ThisTool(), Build: b.build, AdapterDB: b.db, Options: b.optKey,
			Inputs: inputs, Devices: devices, Status: jobFailed, Error: msg}
		if os.MkdirAll(b.dir(j), 0o755) == nil {
			_ = b.writeManifest(j, &m)
		}
	}
	return jobResult{status: jobFailed, err: msg}
}

// analyse runs one job and writes its outputs.
func (b *batch) analyse(ctx context.Context, j *tracewire.Job, in tracewire.Input, m manifest) jobResult {
	dir := b.dir(j)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return jobResult{status: jobFailed, err: oneLine(err)}
	}
	// No output may replace an input (a folder of inputs linked into the
	// output folder, say).
	names := []string{"analysis.har", "findings.json", "manifest.json"}
	for _, fm := range b.formats {
		names = append(names, "report"+fm.Ext())
	}
	for _, name := range names {
		if err := atomicfile.CheckOutput(filepath.Join(dir, name), inputPaths(in, j.DeviceReports)...); err != nil {
			return b.failed(j, m.Inputs, m.Devices, err)
		}
	}
	// The HAR is written for captures and enriched HAR files; a HAR read
	// as it is would only be copied.
	writeHAR := len(in.Files) == 0 || !isHARName(in.Files[0]) ||
		len(in.SocketTraces)+len(in.EBPFEvents)+len(in.AESInfo)+len(in.Provenance) > 0
	opts := b.opts
	opts.Hashed = m.Inputs
	var harOut *output
	if writeHAR {
		var err error
		if harOut, err = createOutput(dir, "analysis.har"); err != nil {
			return b.failed(j, m.Inputs, m.Devices, err)
		}
		defer harOut.f.Abort()
		opts.HAR = harOut
	}
	a, err := tracewire.Analyze(ctx, in, opts)
	if err != nil {
		if ctx.Err() != nil {
			return jobResult{status: jobFailed, err: oneLine(err)}
		}
		return b.failed(j, m.Inputs, m.Devices, err)
	}
	if harOut != nil && (isCaptureKind(a) || enriched(a)) {
		if err := harOut.commit(&m); err != nil {
			return b.failed(j, m.Inputs, m.Devices, err)
		}
	}
	write := func(name string, fn func(io.Writer) error) error {
		o, err := createOutput(dir, name)
		if err != nil {
			return err
		}
		defer o.f.Abort()
		if err := fn(o); err != nil {
			return err
		}
		return o.commit(&m)
	}
	ro := rep.Options{Lang: b.f.lang, DB: b.opts.DB, AppID: b.f.an.appID}
	for _, d := range j.DeviceReports {
		dr, err := readDeviceReport(d)
		if err != nil {
			return b.failed(j, m.Inputs, m.Devices, err)
		}
		ro.DeviceReports = append(ro.DeviceReports, dr)
	}
	a.Warnings = append(a.Warnings, rep.DeviceWarnings(a, ro)...)
	if err := write("findings.json", func(w io.Writer) error { return a.WriteJSON(w) }); err != nil {
		return b.failed(j, m.Inputs, m.Devices, err)
	}
	for _, fm := range b.formats {
		if err := write("report"+fm.Ext(), func(w io.Writer) error { return rep.Write(w, fm, a, ro) }); err != nil {
			return b.failed(j, m.Inputs, m.Devices, err)
		}
	}
	for _, doc := range b.docs {
		if len(a.Findings) == 0 {
			// Refused, not failed: the analysis is complete, and the
			// manifest says why there is no letter.
			m.Notes = append(m.Notes, fmt.Sprintf("no %s: %v", doc, rep.ErrNoFindings))
			continue
		}
		d, err := readDetails(detailsBeside(j), doc)
		if err != nil {
			return b.failed(j, m.Inputs, m.Devices, err)
		}
		for _, fm := range b.formats {
			if err := write(string(doc)+fm.Ext(), func(w io.Writer) error { return rep.WriteDocument(w, fm, doc, a, d, ro) }); err != nil {
				return b.failed(j, m.Inputs, m.Devices, err)
			}
		}
	}
	m.Status, m.Findings, m.SkippedEntries = jobOK, len(a.Findings), len(a.SkippedEntries)
	if err := b.writeManifest(j, &m); err != nil {
		return jobResult{status: jobFailed, err: oneLine(err)}
	}
	r := jobResult{status: jobOK, findings: len(a.Findings), skipped: len(a.SkippedEntries), rows: jobRows(j, a)}
	if len(a.SkippedEntries) > 0 {
		// Named here too: the findings do not cover these entries.
		r.warnings = []string{fmt.Sprintf("entries %s skipped as malformed (see the report's methodology)", joinInts(a.SkippedEntries))}
	}
	return r
}

// output is a file of one analysis, written atomically and hashed as it
// is written. It is not synced: the manifest records its SHA-256 and a
// later run checks it before trusting the file, so after a crash a file
// that did not reach the disk is made again, at the cost of no sync per
// file (syncs do not run in parallel on most disks, and a batch writes
// four files per analysis).
type output struct {
	f    *atomicfile.File
	h    hash.Hash
	w    *bufio.Writer
	name string
}

func createOutput(dir, name string) (*output, error) {
	f, err := atomicfile.Create(filepath.Join(dir, name), 0o644)
	if err != nil {
		return nil, err
	}
	f.NoSync = true
	o := &output{f: f, h: sha256.New(), name: name}
	o.w = bufio.NewWriterSize(io.MultiWriter(f, o.h), 256<<10)
	return o, nil
}

func (o *output) Write(p []byte) (int, error) { return o.w.Write(p) }

// commit renames the file into place and records it in the manifest.
func (o *output) commit(m *manifest) error {
	if err := o.w.Flush(); err != nil {
		return err
	}
	if err := o.f.Commit(); err != nil {
		return err
	}
	m.Outputs = append(m.Outputs, outputDigest{Name: o.name, SHA256: hex.EncodeToString(o.h.Sum(nil))})
	return nil
}

func isHARName(p string) bool { return strings.HasSuffix(strings.ToLower(p), ".har") }

func isCaptureKind(a *tracewire.Analysis) bool { return a.Capture != nil }

func enriched(a *tracewire.Analysis) bool { return a.Enrichment != nil }

// jobRows are the finding rows of a job's analysis, named by the job.
func jobRows(j *tracewire.Job, a *tracewire.Analysis) []rep.Row {
	rows := rep.Rows(a)
	for k := range rows {
		rows[k].InputFile = j.ID
	}
	return rows
}

// readRows reads the rows of an analysis made by an earlier run.
func (b *batch) readRows(j *tracewire.Job) ([]rep.Row, error) {
	fh, err := os.Open(filepath.Join(b.dir(j), "findings.json"))
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	a, err := rep.ReadAnalysis(bufio.NewReaderSize(fh, 1<<20), j.ID)
	if err != nil {
		return nil, err
	}
	return jobRows(j, a), nil
}

// openTables starts findings.jsonl and findings.parquet, the finding rows
// of all analyses; they replace the old ones only when the run ends.
func (b *batch) openTables() error {
	var err error
	if b.jf, err = atomicfile.Create(filepath.Join(b.f.out, "findings.jsonl"), 0o644); err != nil {
		return err
	}
	if b.pf, err = atomicfile.Create(filepath.Join(b.f.out, "findings.parquet"), 0o644); err != nil {
		b.jf.Abort()
		return err
	}
	b.jw = bufio.NewWriterSize(b.jf, 1<<20)
	b.pw = rep.NewParquetWriter(b.pf)
	return nil
}

func (b *batch) closeTables() error {
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

// batchProgress shows a progress bar with counts and an estimate of the
// time left on a terminal, and plain log lines otherwise.
type batchProgress struct {
	w      io.Writer
	tty    bool
	total  int
	n      int
	counts map[string]int
	start  time.Time
	shown  bool
}

func newBatchProgress(e *env, total int) *batchProgress {
	p := &batchProgress{w: e.stderr, total: total, counts: map[string]int{}, start: time.Now()}
	if f, ok := e.stderr.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

// line prints a line that must be seen (a failure), above the bar.
func (p *batchProgress) line(s string) {
	if p.tty && p.shown {
		fmt.Fprint(p.w, "\r\033[K")
	}
	fmt.Fprintln(p.w, s)
	p.draw()
}

// log prints a routine line, only when there is no bar.
func (p *batchProgress) log(s string) {
	if !p.tty {
		fmt.Fprintln(p.w, s)
	}
}

func (p *batchProgress) add(status string) {
	p.n++
	p.counts[status]++
	p.draw()
}

func (p *batchProgress) draw() {
	if !p.tty || p.total == 0 {
		return
	}
	const width = 30
	filled := width * p.n / p.total
	eta := ""
	if p.n > 0 && p.n < p.total {
		// Wall-clock time only paces the display; it never reaches output.
		left := time.Since(p.start) / time.Duration(p.n) * time.Duration(p.total-p.n)
		eta = " ETA " + left.Round(time.Second).String()
	}
	fmt.Fprintf(p.w, "\r\033[K[%s%s] %d/%d  done %d  skipped %d  failed %d%s",
		strings.Repeat("#", filled), strings.Repeat(".", width-filled), p.n, p.total,
		p.counts[jobOK], p.counts[jobSkipped], p.counts[jobFailed]+p.counts[jobFailedAgain], eta)
	p.shown = true
}

func (p *batchProgress) done() {
	if p.tty && p.shown {
		fmt.Fprintln(p.w)
	}
}

// detailsBeside is the details.yaml in the folder of a job's main input.
func detailsBeside(j *tracewire.Job) string {
	if len(j.Input.Files) == 0 {
		return "details.yaml"
	}
	return filepath.Join(filepath.Dir(j.Input.Files[0]), "details.yaml")
}

// plural writes a count with the noun's singular or plural.
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// warnEmptyFolders says which folders given hold nothing to analyse: a
// mistyped or unmounted path would otherwise look like a clean run.
func warnEmptyFolders(e *env, dirs []string) {
	for _, d := range dirs {
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			continue
		}
		if js, err := tracewire.Discover([]string{d}); err == nil && len(js) == 0 {
			fmt.Fprintf(e.stderr, "tracewire: warning: batch: %s holds no capture, HAR file or experiment folder\n", d)
		}
	}
}
