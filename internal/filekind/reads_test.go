package filekind

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestReadsCheck(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	har := write("a.har", `{"log":{"entries":[]}}`)
	empty := write("empty", "")
	text := write("notes.txt", "hello\n")
	same := func(p string) string { return p }
	for _, tc := range []struct {
		r     Reads
		paths []string
		err   string
	}{
		{ReadsCaptures | ReadsHAR, []string{har, dir, "-", filepath.Join(dir, "none")}, ""},
		{ReadsCaptures, []string{har}, har + " is a HAR file, but convert reads only pcap and pcapng captures"},
		{ReadsCaptures | ReadsHAR, []string{empty}, empty + " is an empty file: nothing to analyse"},
		{ReadsCaptures | ReadsHAR | ReadsFindings, []string{text}, text + " is "},
	} {
		err := tc.r.CheckFiles("convert", same, tc.paths...)
		if (err == nil) != (tc.err == "") || err != nil && !strings.HasPrefix(err.Error(), tc.err) {
			t.Errorf("CheckFiles(%d, %q) = %v, want %q", tc.r, tc.paths, err, tc.err)
		}
	}
	if err := ReadsHAR.Check("detect", "-", Info{Kind: Empty}); err == nil || err.Error() != "standard input is an empty file: nothing to analyse" {
		t.Errorf("standard input: %v", err)
	}
}

func TestCheckPipe(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path string
		want string // "" for nil
	}{
		{fifo, "is a named pipe"},
		{file, ""},
		{dir, ""},
		{filepath.Join(dir, "missing"), ""},
		{"/dev/null", ""},
	} {
		err := CheckPipe(c.path)
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.path+" "+c.want)) {
			t.Errorf("CheckPipe(%s) = %v, want %q", c.path, err, c.want)
		}
	}
	// SniffFile and CheckFiles say it too, without opening the pipe
	// (which would wait for a writer).
	if _, err := SniffFile(fifo); err == nil || !strings.Contains(err.Error(), "named pipe") {
		t.Errorf("SniffFile: %v", err)
	}
	if err := ReadsCaptures.CheckFiles("flows", func(p string) string { return p }, file+"x", fifo); err == nil || !strings.Contains(err.Error(), "named pipe") {
		t.Errorf("CheckFiles: %v", err)
	}
}
