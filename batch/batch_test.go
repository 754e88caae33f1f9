package batch

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	json "github.com/go-json-experiment/json/v1"
	"github.com/tracewire/tracewire"
	"github.com/tracewire/tracewire/internal/testutil"
	"github.com/tracewire/tracewire/match"
	"github.com/tracewire/tracewire/report"
)

// tree builds a study folder: a capture, a backend HAR with its
// provenance log, and an empty capture (which fails).
func tree(t *testing.T) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "study")
	put := func(name, src string) {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		var b []byte
		if src != "" {
			var err error
			if b, err = os.ReadFile(filepath.Join(testutil.RepoRoot(), filepath.FromSlash(src))); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	put("apps/weather/tracking.pcapng", "testdata/sample/tracking.pcapng")
	put("backend/shop-backend.har", "testdata/report/shop-backend.har")
	put("backend/provenance.jsonl", "testdata/report/provenance.jsonl")
	put("bad/empty.pcap", "")
	return root
}

// files returns every file under dir with its content.
func files(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		r, _ := filepath.Rel(dir, p)
		m[filepath.ToSlash(r)] = string(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func statuses(s *Summary) []string {
	var out []string
	for _, r := range s.Results {
		out = append(out, r.ID+" "+string(r.Status))
	}
	return out
}

// TestZeroOptions: the zero Options analyse everything, write nothing and
// still count what they found.
func TestZeroOptions(t *testing.T) {
	root := tree(t)
	before := files(t, filepath.Dir(root))
	var started int
	var ended []string
	o := Options{}
	s, err := Run(context.Background(), []string{root}, o)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"study/apps/weather/tracking.pcapng ok", "study/backend/shop-backend.har ok", "study/bad/empty.pcap failed"}
	if got := statuses(s); !slices.Equal(got, want) {
		t.Errorf("results %v, want %v", got, want)
	}
	if s.Results[0].Findings == 0 || s.Results[1].Findings == 0 || !strings.HasSuffix(s.Results[2].Err, "empty file") {
		t.Errorf("results %+v", s.Results)
	}
	if after := files(t, filepath.Dir(root)); len(after) != len(before) {
		t.Errorf("the zero Options wrote files: %d before, %d after", len(before), len(after))
	}
	// The callbacks see the same.
	o.Started = func(n int, empty []string) { started = n }
	o.Ended = func(r Result) { ended = append(ended, r.ID+" "+string(r.Status)) }
	if _, err := Run(context.Background(), []string{root, t.TempDir()}, o); err != nil {
		t.Fatal(err)
	}
	slices.Sort(ended)
	if started != 3 || !slices.Equal(ended, want) {
		t.Errorf("Started %d, Ended %v", started, ended)
	}
}

// TestEmptyFolder: a folder with nothing to analyse is named to Started.
func TestEmptyFolder(t *testing.T) {
	dir := t.TempDir()
	var empty []string
	s, err := Run(context.Background(), []string{dir}, Options{Started: func(_ int, e []string) { empty = e }})
	if err != nil || len(s.Results) != 0 || !slices.Equal(empty, []string{dir}) {
		t.Errorf("Run: %v, %d results, empty folders %v", err, len(s.Results), empty)
	}
}

// TestRowsInJobOrder: the rows come in job order whatever the number of
// workers.
func TestRowsInJobOrder(t *testing.T) {
	root := tree(t)
	var rows [2]bytes.Buffer
	for i, jobs := range []int{1, 3} {
		if _, err := Run(context.Background(), []string{root}, Options{Jobs: jobs, Rows: &rows[i]}); err != nil {
			t.Fatal(err)
		}
	}
	if rows[0].Len() == 0 || rows[0].String() != rows[1].String() {
		t.Fatalf("rows differ between 1 and 3 workers or are empty:\n%s\n--\n%s", rows[0].String(), rows[1].String())
	}
	var ids []string
	for _, l := range strings.Split(strings.TrimSpace(rows[0].String()), "\n") {
		var r report.Row
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatal(err)
		}
		if len(ids) == 0 || ids[len(ids)-1] != r.InputFile {
			ids = append(ids, r.InputFile)
		}
	}
	want := []string{filepath.Join(root, "apps", "weather", "tracking.pcapng"), filepath.Join(root, "backend", "shop-backend.har")}
	if !slices.Equal(ids, want) {
		t.Errorf("rows name %v, want %v", ids, want)
	}
}

// TestFormats: changing the report formats alone renders the reports
// from the stored analysis (the same bytes as a fresh run), and removes
// those of formats no longer asked for; other options analyse again.
func TestFormats(t *testing.T) {
	root := tree(t)
	ctx := context.Background()
	out := filepath.Join(t.TempDir(), "out")
	run := func(o Options) *Summary {
		t.Helper()
		o.Out = out
		s, err := Run(ctx, []string{root}, o)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	both := []report.Format{report.HTML, report.Markdown}
	run(Options{Formats: both})
	fresh := files(t, out)
	const capDir = "study/apps/weather/tracking.pcapng/"
	if _, ok := fresh[capDir+"report.md"]; !ok {
		t.Fatal("no report.md")
	}

	// HTML only: report.md goes, nothing is analysed.
	s := run(Options{Formats: []report.Format{report.HTML}})
	if n := s.Count(Rendered); n != 2 || s.Count(OK) != 0 || s.Count(FailedBefore) != 1 {
		t.Errorf("HTML only: %v", statuses(s))
	}
	now := files(t, out)
	for name, content := range fresh {
		got, ok := now[name]
		switch {
		case strings.HasSuffix(name, "/report.md"):
			if ok {
				t.Errorf("%s is still there", name)
			}
		case strings.HasSuffix(name, "/manifest.json") || strings.HasPrefix(name, "findings."):
		case got != content:
			t.Errorf("%s changed", name)
		}
	}
	m, err := ReadManifest(filepath.Join(out, filepath.FromSlash(capDir)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range m.Outputs {
		names = append(names, o.Name)
	}
	if !slices.Equal(names, []string{"analysis.har", "findings.json", "report.html"}) {
		t.Errorf("manifest outputs %v", names)
	}

	// Both again: the Markdown reports are the fresh run's bytes, the
	// manifests too.
	s = run(Options{Formats: both})
	if s.Count(Rendered) != 2 {
		t.Errorf("both again: %v", statuses(s))
	}
	if again := files(t, out); !equal(fresh, again) {
		t.Error("reports rendered from the stored analysis differ from a fresh run's")
	}
	s = run(Options{Formats: both})
	if s.Count(Skipped) != 2 {
		t.Errorf("unchanged: %v", statuses(s))
	}

	// An analysis option is another run.
	s = run(Options{Formats: both, Analysis: tracewire.Options{IndicatorsEverywhere: true}})
	if s.Count(OK) != 2 {
		t.Errorf("another analysis option: %v", statuses(s))
	}
	// Analysed again with fewer formats: the others' reports go too.
	s = run(Options{Formats: []report.Format{report.Markdown}})
	now = files(t, out)
	if _, ok := now[capDir+"report.html"]; ok || s.Count(OK) != 2 || now[capDir+"report.md"] == "" {
		t.Errorf("analysed again with Markdown only: %v; report.html there: %v", statuses(s), ok)
	}
}

func equal(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestOptionsKey: the resume key changes with every analysis option and
// not with the report formats.
func TestOptionsKey(t *testing.T) {
	base := Options{Lang: "en"}
	key := optionsKey(&base)
	var shift time.Duration
	for _, tc := range []struct {
		name string
		o    Options
		same bool
	}{
		{"formats", Options{Lang: "en", Formats: []report.Format{report.PDF}}, true},
		{"jobs", Options{Lang: "en", Jobs: 7}, true},
		{"lang", Options{Lang: "de"}, false},
		{"everywhere", Options{Lang: "en", Analysis: tracewire.Options{IndicatorsEverywhere: true}}, false},
		{"document", Options{Lang: "en", Documents: []report.Document{report.DocNotice}}, false},
		{"indicator", Options{Lang: "en", Common: tracewire.Input{Indicators: []match.Indicator{{Property: "email", Value: "a@b.c"}}}}, false},
		{"key log", Options{Lang: "en", Common: tracewire.Input{KeyLogs: []string{"k.txt"}}}, false},
		{"app", Options{Lang: "en", AppID: "com.example"}, false},
		{"max evidence", Options{Lang: "en", Analysis: tracewire.Options{MaxEvidence: 3}}, false},
		{"provenance shift", Options{Lang: "en", Analysis: tracewire.Options{ProvenanceTimeShift: &shift}}, false},
	} {
		if got := optionsKey(&tc.o) == key; got != tc.same {
			t.Errorf("%s: same key %v, want %v", tc.name, got, tc.same)
		}
	}
}
