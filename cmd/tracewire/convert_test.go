package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/internal/gencap"
	"github.com/tracewire/tracewire/internal/testutil"
)

func samplePath() string {
	return filepath.Join(testutil.RepoRoot(), "testdata", "sample", "tracking.pcapng")
}

// runCLI runs the program with args and returns stdout and stderr.
func runCLI(t *testing.T, stdin []byte, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, bytes.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), err
}

func entries(t *testing.T, b []byte) []har.Entry {
	t.Helper()
	h, _, err := har.ReadAll(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("output is not a HAR: %v\n%.300s", err, b)
	}
	return h.Log.Entries
}

func TestConvertStdout(t *testing.T) {
	out, _, err := runCLI(t, nil, "convert", samplePath())
	if err != nil {
		t.Fatal(err)
	}
	es := entries(t, []byte(out))
	want := gencap.TrackingRequests()
	if len(es) != len(want) {
		t.Fatalf("%d entries, want the sample's %d", len(es), len(want))
	}
	for i, w := range want {
		if es[i].Request.URL != w.URL {
			t.Errorf("entry %d: %s, want %s", i, es[i].Request.URL, w.URL)
		}
	}
	// -o writes the same bytes; --indent only changes the layout.
	dir := t.TempDir()
	p := filepath.Join(dir, "out.har")
	if _, _, err := runCLI(t, nil, "convert", samplePath(), "-o", p); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != out {
		t.Error("-o output differs from stdout")
	}
	ind, _, err := runCLI(t, nil, "convert", "--indent", samplePath())
	if err != nil || !strings.Contains(ind, "\n      ") || len(entries(t, []byte(ind))) != len(want) {
		t.Errorf("--indent: %v", err)
	}
	files, _ := os.ReadDir(dir)
	if len(files) != 1 {
		t.Errorf("temp files left: %v", files)
	}
	testutil.ValidateHAR(t, p)
}

func TestConvertStdin(t *testing.T) {
	data, err := os.ReadFile(samplePath())
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := runCLI(t, data, "convert", "-")
	if err != nil {
		t.Fatal(err)
	}
	want, _, _ := runCLI(t, nil, "convert", samplePath())
	if out != want {
		t.Error("reading standard input gives another HAR than reading the file")
	}
}

func TestConvertOutDir(t *testing.T) {
	dir := t.TempDir()
	other := filepath.Join(dir, "copy.pcapng.gz")
	data, _ := os.ReadFile(samplePath())
	os.WriteFile(other, data, 0o644) // not gzipped: the content decides
	outDir := filepath.Join(dir, "hars")
	if _, _, err := runCLI(t, nil, "convert", "--out-dir", outDir, samplePath(), other); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"tracking.har", "copy.har"} {
		b, err := os.ReadFile(filepath.Join(outDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if n := len(entries(t, b)); n != 8 {
			t.Errorf("%s: %d entries", name, n)
		}
	}
	// Several inputs without --out-dir make one HAR.
	out, _, err := runCLI(t, nil, "convert", samplePath(), other)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(entries(t, []byte(out))); n != 16 {
		t.Errorf("merged: %d entries", n)
	}
}

func TestConvertErrors(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out.har")
	for _, args := range [][]string{
		{"convert"},
		{"convert", samplePath(), "-o", p, "--out-dir", dir},
		{"convert", filepath.Join(dir, "missing.pcap"), "-o", p},
		{"convert", samplePath(), "--keylog", filepath.Join(dir, "missing.keys"), "-o", p},
		{"convert", "-", "-", "-o", p},
		{"convert", "--out-dir", dir, samplePath(), samplePath()},
	} {
		if _, _, err := runCLI(t, nil, args...); err == nil {
			t.Errorf("%v: no error", args)
		}
		if _, err := os.Stat(p); err == nil {
			t.Fatalf("%v: an output file was left", args)
		}
	}
}
