package tracewire

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/tracewire/tracewire/report"
)

func TestReadFindingsFile(t *testing.T) {
	ctx := context.Background()
	har := filepath.Join("testdata", "golden", "tracking.har")
	a, err := Analyze(ctx, Input{Files: []string{har}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	findings := filepath.Join(dir, "findings.json")
	fh, err := os.Create(findings)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.WriteJSON(fh); err != nil {
		t.Fatal(err)
	}
	fh.Close()
	for _, tc := range []struct {
		path   string
		ok     bool
		hasErr bool
	}{
		{findings, true, false},
		{har, false, false},
		{dir, false, false},
		{filepath.Join(dir, "none"), false, true},
	} {
		got, ok, err := ReadFindingsFile(tc.path)
		if ok != tc.ok || (err != nil) != tc.hasErr || ok && len(got.Findings) != len(a.Findings) {
			t.Errorf("ReadFindingsFile(%s) = ok %v, err %v", tc.path, ok, err)
		}
	}
	// Settings.Load reads a findings file given alone, and analyses a HAR.
	s := &Settings{}
	for _, p := range []string{findings, har} {
		if got, err := s.Load(ctx, []string{p}, "", Options{}); err != nil || len(got.Findings) != len(a.Findings) {
			t.Errorf("Load(%s): %v", p, err)
		}
	}
	if _, err := s.Load(ctx, []string{filepath.Join(dir, "none")}, "", Options{}); err == nil {
		t.Error("Load(missing file): no error")
	}
	// The findings of the HAR check out against it, not against another input.
	got, err := AnalyzeWithFindings(ctx, Input{Files: []string{har}}, Options{}, findings)
	if err != nil || len(got.Findings) != len(a.Findings) {
		t.Errorf("AnalyzeWithFindings(own input): %d findings, %v", len(got.Findings), err)
	}
	other := filepath.Join("testdata", "golden", "gen-small.har")
	var me *MismatchError
	if _, err := AnalyzeWithFindings(ctx, Input{Files: []string{other}}, Options{}, findings); !errors.As(err, &me) || len(me.Differences) == 0 {
		t.Errorf("AnalyzeWithFindings(other input): %v", err)
	}

	// Compared: the file given, or the captures and HAR files read.
	in, err := ComparedInputs(har, a)
	if err != nil || len(in) != 1 || in[0].Role != report.RoleCompared || in[0].Path != har || in[0].SHA256 == "" {
		t.Errorf("ComparedInputs(file) = %+v, %v", in, err)
	}
	in, err = ComparedInputs(dir, a)
	if err != nil || len(in) != 1 || in[0].Role != report.RoleCompared || in[0].SHA256 != a.Inputs[0].SHA256 {
		t.Errorf("ComparedInputs(folder) = %+v, %v", in, err)
	}
}

// TestLoadCompared: the compared analysis uses none of the trace files of
// the settings (they belong to the analysis compared with it), and lists
// its input with the role compared.
func TestLoadCompared(t *testing.T) {
	capture := filepath.Join("testdata", "experiment", "traffic.pcapng")
	s := &Settings{SocketTrace: filepath.Join("testdata", "experiment", "socket_trace.json"), RequestWindow: "1s,1s"}
	c, inputs, err := s.LoadCompared(context.Background(), capture, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Enrichment != nil {
		for _, src := range c.Enrichment.Sources {
			// The capture's own ptcpdump comments are read; no trace file is.
			if src.Source != "ptcpdump process comments" {
				t.Errorf("compared analysis used %q", src.Source)
			}
		}
	}
	if len(inputs) != 1 || inputs[0].Role != report.RoleCompared || inputs[0].Path != capture {
		t.Errorf("inputs = %+v", inputs)
	}
	if s.SocketTrace == "" {
		t.Error("LoadCompared changed the caller's settings")
	}
}
