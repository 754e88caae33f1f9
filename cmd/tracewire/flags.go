package main

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/tracewire/tracewire"
	"github.com/tracewire/tracewire/internal/atomicfile"
	prog "github.com/tracewire/tracewire/internal/progress"
	"github.com/tracewire/tracewire/pcap"
)

// The flag groups several commands share, each defined once here.

// captureFlags are the options every command that reads captures takes.
type captureFlags struct {
	keylogs []string
	rsaKeys []string
	seed    uint16
	// flowBudget is pcap.Options.FlowBudget in MiB.
	flowBudget int64
}

func (f *captureFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&f.keylogs, "keylog", nil, "TLS key log file (SSLKEYLOGFILE format); repeatable")
	cmd.Flags().StringArrayVar(&f.rsaKeys, "rsa-key", nil, "RSA server private key (PEM) for TLS with RSA key exchange; repeatable")
	cmd.Flags().Uint16Var(&f.seed, "community-id-seed", 0, "seed of the Community ID flow hashes")
	cmd.Flags().Int64Var(&f.flowBudget, "flow-budget", pcap.DefaultFlowBudget>>20, "MiB the open connections may hold; past it the longest idle are ended early, marked incomplete, with a warning (negative: no bound)")
}

func (f *captureFlags) options(e *env) pcap.Options {
	return pcap.Options{KeyLogFiles: f.keylogs, RSAKeyFiles: f.rsaKeys, CommunityIDSeed: f.seed, FlowBudget: f.flowBudget << 20, Progress: prog.Capture(e.stderr)}
}

// enrichFlags are the options of the enrichment stage (enrich, detect,
// report).
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

// register defines the flags; withEnrich adds the enrichment flags,
// withAppID --app-id (for device reports).
func (f *analysisFlags) register(cmd *cobra.Command, withEnrich, withAppID bool) {
	f.capture.register(cmd)
	if withEnrich {
		f.enrich.register(cmd)
	}
	fl := cmd.Flags()
	if withAppID {
		fl.StringVar(&f.appID, "app-id", "", "ID (package name or bundle ID) of the analysed app that device reports are filtered by (default: from the HAR's metadata or experiment.json)")
	}
	fl.StringArrayVar(&f.indicators, "indicator", nil, "known value as property=value (e.g. advertisingId=...); repeatable")
	fl.StringVar(&f.indFile, "indicators", "", "JSON file of indicators: {\"property\": \"value\" or [values]} or [{\"property\":…, \"value\":…}]")
	fl.BoolVar(&f.everywhere, "indicators-everywhere", false, "search indicators in every request, also those an adapter handled")
	fl.StringVar(&f.adapterDir, "adapters", "", "directory of adapter files to use instead of the embedded database")
}

// settings are the flags as the library takes them.
func (f *analysisFlags) settings() *tracewire.Settings {
	c, e := &f.capture, &f.enrich
	return &tracewire.Settings{
		KeyLogs: c.keylogs, RSAKeys: c.rsaKeys, CommunityIDSeed: c.seed, FlowBudgetMiB: c.flowBudget,
		SocketTrace: e.socketTrace, EBPF: e.ebpf, AESInfo: e.aesInfo, Provenance: e.provenance, Experiment: e.experiment,
		TimeShift: e.timeShift, ProvenanceTimeShift: e.provShift,
		RequestWindow: e.reqWindow, ResponseWindow: e.respWindow, ProvenanceWindow: e.provWindow,
		Indicators: f.indicators, IndicatorFile: f.indFile, IndicatorsEverywhere: f.everywhere, AdapterDir: f.adapterDir,
	}
}

// paths are the files the flags name as inputs (key logs, traces,
// indicators), for the check that no output overwrites one.
func (f *analysisFlags) paths() []string { return f.settings().Paths() }

// input returns the library input for files, with the flags' files.
func (f *analysisFlags) input(files []string) (tracewire.Input, error) {
	return f.settings().Input(files)
}

// options returns the library options of the flags; progress goes to e's
// standard error when e is given.
func (f *analysisFlags) options(e *env) (tracewire.Options, error) {
	o, err := f.settings().Options()
	if e != nil {
		o.Capture.Progress = prog.Capture(e.stderr)
	}
	return o, err
}

// checkOutput refuses an output that is an input, a folder or in a folder
// that does not exist, before any work: exit status 2.
var checkOutput = atomicfile.CheckOutput

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
