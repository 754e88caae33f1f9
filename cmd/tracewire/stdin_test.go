package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
)

// TestStdinDeterministic runs each command that reads standard input twice
// on the sample capture: the output must be the same bytes, so the name of
// the temporary file standard input is spooled to never shows.
func TestStdinDeterministic(t *testing.T) {
	sample, err := os.ReadFile("../../testdata/sample/tracking.pcapng")
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"convert", "-"},
		{"flows", "-", "--format", "json"},
		{"flows", "-"},
		{"detect", "-", "--format", "json"},
		{"report", "-", "--format", "jsonl"},
		{"report", "-", "--format", "md"},
	} {
		var outs [2]string
		for i := range outs {
			var stdout, stderr bytes.Buffer
			if err := run(context.Background(), args, bytes.NewReader(sample), &stdout, &stderr); err != nil {
				t.Fatalf("%v: %v\n%s", args, err, stderr.String())
			}
			outs[i] = stdout.String()
		}
		if outs[0] == "" || outs[0] != outs[1] {
			t.Errorf("%v: outputs differ or are empty", args)
		}
		if strings.Contains(outs[0], "tracewire-stdin-") {
			t.Errorf("%v: output names the spool file", args)
		}
	}
}

// TestStdinNamedInWarnings: a capture cut short on standard input is named
// "-" in convert's, enrich's and flows' warnings and in the HARs they
// write, never by its temporary copy (whose name made convert's output
// differ from run to run).
func TestStdinNamedInWarnings(t *testing.T) {
	whole := mustRead(t, samplePath())
	cut := whole[:len(whole)-30]
	for _, args := range [][]string{
		{"convert", "-"},
		{"enrich", "-"},
		{"flows", "-", "--format", "json"},
	} {
		var outs [2]string
		for i := range outs {
			stdout, stderr, err := runCLI(t, cut, args...)
			if exitStatus(err) != exitIncomplete {
				t.Fatalf("%v: exit %d (%v), want 1 for a capture cut short\n%s", args, exitStatus(err), err, stderr)
			}
			if !strings.Contains(stderr, "warning: -: frame ") || strings.Contains(stderr, "tracewire-stdin-") {
				t.Errorf("%v: the warning does not name standard input as -:\n%s", args, stderr)
			}
			outs[i] = stdout
		}
		if outs[0] != outs[1] || strings.Contains(outs[0], "tracewire-stdin-") || !strings.Contains(outs[0], `"-"`) {
			t.Errorf("%v: outputs differ, name the spool file or do not name -", args)
		}
	}
}
