package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var updateExperiment = flag.Bool("update-experiment", false, "rewrite testdata/experiment from the sample capture")

// sampleExperiment is the PiRogue experiment folder in testdata/experiment,
// made from the sample capture: the capture, a socket trace whose device
// clock runs 2 s ahead, and the experiment.json that ties them together.
func sampleExperiment(t *testing.T, dir string) {
	t.Helper()
	es, flows := flowsOf(t, samplePath())
	if err := os.WriteFile(filepath.Join(dir, "traffic.pcapng"), mustRead(t, samplePath()), 0o644); err != nil {
		t.Fatal(err)
	}
	socketTrace(t, filepath.Join(dir, "socket_trace.json"), es, flows, 2)
	exp := `{
  "network": {"start_capture_time": 1710406800000, "file": "traffic.pcapng"},
  "device": {"start_capture_time": 1710406802000, "file": "device.json"},
  "socket_traces": {"file": "socket_trace.json"}
}
`
	if err := os.WriteFile(filepath.Join(dir, "experiment.json"), []byte(exp), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestSampleExperiment checks that testdata/experiment is what the
// generator writes (go test ./cmd/tracewire -run SampleExperiment
// -update-experiment rewrites it) and that the README's commands on it
// work: enrich pairs every request and response with its stack trace.
func TestSampleExperiment(t *testing.T) {
	committed := repoFile("testdata", "experiment")
	if *updateExperiment {
		if err := os.MkdirAll(committed, 0o755); err != nil {
			t.Fatal(err)
		}
		sampleExperiment(t, committed)
	}
	fresh := t.TempDir()
	sampleExperiment(t, fresh)
	for _, name := range []string{"experiment.json", "socket_trace.json", "traffic.pcapng"} {
		if !bytes.Equal(mustRead(t, filepath.Join(committed, name)), mustRead(t, filepath.Join(fresh, name))) {
			t.Errorf("testdata/experiment/%s is stale: go test ./cmd/tracewire -run SampleExperiment -update-experiment rewrites it", name)
		}
	}
	stdout, stderr, err := runCLI(t, nil, "enrich", committed)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if rq, rs := stacktraces(entries(t, []byte(stdout))); rq != 8 || rs != 8 {
		t.Errorf("enrich testdata/experiment: %d/%d _stacktrace, want 8/8\n%s", rq, rs, stderr)
	}
	if !strings.Contains(stderr, "shifted by 2s") {
		t.Errorf("the summary does not give experiment.json's 2 s clock shift:\n%s", stderr)
	}
	out, _, err := runCLI(t, nil, "detect", committed, "--format", "json")
	if err != nil && !strings.Contains(err.Error(), "exit status 1") {
		t.Fatalf("detect: %v", err)
	}
	for _, w := range []string{`"slug": "google"`, `"slug": "adjust"`, `"slug": "facebook"`} {
		if !strings.Contains(strings.ReplaceAll(out, `"slug":"`, `"slug": "`), w) {
			t.Errorf("detect testdata/experiment: no finding with %s", w)
		}
	}
}

// TestBatchMessages: one analysis is "1 analysis", and a folder with
// nothing to analyse is named in a warning.
func TestBatchMessages(t *testing.T) {
	in, empty := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(in, "tracking.pcapng"), mustRead(t, samplePath()), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, err := runCLI(t, nil, "batch", in, empty, "-o", filepath.Join(t.TempDir(), "out"), "--jobs", "1")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if !strings.Contains(stderr, "batch: 1 analysis: 1 done") {
		t.Errorf("no singular in:\n%s", stderr)
	}
	if !strings.Contains(stderr, "warning: batch: "+empty+" holds no capture, HAR file or experiment folder") {
		t.Errorf("no warning for the empty folder in:\n%s", stderr)
	}
}
