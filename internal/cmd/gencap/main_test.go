package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

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

// -websocket writes gencap.WriteWebSockets's capture, the same bytes on
// every run.
func TestRunWebSocket(t *testing.T) {
	dir := t.TempDir()
	var files [2][]byte
	for i := range files {
		out := filepath.Join(dir, "ws.pcapng")
		if err := run([]string{"-websocket", "-o", out}); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		files[i] = b
	}
	var want bytes.Buffer
	t0, _ := time.Parse(time.RFC3339, "2024-01-01T00:00:00Z")
	conns, err := gencap.WriteWebSockets(&want, gencap.PCAPNG, t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(conns) != 6 || !bytes.Equal(files[0], want.Bytes()) || !bytes.Equal(files[1], want.Bytes()) {
		t.Errorf("%d connections; runs of %d and %d bytes, WriteWebSockets %d bytes", len(conns), len(files[0]), len(files[1]), want.Len())
	}
}
