package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	json "github.com/go-json-experiment/json/v1"
	"github.com/tracewire/tracewire/internal/testutil"
)

// writeJSON writes v as JSON into dir/name and returns the path.
func writeJSONFile(t *testing.T, dir, name string, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// detectJSON runs detect --format json and returns the document.
func detectJSON(t *testing.T, args ...string) map[string]any {
	t.Helper()
	out, stderr, err := runCLI(t, nil, append([]string{"detect", "--format", "json"}, args...)...)
	if err != nil {
		t.Fatalf("detect %v: %v\n%s", args, err, stderr)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// wantExit checks that err gives exit status code.
func wantExit(t *testing.T, err error, code int) {
	t.Helper()
	if exitStatus(err) != code {
		t.Fatalf("err %v, want exit status %d", err, code)
	}
}

// TestReportFindingsBelongToInput: report --findings F IN refuses (exit 2,
// what differs on stderr, no output file) findings made from another
// input, from other inputs besides the same capture, with another entry
// count or with requests IN does not have at their indexes; findings of
// IN itself make the same report as analysing IN.
func TestReportFindingsBelongToInput(t *testing.T) {
	dir := testutil.Corpus(t, "har", "reporthar")
	android, ios := filepath.Join(dir, "android_first-run.har"), filepath.Join(dir, "ios_first-run.har")
	tmp := t.TempDir()

	doc := detectJSON(t, android)
	if inputs, _ := doc["inputs"].([]any); len(inputs) != 1 || !strings.Contains(toJSON(t, inputs), `"sha256":"c39ab205876c702b43badb77db5c38b8e9d2da92a40d406e5de8ab0bb8928a6c"`) {
		t.Fatalf("detect's JSON lacks the input's SHA-256: %s", toJSON(t, doc["inputs"]))
	}
	if doc["id"] == "" || doc["tool"] == nil {
		t.Fatalf("detect's JSON lacks the analysis ID or tool: id %v tool %v", doc["id"], doc["tool"])
	}
	own := writeJSONFile(t, tmp, "android.json", doc)

	// Without digests (as older versions wrote them), only the entry count
	// and the requests can be checked.
	legacy := map[string]any{"findings": doc["findings"], "entries_read": doc["entries_read"], "warnings": []any{}}
	legacyFile := writeJSONFile(t, tmp, "legacy.json", legacy)

	// The same findings with one request changed.
	tampered := cloneDoc(t, doc)
	f0 := tampered["findings"].([]any)[0].(map[string]any)["entry"].(map[string]any)
	idx := f0["index"]
	for _, f := range tampered["findings"].([]any) {
		e := f.(map[string]any)["entry"].(map[string]any)
		if e["index"] == idx {
			e["url"] = "https://example.com/elsewhere"
		}
	}
	tamperedFile := writeJSONFile(t, tmp, "tampered.json", tampered)

	// A finding that refers to an entry the input does not have.
	beyond := cloneDoc(t, doc)
	fs := beyond["findings"].([]any)
	extra := cloneMap(t, fs[len(fs)-1].(map[string]any))
	extra["entry"].(map[string]any)["index"] = 999
	beyond["findings"] = append(fs, extra)
	beyondFile := writeJSONFile(t, tmp, "beyond.json", beyond)

	// Same HAR, but made with an indicator file the report does not read.
	ind := filepath.Join(tmp, "ind.json")
	if err := os.WriteFile(ind, []byte(`{"email": "nobody@example.com"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	withInd := writeJSONFile(t, tmp, "with-indicators.json", detectJSON(t, android, "--indicators", ind))

	for _, tc := range []struct {
		name     string
		findings string
		in       string
		want     []string
	}{
		{"another app's findings", own, ios, []string{"were made from har android_first-run.har (SHA-256 c39ab205", "the input is har ios_first-run.har"}},
		{"no digests, another input", legacyFile, filepath.Join(dir, "android_second-run.har"), []string{"counts 16 entries, the input has 14"}},
		{"changed request", tamperedFile, android, []string{"in the findings file but", "https://example.com/elsewhere"}},
		{"entry beyond the input", beyondFile, android, []string{"refers to entry 999", "which the input does not have"}},
		{"other inputs besides", withInd, android, []string{"analysis ID is", "only the findings file's analysis read indicators ind.json"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "r.md")
			_, stderr, err := runCLI(t, nil, "report", "--findings", tc.findings, tc.in, "-o", out)
			wantExit(t, err, 2)
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("a report was written")
			}
		})
	}

	// Findings of the input itself: the report is that of the input.
	with, _, err := runCLI(t, nil, "report", "--findings", own, android, "--format", "md")
	if err != nil {
		t.Fatal(err)
	}
	direct, _, err := runCLI(t, nil, "report", android, "--format", "md")
	if err != nil {
		t.Fatal(err)
	}
	if with != direct {
		t.Error("report --findings of the input's own findings differs from the report of the input")
	}
	// The findings file among the inputs is taken as --findings.
	positional, _, err := runCLI(t, nil, "report", own, android, "--format", "md")
	if err != nil || positional != direct {
		t.Errorf("report F IN: err %v; same report as report IN: %v", err, positional == direct)
	}
	_, stderr, err := runCLI(t, nil, "report", own, ios, "--format", "md")
	wantExit(t, err, 2)
	if !strings.Contains(stderr, "the findings file "+own+" does not belong to "+ios) {
		t.Errorf("report F OTHER does not name the files:\n%s", stderr)
	}
	_, _, err = runCLI(t, nil, "report", own, legacyFile, android, "--format", "md")
	wantExit(t, err, 2)
	if !strings.Contains(err.Error(), "are both findings files") {
		t.Errorf("two findings files: %v", err)
	}
	// Without digests but matching: accepted, with a warning in the report.
	_, stderr, err = runCLI(t, nil, "report", "--findings", legacyFile, android, "--format", "md")
	if err != nil || !strings.Contains(stderr, "names no input digest") {
		t.Errorf("findings without digests of the same input: err %v, stderr:\n%s", err, stderr)
	}
}

func toJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func cloneDoc(t *testing.T, v map[string]any) map[string]any { return cloneMap(t, v) }

func cloneMap(t *testing.T, v map[string]any) map[string]any {
	t.Helper()
	var out map[string]any
	if err := json.Unmarshal([]byte(toJSON(t, v)), &out); err != nil {
		t.Fatal(err)
	}
	return out
}
