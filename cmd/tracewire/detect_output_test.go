package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/internal/testutil"
	"github.com/tracewire/tracewire/match"
)

// checkEncoder fails when findingEncoder writes a finding otherwise than
// appendFindingJSON (which TestFindingJSON compares with json.Marshal).
func checkEncoder(t *testing.T, e *findingEncoder, f *match.Finding) {
	t.Helper()
	want, wantOK := appendFindingJSON(nil, f)
	got, ok := e.append(nil, f)
	if ok != wantOK || ok && !bytes.Equal(got, want) {
		t.Fatalf("findingEncoder: %s (%v)\nappendFindingJSON: %s (%v)", got, ok, want, wantOK)
	}
}

// TestFindingEncoder runs the findings of the corpus HARs, and the tricky
// ones of TestFindingJSON, through both encoders, with caches small
// enough to be restarted.
func TestFindingEncoder(t *testing.T) {
	e := &findingEncoder{maxCache: 7}
	for _, s := range tricky {
		for _, ts := range []float64{0, 1.5, 1e21} {
			for _, f := range findingsFor(s, ts) {
				checkEncoder(t, e, &f)
				checkEncoder(t, e, &f) // from the caches
			}
		}
	}
	m, err := match.New(match.Options{Indicators: []match.Indicator{{Property: "osName", Value: "android"}}})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	_ = filepath.WalkDir(testutil.Corpus(t, "har"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".har") {
			return err
		}
		fh, err := os.Open(p)
		if err != nil {
			return err
		}
		defer fh.Close()
		r := har.NewReader(fh)
		r.RequestOnly = true
		_ = m.Stream(context.Background(), r, 2, func(res *match.Result) error {
			for i := range res.Findings {
				checkEncoder(t, e, &res.Findings[i])
				n++
			}
			return nil
		})
		return nil
	})
	if n < 100 {
		t.Errorf("only %d findings in the corpus", n)
	}
}
