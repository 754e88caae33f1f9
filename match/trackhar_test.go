package match_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/internal/testutil"
	"github.com/tracewire/tracewire/match"
	"github.com/tracewire/tracewire/pcap"
)

type trackharFinding = testutil.TrackHARFinding

// runTrackHAR runs TrackHAR over files (skipping when node or the npm
// package is missing) and returns its findings; entries it failed on are
// logged.
func runTrackHAR(t *testing.T, indicators string, files ...string) []trackharFinding {
	t.Helper()
	var fs []trackharFinding
	for _, f := range testutil.RunTrackHAR(t, indicators, files...) {
		if f.Error != "" {
			t.Logf("TrackHAR failed on %s entry %d: %s", f.File, f.Entry, f.Error)
			continue
		}
		fs = append(fs, f)
	}
	return fs
}

// ourFindings runs tracewire over a HAR file.
func ourFindings(t *testing.T, m *match.Matcher, file string) []match.Finding {
	t.Helper()
	fh, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	r := har.NewReader(fh)
	var out []match.Finding
	i := 0
	for e, err := range r.Entries() {
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		out = append(out, m.Entry(i, e).Findings...)
		i++
	}
	return out
}

// compareWithTrackHAR fails for every TrackHAR finding that tracewire does
// not report too (same file, entry, property and value) and logs
// tracewire's extra findings.
func compareWithTrackHAR(t *testing.T, theirs []trackharFinding, ours map[string][]match.Finding) {
	t.Helper()
	type key struct {
		file     string
		entry    int
		property string
	}
	byKey := map[key][]*match.Finding{}
	used := map[*match.Finding]bool{}
	for file, fs := range ours {
		for i := range fs {
			f := &fs[i]
			k := key{file, f.Entry.Index, f.Property}
			byKey[k] = append(byKey[k], f)
		}
	}
	missed := 0
	for _, th := range theirs {
		found := false
		for _, f := range byKey[key{th.File, th.Entry, th.Property}] {
			if testutil.SameTrackHARValue(th.Value, f.Value) {
				found = true
				used[f] = true
			}
		}
		if !found {
			missed++
			t.Errorf("missed: %s entry %d: %s %s=%q (TrackHAR %s, %s %s)", filepath.Base(th.File), th.Entry, th.Adapter, th.Property, th.Value, th.Adapter, th.Context, th.Path)
		}
	}
	var extra []string
	for file, fs := range ours {
		for i := range fs {
			f := &fs[i]
			if !used[f] {
				extra = append(extra, fmt.Sprintf("%s entry %d: %s %s=%q (%s %s)", filepath.Base(file), f.Entry.Index, f.Adapter, f.Property, f.Value, f.Context, f.Path))
			}
		}
	}
	sort.Strings(extra)
	t.Logf("TrackHAR: %d findings, tracewire missed %d; tracewire: %d extra findings", len(theirs), missed, len(extra))
	for _, e := range extra {
		t.Logf("extra: %s", e)
	}
}

// convertedCaptures converts the corpus captures that hold HTTP (with
// tracker beacons among them) to HAR files in a temporary directory.
func convertedCaptures(t *testing.T) []string {
	dir := t.TempDir()
	var out []string
	for _, rel := range [][]string{
		{"pcap2har", "pcapr.net.pcap"}, {"pcap2har", "out-of-order.pcap"}, {"pcap2har", "http.pcap"},
		{"pcap2har", "fhs.pcap"}, {"pcap2har", "github.pcap"}, {"pcap2har-go", "insecure.pcap"},
		{"wireshark", "tls12-dsb.pcapng"}, {"wireshark", "http2-brotli.pcapng"}, {"zeek", "http_http-post-large.pcap"}, {"zeek", "http_multipart-form-data.pcap"},
	} {
		in := testutil.Corpus(t, rel...)
		p := filepath.Join(dir, strings.Join(rel, "_")+".har")
		fh, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pcap.ConvertHAR(context.Background(), []string{in}, pcap.Options{}, fh); err != nil {
			t.Errorf("convert %s: %v", in, err)
		}
		fh.Close()
		out = append(out, p)
	}
	return out
}

func corpusHARs(t testing.TB) []string {
	dir := testutil.Corpus(t, "har")
	var files []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".har") {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	return files
}

// TestTrackHARCorpus is the oracle comparison of issue 4: over the corpus
// HARs, every (entry, property, value) TrackHAR reports, tracewire reports
// too.
func TestTrackHARCorpus(t *testing.T) {
	files := append(corpusHARs(t), convertedCaptures(t)...)
	theirs := runTrackHAR(t, "", files...)
	m, err := match.New(match.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ours := map[string][]match.Finding{}
	for _, f := range files {
		ours[f] = ourFindings(t, m, f)
	}
	compareWithTrackHAR(t, theirs, ours)
}
