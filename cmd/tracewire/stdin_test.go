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
