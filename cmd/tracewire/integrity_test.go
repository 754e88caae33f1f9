package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

// TestPipeInputs: a named pipe given as an input (a FIFO, "<(zcat x)",
// "/dev/stdin" when it is a pipe) is refused with exit status 2 in every
// command, before it is opened. Before, convert, flows and detect waited for
// a writer, then said the capture was "of unknown format" (the sniffing had
// taken its start), batch hung, and a key log given as a pipe was hashed,
// then read empty: "no TLS secrets in this key log file".
func TestPipeInputs(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "capture.pcap")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
	out := filepath.Join(dir, "out")
	for _, args := range [][]string{
		{"convert", fifo},
		{"convert", fifo, "--out-dir", out},
		{"flows", fifo},
		{"detect", fifo},
		{"detect", "--format", "json", fifo},
		{"enrich", fifo, "-o", out + ".har"},
		{"report", fifo, "-o", out + ".html"},
		{"batch", fifo, "-o", out},
		{"detect", samplePath(), "--keylog", fifo},
		{"detect", samplePath(), "--socket-trace", fifo},
		{"report", samplePath(), "--keylog", fifo, "-o", out + ".html"},
	} {
		type result struct {
			stderr string
			err    error
		}
		done := make(chan result, 1)
		go func() {
			_, stderr, err := runCLI(t, nil, args...)
			done <- result{stderr, err}
		}()
		select {
		case r := <-done:
			want, msg := exitFailed, ""
			if r.err != nil {
				msg = r.err.Error()
			}
			if args[0] == "batch" {
				want, msg = exitIncomplete, r.stderr // one failed analysis
			}
			if exitStatus(r.err) != want || !strings.Contains(msg, fifo+" is a named pipe") {
				t.Errorf("%s: exit %d, %v\n%s", strings.Join(args, " "), exitStatus(r.err), r.err, r.stderr)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("%s: still waiting on the pipe after 30 s", strings.Join(args, " "))
		}
	}
	for _, p := range []string{out + ".har", out + ".html"} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s written", p)
		}
	}
}

// TestKeyLogNotText: a key log that is binary, compressed or JSON (another
// file given by mistake) is an error, exit 2, naming the file and what it
// looks like, in every command that takes --keylog; before, it was a
// warning and exit 0, the TLS left undecrypted. A text key log without
// secrets stays a warning.
func TestKeyLogNotText(t *testing.T) {
	dir := t.TempDir()
	put := func(name string, b []byte) string { return mustWrite(t, filepath.Join(dir, name), b) }
	garbage := make([]byte, 4096)
	for i := range garbage {
		garbage[i] = byte(i*7 + i/256)
	}
	for _, c := range []struct {
		name    string
		content []byte
		want    string // in the error; "" for a warning only
	}{
		{"garbage.keys", garbage, "is a file of unknown format"},
		{"keys.json", []byte(`{"keys":[]}`), "is a JSON file"},
		{"keys.txt.gz", []byte("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\x01\x00\x00\xff\xff\x00\x00\x00\x00\x00\x00\x00\x00\x00"), "is a gzip-compressed file"},
		{"notes.txt", []byte("# no secrets here\n"), ""},
		{"empty.keys", nil, ""},
	} {
		kl := put(c.name, c.content)
		for _, args := range [][]string{
			{"convert", samplePath(), "--keylog", kl, "-o", filepath.Join(dir, "out.har")},
			{"flows", samplePath(), "--keylog", kl},
			{"detect", samplePath(), "--keylog", kl},
			{"report", samplePath(), "--keylog", kl, "-o", filepath.Join(dir, "out.md")},
		} {
			_, stderr, err := runCLI(t, nil, args...)
			cmd := strings.Join(args[:1], "") + " --keylog " + c.name
			if c.want == "" {
				if err != nil || !strings.Contains(stderr, "no TLS secrets in this key log file") {
					t.Errorf("%s: %v, stderr %q: want a warning and exit 0", cmd, err, stderr)
				}
				continue
			}
			if exitStatus(err) != exitFailed || !strings.Contains(err.Error(), "key log "+kl+" "+c.want) {
				t.Errorf("%s: exit %d, %v", cmd, exitStatus(err), err)
			}
		}
		os.Remove(filepath.Join(dir, "out.har"))
		os.Remove(filepath.Join(dir, "out.md"))
	}
}

// TestFindingsFileKind: --findings given a file that is not JSON says what
// the file is (before: "empty.json: EOF" for an empty file), exit 2,
// nothing written.
func TestFindingsFileKind(t *testing.T) {
	dir := t.TempDir()
	put := func(name string, b []byte) string { return mustWrite(t, filepath.Join(dir, name), b) }
	out := filepath.Join(dir, "r.md")
	for _, c := range []struct{ file, want string }{
		{put("empty.json", nil), "is an empty file, not a findings file"},
		{samplePath(), "is a pcapng capture, not a findings file"},
		{shopHAR(), "is a HAR file, not a findings file"},
		{put("bin.json", []byte{0, 1, 2, 3, 0xff}), "is a file of unknown format"},
	} {
		_, _, err := runCLI(t, nil, "report", samplePath(), "--findings", c.file, "-o", out)
		if exitStatus(err) != exitFailed || err == nil || !strings.Contains(err.Error(), c.file+" "+c.want) {
			t.Errorf("--findings %s: exit %d, %v", filepath.Base(c.file), exitStatus(err), err)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("--findings %s: report written", filepath.Base(c.file))
		}
	}
}

// TestZstdCapture: a zstd-compressed capture whose first block is larger
// than 4 KiB (any the zstd tool makes of more than a few KiB) is read by
// every command; it was refused as "a zstd-compressed file of unknown
// format" (the sniffer saw 4 KiB, too little for the decoder's first
// block).
func TestZstdCapture(t *testing.T) {
	raw, err := os.ReadFile(samplePath())
	if err != nil {
		t.Fatal(err)
	}
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	packed := enc.EncodeAll(raw, nil)
	enc.Close()
	if len(packed) <= 4096 {
		t.Fatalf("the compressed sample is %d bytes; the test needs more than 4 KiB", len(packed))
	}
	zst := filepath.Join(t.TempDir(), "tracking.pcapng.zst")
	if err := os.WriteFile(zst, packed, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"convert", "flows", "detect"} {
		want, _, err := runCLI(t, nil, cmd, samplePath())
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := runCLI(t, nil, cmd, zst)
		if err != nil {
			t.Errorf("%s %s: %v", cmd, filepath.Base(zst), err)
			continue
		}
		if cmd != "convert" && got != want {
			t.Errorf("%s: the compressed capture gives other output", cmd)
		}
		if cmd == "convert" && len(entries(t, []byte(got))) != len(entries(t, []byte(want))) {
			t.Errorf("convert: the compressed capture gives other entries")
		}
	}
}
