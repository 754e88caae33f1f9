package enrich

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	json "github.com/go-json-experiment/json/v1"
)

// Experiment is what a PiRogue experiment folder holds. pirogue-cli writes
// experiment.json:
//
//	{"network": {"start_capture_time": <ms>, "file": "traffic.pcap"},
//	 "device": {"start_capture_time": <ms>, "file": "device.json"},
//	 "socket_traces": {"file": "socket_trace.json"}, "crypto_traces": {"file": "aes_info.json"},
//	 "sslkeylog": {"file": "sslkeylog.txt"}}
//
// tracewire collect writes the same layout with "socket_events": {"file":
// "socket_events.jsonl"}, eBPF socket events (docs/ebpf-socket-events.md),
// and with --tls-uprobes "tls_plaintext": {"file": "tls_plaintext.jsonl"}.
//
// Paths are absolute (joined with the folder); empty when absent.
type Experiment struct {
	Dir         string
	Capture     string
	SocketTrace string
	AESInfo     string
	SSLKeyLog   string
	EBPFEvents  string
	// TLSPlaintext is tracewire collect's tls_plaintext.jsonl.
	TLSPlaintext string
	// TimeShift is (device.start_capture_time − network.start_capture_time)
	// / 1000 s, added to entry timestamps before pairing them with device
	// records; HasTimeShift is false when either time is missing.
	TimeShift    time.Duration
	HasTimeShift bool
}

// ReadExperiment reads an experiment.json. Missing keys are not an error:
// the files they would name are simply not known; wrong types are.
func ReadExperiment(path string) (*Experiment, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("%s: not an experiment.json: %w", path, err)
	}
	top, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: not an experiment.json (want a JSON object such as {\"network\": {\"file\": \"traffic.pcapng\"}})", path)
	}
	known := []string{"network", "device", "socket_traces", "crypto_traces", "sslkeylog", "socket_events", "tls_plaintext", "target", "app", "package_name"}
	if len(top) > 0 && !slices.ContainsFunc(known, func(k string) bool { _, ok := top[k]; return ok }) {
		// Another JSON file (a HAR, findings) would pass for an
		// experiment that names nothing.
		return nil, fmt.Errorf("%s: not an experiment.json: it has none of the keys %s", path, strings.Join(known, ", "))
	}
	x := &Experiment{Dir: filepath.Dir(path)}
	// member returns top[key][name], nil when either is missing or null.
	member := func(key, name string) (any, error) {
		if top[key] == nil {
			return nil, nil
		}
		m, ok := top[key].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: %s is not an object", path, key)
		}
		return m[name], nil
	}
	for _, f := range []struct {
		key string
		dst *string
	}{{"network", &x.Capture}, {"socket_traces", &x.SocketTrace}, {"crypto_traces", &x.AESInfo}, {"sslkeylog", &x.SSLKeyLog}, {"socket_events", &x.EBPFEvents}, {"tls_plaintext", &x.TLSPlaintext}} {
		v, err := member(f.key, "file")
		if err != nil {
			return nil, err
		}
		s, ok := v.(string)
		if v != nil && !ok {
			return nil, fmt.Errorf("%s: %s.file is not a string", path, f.key)
		}
		if s != "" && !filepath.IsAbs(s) {
			s = filepath.Join(x.Dir, s)
		}
		*f.dst = s
	}
	var start [2]float64 // device, network
	for i, key := range []string{"device", "network"} {
		v, err := member(key, "start_capture_time")
		if err != nil {
			return nil, err
		} else if v == nil {
			continue
		}
		f, ok := v.(float64)
		if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("%s: %s.start_capture_time is not a number", path, key)
		}
		if u := timeUnitOf(f); u != "ms" {
			return nil, fmt.Errorf("%s: %s.start_capture_time %v looks like %s, not milliseconds since the epoch", path, key, f, orUnknown(u))
		}
		start[i] = f
	}
	if start[0] != 0 && start[1] != 0 {
		x.TimeShift = time.Duration(math.Round((start[0] - start[1]) * float64(time.Millisecond)))
		x.HasTimeShift = true
	}
	return x, nil
}

// Default file names in a PiRogue experiment folder, for folders without
// experiment.json (or whose experiment.json names no file).
var (
	defaultCaptures    = []string{"traffic.pcapng", "traffic.pcap", "traffic.pcapng.gz", "traffic.pcap.gz"}
	defaultSocketTrace = "socket_trace.json"
	defaultAESInfo     = "aes_info.json"
	defaultSSLKeyLog   = "sslkeylog.txt"
	defaultEBPFEvents  = "socket_events.jsonl"
	defaultTLSPlain    = "tls_plaintext.jsonl"
)

// FindExperiment describes the experiment in dir: experiment.json when
// there is one, completed by the default file names for what it does not
// name; files that do not exist are left out. A folder with no capture of
// a known name but exactly one *.pcap, *.pcapng or *.har uses that.
func FindExperiment(dir string) (*Experiment, error) {
	x := &Experiment{Dir: dir}
	if p := filepath.Join(dir, "experiment.json"); exists(p) {
		var err error
		if x, err = ReadExperiment(p); err != nil {
			return nil, err
		}
	}
	pick := func(cur string, names ...string) string {
		if cur != "" && exists(cur) {
			return cur
		}
		for _, n := range names {
			if p := filepath.Join(dir, n); exists(p) {
				return p
			}
		}
		return ""
	}
	x.Capture = pick(x.Capture, defaultCaptures...)
	x.SocketTrace = pick(x.SocketTrace, defaultSocketTrace)
	x.AESInfo = pick(x.AESInfo, defaultAESInfo)
	x.SSLKeyLog = pick(x.SSLKeyLog, defaultSSLKeyLog)
	x.EBPFEvents = pick(x.EBPFEvents, defaultEBPFEvents)
	x.TLSPlaintext = pick(x.TLSPlaintext, defaultTLSPlain)
	if x.Capture == "" {
		ents, err := os.ReadDir(dir)
		if err != nil {
			return nil, err
		}
		var found []string
		for _, e := range ents {
			n := strings.ToLower(e.Name())
			for _, ext := range []string{".pcap", ".pcapng", ".pcap.gz", ".pcapng.gz", ".har"} {
				if !e.IsDir() && strings.HasSuffix(n, ext) {
					found = append(found, filepath.Join(dir, e.Name()))
					break
				}
			}
		}
		sort.Strings(found)
		switch len(found) {
		case 0:
			return nil, fmt.Errorf("%s: no capture or HAR in the experiment folder", dir)
		case 1:
			x.Capture = found[0]
		default:
			return nil, fmt.Errorf("%s: several captures or HARs (%s); name the input", dir, strings.Join(baseNames(found), ", "))
		}
	}
	return x, nil
}

func exists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

func baseNames(ps []string) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = filepath.Base(p)
	}
	return out
}
