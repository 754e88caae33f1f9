package main

import (
	"context"
	"fmt"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	json "github.com/go-json-experiment/json/v1"
	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/internal/testutil"
	"github.com/tracewire/tracewire/pcap"
)

// flowsOf converts a capture in the test to learn its flows' addresses,
// from which the tests write socket traces.
func flowsOf(t *testing.T, path string) ([]*har.Entry, map[string]pcap.FlowInfo) {
	t.Helper()
	var es []*har.Entry
	sum, err := pcap.Convert(context.Background(), []string{path}, pcap.Options{ListFlows: true}, func(e *har.Entry) error {
		es = append(es, e)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	flows := map[string]pcap.FlowInfo{}
	for _, f := range sum.Flows {
		flows[f.CommunityID] = f
	}
	return es, flows
}

// socketTrace writes a PiRogue socket_trace.json with a write shift+δ
// seconds around each request and a read after each response, on the
// entries' flows, IPv4 written IPv4-mapped as Frida does.
func socketTrace(t *testing.T, path string, es []*har.Entry, flows map[string]pcap.FlowInfo, shift float64) {
	t.Helper()
	addr := func(a netip.Addr) string {
		if a.Is4() {
			return "::ffff:" + a.String()
		}
		return a.String()
	}
	var recs []map[string]any
	for i, e := range es {
		f := flows[e.CommunityID]
		for _, op := range []struct {
			ev string
			t  float64
		}{{"write", e.Request.Timestamp - 0.002}, {"read", e.Response.Timestamp + 0.002}} {
			if op.t < 1e9 {
				continue
			}
			recs = append(recs, map[string]any{
				"type": "socket_trace_log", "dump": "socket_trace.json", "data_type": "json",
				"timestamp": math.Round((op.t + shift) * 1000), "pid": 4242, "process": "com.example.app",
				"data": map[string]any{
					"socket_fd": 100 + i, "socket_type": "tcp6", "pid": 4242, "thread_id": 4250, "socket_event_type": op.ev,
					"dest_ip": addr(f.Server.Addr()), "dest_port": f.Server.Port(), "local_ip": addr(f.Client.Addr()), "local_port": f.Client.Port(),
					"stack": []map[string]any{{"class": "com.example.Tracker", "file": "Tracker.java", "line": 42, "method": "send", "is_native": false, "str": "com.example.Tracker.send(Tracker.java:42)"}},
				},
			})
		}
	}
	b, _ := json.MarshalIndent(recs, "", "  ")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func stacktraces(es []har.Entry) (req, resp int) {
	for _, e := range es {
		if _, ok := e.Request.Extra["_stacktrace"]; ok {
			req++
		}
		if _, ok := e.Response.Extra["_stacktrace"]; ok {
			resp++
		}
	}
	return
}

func TestEnrichHARAndCapture(t *testing.T) {
	dir := t.TempDir()
	es, flows := flowsOf(t, samplePath())
	if len(es) != 8 {
		t.Fatalf("%d entries in the sample", len(es))
	}
	st := filepath.Join(dir, "socket_trace.json")
	socketTrace(t, st, es, flows, 0)
	prov := filepath.Join(dir, "provenance.jsonl")
	ts := har.TimeOf(es[7].Request.Timestamp - 1).Format("2006-01-02T15:04:05.000Z07:00")
	os.WriteFile(prov, []byte(`{"sink":"https","ts":"`+ts+`","owners":["alice@example.com"],"data":"1234567890.1710406800"}`+"\n"+
		`{"sink":"file_write","ts":"`+ts+`","dest":"/tmp/x","owners":["bob@example.com"],"data":"bob"}`+"\n"), 0o644)

	in := filepath.Join(dir, "in.har")
	if _, _, err := runCLI(t, nil, "convert", samplePath(), "-o", in); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.har")
	_, stderr, err := runCLI(t, nil, "enrich", in, "--socket-trace", st, "--provenance", prov, "-o", out)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	b, _ := os.ReadFile(out)
	h, _, err := har.ReadAll(strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	if rq, rs := stacktraces(h.Log.Entries); rq != 8 || rs != 8 {
		t.Errorf("%d requests and %d responses with _stacktrace, want 8 and 8", rq, rs)
	}
	if got := h.Log.Entries[7].Extra["_owners"]; fmt.Sprint(got) != "[alice@example.com]" {
		t.Errorf("entry 7 _owners %v", got)
	}
	enr, _ := h.Log.Extra["_enrichment"].([]any)
	if len(enr) != 2 {
		t.Fatalf("_enrichment %v", h.Log.Extra["_enrichment"])
	}
	if m := enr[0].(map[string]any); m["file"] != "socket_trace.json" || len(m["sha256"].(string)) != 64 || m["records"] != int64(16) {
		t.Errorf("_enrichment[0] %v", m)
	}
	for _, want := range []string{"enrich: 8 entries", "pirogue socket trace (socket_trace.json):", "requests with a stack trace: 8", "provenance log (provenance.jsonl):", "owner bob@example.com: file_write ×1; to /tmp/x"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("summary lacks %q:\n%s", want, stderr)
		}
	}
	testutil.ValidateHAR(t, out)

	// The same run gives the same bytes; standard output gets them too.
	stdout, _, err := runCLI(t, nil, "enrich", in, "--socket-trace", st, "--provenance", prov)
	if err != nil || stdout != string(b) {
		t.Errorf("second run to stdout differs (err %v)", err)
	}
	// A capture is converted first and enriched the same way.
	out2 := filepath.Join(dir, "out2.har")
	if _, stderr, err := runCLI(t, nil, "enrich", samplePath(), "--socket-trace", st, "-o", out2); err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	b2, _ := os.ReadFile(out2)
	h2, _, err := har.ReadAll(strings.NewReader(string(b2)))
	if err != nil {
		t.Fatal(err)
	}
	if rq, rs := stacktraces(h2.Log.Entries); rq != 8 || rs != 8 {
		t.Errorf("capture input: %d/%d _stacktrace, want 8/8", rq, rs)
	}
	for i := range h2.Log.Entries {
		a, _ := json.Marshal(h.Log.Entries[i].Request.Extra["_stacktrace"])
		c, _ := json.Marshal(h2.Log.Entries[i].Request.Extra["_stacktrace"])
		if string(a) != string(c) {
			t.Errorf("entry %d: HAR and capture inputs differ:\n%s\n%s", i, a, c)
		}
	}
}

func TestEnrichExperimentFolder(t *testing.T) {
	dir := t.TempDir()
	es, flows := flowsOf(t, samplePath())
	capture, _ := os.ReadFile(samplePath())
	os.WriteFile(filepath.Join(dir, "traffic.pcapng"), capture, 0o644)
	// The device clock runs 30 s ahead: experiment.json says so.
	socketTrace(t, filepath.Join(dir, "socket_trace.json"), es, flows, 30)
	os.WriteFile(filepath.Join(dir, "experiment.json"), []byte(`{
  "network": {"start_capture_time": 1710406000000, "file": "traffic.pcapng"},
  "device": {"start_capture_time": 1710406030000, "file": "device.json"},
  "socket_traces": {"file": "socket_trace.json"},
  "crypto_traces": {"file": "aes_info.json"},
  "sslkeylog": {"file": "sslkeylog.txt"}
}`), 0o644)
	stdout, stderr, err := runCLI(t, nil, "enrich", dir)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if rq, rs := stacktraces(entries(t, []byte(stdout))); rq != 8 || rs != 8 {
		t.Errorf("%d/%d _stacktrace, want 8/8\n%s", rq, rs, stderr)
	}
	if !strings.Contains(stderr, "entry timestamps shifted by 30s") {
		t.Errorf("summary does not give the shift:\n%s", stderr)
	}
	// --time-shift overrides experiment.json: with no shift nothing pairs.
	stdout, stderr, err = runCLI(t, nil, "enrich", dir, "--time-shift", "0")
	if err != nil {
		t.Fatal(err)
	}
	if rq, rs := stacktraces(entries(t, []byte(stdout))); rq != 0 || rs != 0 {
		t.Errorf("--time-shift 0: %d/%d _stacktrace, want none\n%s", rq, rs, stderr)
	}
	// --experiment names the file explicitly for an input given directly.
	stdout, _, err = runCLI(t, nil, "enrich", samplePath(), "--experiment", filepath.Join(dir, "experiment.json"), "--request-window", "0.5,0.5", "--response-window", "500ms,500ms")
	if err != nil {
		t.Fatal(err)
	}
	if rq, rs := stacktraces(entries(t, []byte(stdout))); rq != 8 || rs != 8 {
		t.Errorf("--experiment: %d/%d _stacktrace, want 8/8", rq, rs)
	}
}

func TestEnrichErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "socket_trace.json")
	os.WriteFile(bad, []byte(`[{"timestamp":1710406800,"data":{"socket_type":"tcp","socket_event_type":"write","dest_ip":"1.2.3.4","dest_port":443,"local_ip":"10.0.0.1","local_port":1}}]`), 0o644)
	broken := filepath.Join(dir, "broken.json")
	os.WriteFile(broken, []byte(`[{"timestamp":1710406800000,"data":{"dest_port":4x}}]`), 0o644)
	out := filepath.Join(dir, "out.har")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"enrich", samplePath(), "--socket-trace", bad, "-o", out}, "socket_trace.json: record 0 at byte 1: timestamp 1710406800 looks like seconds, not milliseconds since the epoch"},
		{[]string{"enrich", samplePath(), "--socket-trace", broken, "-o", out}, "broken.json: record 0 at byte 49: invalid JSON"},
		{[]string{"enrich", samplePath(), "--time-shift", "soon", "-o", out}, `--time-shift "soon"`},
		{[]string{"enrich", samplePath(), "--request-window", "5s", "-o", out}, "want BEFORE,AFTER"},
		{[]string{"enrich", samplePath(), "--response-window", "-1,2", "-o", out}, "must not be negative"},
		{[]string{"enrich", filepath.Join(dir, "none.har"), "-o", out}, "no such file"},
		{[]string{"enrich", dir, "-o", out}, "no capture or HAR in the experiment folder"},
		{[]string{"enrich", samplePath(), "--aes-info", filepath.Join(dir, "missing.json"), "-o", out}, "missing.json"},
	} {
		_, _, err := runCLI(t, nil, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err %v, want %q", tc.args[1:], err, tc.want)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a failed run left %s", out)
	}
}

// TestEnrichCryptohackCLI is the check end to end: the DSB capture
// converted by the command, a PiRogue trace on its flow, _stacktrace with
// pcapng-utils' field names on request and response.
func TestEnrichCryptohackCLI(t *testing.T) {
	capture := testutil.Corpus(t, "tls-extra", "dsb-tls3.cryptohack.org.pcapng")
	es, flows := flowsOf(t, capture)
	if len(es) != 1 {
		t.Skipf("pcap.Convert found %d entries in the capture, not 1: nothing to check here", len(es))
	}
	dir := t.TempDir()
	st := filepath.Join(dir, "socket_trace.json")
	socketTrace(t, st, es, flows, 0)
	out := filepath.Join(dir, "out.har")
	if _, stderr, err := runCLI(t, nil, "enrich", capture, "--socket-trace", st, "-o", out); err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	b, _ := os.ReadFile(out)
	h, _, err := har.ReadAll(strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	e := h.Log.Entries[0]
	for _, x := range []har.Extra{e.Request.Extra, e.Response.Extra} {
		m, _ := x["_stacktrace"].(map[string]any)
		var keys []string
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if strings.Join(keys, ",") != "compact,pid,process,socketEventType,socketFd,socketType,stack,threadId,timestamp" {
			t.Errorf("_stacktrace keys %v", keys)
		}
	}
	testutil.ValidateHAR(t, out)
}

// TestEnrichProvenanceRuntimeLog is issue 10's provenance case from the
// CLI: a log as the SST runtime writes it (pretty-printed objects one after
// another, ts in whole seconds, local time on a UTC−5 host written with a
// "Z", dest sometimes absent) whose samples are a request line and a
// header line. The 5 h offset is estimated and applied, and the summary and
// the report say so; --provenance-time-shift sets it by hand.
func TestEnrichProvenanceRuntimeLog(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "backend.har")
	os.WriteFile(in, []byte(`{"log":{"version":"1.2","creator":{"name":"test","version":"1"},"entries":[
{"startedDateTime":"2025-12-12T13:34:00.500Z","time":10,"request":{"method":"GET","url":"https://shop.example.com/profile?q=alice%40example.com","httpVersion":"HTTP/1.1","cookies":[],"headers":[{"name":"Host","value":"shop.example.com"}],"queryString":[{"name":"q","value":"alice@example.com"}],"headersSize":-1,"bodySize":0},
 "response":{"status":200,"statusText":"OK","httpVersion":"HTTP/1.1","cookies":[],"headers":[],"content":{"size":0,"mimeType":"text/html"},"redirectURL":"","headersSize":-1,"bodySize":0},"cache":{},"timings":{"send":0,"wait":10,"receive":0}},
{"startedDateTime":"2025-12-12T13:34:05.200Z","time":10,"request":{"method":"GET","url":"https://api.example.com/v1/me","httpVersion":"HTTP/1.1","cookies":[],"headers":[{"name":"Host","value":"api.example.com"},{"name":"X-User","value":"bob-7781"}],"queryString":[],"headersSize":-1,"bodySize":0},
 "response":{"status":200,"statusText":"OK","httpVersion":"HTTP/1.1","cookies":[],"headers":[],"content":{"size":0,"mimeType":"text/html"},"redirectURL":"","headersSize":-1,"bodySize":0},"cache":{},"timings":{"send":0,"wait":10,"receive":0}}
]}}`), 0o644)
	prov := filepath.Join(dir, "provenance.log")
	os.WriteFile(prov, []byte(`{
  "sink": "socket_send",
  "ts": "2025-12-12T08:34:00Z",
  "source": "http.request_line",
  "pid": 311,
  "dest": "shop.example.com:443",
  "owners": [
    "alice@example.com"
  ],
  "data": "GET /profile?q=alice%40example.com HTTP/1.1"
}
{
  "sink": "socket_send",
  "ts": "2025-12-12T08:34:05Z",
  "source": "http.header",
  "pid": 311,
  "owners": [
    "bob@example.com"
  ],
  "data": "X-User: bob-7781\r\n"
}
{
  "sink": "file_write",
  "ts": "2025-12-12T08:34:06Z",
  "source": "db.users.email",
  "pid": 311,
  "dest": "/var/log/shop/audit.log",
  "owners": [
    "alice@example.com"
  ],
  "data": "alice@example.com"
}
`), 0o644)
	owners := func(stdout string) []string {
		var out []string
		for _, e := range entries(t, []byte(stdout)) {
			out = append(out, fmt.Sprint(e.Extra["_owners"]))
		}
		return out
	}
	const estimated = "times shifted by +5h0m0s (estimated: 2 events each found in exactly one request agree)"
	for _, tc := range []struct {
		name  string
		args  []string
		want  []string
		shift string
	}{
		{"estimated", nil, []string{"[alice@example.com]", "[bob@example.com]"}, estimated},
		{"by hand", []string{"--provenance-time-shift", "5h"}, []string{"[alice@example.com]", "[bob@example.com]"}, "times shifted by +5h0m0s (set by hand)"},
		{"none by hand", []string{"--provenance-time-shift", "0"}, []string{"<nil>", "<nil>"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, err := runCLI(t, nil, append([]string{"enrich", in, "--provenance", prov}, tc.args...)...)
			if err != nil {
				t.Fatalf("%v\n%s", err, stderr)
			}
			if got := owners(stdout); !slices.Equal(got, tc.want) {
				t.Errorf("_owners %q, want %q\n%s", got, tc.want, stderr)
			}
			if tc.shift != "" && !strings.Contains(stderr, tc.shift) {
				t.Errorf("summary lacks %q:\n%s", tc.shift, stderr)
			}
			if tc.shift == "" && strings.Contains(stderr, "times shifted") {
				t.Errorf("summary claims a shift:\n%s", stderr)
			}
		})
	}
	// detect and report run the same estimate and say so.
	_, stderr, err := runCLI(t, nil, "detect", in, "--provenance", prov, "--format", "json")
	if err != nil {
		t.Fatalf("detect: %v\n%s", err, stderr)
	}
	if !strings.Contains(stderr, estimated) {
		t.Errorf("detect's summary lacks the shift:\n%s", stderr)
	}
	md := filepath.Join(dir, "report.md")
	if _, stderr, err := runCLI(t, nil, "report", in, "--provenance", prov, "-o", md); err != nil {
		t.Fatalf("report: %v\n%s", err, stderr)
	}
	b, _ := os.ReadFile(md)
	if !strings.Contains(string(b), estimated) {
		t.Errorf("the report does not give the shift:\n%s", b)
	}
	if _, _, err := runCLI(t, nil, "enrich", in, "--provenance", prov, "--provenance-time-shift", "soon"); err == nil || !strings.Contains(err.Error(), `--provenance-time-shift "soon"`) {
		t.Errorf("bad --provenance-time-shift: %v", err)
	}
}

// TestEnrichOrderAsAnalyze: enrich runs the stages of Analyze (report,
// detect, batch) in the same order, decryption first, so the bodies the
// other stages see are those detection sees; the summary says them in
// that order.
func TestEnrichOrderAsAnalyze(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"traffic.pcapng", "socket_trace.json", "experiment.json"} {
		if err := os.WriteFile(filepath.Join(dir, name), mustRead(t, repoFile("testdata", "experiment", name)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	aes := `[{"type":"aes_info_log","timestamp":1700000009000,"pid":1,"process":"app","data":{"alg":"AES","key":"30313233343536373839616263646566"}}]`
	if err := os.WriteFile(filepath.Join(dir, "aes_info.json"), []byte(aes), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, err := runCLI(t, nil, "enrich", dir)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	last := -1
	for _, stage := range []string{"pirogue aes_info decryption", "pirogue socket trace", "ptcpdump process comments"} {
		i := strings.Index(stderr, stage)
		if i < last {
			t.Errorf("%q out of order (decryption, stack traces, process comments):\n%s", stage, stderr)
		}
		last = i
	}
	// detect (through Analyze) says the same stages, in the same order,
	// with the same counts.
	_, derr, _ := runCLI(t, nil, "detect", dir)
	if stages := stderr[strings.Index(stderr, "pirogue aes_info"):]; !strings.Contains(derr, stages) {
		t.Errorf("detect's enrichment summary differs from enrich's:\n%s\n--- enrich:\n%s", derr, stages)
	}
}
