package main

import (
	"errors"
	"io"

	"github.com/spf13/cobra"

	"github.com/tracewire/tracewire"
	"github.com/tracewire/tracewire/internal/atomicfile"
	prog "github.com/tracewire/tracewire/internal/progress"
	"github.com/tracewire/tracewire/pcap"
)

// The flag groups several commands share, each defined once here and
// bound to the library's tracewire.Settings.

// registerCapture defines the options of every command that reads
// captures.
func registerCapture(cmd *cobra.Command, s *tracewire.Settings) {
	fl := cmd.Flags()
	fl.StringArrayVar(&s.KeyLogs, "keylog", nil, "TLS key log file (SSLKEYLOGFILE format); repeatable")
	fl.StringArrayVar(&s.RSAKeys, "rsa-key", nil, "RSA server private key (PEM) for TLS with RSA key exchange; repeatable")
	fl.Uint16Var(&s.CommunityIDSeed, "community-id-seed", 0, "seed of the Community ID flow hashes")
	fl.Int64Var(&s.FlowBudgetMiB, "flow-budget", pcap.DefaultFlowBudget>>20, "MiB the open connections may hold; past it the longest idle are ended early, marked incomplete, with a warning (negative: no bound)")
}

// registerEnrich defines the options of the enrichment stage (enrich,
// detect, report).
func registerEnrich(cmd *cobra.Command, s *tracewire.Settings) {
	fl := cmd.Flags()
	fl.StringVar(&s.SocketTrace, "socket-trace", "", "PiRogue socket_trace.json: stack traces of the device's socket calls")
	fl.StringVar(&s.Experiment, "experiment", "", "PiRogue experiment.json: names the other files and gives the time shift")
	fl.StringVar(&s.AESInfo, "aes-info", "", "PiRogue aes_info.json: replace bodies the app encrypted by their plaintext")
	fl.StringVar(&s.Provenance, "provenance", "", "provenance log (JSON objects): whose data each request carried")
	fl.StringVar(&s.EBPF, "ebpf", "", "socket events in tracewire's eBPF JSON Lines format (docs/ebpf-socket-events.md)")
	fl.StringVar(&s.TimeShift, "time-shift", "", "seconds (or a duration, e.g. 5h) added to entry times before pairing them with device records (default: from experiment.json)")
	fl.StringVar(&s.RequestWindow, "request-window", "5s,2s", "how long before,after a request a socket send may be")
	fl.StringVar(&s.ResponseWindow, "response-window", "2s,5s", "how long before,after a response a socket receive may be")
	fl.StringVar(&s.ProvenanceWindow, "provenance-window", "10s,2s", "how long before,after a request a provenance event may be")
	fl.StringVar(&s.ProvenanceTimeShift, "provenance-time-shift", "", "seconds (or a duration, e.g. 5h) added to the provenance log's times before pairing (default: estimated from events found in exactly one request)")
}

// registerAnalysis defines the options of an analysis run on the fly
// (detect, report, batch): the capture flags, the enrichment flags with
// withEnrich, --app-id (for device reports) with withAppID, and the
// indicator and adapter flags.
func registerAnalysis(cmd *cobra.Command, s *tracewire.Settings, withEnrich, withAppID bool) {
	registerCapture(cmd, s)
	if withEnrich {
		registerEnrich(cmd, s)
	}
	fl := cmd.Flags()
	if withAppID {
		fl.StringVar(&s.AppID, "app-id", "", "ID (package name or bundle ID) of the analysed app that device reports are filtered by (default: from the HAR's metadata or experiment.json)")
	}
	fl.StringArrayVar(&s.Indicators, "indicator", nil, "known value as property=value (e.g. advertisingId=...); repeatable")
	fl.StringVar(&s.IndicatorFile, "indicators", "", "JSON file of indicators: {\"property\": \"value\" or [values]} or [{\"property\":…, \"value\":…}]")
	fl.BoolVar(&s.IndicatorsEverywhere, "indicators-everywhere", false, "search indicators in every request, also those an adapter handled")
	fl.StringVar(&s.AdapterDir, "adapters", "", "directory of adapter files to use instead of the embedded database")
}

// options are s's analysis options with progress on e's standard error.
func options(e *env, s *tracewire.Settings) (tracewire.Options, error) {
	o, err := s.Options()
	o.Capture.Progress = prog.Capture(e.stderr)
	return o, err
}

// checkOutput refuses an output that is an input, a folder or in a folder
// that does not exist, before any work: exit status 2.
var checkOutput = atomicfile.CheckOutput

// writeOutput writes to path atomically, or to stdout for "-" or "". An
// incomplete output (tracewire.ErrIncomplete) is kept, as on stdout.
func writeOutput(path string, stdout io.Writer, write func(io.Writer) error) error {
	if path == "" || path == "-" {
		return write(stdout)
	}
	fh, err := atomicfile.Create(path, 0o644)
	if err != nil {
		return err
	}
	defer fh.Abort()
	err = write(fh)
	if err != nil && !errors.Is(err, tracewire.ErrIncomplete) {
		return err // no output for a run an error stopped
	}
	if cerr := fh.Commit(); cerr != nil {
		return cerr
	}
	return err
}

// captureOptions are s's options for reading captures alone, with
// progress on e's standard error.
func captureOptions(e *env, s *tracewire.Settings) pcap.Options {
	o := s.CaptureOptions()
	o.Progress = prog.Capture(e.stderr)
	return o
}
