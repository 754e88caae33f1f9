package tracewire

import (
	"fmt"
	"os"

	"github.com/tracewire/tracewire/adapters"
	"github.com/tracewire/tracewire/enrich"
	"github.com/tracewire/tracewire/match"
	"github.com/tracewire/tracewire/pcap"
)

// Settings are an analysis's inputs and options as text, the way the
// command line gives them (its flag names appear in errors): Input and
// Options parse them. Empty fields mean the defaults.
type Settings struct {
	// KeyLogs, RSAKeys, SocketTrace, EBPF, AESInfo, Provenance,
	// Experiment and IndicatorFile are paths, as in Input.
	KeyLogs, RSAKeys                                   []string
	SocketTrace, EBPF, AESInfo, Provenance, Experiment string
	IndicatorFile                                      string
	// Indicators are "property=value" (match.ParseIndicator).
	Indicators []string
	// TimeShift and ProvenanceTimeShift are seconds or durations
	// (ParseSeconds); the windows are "BEFORE,AFTER" (ParseWindow).
	TimeShift, ProvenanceTimeShift                  string
	RequestWindow, ResponseWindow, ProvenanceWindow string
	// AdapterDir is a folder of adapter files replacing the embedded
	// database.
	AdapterDir           string
	IndicatorsEverywhere bool
	CommunityIDSeed      uint16
	// FlowBudgetMiB is Options.Capture.FlowBudget in MiB.
	FlowBudgetMiB int64
	// AppID is the analysed app's ID that device reports are filtered by
	// (report.Options.AppID).
	AppID string
}

// CaptureOptions are s's options for reading captures alone (convert,
// flows): key files, Community ID seed and flow budget.
func (s *Settings) CaptureOptions() pcap.Options {
	return pcap.Options{KeyLogFiles: s.KeyLogs, RSAKeyFiles: s.RSAKeys, CommunityIDSeed: s.CommunityIDSeed, FlowBudget: s.FlowBudgetMiB << 20}
}

// Paths are the files s names besides the captures or HAR (key files,
// traces, indicators), for the check that no output replaces one.
func (s *Settings) Paths() []string {
	out := append(append([]string(nil), s.KeyLogs...), s.RSAKeys...)
	return append(out, s.IndicatorFile, s.SocketTrace, s.Experiment, s.AESInfo, s.Provenance, s.EBPF)
}

// Input is the input of an analysis of files with s's key, trace and
// indicator files. One folder as files is a PiRogue experiment folder,
// which names its own files.
func (s *Settings) Input(files []string) (Input, error) {
	in := Input{Files: files, KeyLogs: s.KeyLogs, RSAKeys: s.RSAKeys, Experiment: s.Experiment}
	for _, x := range s.Indicators {
		ind, err := match.ParseIndicator(x)
		if err != nil {
			return in, err
		}
		in.Indicators = append(in.Indicators, ind)
	}
	for _, x := range []struct {
		list *[]string
		path string
	}{{&in.IndicatorFiles, s.IndicatorFile}, {&in.SocketTraces, s.SocketTrace}, {&in.EBPFEvents, s.EBPF}, {&in.AESInfo, s.AESInfo}, {&in.Provenance, s.Provenance}} {
		if x.path != "" {
			*x.list = append(*x.list, x.path)
		}
	}
	if len(files) == 1 {
		if st, err := os.Stat(files[0]); err == nil && st.IsDir() {
			in.Files, in.Experiment = nil, files[0]
		}
	}
	if s.TimeShift != "" {
		d, err := ParseSeconds(s.TimeShift)
		if err != nil {
			return in, fmt.Errorf("--time-shift %q: %w", s.TimeShift, err)
		}
		in.TimeShift = &d
	}
	return in, nil
}

// Options are the analysis options of s (the adapter database loaded).
func (s *Settings) Options() (o Options, err error) {
	o = Options{IndicatorsEverywhere: s.IndicatorsEverywhere}
	o.Capture.CommunityIDSeed = s.CommunityIDSeed
	o.Capture.FlowBudget = s.FlowBudgetMiB << 20
	if s.AdapterDir != "" {
		if o.DB, err = adapters.LoadDir(s.AdapterDir); err != nil {
			return o, err
		}
	}
	if s.RequestWindow != "" || s.ResponseWindow != "" {
		c := enrich.DefaultCorrelation()
		if s.RequestWindow != "" {
			if c.Request, err = ParseWindow(s.RequestWindow); err != nil {
				return o, fmt.Errorf("--request-window: %w", err)
			}
		}
		if s.ResponseWindow != "" {
			if c.Response, err = ParseWindow(s.ResponseWindow); err != nil {
				return o, fmt.Errorf("--response-window: %w", err)
			}
		}
		o.Correlation = &c
	}
	if s.ProvenanceWindow != "" {
		w, err := ParseWindow(s.ProvenanceWindow)
		if err != nil {
			return o, fmt.Errorf("--provenance-window: %w", err)
		}
		o.ProvenanceWindow = &w
	}
	if s.ProvenanceTimeShift != "" {
		d, err := ParseSeconds(s.ProvenanceTimeShift)
		if err != nil {
			return o, fmt.Errorf("--provenance-time-shift %q: %w", s.ProvenanceTimeShift, err)
		}
		o.ProvenanceTimeShift = &d
	}
	return o, nil
}
