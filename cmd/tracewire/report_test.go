package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	json "github.com/go-json-experiment/json/v1"
	"github.com/parquet-go/parquet-go"

	"github.com/tracewire/tracewire/internal/testutil"
	rep "github.com/tracewire/tracewire/report"
)

func repoFile(parts ...string) string {
	return filepath.Join(append([]string{testutil.RepoRoot()}, parts...)...)
}

func shopHAR() string  { return repoFile("testdata", "report", "shop-backend.har") }
func shopProv() string { return repoFile("testdata", "report", "provenance.jsonl") }

// mustWrite writes b to p and returns p.
func mustWrite(t *testing.T, p string, b []byte) string {
	t.Helper()
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestReportFormats(t *testing.T) {
	dir := t.TempDir()
	args := []string{"report", shopHAR(), "--provenance", shopProv(), "--indicators-everywhere"}
	for _, tc := range []struct {
		out  string
		want string
	}{
		{"r.md", "# Technical report"},
		{"r.html", "<!DOCTYPE html>"},
		{"r.pdf", "%PDF-1."},
		{"r.jsonl", `{"analysis_id":`},
		{"r.parquet", "PAR1"},
	} {
		p := filepath.Join(dir, tc.out)
		if _, stderr, err := runCLI(t, nil, append(args, "-o", p)...); err != nil {
			t.Fatalf("%s: %v\n%s", tc.out, err, stderr)
		}
		if b := mustRead(t, p); !bytes.HasPrefix(b, []byte(tc.want)) {
			t.Errorf("%s starts with %.40q", tc.out, b)
		}
	}
	md := string(mustRead(t, filepath.Join(dir, "r.md")))
	for _, want := range []string{"Meta Platforms Ireland Ltd.", "alice@example.com", "matches the known email (SHA-256 hash)", "example shop backend", "provenance.jsonl"} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown report lacks %q", want)
		}
	}
	rows, err := parquet.ReadFile[rep.Row](filepath.Join(dir, "r.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(mustRead(t, filepath.Join(dir, "r.jsonl")))), "\n")
	if len(rows) != len(lines) || len(rows) < 5 {
		t.Errorf("%d parquet rows, %d JSONL lines", len(rows), len(lines))
	}
	// Standard output and input: a HAR in, JSON Lines out, German HTML by
	// --format.
	out, _, err := runCLI(t, mustRead(t, shopHAR()), "report", "-", "--format", "jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var r rep.Row
	if err := json.Unmarshal([]byte(strings.SplitN(out, "\n", 2)[0]), &r); err != nil || r.Host != "graph.facebook.com" {
		t.Errorf("stdin → jsonl: %v %+v", err, r)
	}
	out, _, err = runCLI(t, mustRead(t, samplePath()), "report", "-", "--lang", "de")
	if err != nil || !strings.Contains(out, `<html lang="de">`) || !strings.Contains(out, "Google LLC") {
		t.Errorf("capture on stdin → German HTML: %v\n%.200s", err, out)
	}
}

// TestReportFromFindings: a report from detect's JSON, alone (no request
// details) and with the capture it came from (--findings).
func TestReportFromFindings(t *testing.T) {
	dir := t.TempDir()
	det, _, err := runCLI(t, nil, "detect", samplePath(), "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	fj := filepath.Join(dir, "findings.json")
	if err := os.WriteFile(fj, []byte(det), 0o644); err != nil {
		t.Fatal(err)
	}
	alone, _, err := runCLI(t, nil, "report", fj, "--format", "md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(alone, "The request itself is not in the findings file") || !strings.Contains(alone, "G-EXAMPLE123") {
		t.Errorf("report of detect's findings:\n%.500s", alone)
	}
	with, _, err := runCLI(t, nil, "report", "--findings", fj, samplePath(), "--format", "md")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(with, "The request itself is not in the findings file") || !strings.Contains(with, "POST https://region1.google-analytics.com/g/collect") ||
		!strings.Contains(with, "tracking.pcapng") {
		t.Errorf("report of findings with the capture:\n%.500s", with)
	}
	// The same as analysing the capture directly.
	direct, _, err := runCLI(t, nil, "report", samplePath(), "--format", "md")
	if err != nil {
		t.Fatal(err)
	}
	if direct != with {
		t.Error("--findings with the capture gives another report than analysing the capture")
	}
}

func TestReportCompareAndDevice(t *testing.T) {
	dir := testutil.Corpus(t, "har", "reporthar")
	out, _, err := runCLI(t, nil, "report", filepath.Join(dir, "ios_second-run.har"),
		"--compare", filepath.Join(dir, "ios_first-run.har"),
		"--device-report", filepath.Join(dir, "ios_app-privacy-report.ndjson"), "--format", "md")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Persisted: 32. Appeared: 0. Disappeared: 27.", "| graph.facebook.com | Meta Platforms Ireland Ltd. | tld.sample.app |"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

func TestReportErrors(t *testing.T) {
	dir := t.TempDir()
	notReport := filepath.Join(dir, "x.csv")
	if err := os.WriteFile(notReport, []byte("a,b\n1,2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"report", shopHAR(), "--format", "docx"}, "report format"},
		{[]string{"report", shopHAR(), "--lang", "fr"}, "language"},
		{[]string{"report", shopHAR(), "--device-report", notReport}, "TrackerControl"},
		{[]string{"report", shopHAR(), "--compare", filepath.Join(dir, "nope.har")}, "--compare"},
		{[]string{"report", filepath.Join(dir, "nope.har")}, "no such file"},
		{[]string{"report", shopHAR(), "--indicator", "novalue"}, "property=value"},
	} {
		_, _, err := runCLI(t, nil, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err %v, want %q", tc.args[1:], err, tc.want)
		}
	}
	// A failed report leaves no output file behind.
	p := filepath.Join(dir, "r.html")
	runCLI(t, nil, "report", shopHAR(), "--lang", "fr", "-o", p)
	if _, err := os.Stat(p); err == nil {
		t.Error("output written despite the error")
	}
}
