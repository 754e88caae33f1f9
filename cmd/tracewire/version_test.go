package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	json "github.com/go-json-experiment/json/v1"
	"github.com/tracewire/tracewire/internal/version"
	rep "github.com/tracewire/tracewire/report"
)

// fakeBuild makes the process look like a build of revision rev (with
// uncommitted changes when modified) until the test ends.
func fakeBuild(t *testing.T, rev string, modified bool) {
	t.Helper()
	r, m, v := version.Revision, version.Modified, version.Version
	t.Cleanup(func() { version.Revision, version.Modified, version.Version = r, m, v })
	version.Revision, version.Modified, version.Version = rev, modified, version.Full(rev, modified, "")
}

// TestBuildNamed: --version, detect's and batch's findings, reports,
// batch manifests and the HARs tracewire makes name the exact build
// (version and VCS revision, and whether the tree was modified), and a
// batch run by another build analyses again what an earlier one made.
func TestBuildNamed(t *testing.T) {
	const revA = "0123456789abcdef0123456789abcdef01234567"
	const revB = "89abcdef0123456789abcdef0123456789abcdef"
	fakeBuild(t, revA, true)
	want := version.Base + " (revision " + revA + ", modified)"

	out, _, err := runCLI(t, nil, "--version")
	if err != nil || !strings.Contains(out, want) {
		t.Errorf("--version: %v %q, want %q", err, out, want)
	}
	out, _, err = runCLI(t, nil, "detect", shopHAR(), "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var det struct{ Tool rep.Tool }
	if err := json.Unmarshal([]byte(out), &det); err != nil {
		t.Fatal(err)
	}
	if det.Tool != (rep.Tool{Name: "tracewire", Version: want, Revision: revA, Modified: true}) {
		t.Errorf("detect's JSON names %+v", det.Tool)
	}
	out, _, err = runCLI(t, nil, "convert", samplePath())
	if err != nil || !strings.Contains(out, `"creator":{"name":"tracewire","version":"`+want+`"}`) {
		t.Errorf("convert's HAR creator: %v %.200s", err, out)
	}
	for _, tc := range []struct{ lang, want string }{
		{"en", "tracewire " + version.Base + " (revision " + revA + ", with uncommitted changes)"},
		{"de", "tracewire " + version.Base + " (Revision " + revA + ", mit nicht eingecheckten Änderungen)"},
	} {
		out, _, err = runCLI(t, nil, "report", shopHAR(), "--format", "md", "--lang", tc.lang)
		if err != nil || strings.Count(out, tc.want) < 2 {
			t.Errorf("%s report does not name the build %q twice (header and metadata): %v", tc.lang, tc.want, err)
		}
	}
	out, _, err = runCLI(t, nil, "report", shopHAR(), "--format", "jsonl")
	if err != nil || !strings.Contains(out, `"tool_version":"`+want+`"`) {
		t.Errorf("report rows: %v %.300s", err, out)
	}

	// Batch: findings.json and manifest.json name the build; the same
	// build skips, another build analyses again.
	root := filepath.Join(t.TempDir(), "study")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "shop.har"), mustRead(t, shopHAR()), 0o644); err != nil {
		t.Fatal(err)
	}
	res := filepath.Join(t.TempDir(), "results")
	batchOnce := func() string {
		t.Helper()
		_, stderr, code := runBatchCLI(t, nil, root, "-o", res, "--jobs", "1")
		if code != 0 {
			t.Fatalf("batch: exit %d\n%s", code, stderr)
		}
		return stderr
	}
	if s := batchOnce(); !strings.Contains(s, "1 done") {
		t.Fatalf("first run: %s", s)
	}
	for _, name := range []string{"findings.json", "manifest.json"} {
		var doc struct{ Tool rep.Tool }
		if err := json.Unmarshal(mustRead(t, filepath.Join(res, "study", "shop.har", name)), &doc); err != nil {
			t.Fatal(err)
		}
		if doc.Tool.Version != want || doc.Tool.Revision != revA || !doc.Tool.Modified {
			t.Errorf("%s names %+v", name, doc.Tool)
		}
	}
	if s := batchOnce(); !strings.Contains(s, "1 skipped") {
		t.Errorf("same build: %s", s)
	}
	fakeBuild(t, revB, false)
	if s := batchOnce(); !strings.Contains(s, "1 done") {
		t.Errorf("another build skipped the analysis: %s", s)
	}
	if s := batchOnce(); !strings.Contains(s, "1 skipped") {
		t.Errorf("same build again: %s", s)
	}
}
