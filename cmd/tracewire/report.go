package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tracewire/tracewire"
	"github.com/tracewire/tracewire/internal/filekind"
	prog "github.com/tracewire/tracewire/internal/progress"
	rep "github.com/tracewire/tracewire/report"
)

func init() { subcommands = append(subcommands, newReportCmd) }

type reportFlags struct {
	s        tracewire.Settings
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
	registerAnalysis(cmd, &f.s, true, true)
	fl := cmd.Flags()
	fl.StringVar(&f.findings, "findings", "", "findings file (detect --format json, or a batch findings.json) for IN instead of detecting again")
	fl.StringVar(&f.format, "format", "", "html, md, pdf, jsonl or parquet (default: from -o's extension, else html)")
	fl.StringVar(&f.lang, "lang", "en", "language of the report: en or de")
	fl.StringVar(&f.compare, "compare", "", "an earlier analysis of the same app (findings file, HAR or capture) to compare with")
	fl.BoolVar(&f.compareAny, "compare-any", false, "compare with --compare even when it may be of another app (other app ID, or no host in common); the report says so")
	fl.StringArrayVar(&f.devices, "device-report", nil, "TrackerControl CSV export or iOS App Privacy Report (ndjson) of the user's phone; repeatable")
	fl.StringVarP(&f.out, "output", "o", "-", "output file (\"-\": standard output)")
	fl.IntVar(&f.maxBody, "max-body", 0, "bytes of each request body reproduced in the appendix (default 4 KiB; negative: all)")
	fl.StringVar(&f.document, "document", "report", "report, notice (to the controller), complaint or complaint-informal (to the authority)")
	fl.StringVar(&f.details, "details", "", "details.yaml with what only you know (parties, dates, circumstances); needed for notice and complaints")
	return cmd
}

func runReport(ctx context.Context, e *env, args []string, f *reportFlags) error {
	ins := append(append(append([]string(nil), args...), f.findings, f.compare, f.details), f.devices...)
	if err := checkOutput(f.out, append(ins, f.s.Paths()...)...); err != nil {
		return err
	}
	if err := checkLang(f.lang); err != nil {
		return err
	}
	doc, err := rep.ParseDocument(f.document)
	if err != nil {
		return err
	} else if doc == rep.DocReport && f.details != "" {
		return usageErrorf("--details is for the letters (--document notice, complaint or complaint-informal), not the report")
	}
	var details *rep.Details
	if doc != rep.DocReport {
		// Checked before the analysis: a missing field is found at once.
		if details, err = rep.ReadDetailsFile(f.details, doc); err != nil {
			return err
		}
	}
	format, err := rep.FormatFor(f.format, f.out)
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
	if err := (filekind.ReadsCaptures | filekind.ReadsHAR | filekind.ReadsFindings).CheckFiles("report", displayPath, inputs...); err != nil {
		return err
	}
	opts, err := options(e, &f.s)
	if err != nil {
		return err
	}
	a, err := f.s.Load(ctx, inputs, f.findings, opts)
	var me *tracewire.MismatchError
	if errors.As(err, &me) {
		// Findings of another input would make a report that is wrong
		// without saying so: refused, with what differs.
		names := make([]string, len(me.Inputs))
		for i, p := range me.Inputs {
			names[i] = displayPath(p)
		}
		return refused(e, fmt.Sprintf("the findings file %s does not belong to %s (no report written)", displayPath(me.FindingsFile), strings.Join(names, " ")), me.Differences)
	} else if err != nil {
		return err
	}
	for i := range a.Inputs {
		a.Inputs[i].Path = displayPath(a.Inputs[i].Path)
	}
	ro := rep.Options{Lang: f.lang, DB: opts.DB, MaxBody: f.maxBody, AppID: f.s.AppID}
	if f.compare != "" {
		c, compared, err := f.s.LoadCompared(ctx, f.compare, opts)
		if err != nil {
			return fmt.Errorf("--compare: %w", err)
		}
		if diffs := rep.CompareDifferences(c, a); len(diffs) > 0 && !f.compareAny {
			return refused(e, fmt.Sprintf("--compare %s may be an analysis of another app (no report written; --compare-any compares anyway, and the report says so)", f.compare), diffs)
		}
		ro.Compare, a.Inputs = c, append(a.Inputs, compared...)
	}
	for _, d := range f.devices {
		dr, err := rep.ReadDeviceReportFile(d)
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
	return tracewire.Incomplete(a)
}

// refused says why report wrote nothing, with a line per reason: exit
// status 2.
func refused(e *env, why string, reasons []string) error {
	fmt.Fprintf(e.stderr, "tracewire: report: %s:\n", why)
	for _, d := range reasons {
		fmt.Fprintf(e.stderr, "  - %s\n", d)
	}
	return &exitError{code: exitFailed}
}
