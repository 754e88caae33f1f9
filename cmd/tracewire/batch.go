package main

import (
	"context"
	"errors"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/tracewire/tracewire"
	"github.com/tracewire/tracewire/batch"
	prog "github.com/tracewire/tracewire/internal/progress"
)

func init() { subcommands = append(subcommands, newBatchCmd) }

type batchFlags struct {
	s           tracewire.Settings
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
	registerAnalysis(cmd, &f.s, false, true)
	fl := cmd.Flags()
	fl.StringVarP(&f.out, "output", "o", "", "output folder (\"-\": finding rows as JSON Lines on standard output)")
	fl.IntVar(&f.jobs, "jobs", 0, "analyses run in parallel, and CPUs used at most (default: number of CPUs)")
	fl.StringVar(&f.lang, "lang", "en", "language of the reports: en or de")
	fl.StringSliceVar(&f.formats, "format", []string{"html"}, "report formats per analysis: html, md, pdf (comma-separated or repeated; jsonl and parquet rows are always in OUTDIR/findings.*)")
	fl.BoolVar(&f.retryFailed, "retry-failed", false, "run analyses again that failed in an earlier run")
	fl.StringSliceVar(&f.documents, "document", nil, "letters per analysis besides the report: notice, complaint, complaint-informal (each needs a details.yaml beside the input)")
	return cmd
}

func runBatch(ctx context.Context, e *env, dirs []string, f *batchFlags) error {
	if f.out == "" {
		return errors.New("batch: give the output folder with -o (or -o - for JSON Lines on standard output)")
	}
	stream := f.out == "-"
	o := batch.Options{Out: f.out, Jobs: f.jobs, Lang: f.lang, AppID: f.s.AppID, RetryFailed: f.retryFailed}
	if stream {
		o.Out, o.Rows = "", e.stdout
	}
	var err error
	if o.Formats, err = batch.ParseFormats(f.formats); err != nil {
		return err
	}
	if o.Documents, err = batch.ParseDocuments(f.documents); err != nil {
		return err
	}
	if len(o.Documents) > 0 && stream {
		return errors.New("batch: --document writes files; it cannot be used with -o -")
	}
	if len(dirs) == 1 && dirs[0] == "-" {
		if dirs, err = batch.ReadPaths(e.stdin); err != nil {
			return err
		}
		if len(dirs) == 0 {
			return errors.New("batch: no paths on standard input")
		}
	}
	if err := checkLang(f.lang); err != nil {
		return err
	}
	if o.Common, err = f.s.Input(nil); err != nil {
		return err
	}
	if o.Analysis, err = f.s.Options(); err != nil {
		return err
	}
	// --jobs is the run's CPU budget: fewer jobs than CPUs also means fewer
	// threads running Go code, or the garbage collector and the stages'
	// goroutines would spread one job over every core.
	if procs := runtime.GOMAXPROCS(0); f.jobs > 0 && f.jobs < procs {
		defer setProcs(setProcs(f.jobs))
	}
	_, tty := prog.Terminal(e.stderr)
	progress := batch.NewProgress(e.stderr, tty)
	o.Started, o.Ended = progress.Start, progress.Result
	sum, err := batch.Run(ctx, dirs, o)
	progress.Done()
	if err != nil {
		return err // exit status 2, an output that would replace an input included
	}
	sum.WriteText(e.stderr)
	if sum.Count(batch.Failed, batch.FailedBefore) > 0 || sum.Incomplete() > 0 {
		return tracewire.ErrIncomplete
	}
	return nil
}

// setProcs is runtime.GOMAXPROCS, replaced by tests.
var setProcs = runtime.GOMAXPROCS
