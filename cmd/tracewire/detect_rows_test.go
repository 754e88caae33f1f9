package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	json "github.com/go-json-experiment/json/v1"
	"github.com/tracewire/tracewire/internal/testutil"
	rep "github.com/tracewire/tracewire/report"
)

// sortedLines are the lines of s, sorted: a multiset to compare.
func sortedLines(s string) []string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	slices.Sort(lines)
	return lines
}

// TestDetectRowsAreBatchRows checks that detect --format jsonl writes the
// rows of batch's findings.jsonl for the same input, the analysis ID made
// from the input's SHA-256 included (issue 10, one row format), and the
// rows of report --format jsonl from standard input.
func TestDetectRowsAreBatchRows(t *testing.T) {
	inputs := []string{
		testutil.Corpus(t, "har", "reporthar", "android_first-run.har"),
		// A capture whose packet comments name the process (ptcpdump).
		filepath.Join(testutil.RepoRoot(), "testdata", "sample", "tracking.pcapng"),
	}
	for _, in := range inputs {
		t.Run(filepath.Base(in), func(t *testing.T) {
			// Batch names an input by its path below the folder given
			// to it: from the input's folder, detect is given the same.
			t.Chdir(filepath.Dir(in))
			name := filepath.Base(in)
			got, _, err := runCLI(t, nil, "detect", "--format", "jsonl", name)
			if err != nil {
				t.Fatalf("detect: %v", err)
			}
			dir := filepath.Join(t.TempDir(), "out")
			if _, errb, err := runCLI(t, nil, "batch", name, "-o", dir, "--jobs", "1"); err != nil {
				t.Fatalf("batch: %v\n%s", err, errb)
			}
			want := string(mustRead(t, filepath.Join(dir, "findings.jsonl")))
			g, w := sortedLines(got), sortedLines(want)
			if len(w) < 50 {
				t.Fatalf("batch found only %d rows", len(w))
			}
			if !slices.Equal(g, w) {
				for i := 0; i < len(g) && i < len(w); i++ {
					if g[i] != w[i] {
						t.Fatalf("detect's rows differ from batch's findings.jsonl (%d and %d rows); first difference:\ndetect %s\nbatch  %s", len(g), len(w), g[i], w[i])
					}
				}
				t.Fatalf("detect wrote %d rows, batch %d", len(g), len(w))
			}
			var row rep.Row
			if err := json.Unmarshal([]byte(g[0]), &row); err != nil || len(row.AnalysisID) != 16 || row.InputFile != name || row.ToolVersion == "" {
				t.Errorf("row %+v (%v): want a 16-digit analysis ID, input %q and the tool version", row, err, name)
			}
			if strings.HasSuffix(name, ".pcapng") && !strings.Contains(got, `"process":"com.example.weatherapp (pid 4242)"`) {
				t.Errorf("no row names the process of the capture's packet comments")
			}

			// Standard input: the rows of report - --format jsonl, whose
			// analysis ID is made from the bytes read.
			b, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			got, _, err = runCLI(t, b, "detect", "-", "--format", "jsonl")
			if err != nil {
				t.Fatalf("detect -: %v", err)
			}
			want, _, err = runCLI(t, b, "report", "-", "--format", "jsonl")
			if err != nil {
				t.Fatalf("report -: %v", err)
			}
			if !slices.Equal(sortedLines(got), sortedLines(want)) {
				t.Errorf("detect - --format jsonl differs from report - --format jsonl:\n%.600s\n%.600s", got, want)
			}
		})
	}
}

// TestDetectRowsOfEnrichedHAR checks that detect's rows of a HAR written
// by enrich name the process and owners enrichment attached, as batch's
// rows do (detect reads only the requests of a HAR).
func TestDetectRowsOfEnrichedHAR(t *testing.T) {
	h := filepath.Join(t.TempDir(), "enriched.har")
	if _, errb, err := runCLI(t, nil, "enrich", filepath.Join(testutil.RepoRoot(), "testdata", "experiment"), "-o", h); err != nil {
		t.Fatalf("enrich: %v\n%s", err, errb)
	}
	got, _, err := runCLI(t, nil, "detect", "--format", "jsonl", h)
	if err != nil {
		t.Fatalf("detect: %v", err)
	}
	want, _, err := runCLI(t, []byte(h+"\n"), "batch", "-", "-o", "-", "--jobs", "1")
	if err != nil {
		t.Fatalf("batch: %v", err)
	}
	if !slices.Equal(sortedLines(got), sortedLines(want)) {
		t.Errorf("detect's rows differ from batch's:\n%.800s\n%.800s", got, want)
	}
	if !strings.Contains(got, `"process":"com.example.app (pid 4242)"`) {
		t.Errorf("the rows name no process:\n%.800s", got)
	}
}

// TestDetectRowsProcessOwners checks that the entry's _process and
// _owners (eBPF or ptcpdump, and provenance enrichment) reach detect's
// rows as they reach report's.
func TestDetectRowsProcessOwners(t *testing.T) {
	in := strings.Replace(detectHAR, `{"startedDateTime":"2024-01-02T03:04:05Z",`,
		`{"_process":{"cmd":"/usr/bin/app","pid":7},"_owners":["alice","bob"],"startedDateTime":"2024-01-02T03:04:05Z",`, 1)
	got, _, err := runCLI(t, []byte(in), "detect", "-", "--format", "jsonl")
	if err != nil {
		t.Fatalf("detect: %v", err)
	}
	want, _, err := runCLI(t, []byte(in), "report", "-", "--format", "jsonl")
	if err != nil {
		t.Fatalf("report: %v", err)
	}
	if !slices.Equal(sortedLines(got), sortedLines(want)) {
		t.Errorf("detect's rows differ from report's:\n%s\n%s", got, want)
	}
	if !strings.Contains(got, `"process":"/usr/bin/app (pid 7)","owner":"alice, bob"`) {
		t.Errorf("no row names the process and owners:\n%s", got)
	}
}
