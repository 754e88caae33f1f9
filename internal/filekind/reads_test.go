package filekind

import (
	"os"
	"path/filepath"
	"strings"
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
