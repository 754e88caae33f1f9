package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tracewire/tracewire"
	"github.com/tracewire/tracewire/internal/testutil"
)

// TestReportCompareLikeWithLike: --compare refuses (exit 2, no output) an
// analysis of another app (another app ID, or no host in common) unless
// --compare-any is given, and then the report says the apps may differ;
// the compared file's SHA-256 is listed under the inputs.
func TestReportCompareLikeWithLike(t *testing.T) {
	dir := testutil.Corpus(t, "har", "reporthar")
	second, first := filepath.Join(dir, "android_second-run.har"), filepath.Join(dir, "android_first-run.har")
	otherHosts := testutil.Corpus(t, "har", "pagexray", "http_http2-chrome.har")
	tmp := t.TempDir()
	// The first run as if made of another app.
	b := mustRead(t, first)
	if n := strings.Count(string(b), `"id": "tld.sample.app"`); n != 1 {
		t.Fatalf("fixture: %d app IDs", n)
	}
	otherApp := filepath.Join(tmp, "other-app.har")
	if err := os.WriteFile(otherApp, []byte(strings.Replace(string(b), `"id": "tld.sample.app"`, `"id": "com.example.wallpaper"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, compare string
		want          string // in the refusal
		wantReport    string // in the report with --compare-any
	}{
		{"another app ID", otherApp, "the earlier analysis is of another app (com.example.wallpaper) than this one (tld.sample.app)", "is of another app (com.example.wallpaper)"},
		{"no host in common", otherHosts, "the two analyses have no host in common", "have no host in common"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "r.md")
			_, stderr, err := runCLI(t, nil, "report", second, "--compare", tc.compare, "-o", out)
			wantExit(t, err, 2)
			if !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, "--compare-any") {
				t.Errorf("stderr:\n%s", stderr)
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("a report was written")
			}
			md, stderr, err := runCLI(t, nil, "report", second, "--compare", tc.compare, "--compare-any", "--format", "md")
			if err != nil {
				t.Fatalf("--compare-any: %v\n%s", err, stderr)
			}
			if !strings.Contains(md, "Caution: ") || !strings.Contains(md, tc.wantReport) {
				t.Errorf("the report does not say the apps may differ:\n%.3000s", md)
			}
			sum, err := tracewire.HashFile("", tc.compare)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(md, "| "+filepath.Base(tc.compare)+" | earlier analysis compared with |") || !strings.Contains(md, sum.SHA256) {
				t.Errorf("the compared file and its SHA-256 %s are not listed with the inputs", sum.SHA256)
			}
		})
	}
	// The same app: compared, the first run listed with its SHA-256.
	md, stderr, err := runCLI(t, nil, "report", second, "--compare", first, "--format", "md")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if strings.Contains(md, "Caution: ") || !strings.Contains(md, "c39ab205876c702b43badb77db5c38b8e9d2da92a40d406e5de8ab0bb8928a6c") {
		t.Errorf("comparison of the same app:\n%.3000s", md)
	}
}
