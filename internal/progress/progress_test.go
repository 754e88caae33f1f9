package progress

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// Progress goes only to terminals: not to buffers, files or /dev/null.
func TestOnlyOnTerminal(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	for _, tc := range []struct {
		name string
		w    io.Writer
	}{{"buffer", &bytes.Buffer{}}, {"file", f}, {"/dev/null", null}} {
		if Capture(tc.w) != nil || Enrich(tc.w) != nil {
			t.Errorf("progress for a %s", tc.name)
		}
		if _, ok := Terminal(tc.w); ok {
			t.Errorf("%s taken for a terminal", tc.name)
		}
	}
}
