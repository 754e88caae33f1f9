package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tracewire/tracewire"
	"github.com/tracewire/tracewire/enrich"
	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/internal/atomicfile"
	prog "github.com/tracewire/tracewire/internal/progress"
)

func init() { subcommands = append(subcommands, newEnrichCmd) }

// enrichFlags are the options of the enrichment stage; detect can register
// and use the same ones.
type enrichFlags struct {
	socketTrace, experiment, aesInfo, provenance, ebpf string
	timeShift, provShift                               string
	reqWindow, respWindow, provWindow                  string
}

func (f *enrichFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.socketTrace, "socket-trace", "", "PiRogue socket_trace.json: stack traces of the device's socket calls")
	fl.StringVar(&f.experiment, "experiment", "", "PiRogue experiment.json: names the other files and gives the time shift")
	fl.StringVar(&f.aesInfo, "aes-info", "", "PiRogue aes_info.json: replace bodies the app encrypted by their plaintext")
	fl.StringVar(&f.provenance, "provenance", "", "provenance log (JSON objects): whose data each request carried")
	fl.StringVar(&f.ebpf, "ebpf", "", "socket events in tracewire's eBPF JSON Lines format (docs/ebpf-socket-events.md)")
	fl.StringVar(&f.timeShift, "time-shift", "", "seconds added to entry times before pairing them with device records (default: from experiment.json)")
	fl.StringVar(&f.reqWindow, "request-window", "5s,2s", "how long before,after a request a socket send may be")
	fl.StringVar(&f.respWindow, "response-window", "2s,5s", "how long before,after a response a socket receive may be")
	fl.StringVar(&f.provWindow, "provenance-window", "10s,2s", "how long before,after a request a provenance event may be")
	fl.StringVar(&f.provShift, "provenance-time-shift", "", "seconds added to the provenance log's times before pairing (default: estimated from events found in exactly one request)")
}

// provenanceOptions reads --provenance-window and --provenance-time-shift.
func (f *enrichFlags) provenanceOptions() (enrich.ProvenanceOptions, error) {
	o := enrich.DefaultProvenanceOptions()
	if f.provWindow != "" {
		w, err := parseWindow(f.provWindow)
		if err != nil {
			return o, fmt.Errorf("--provenance-window: %w", err)
		}
		o.Window = w
	}
	if f.provShift != "" {
		d, err := parseSeconds(f.provShift)
		if err != nil {
			return o, fmt.Errorf("--provenance-time-shift %q: %w", f.provShift, err)
		}
		o.TimeShift = &d
	}
	return o, nil
}

// parseSeconds reads "1.5", "-30" (seconds) or a Go duration ("-1m30s").
func parseSeconds(s string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if f > 1e9 || f < -1e9 {
			return 0, fmt.Errorf("out of range")
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	return time.ParseDuration(s)
}

// parseWindow reads "BEFORE,AFTER", each in seconds or as a duration.
func parseWindow(s string) (enrich.Window, error) {
	a, b, ok := strings.Cut(s, ",")
	if !ok {
		return enrich.Window{}, fmt.Errorf("%q: want BEFORE,AFTER, e.g. 5s,2s", s)
	}
	before, err := parseSeconds(strings.TrimSpace(a))
	if err != nil {
		return enrich.Window{}, fmt.Errorf("%q: %w", s, err)
	}
	after, err := parseSeconds(strings.TrimSpace(b))
	if err != nil {
		return enrich.Window{}, fmt.Errorf("%q: %w", s, err)
	}
	if before < 0 || after < 0 {
		return enrich.Window{}, fmt.Errorf("%q: durations must not be negative", s)
	}
	return enrich.Window{Before: before, After: after}, nil
}

func newEnrichCmd(e *env) *cobra.Command {
	var (
		f      enrichFlags
		cf     captureFlags
		out    string
		indent bool
	)
	cmd := &cobra.Command{
		Use:   "enrich IN.har|IN.pcap|IN.pcapng|DIR",
		Short: "Attach stack traces, process info, decrypted bodies and data owners to HAR entries",
		Long: `Enrich adds to each HTTP exchange what was recorded outside the network:

  --socket-trace  PiRogue's socket_trace.json: the stack trace of the socket call
                  that sent the request (request._stacktrace) and received the
                  response (response._stacktrace), paired by the flow's Community ID
                  and time, with the field names of PiRogue's pcapng-utils
  --ebpf          the same from an eBPF collector (docs/ebpf-socket-events.md)
  --aes-info      PiRogue's aes_info.json: bodies the app encrypted itself are
                  replaced by their plaintext; the original stays in _decryption
  --provenance    a backend's provenance log: whose data each request carried
                  (_owners, _provenance); a log whose clock is off by a time
                  zone is shifted when the events found in exactly one request
                  agree on the offset (--provenance-time-shift sets it by hand)
  ptcpdump's per-packet process comments in pcapng captures become _process.

The stages run as detect, report and batch run them (tracewire.Enrich is
tracewire.Analyze without detection): decryption first, so the other stages
see the plaintext detection sees, then stack traces, process comments and
provenance.

IN is a HAR, a capture (converted first; TLS decrypted with --keylog and the
secrets embedded in pcapng) or a PiRogue experiment folder, in which the capture,
socket_trace.json, aes_info.json and sslkeylog.txt are found by experiment.json or
their usual names. Entry times are shifted by --time-shift seconds (by default
experiment.json's (device start - network start) / 1000) before pairing. The HAR
goes to -o (standard output by default); a summary of what was paired and what
was not goes to standard error.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runEnrich(cmd.Context(), e, args[0], out, indent, &f, &cf)
		},
	}
	f.register(cmd)
	cf.register(cmd)
	cmd.Flags().StringVarP(&out, "output", "o", "", "write the HAR to this file (default: standard output)")
	cmd.Flags().BoolVar(&indent, "indent", false, "indent the JSON")
	return cmd
}

func runEnrich(ctx context.Context, e *env, in, out string, indent bool, f *enrichFlags, cf *captureFlags) error {
	an := analysisFlags{capture: *cf, enrich: *f}
	if err := checkOutput(out, append([]string{in}, an.paths()...)...); err != nil {
		return err
	}
	inputs, cleanup, err := stdinInputs(e, []string{in})
	if err != nil {
		return err
	}
	defer cleanup()
	input, err := an.input(inputs)
	if err != nil {
		return err
	}
	// The files an experiment names (checked above when the input is its
	// folder, not when --experiment names them).
	if all, err := tracewire.ResolveInput(input); err == nil {
		if err := checkOutput(out, tracewire.InputPaths(all)...); err != nil {
			return err
		}
		if err := checkInputs("enrich", readsCaptures|readsHAR, all.Files...); err != nil {
			return err
		}
	}
	opts, err := an.options(e)
	if err != nil {
		return err
	}
	opts.EnrichProgress = prog.Enrich(e.stderr)
	if indent {
		opts.HARWriterOptions = append(opts.HARWriterOptions, har.Indented())
	}
	var sink io.Writer = e.stdout
	var af *atomicfile.File
	if out != "" && out != "-" {
		if af, err = atomicfile.Create(out, 0o644); err != nil {
			return err
		}
		defer af.Abort()
		sink = af
	}
	bw := bufio.NewWriterSize(sink, 256<<10)
	opts.HAR = bw
	res, err := tracewire.Enrich(ctx, input, opts)
	if opts.EnrichProgress != nil {
		fmt.Fprintln(e.stderr)
	}
	if res != nil {
		report(e, res.Capture, true)
	}
	if err != nil {
		if res != nil && res.Enrichment != nil {
			res.Enrichment.WriteText(e.stderr)
		}
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if af != nil {
		if err := af.Commit(); err != nil {
			return err
		}
	}
	skipped := false
	for _, wn := range res.Warnings {
		msg := wn.String()
		if wn.Skipped {
			msg, skipped = tracewire.SkippedWarning(wn.Entry, wn.Msg), true
		}
		fmt.Fprintln(e.stderr, "tracewire: warning:", msg)
	}
	if err := res.Enrichment.WriteText(e.stderr); err != nil {
		return err
	}
	if skipped {
		return &exitError{code: exitIncomplete}
	}
	return truncated(res.Capture)
}
