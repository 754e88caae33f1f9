package report

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFormatFor(t *testing.T) {
	for _, tc := range []struct {
		flag, out string
		want      Format
		err       string
	}{
		{"", "", HTML, ""},
		{"", "-", HTML, ""},
		{"", "r.md", Markdown, ""},
		{"", "dir/r", HTML, ""},
		{"pdf", "-", PDF, ""},
		{"PDF", "r.pdf", PDF, ""},
		{"pdf", "r.html", "", "-o r.html: the extension .html is that of html, but --format is pdf; name the file r.pdf"},
		{"", "r.txt", "", "-o r.txt: report cannot write .txt files; the format follows -o's extension, one of .html"},
		{"txt", "", "", "--format: report format \"txt\""},
	} {
		got, err := FormatFor(tc.flag, tc.out)
		if got != tc.want || (err == nil) != (tc.err == "") || err != nil && !strings.HasPrefix(err.Error(), tc.err) {
			t.Errorf("FormatFor(%q, %q) = %q, %v; want %q, %q", tc.flag, tc.out, got, err, tc.want, tc.err)
		}
	}
}

func TestReadFiles(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "tc.csv")
	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(csv, []byte("daddr,time,package\ntracker.example,1700000000000,com.example.app\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("a,b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := ReadDeviceReportFile(csv)
	if err != nil || d.Name != "tc.csv" || len(d.Contacts) != 1 {
		t.Errorf("ReadDeviceReportFile = %+v, %v", d, err)
	}
	if _, err := ReadDeviceReportFile(bad); err == nil || !strings.HasPrefix(err.Error(), bad+": not a TrackerControl CSV export") {
		t.Errorf("bad device report: %v", err)
	}
	if _, err := ReadDeviceReportFile(filepath.Join(dir, "none")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing device report: %v", err)
	}
	if _, err := ReadDetailsFile("", DocNotice); err == nil || !strings.Contains(err.Error(), "--document notice needs --details") {
		t.Errorf("no details file: %v", err)
	}
	if _, err := ReadDetailsFile(filepath.Join(dir, "none"), DocNotice); err == nil || !strings.HasPrefix(err.Error(), "--details: ") || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing details file: %v", err)
	}
	if _, err := ReadDetailsFile("../testdata/details.yaml", DocNotice); err != nil {
		t.Errorf("testdata/details.yaml: %v", err)
	}
}
