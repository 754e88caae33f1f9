package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tracewire/tracewire"
	"github.com/tracewire/tracewire/enrich"
	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/internal/atomicfile"
	"github.com/tracewire/tracewire/internal/filekind"
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

// enrichSetup is what the flags and an experiment folder resolve to.
type enrichSetup struct {
	// input is the capture or HAR to enrich.
	input string
	// keylogs found in the experiment (sslkeylog.txt).
	keylogs []string
	// enrichers in the order they run.
	enrichers []enrich.Enricher
	// sources describes the trace files for the HAR log's _enrichment.
	sources []any
	// indicators are the owner IDs of the provenance log.
	indicators []enrich.Indicator
	// traces are the trace files read (from the flags or the experiment).
	traces []string
}

// build reads the trace files. in is the input argument: a capture, a HAR
// or an experiment folder.
func (f *enrichFlags) build(in string) (*enrichSetup, error) {
	s := &enrichSetup{input: in}
	var x *enrich.Experiment
	if st, err := os.Stat(in); err == nil && st.IsDir() {
		if x, err = enrich.FindExperiment(in); err != nil {
			return nil, err
		}
		s.input = x.Capture
	}
	if f.experiment != "" {
		var err error
		if x, err = enrich.ReadExperiment(f.experiment); err != nil {
			return nil, err
		}
	}
	socketTrace, aesInfo, ebpf := f.socketTrace, f.aesInfo, f.ebpf
	opts := enrich.DefaultCorrelation()
	if x != nil {
		if socketTrace == "" {
			socketTrace = existing(x.SocketTrace)
		}
		if aesInfo == "" {
			aesInfo = existing(x.AESInfo)
		}
		if ebpf == "" {
			ebpf = existing(x.EBPFEvents)
		}
		if k := existing(x.SSLKeyLog); k != "" {
			s.keylogs = append(s.keylogs, k)
		}
		if x.HasTimeShift {
			opts.TimeShift = x.TimeShift
		}
	}
	if f.timeShift != "" {
		d, err := parseSeconds(f.timeShift)
		if err != nil {
			return nil, fmt.Errorf("--time-shift %q: %w", f.timeShift, err)
		}
		opts.TimeShift = d
	}
	var err error
	if opts.Request, err = parseWindow(f.reqWindow); err != nil {
		return nil, fmt.Errorf("--request-window: %w", err)
	}
	if opts.Response, err = parseWindow(f.respWindow); err != nil {
		return nil, fmt.Errorf("--response-window: %w", err)
	}
	provOpts, err := f.provenanceOptions()
	if err != nil {
		return nil, err
	}

	s.traces = []string{socketTrace, aesInfo}
	s.enrichers = append(s.enrichers, enrich.Ptcpdump())
	if socketTrace != "" {
		tr, err := readTrace(socketTrace, enrich.ReadPiRogueSocketTrace)
		if err != nil {
			return nil, err
		}
		s.add(enrich.PiRogueSocketTraceName, &tr.Stats, tr.Enricher(opts))
	}
	if ebpf != "" {
		tr, err := readTrace(ebpf, enrich.ReadEBPFEvents)
		if err != nil {
			return nil, err
		}
		s.add(enrich.EBPFEventsName, &tr.Stats, tr.Enricher(opts))
	}
	if aesInfo != "" {
		a, err := readTrace(aesInfo, enrich.ReadAESInfo)
		if err != nil {
			return nil, err
		}
		s.add(enrich.AESInfoName, &a.Stats, a.Enricher())
	}
	if f.provenance != "" {
		p, err := readTrace(f.provenance, enrich.ReadProvenance)
		if err != nil {
			return nil, err
		}
		s.add(enrich.ProvenanceName, &p.Stats, p.Enricher(provOpts))
		s.indicators = p.Indicators()
	}
	return s, nil
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

func (s *enrichSetup) add(source string, st *enrich.ReadStats, en enrich.Enricher) {
	s.enrichers = append(s.enrichers, en)
	s.sources = append(s.sources, map[string]any{
		"source": source, "file": st.File, "sha256": st.SHA256,
		"records": int64(st.Records), "used": int64(st.Used),
	})
}

// readTrace opens a trace file and reads it with read, naming it by its
// base name so messages and output do not depend on where it lies.
func readTrace[T any](path string, read func(io.Reader, string) (T, error)) (T, error) {
	var zero T
	fh, err := os.Open(path)
	if err != nil {
		return zero, err
	}
	defer fh.Close()
	v, err := read(fh, filepath.Base(path))
	if err != nil {
		var ie *enrich.InputError
		if errors.As(err, &ie) && filepath.Base(path) != path {
			return zero, fmt.Errorf("%s: %w", filepath.Dir(path), err)
		}
		return zero, err
	}
	return v, nil
}

func existing(p string) string {
	if p == "" {
		return ""
	}
	if st, err := os.Stat(p); err != nil || st.IsDir() {
		return ""
	}
	return p
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
	ins := append(append([]string{in, f.socketTrace, f.experiment, f.aesInfo, f.provenance, f.ebpf}, cf.keylogs...), cf.rsaKeys...)
	if err := checkOutput(out, ins...); err != nil {
		return err
	}
	setup, err := f.build(in)
	if err != nil {
		return err
	}
	// The files an experiment names (checked above when the input is its
	// folder, not when --experiment names them).
	if err := checkOutput(out, append(append([]string{setup.input}, setup.keylogs...), setup.traces...)...); err != nil {
		return err
	}
	inputs, cleanup, err := stdinInputs(e, []string{setup.input})
	if err != nil {
		return err
	}
	defer cleanup()
	path := inputs[0]

	// A capture is converted into a temporary HAR first: pairing socket
	// operations one to one reads the entries twice.
	capture, err := sniffCapture(path)
	if err != nil {
		return err
	}
	if capture {
		dir, err := os.MkdirTemp("", "tracewire-enrich-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		spool := filepath.Join(dir, "converted.har")
		opts := cf.options(e)
		opts.KeyLogFiles = append(opts.KeyLogFiles, setup.keylogs...)
		opts.TempDir = dir
		sum, err := convertTo(ctx, spool, nil, inputs, opts, nil)
		report(e, sum, true)
		if err != nil {
			return err
		}
		path = spool
	}

	src := &enrich.HARFile{Path: path}
	var wopts []har.WriterOption
	if indent {
		wopts = append(wopts, har.Indented())
	}
	var w *har.Writer
	// The written log starts as the input's head (what came before its
	// entries, fixed when they began) and gets the rest at the end: the
	// reader, ahead on another goroutine, changes its own log meanwhile.
	var outLog har.Log
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
	p := &enrich.Pipeline{Enrichers: setup.enrichers, Progress: enrichProgress(e)}
	sum, err := p.Run(ctx, src, func(en *har.Entry) error {
		if w == nil {
			outLog = *src.Head()
			w = har.NewWriter(bw, &outLog, wopts...)
		}
		return w.Write(en)
	})
	if p.Progress != nil {
		fmt.Fprintln(e.stderr)
	}
	if err != nil {
		if sum != nil {
			sum.WriteText(e.stderr)
		}
		return err
	}
	log := src.Log()
	if len(setup.sources) > 0 {
		log.Extra.Set("_enrichment", setup.sources)
	}
	if w == nil {
		outLog = *log
		w = har.NewWriter(bw, &outLog, wopts...)
	}
	// What came after the entries is known now that the reading ended.
	outLog.Comment, outLog.Extra = log.Comment, log.Extra
	if outLog.Browser == nil {
		outLog.Browser = log.Browser
	}
	if len(outLog.Pages) == 0 {
		outLog.Pages = log.Pages
	}
	if err := w.Close(); err != nil {
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
	for _, wn := range src.Warnings() {
		msg := wn.String()
		if wn.Skipped {
			msg, skipped = tracewire.SkippedWarning(wn.Entry, wn.Msg), true
		}
		fmt.Fprintln(e.stderr, "tracewire: warning:", msg)
	}
	if err := sum.WriteText(e.stderr); err != nil {
		return err
	}
	if skipped {
		return &exitError{code: exitIncomplete}
	}
	return nil
}

// sniffCapture tells a capture from a HAR by its first bytes, and
// refuses what is neither.
func sniffCapture(path string) (bool, error) {
	info, err := filekind.SniffFile(path)
	if err != nil {
		return false, err
	}
	return info.Capture(), kindError("enrich", readsCaptures|readsHAR, displayPath(path), info)
}

// enrichProgress shows the passes on stderr when it is a terminal.
func enrichProgress(e *env) func(pass, n int) {
	fh, ok := e.stderr.(*os.File)
	if !ok {
		return nil
	}
	if st, err := fh.Stat(); err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	return func(pass, n int) {
		what := "reading entries"
		if pass == 2 {
			what = "enriching entries"
		}
		fmt.Fprintf(fh, "\r\033[K%s: %d", what, n)
	}
}
