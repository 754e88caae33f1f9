package report_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tracewire/tracewire"
	"github.com/tracewire/tracewire/internal/testutil"
	"github.com/tracewire/tracewire/report"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// goldenBody keeps the appendix of the golden files short: the corpus's
// request bodies are quoted only as far as a reader needs to see that they
// are there (TestAppendixInFull checks the full reproduction).
const goldenBody = 300

var (
	analysesOnce sync.Once
	analyses     map[string]*report.Analysis
	analysesErr  error
)

// corpusAnalyses analyses the four ReportHAR fixtures once.
func corpusAnalyses(t *testing.T) map[string]*report.Analysis {
	t.Helper()
	dir := testutil.Corpus(t, "har", "reporthar")
	analysesOnce.Do(func() {
		analyses = map[string]*report.Analysis{}
		for _, n := range []string{"android_first-run", "android_second-run", "ios_first-run", "ios_second-run"} {
			a, err := tracewire.Analyze(context.Background(), tracewire.Input{Files: []string{filepath.Join(dir, n+".har")}}, tracewire.Options{})
			if err != nil {
				analysesErr = err
				return
			}
			// The adapter database changes whenever an adapter does; the
			// goldens follow the findings, not the database's digest.
			a.AdapterDB = &report.AdapterDB{Version: "embedded 0.0.0-golden", SHA256: strings.Repeat("0", 64), Trackers: 1, Adapters: 1}
			analyses[n] = a
		}
	})
	if analysesErr != nil {
		t.Fatal(analysesErr)
	}
	return analyses
}

func deviceReport(t *testing.T, name string) *report.DeviceReport {
	t.Helper()
	p := testutil.Corpus(t, "har", "reporthar", name)
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := report.ReadDeviceReport(f, name)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// goldenOptions are the report options of a fixture: the platform's own
// device report, and for a second run the comparison with the first.
func goldenOptions(t *testing.T, name, lang string) report.Options {
	as := corpusAnalyses(t)
	o := report.Options{Lang: lang, MaxBody: goldenBody}
	if strings.HasPrefix(name, "android") {
		o.DeviceReports = []*report.DeviceReport{deviceReport(t, "android_tracker-control-report.csv")}
	} else {
		o.DeviceReports = []*report.DeviceReport{deviceReport(t, "ios_app-privacy-report.ndjson")}
	}
	if first, ok := strings.CutSuffix(name, "_second-run"); ok {
		o.Compare = as[first+"_first-run"]
	}
	return o
}

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) || i < len(wl); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("%s differs at line %d:\n got: %s\nwant: %s\n(go test ./report -run Golden -update rewrites it; read the diff)", path, i+1, g, w)
			}
		}
	}
}

// TestGoldenReports renders the ReportHAR fixtures as Markdown and HTML in
// English and German and compares them with the reviewed files in
// testdata/golden.
func TestGoldenReports(t *testing.T) {
	as := corpusAnalyses(t)
	for _, name := range []string{"android_first-run", "android_second-run", "ios_first-run", "ios_second-run"} {
		for _, lang := range []string{"en", "de"} {
			for _, f := range []report.Format{report.Markdown, report.HTML} {
				t.Run(name+"."+lang+f.Ext(), func(t *testing.T) {
					var buf bytes.Buffer
					if err := report.Write(&buf, f, as[name], goldenOptions(t, name, lang)); err != nil {
						t.Fatal(err)
					}
					checkGolden(t, filepath.Join("testdata", "golden", name+"."+lang+f.Ext()), buf.Bytes())
					// The same analysis gives the same bytes.
					var again bytes.Buffer
					if err := report.Write(&again, f, as[name], goldenOptions(t, name, lang)); err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(buf.Bytes(), again.Bytes()) {
						t.Error("two renderings differ")
					}
				})
			}
		}
	}
}

// TestGoldenUndecoded renders the section "Requests to tracking companies
// that were not decoded" of the nytimes.com capture (many beacons to
// companies without adapters) in English and German and compares it with
// the reviewed files in testdata/golden. The rest of that report is not
// kept: the section is what this golden reviews.
func TestGoldenUndecoded(t *testing.T) {
	p := testutil.Corpus(t, "har", "pagexray", "www.nytimes.com.har")
	a, err := tracewire.Analyze(context.Background(), tracewire.Input{Files: []string{p}}, tracewire.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Undecoded) == 0 {
		t.Fatal("no undecoded requests in the nytimes.com capture")
	}
	for _, tc := range []struct{ lang, title, next string }{
		{"en", "## Requests to tracking companies that were not decoded\n", "\n## Methodology\n"},
		{"de", "## Nicht dekodierte Anfragen an Tracking-Unternehmen\n", "\n## Methodik\n"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			var buf bytes.Buffer
			if err := report.Write(&buf, report.Markdown, a, report.Options{Lang: tc.lang}); err != nil {
				t.Fatal(err)
			}
			s := buf.String()
			i := strings.Index(s, tc.title)
			j := strings.Index(s, tc.next)
			if i < 0 || j < i {
				t.Fatalf("no section %q before %q", tc.title, tc.next)
			}
			checkGolden(t, filepath.Join("testdata", "golden", "undecoded-nytimes."+tc.lang+".md"), []byte(s[i:j+1]))
		})
	}
}
