package tracewire

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tracewire/tracewire/report"
)

// TestDetectTo runs detect as a call: what each kind of input writes, to
// which stream, and which error ends it. The command line's tests cover
// the flags and exit statuses over the same function.
func TestDetectTo(t *testing.T) {
	dir := t.TempDir()
	har := filepath.Join("testdata", "golden", "tracking.har")
	b, err := os.ReadFile(har)
	if err != nil {
		t.Fatal(err)
	}
	cutHAR := filepath.Join(dir, "cut.har")
	garbage := filepath.Join(dir, "notes.txt")
	cutCapture := filepath.Join(dir, "cut.pcapng")
	c, err := os.ReadFile(filepath.Join("testdata", "sample", "tracking.pcapng"))
	if err != nil {
		t.Fatal(err)
	}
	for p, data := range map[string][]byte{cutHAR: b[:len(b)/2], garbage: []byte("not a capture"), cutCapture: c[:len(c)/3]} {
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name, file, format string
		stdin              []byte
		in                 Input
		// wantErr is "" for success, "incomplete" for ErrIncomplete,
		// else a part of the error.
		wantErr           string
		wantOut, wantWarn []string
	}{
		{name: "har table", file: har, format: "table", wantOut: []string{"Advertising ID"}},
		{name: "stdin json", file: "-", format: "json", stdin: b,
			wantOut: []string{`"path":"-"`, `"name":"stdin"`, `"findings": [`}},
		{name: "not a capture", file: garbage, format: "json", wantErr: "notes.txt", wantOut: []string{`"error":`}},
		{name: "har cut short", file: cutHAR, format: "jsonl", wantErr: "cut.har"},
		{name: "capture cut short", file: cutCapture, format: "json", wantErr: "incomplete", wantWarn: []string{"tracewire: warning:"}},
		{name: "experiment", in: Input{Experiment: filepath.Join("testdata", "experiment")}, format: "table",
			wantOut: []string{"com.example.Tracker.send(Tracker.java:42)"}, wantWarn: []string{"requests with a stack trace: 8"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			if tc.file != "" {
				in.Files = []string{tc.file}
			}
			var out, stderr bytes.Buffer
			err := DetectTo(context.Background(), in, Options{}, report.DetectOptions{Format: tc.format, Lang: "en"},
				Streams{In: bytes.NewReader(tc.stdin), Out: &out, Err: &stderr})
			switch {
			case tc.wantErr == "" && err != nil, tc.wantErr == "incomplete" && !errors.Is(err, ErrIncomplete):
				t.Fatalf("err = %v, want %q\n%s", err, tc.wantErr, stderr.String())
			case tc.wantErr != "" && tc.wantErr != "incomplete" && (err == nil || errors.Is(err, ErrIncomplete) || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("err = %v, want one naming %q", err, tc.wantErr)
			}
			for _, w := range tc.wantOut {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output has no %q:\n%.3000s", w, out.String())
				}
			}
			for _, w := range tc.wantWarn {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("standard error has no %q:\n%.3000s", w, stderr.String())
				}
			}
		})
	}
}
