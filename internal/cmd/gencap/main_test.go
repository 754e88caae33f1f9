package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/tracewire/tracewire/internal/gencap"
	"github.com/tracewire/tracewire/internal/testutil"
)

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"1GiB": 1 << 30, "10MiB": 10 << 20, "1.5KiB": 1536, "123": 123, "2MB": 2e6} {
		got, err := parseSize(in)
		if err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "x", "-1MiB", "1TiB"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q): no error", in)
		}
	}
}

func TestRunWritesFile(t *testing.T) {
	out := filepath.Join(t.TempDir(), "sub", "x.pcapng")
	if err := run([]string{"-size", "100KiB", "-o", out}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil || len(b) < 100<<10 || string(b[:4]) != "\n\r\r\n" {
		t.Fatalf("%d bytes, %v", len(b), err)
	}
	if err := run([]string{"-size", "1MiB"}); err == nil {
		t.Error("no error without -o")
	}
}

// -sample writes the committed sample, byte for byte.
func TestRunSample(t *testing.T) {
	out := filepath.Join(t.TempDir(), "tracking.pcapng")
	if err := run([]string{"-sample", "-o", out}); errors.Is(err, gencap.ErrOtherSuite) {
		t.Skip(err)
	} else if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join(testutil.RepoRoot(), "testdata", "sample", "tracking.pcapng"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("gencap -sample differs from testdata/sample/tracking.pcapng")
	}
}
