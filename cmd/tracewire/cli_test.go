package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReportOutputExtension: the report's format follows -o's extension;
// an extension no report format has is a usage error (exit 2) that lists
// the valid ones and writes nothing, and so is an extension that
// contradicts --format. No extension, or --format with an extension that
// names no format, still writes.
func TestReportOutputExtension(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		out    string
		format string
		code   int
		want   []string // in stderr, or the written file's start
	}{
		{"r.txt", "", exitFailed, []string{"-o " + filepath.Join(dir, "r.txt"), "cannot write .txt", ".html", ".md", ".pdf", ".jsonl", ".parquet", "--format"}},
		{"r.HAR", "", exitFailed, []string{"cannot write .HAR"}},
		{"r.html", "pdf", exitFailed, []string{"the extension .html is that of html, but --format is pdf", "r.pdf"}},
		{"r.markdown", "", 0, []string{"# Technical report"}},
		{"r.htm", "", 0, []string{"<!DOCTYPE html>"}},
		{"report", "", 0, []string{"<!DOCTYPE html>"}},
		{"r.txt", "md", 0, []string{"# Technical report"}},
		{"r2.ndjson", "jsonl", 0, []string{`{"analysis_id":`}},
	} {
		t.Run(tc.out+"/"+tc.format, func(t *testing.T) {
			p := filepath.Join(dir, tc.out)
			os.Remove(p)
			args := []string{"report", shopHAR(), "-o", p}
			if tc.format != "" {
				args = append(args, "--format", tc.format)
			}
			_, stderr, err := runCLI(t, nil, args...)
			if got := exitStatus(err); got != tc.code {
				t.Fatalf("exit %d, want %d (%v)\n%s", got, tc.code, err, stderr)
			}
			b, rerr := os.ReadFile(p)
			if tc.code != 0 {
				if rerr == nil {
					t.Errorf("%s written although refused", tc.out)
				}
				for _, w := range tc.want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				return
			}
			if !strings.HasPrefix(string(b), tc.want[0]) {
				t.Errorf("%s starts with %.40q, want %q", tc.out, b, tc.want[0])
			}
		})
	}
}
