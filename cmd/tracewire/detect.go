package main

import (
	"context"
	"io"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/tracewire/tracewire"
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
	case "json", "jsonl":
	case "table":
		if f.valuesOnly {
			return usageErrorf("--values-only is for --format json or jsonl, not the table")
		}
	default:
		return usageErrorf("--format %q: want json, jsonl or table", f.format)
	}
	if err := checkLang(f.lang); err != nil {
		return err
	}
	if err := checkOutput(f.out, append([]string{in}, f.s.Paths()...)...); err != nil {
		return err
	}
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
	wo := rep.DetectOptions{Format: f.format, ValuesOnly: f.valuesOnly, Lang: f.lang, MaxValueLen: f.maxValueLen, Wide: f.wide}
	// An output that says it is incomplete is kept; one that an error
	// stopped is not.
	return writeOutput(f.out, e.stdout, func(w io.Writer) error {
		return tracewire.DetectTo(ctx, input, opts, wo, tracewire.Streams{In: e.stdin, Out: w, Err: e.stderr})
	})
}
