package tracewire

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	json "github.com/go-json-experiment/json/v1"
	"github.com/tracewire/tracewire/adapters"
	"github.com/tracewire/tracewire/enrich"
	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/internal/testutil"
	"github.com/tracewire/tracewire/match"
	"github.com/tracewire/tracewire/pcap"
	"github.com/tracewire/tracewire/report"
)

const sampleCapture = "testdata/sample/tracking.pcapng"

// findingsJSON is the canonical text of findings, for comparisons.
func findingsJSON(t *testing.T, fs []match.Finding) string {
	t.Helper()
	b, err := json.MarshalIndent(fs, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestAnalyzeCapture checks Analyze against the stages run by hand: the
// same findings as converting with pcap and matching each entry, the
// capture's summary, the process from the packet comments, and a HAR
// that passes the HAR schema.
func TestAnalyzeCapture(t *testing.T) {
	var harOut bytes.Buffer
	a, err := Analyze(context.Background(), Input{Files: []string{sampleCapture}}, Options{HAR: &harOut})
	if err != nil {
		t.Fatal(err)
	}
	m, err := match.New(match.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var want []match.Finding
	i := 0
	sum, err := pcap.Convert(context.Background(), []string{sampleCapture}, pcap.Options{}, func(e *har.Entry) error {
		want = append(want, m.Entry(i, e).Findings...)
		i++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(want) == 0 {
		t.Fatal("the sample has no findings; the test would prove nothing")
	}
	if got, w := findingsJSON(t, a.Findings), findingsJSON(t, want); got != w {
		t.Errorf("findings differ from pcap.Convert + match:\n%s\nwant\n%s", got, w)
	}
	if a.EntriesRead != sum.Entries || a.Capture == nil || a.Capture.Entries != sum.Entries || a.Capture.Connections != sum.Conns || a.Capture.Packets != sum.Packets {
		t.Errorf("counts: read %d, capture %+v; pcap says %d entries, %d conns", a.EntriesRead, a.Capture, sum.Entries, sum.Conns)
	}
	if a.Period == nil || a.Period.Start.IsZero() || !a.Period.End.After(a.Period.Start) {
		t.Errorf("period %+v", a.Period)
	}
	if len(a.Inputs) != 1 || a.Inputs[0].Role != report.RoleCapture || len(a.Inputs[0].SHA256) != 64 || a.Inputs[0].Name != "tracking.pcapng" {
		t.Errorf("inputs %+v", a.Inputs)
	}
	if a.ID != AnalysisID(a.Inputs) || len(a.ID) != 16 {
		t.Errorf("id %q", a.ID)
	}
	// Evidence: exactly the entries with findings, with their process.
	idx := map[int]bool{}
	for _, f := range a.Findings {
		idx[f.Entry.Index] = true
	}
	if len(a.Entries) != len(idx) {
		t.Errorf("%d evidence entries for %d requests with findings", len(a.Entries), len(idx))
	}
	for _, e := range a.Entries {
		p, _ := e.Entry.Extra["_process"].(map[string]any)
		if p["cmd"] != "com.example.weatherapp" {
			t.Errorf("entry %d: process %v", e.Index, e.Entry.Extra["_process"])
		}
	}
	h, _, err := har.ReadAll(bytes.NewReader(harOut.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Log.Entries) != sum.Entries || h.Log.Creator.Name != "tracewire" {
		t.Errorf("HAR: %d entries by %q", len(h.Log.Entries), h.Log.Creator.Name)
	}
	p := filepath.Join(t.TempDir(), "out.har")
	if err := os.WriteFile(p, harOut.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	testutil.ValidateHAR(t, p)

	// The same input gives the same analysis.
	b, err := Analyze(context.Background(), Input{Files: []string{sampleCapture}}, Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	var x, y bytes.Buffer
	a.WriteJSON(&x)
	b.WriteJSON(&y)
	if x.String() != y.String() {
		t.Error("two analyses of the same capture differ")
	}
}

// writeTrace writes a PiRogue socket_trace.json with one send on the
// given flow at ts (seconds) from a stack of classes.
func writeTrace(t *testing.T, path, local string, lport int, remote string, rport int, ts float64, classes ...string) {
	t.Helper()
	var frames []map[string]any
	for i, c := range classes {
		frames = append(frames, map[string]any{"class": c, "file": "X.java", "line": 10 + i, "method": "send", "is_native": false, "str": c + ".send"})
	}
	rec := map[string]any{
		"type": "socket_trace_log", "dump": "socket_trace.json", "data_type": "json",
		"timestamp": ts * 1000, "pid": 4242, "process": "com.example.weatherapp",
		"data": map[string]any{"socket_fd": 87, "socket_type": "tcp6", "pid": 4242, "thread_id": 4250,
			"socket_event_type": "write", "local_ip": "::ffff:" + local, "local_port": lport,
			"dest_ip": "::ffff:" + remote, "dest_port": rport, "stack": frames},
	}
	b, _ := json.Marshal([]any{rec})
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestAnalyzeExperiment runs a PiRogue experiment folder: the capture and
// socket trace named by experiment.json, with the time shift; the upload
// to Firebase Analytics gets its stack trace and the report rows say which
// process sent it.
func TestAnalyzeExperiment(t *testing.T) {
	dir := t.TempDir()
	capture, err := filepath.Abs(sampleCapture)
	if err != nil {
		t.Fatal(err)
	}
	// The device's clock runs 3 s ahead of the capture's.
	const shift = 3.0
	writeTrace(t, filepath.Join(dir, "socket_trace.json"), "10.0.0.23", 44312, "203.0.113.88", 443, 1710406801.280+shift,
		"com.google.android.gms.measurement.internal.zzfq", "com.example.weatherapp.Analytics")
	x := fmt.Sprintf(`{"network":{"start_capture_time":1710406800000,"file":%q},"device":{"start_capture_time":1710406803000},"socket_traces":{"file":"socket_trace.json"}}`, capture)
	if err := os.WriteFile(filepath.Join(dir, "experiment.json"), []byte(x), 0o644); err != nil {
		t.Fatal(err)
	}
	a, err := Analyze(context.Background(), Input{Experiment: dir}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var roles []string
	for _, in := range a.Inputs {
		roles = append(roles, in.Role+":"+in.Name)
	}
	if want := "capture:tracking.pcapng experiment:experiment.json socketTrace:socket_trace.json"; strings.Join(roles, " ") != want {
		t.Errorf("inputs %v, want %s", roles, want)
	}
	e := a.Entry(3)
	if e == nil {
		t.Fatal("no evidence for request #3")
	}
	st, _ := e.Request.Extra["_stacktrace"].(map[string]any)
	if st == nil || st["process"] != "com.example.weatherapp" {
		t.Fatalf("request #3 _stacktrace: %v", e.Request.Extra["_stacktrace"])
	}
	if a.Enrichment == nil || a.Enrichment.Source(enrich.PiRogueSocketTraceName) == nil {
		t.Errorf("enrichment summary %+v", a.Enrichment)
	} else if r := a.Enrichment.Source(enrich.PiRogueSocketTraceName).Read; r == nil || r.SHA256 != a.Inputs[2].SHA256 || len(r.SHA256) != 64 {
		// The trace is hashed once, for the inputs, and its reader takes
		// that digest.
		t.Errorf("the trace's digest in the enrichment summary %+v, in the inputs %s", r, a.Inputs[2].SHA256)
	}
	rows := report.Rows(a)
	if len(rows) == 0 || rows[0].Process != "com.example.weatherapp (pid 4242)" {
		t.Errorf("rows: %+v", rows)
	}
	var md bytes.Buffer
	if err := report.Write(&md, report.Markdown, a, report.Options{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "com.google.android.gms.measurement.internal.zzfq ← com.example.weatherapp.Analytics") {
		t.Error("the report does not show the stack trace")
	}

	// Without the time shift, the send is 3 s off: outside the window
	// after the request (2 s), so nothing is attached.
	zero := time.Duration(0)
	a, err = Analyze(context.Background(), Input{Experiment: dir, TimeShift: &zero}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if st := a.Entry(3).Request.Extra["_stacktrace"]; st != nil {
		t.Errorf("attached without the time shift: %v", st)
	}
}

// TestAnalyzeProvenance: a backend's egress and its provenance log. The
// request that carried a logged sample gets the owner, and the owner's
// email, an indicator now, is found SHA-256-hashed in it.
func TestAnalyzeProvenance(t *testing.T) {
	a, err := Analyze(context.Background(), Input{
		Files:      []string{"testdata/report/shop-backend.har"},
		Provenance: []string{"testdata/report/provenance.jsonl"},
	}, Options{IndicatorsEverywhere: true})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a.Indicators, []report.IndicatorCount{{Property: "email", Count: 1, Source: "owner"}}) {
		t.Errorf("indicators %+v", a.Indicators)
	}
	var got []string
	for _, r := range report.Rows(a) {
		got = append(got, fmt.Sprintf("%d %s %s %s %s", r.EntryIndex, r.Tracker, r.Property, r.IndicatorEncoding, r.Owner))
	}
	if !contains(got, "1 facebook hashedEmail  alice@example.com") || !contains(got, "1 facebook email sha256 alice@example.com") {
		t.Errorf("rows:\n%s", strings.Join(got, "\n"))
	}
	if a.Entry(0) != nil {
		t.Error("the payment request carried no findings and is not evidence")
	}
	if a.Subject == nil || a.Subject.Backend == nil || a.Subject.Backend.Host != "shop.example" {
		t.Errorf("subject %+v", a.Subject)
	}
	// Without the provenance log there is no owner and no email indicator.
	b, err := Analyze(context.Background(), Input{Files: []string{"testdata/report/shop-backend.har"}}, Options{IndicatorsEverywhere: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range b.Findings {
		if f.Property == "email" {
			t.Error("email found without the provenance log")
		}
	}
	// The raw fast path (no enricher) and the enrichment path agree on
	// everything but the indicator and the owners.
	var adapterOnly []match.Finding
	for _, f := range a.Findings {
		if f.Indicator == nil {
			adapterOnly = append(adapterOnly, f)
		}
	}
	if findingsJSON(t, adapterOnly) != findingsJSON(t, b.Findings) {
		t.Error("findings differ between the HAR paths")
	}
}

func TestAnalyzeErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	empty := write("empty.pcap", "")
	findings := write("f.json", `{"findings":[],"entries_read":0}`)
	h1 := write("a.har", `{"log":{"version":"1.2","creator":{"name":"x","version":"1"},"entries":[]}}`)
	h2 := write("b.har", `{"log":{"entries":[]}}`)
	broken := write("broken.har", `{"log":{"entries":[{"request":{"method":"GET","url":"https://api2.branch.io/v1/open"}},{"req`)
	for _, tc := range []struct {
		name string
		in   Input
		want string
	}{
		{"nothing", Input{}, "no capture or HAR"},
		{"empty", Input{Files: []string{empty}}, "empty file"},
		{"findings", Input{Files: []string{findings}}, "findings file"},
		{"two HARs", Input{Files: []string{h1, h2}}, "one HAR"},
		{"HAR and capture", Input{Files: []string{h1, sampleCapture}}, "one HAR"},
		{"missing", Input{Files: []string{filepath.Join(dir, "nope.pcap")}}, "no such file"},
		{"missing trace", Input{Files: []string{h1}, SocketTraces: []string{filepath.Join(dir, "nope.json")}}, "no such file"},
		{"truncated HAR", Input{Files: []string{broken}}, "broken.har"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Analyze(context.Background(), tc.in, Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to say %q", err, tc.want)
			}
		})
	}
	// A cancelled context stops the analysis.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Analyze(ctx, Input{Files: []string{sampleCapture}}, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// TestAnalyzeTruncatedCapture: a capture cut in the middle still gives the
// exchanges before the cut, and a warning that names the file, not its
// path.
func TestAnalyzeTruncatedCapture(t *testing.T) {
	b, err := os.ReadFile(sampleCapture)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "cut.pcapng")
	if err := os.WriteFile(p, b[:len(b)*3/4], 0o644); err != nil {
		t.Fatal(err)
	}
	a, err := Analyze(context.Background(), Input{Files: []string{p}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if a.EntriesRead == 0 || len(a.Warnings) == 0 {
		t.Fatalf("%d entries, warnings %v", a.EntriesRead, a.Warnings)
	}
	for _, w := range a.Warnings {
		if strings.Contains(w, filepath.Dir(p)) {
			t.Errorf("warning shows the path: %s", w)
		}
	}
}

func TestEvidence(t *testing.T) {
	a, err := Analyze(context.Background(), Input{Files: []string{"testdata/report/shop-backend.har"}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Findings made elsewhere, pointing at both requests.
	fs := []match.Finding{a.Findings[0], {Entry: match.EntryRef{Index: 0, Method: "POST", URL: "https://api.payments.example/v1/charges"}, Property: "orderId", Value: "order-4711", Source: "indicator"}}
	made := &Analysis{ID: a.ID, Inputs: a.Inputs, EntriesRead: a.EntriesRead, Findings: fs}
	b, err := Evidence(context.Background(), Input{Files: []string{"testdata/report/shop-backend.har"}}, Options{}, made)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Findings) != 2 || b.Findings[0].Entry.Index != 0 || b.Entry(0) == nil || b.Entry(1) == nil {
		t.Errorf("findings %d, entries %v", len(b.Findings), b.Entries)
	}
	if b.ID != a.ID || b.Subject == nil {
		t.Error("metadata missing")
	}
}

func TestAdapterDBInfo(t *testing.T) {
	db, err := adapters.Default()
	if err != nil {
		t.Fatal(err)
	}
	x, err := AdapterDBInfo(db, true)
	if err != nil {
		t.Fatal(err)
	}
	y, _ := AdapterDBInfo(db, false)
	if x.SHA256 != y.SHA256 || x.Version == y.Version || y.Version != "custom" || len(x.SHA256) != 64 || x.Trackers != len(db.Trackers) {
		t.Errorf("%+v %+v", x, y)
	}
	// One tracker's file, then the same with a changed reasoning: three
	// different digests.
	src, err := os.ReadFile(filepath.Join("adapters", "data", "branch-io.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "branch-io.yaml"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	one, err := adapters.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	z, _ := AdapterDBInfo(one, false)
	changed := strings.Replace(string(src), "obvious property name", "an obvious property name", 1)
	if changed == string(src) {
		t.Fatal("no reasoning to change")
	}
	if err := os.WriteFile(filepath.Join(dir, "branch-io.yaml"), []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	two, err := adapters.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	w, _ := AdapterDBInfo(two, false)
	if z.SHA256 == x.SHA256 || w.SHA256 == z.SHA256 || z.Trackers != 1 {
		t.Errorf("digests: all %s, one %s, changed %s", x.SHA256, z.SHA256, w.SHA256)
	}
}

func TestOwnerProperty(t *testing.T) {
	for in, want := range map[string]string{
		"alice@example.com": "email", "+49 30 1234567": "phoneNumber", "user-4711": "userId",
		"Alice <alice@example.com>": "userId", "12": "userId",
	} {
		if got := ownerProperty(in); got != want {
			t.Errorf("ownerProperty(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestHashInputsOfBrokenFile: a file Analyze rejects still hashes, so a
// batch run recognises the failure next time.
func TestHashInputsOfBrokenFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "empty.pcap")
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	in, err := HashInputs(Input{Files: []string{p}})
	if err != nil || len(in) != 1 || in[0].Role != report.RoleCapture || in[0].SHA256 != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Errorf("%v %+v", err, in)
	}
}

func TestMaxEvidence(t *testing.T) {
	a, err := Analyze(context.Background(), Input{Files: []string{"testdata/report/shop-backend.har"}}, Options{MaxEvidence: 1, IndicatorsEverywhere: true})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Analyze(context.Background(), Input{Files: []string{"testdata/report/shop-backend.har"}, Indicators: []match.Indicator{{Property: "orderId", Value: "order-4711"}}}, Options{MaxEvidence: 1, IndicatorsEverywhere: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Entries) != 1 || len(a.Warnings) != 0 {
		t.Errorf("one request with findings: %d entries, warnings %v", len(a.Entries), a.Warnings)
	}
	// The order ID makes the payment request evidence too: one too many.
	if len(b.Entries) != 1 || b.Entries[0].Index != 0 || len(b.Warnings) != 1 || !strings.Contains(b.Warnings[0], "1 requests with findings are not kept") || strings.Contains(b.Warnings[0], "Options.") {
		t.Errorf("%d entries, warnings %v", len(b.Entries), b.Warnings)
	}
}

func TestHashedInputs(t *testing.T) {
	in := Input{Files: []string{"testdata/report/shop-backend.har"}}
	fake := []report.InputFile{{Role: report.RoleHAR, Path: "testdata/report/shop-backend.har", Name: "shop-backend.har", SHA256: "given"}}
	a, err := Analyze(context.Background(), in, Options{Hashed: fake})
	if err != nil || a.Inputs[0].SHA256 != "given" {
		t.Errorf("digests given for the input were not used: %v %+v", err, a.Inputs)
	}
	fake[0].Path = "elsewhere.har"
	a, err = Analyze(context.Background(), in, Options{Hashed: fake})
	if err != nil || len(a.Inputs[0].SHA256) != 64 {
		t.Errorf("digests of other files were used: %v %+v", err, a.Inputs)
	}
}

// TestEnrichedHAROutput: the HAR written for an enriched HAR input keeps
// the input's log (creator, extensions) and carries the enrichment.
func TestEnrichedHAROutput(t *testing.T) {
	for _, prov := range [][]string{nil, {"testdata/report/provenance.jsonl"}} {
		var out bytes.Buffer
		_, err := Analyze(context.Background(), Input{Files: []string{"testdata/report/shop-backend.har"}, Provenance: prov}, Options{HAR: &out})
		if err != nil {
			t.Fatal(err)
		}
		h, _, err := har.ReadAll(bytes.NewReader(out.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		if h.Log.Creator.Name != "example egress recorder" || h.Log.Extra["_subject"] == nil || len(h.Log.Entries) != 2 {
			t.Errorf("log %+v", h.Log)
		}
		if owners := h.Log.Entries[1].Extra["_owners"]; (owners != nil) != (prov != nil) {
			t.Errorf("provenance %v: owners %v", prov, owners)
		}
	}
}
