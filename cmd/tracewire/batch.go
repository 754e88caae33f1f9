package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tracewire/tracewire/batch"
	"github.com/tracewire/tracewire/internal/atomicfile"
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
those that failed (--retry-failed runs them again); when only --format changed,
it renders the reports again from the stored findings.json, and removes reports
of formats no longer asked for. OUTDIR/findings.jsonl and
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

func runBatch(ctx context.Context, e *env, dirs []string, f *batchFlags) error {
	if f.out == "" {
		return errors.New("batch: give the output folder with -o (or -o - for JSON Lines on standard output)")
	}
	stream := f.out == "-"
	o := batch.Options{Out: f.out, Jobs: f.jobs, Lang: f.lang, AppID: f.an.appID, RetryFailed: f.retryFailed}
	if stream {
		o.Out, o.Rows = "", e.stdout
	}
	for _, s := range f.formats {
		for _, x := range strings.Split(s, ",") {
			if x = strings.TrimSpace(x); x == "" {
				continue
			}
			fm, err := rep.ParseFormat(x)
			if err != nil {
				return err
			}
			o.Formats = append(o.Formats, fm)
		}
	}
	for _, s := range f.documents {
		for _, x := range strings.Split(s, ",") {
			if x = strings.TrimSpace(x); x == "" {
				continue
			}
			d, err := rep.ParseDocument(x)
			if err != nil {
				return err
			}
			if d != rep.DocReport && !slices.Contains(o.Documents, d) {
				o.Documents = append(o.Documents, d)
			}
		}
	}
	if len(o.Documents) > 0 && stream {
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
	var err error
	if o.Common, err = f.an.input(nil); err != nil {
		return err
	}
	if o.Analysis, err = f.an.options(nil); err != nil {
		return err
	}
	// --jobs is the run's CPU budget: fewer jobs than CPUs also means fewer
	// threads running Go code, or the garbage collector and the stages'
	// goroutines would spread one job over every core.
	if procs := runtime.GOMAXPROCS(0); f.jobs > 0 && f.jobs < procs {
		defer setProcs(setProcs(f.jobs))
	}
	var progress *batchProgress
	o.Started = func(n int, empty []string) {
		for _, d := range empty {
			fmt.Fprintf(e.stderr, "tracewire: warning: batch: %s holds no capture, HAR file or experiment folder\n", d)
		}
		progress = newBatchProgress(e, n)
	}
	o.Ended = func(r batch.Result) { progress.result(r) }
	sum, err := batch.Run(ctx, dirs, o)
	if progress != nil {
		progress.done()
	}
	if err != nil {
		var oe *atomicfile.OutputError
		if errors.As(err, &oe) {
			return &exitError{code: exitFailed, err: err}
		}
		return err
	}
	failed, incomplete := sum.Count(batch.Failed, batch.FailedBefore), sum.Incomplete()
	line := fmt.Sprintf("tracewire: batch: %s: %d done", plural(len(sum.Results), "analysis", "analyses"), sum.Count(batch.OK))
	if n := sum.Count(batch.Rendered); n > 0 {
		line += fmt.Sprintf(", %d reports rendered again (analysis unchanged)", n)
	}
	fmt.Fprintf(e.stderr, "%s, %d skipped (unchanged), %d failed\n", line, sum.Count(batch.Skipped), failed)
	if incomplete > 0 {
		fmt.Fprintf(e.stderr, "tracewire: batch: input not read whole in %s: entries left out or a capture cut short (see the warnings)\n", plural(incomplete, "analysis", "analyses"))
	}
	if failed > 0 || incomplete > 0 {
		return &exitError{code: exitIncomplete}
	}
	return nil
}

// setProcs is runtime.GOMAXPROCS, replaced by tests.
var setProcs = runtime.GOMAXPROCS

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

// batchProgress shows a progress bar with counts and an estimate of the
// time left on a terminal, and plain log lines otherwise.
type batchProgress struct {
	w      io.Writer
	tty    bool
	total  int
	n      int
	counts map[batch.Status]int
	start  time.Time
	shown  bool
}

func newBatchProgress(e *env, total int) *batchProgress {
	p := &batchProgress{w: e.stderr, total: total, counts: map[batch.Status]int{}, start: time.Now()}
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

// result reports an analysis that ended.
func (p *batchProgress) result(r batch.Result) {
	switch r.Status {
	case batch.Failed:
		p.line(fmt.Sprintf("tracewire: batch: FAILED %s: %s", r.ID, r.Err))
	case batch.FailedBefore:
		p.line(fmt.Sprintf("tracewire: batch: FAILED %s (in an earlier run; --retry-failed runs it again): %s", r.ID, r.Err))
	default:
		p.log(fmt.Sprintf("tracewire: batch: %s %s (%d findings)", r.Status, r.ID, r.Findings))
	}
	for _, w := range r.Warnings {
		p.line(fmt.Sprintf("tracewire: batch: warning: %s: %s", r.ID, w))
	}
	p.add(r.Status)
}

func (p *batchProgress) add(status batch.Status) {
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
		p.counts[batch.OK]+p.counts[batch.Rendered], p.counts[batch.Skipped], p.counts[batch.Failed]+p.counts[batch.FailedBefore], eta)
	p.shown = true
}

func (p *batchProgress) done() {
	if p.tty && p.shown {
		fmt.Fprintln(p.w)
	}
}

// plural writes a count with the noun's singular or plural.
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
