package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	json "github.com/go-json-experiment/json/v1"
	"github.com/tracewire/tracewire"
	"github.com/tracewire/tracewire/batch"
	"github.com/tracewire/tracewire/internal/testutil"
	rep "github.com/tracewire/tracewire/report"
)

// TestDeviceReportOnlyForAnalysedApp: a TrackerControl export is evidence
// only through the analysed app's contacts, whose ID comes from the HAR's
// metadata, experiment.json or --app-id; with none known it is not used,
// and a warning says to pass --app-id. Batch lists every device report
// with its SHA-256 in manifest.json.
func TestDeviceReportOnlyForAnalysedApp(t *testing.T) {
	dir := testutil.Corpus(t, "har", "reporthar")
	csv := filepath.Join(dir, "android_tracker-control-report.csv")
	withID := filepath.Join(dir, "android_first-run.har")
	b := mustRead(t, withID)
	if strings.Count(string(b), `"id": "tld.sample.app"`) != 1 {
		t.Fatal("fixture: app ID not found once")
	}
	tmp := t.TempDir()
	noID := filepath.Join(tmp, "no-app-id.har")
	if err := os.WriteFile(noID, []byte(strings.Replace(string(b), `"id": "tld.sample.app"`, `"id": ""`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	// A PiRogue-style folder whose experiment.json names the app.
	exp := filepath.Join(tmp, "experiment")
	if err := os.MkdirAll(exp, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(exp, "traffic.har"), mustRead(t, noID), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(exp, "experiment.json"), []byte(`{"network": {"file": "traffic.har"}, "target": {"package_name": "tld.sample.app"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	const others = "com.entertainment.brokenscreen.prankapp"
	const ownRow = "| api2.branch.io | Branch Metrics, Inc. | tld.sample.app (Airbnb) |"
	for _, tc := range []struct {
		name       string
		args       []string
		want       []string // in the report
		wantWarn   bool
		wantNoRows bool
	}{
		{"app ID from the HAR", []string{withID}, []string{"Only contacts made by the app tld.sample.app are listed.", ownRow}, false, false},
		{"no app ID", []string{noID}, []string{"is not used as evidence", "--app-id"}, true, true},
		{"--app-id", []string{noID, "--app-id", "tld.sample.app"}, []string{"Only contacts made by the app tld.sample.app are listed.", ownRow}, false, false},
		{"app not in the record", []string{noID, "--app-id", "com.example.weather"}, []string{"holds no contacts made by the app com.example.weather"}, false, true},
		{"app ID from experiment.json", []string{exp}, []string{"Only contacts made by the app tld.sample.app are listed.", ownRow}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			md, stderr, err := runCLI(t, nil, append([]string{"report", "--device-report", csv, "--format", "md"}, tc.args...)...)
			if err != nil {
				t.Fatalf("%v\n%s", err, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(md, w) {
					t.Errorf("report lacks %q", w)
				}
			}
			if strings.Contains(md, others) {
				t.Errorf("another app's contacts are in the report as evidence")
			}
			if warned := strings.Contains(stderr, "warning: device report android_tracker-control-report.csv is not used as evidence") && strings.Contains(stderr, "--app-id"); warned != tc.wantWarn {
				t.Errorf("warning %v, want %v:\n%s", warned, tc.wantWarn, stderr)
			}
			if tc.wantNoRows && strings.Contains(md, "| api2.branch.io | Branch") {
				t.Error("device report rows listed")
			}
		})
	}

	// Batch: the device report beside a HAR without app ID is listed with
	// its SHA-256 and not used, with the warning in findings.json.
	study := filepath.Join(tmp, "study")
	if err := os.MkdirAll(study, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, src := range map[string]string{"app.har": noID, "tracker-control.csv": csv} {
		if err := os.WriteFile(filepath.Join(study, name), mustRead(t, src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	res := filepath.Join(tmp, "results")
	if _, stderr, code := runBatchCLI(t, nil, study, "-o", res, "--jobs", "1", "--format", "md"); code != 0 {
		t.Fatalf("batch exit %d\n%s", code, stderr)
	}
	var m batch.Manifest
	if err := json.Unmarshal(mustRead(t, filepath.Join(res, "study", "app.har", "manifest.json")), &m); err != nil {
		t.Fatal(err)
	}
	sum, err := tracewire.HashFile("deviceReport", filepath.Join(study, "tracker-control.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Devices) != 1 || m.Devices[0].SHA256 != sum.SHA256 || m.Devices[0].Name != "tracker-control.csv" {
		t.Errorf("manifest's device reports %+v, want %s", m.Devices, sum.SHA256)
	}
	fa, err := rep.ReadAnalysis(strings.NewReader(string(mustRead(t, filepath.Join(res, "study", "app.har", "findings.json")))), "findings.json")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(fa.Warnings, "\n"), "tracker-control.csv is not used as evidence") {
		t.Errorf("findings.json warnings: %q", fa.Warnings)
	}
	if md := string(mustRead(t, filepath.Join(res, "study", "app.har", "report.md"))); strings.Contains(md, others) {
		t.Error("batch report lists another app's contacts")
	}
}
