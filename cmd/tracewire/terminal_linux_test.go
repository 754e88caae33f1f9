package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// openPTY returns the terminal end of a new pseudo-terminal, or skips.
func openPTY(t *testing.T) *os.File {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	fd := int(master.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Skipf("unlock pseudo-terminal: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Skipf("pseudo-terminal number: %v", err)
	}
	tty, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("open pseudo-terminal: %v", err)
	}
	// What is written to the terminal is read and dropped, so that a
	// write never waits for a full buffer.
	done := make(chan struct{})
	go func() { io.Copy(io.Discard, master); close(done) }()
	t.Cleanup(func() { tty.Close(); master.Close(); <-done })
	return tty
}

// TestReportBinaryNotToTerminal: without -o, a PDF or Parquet report is
// refused (exit 2, the message says to use -o) when standard output is a
// terminal, before any analysis; to a file or /dev/null it is written,
// and text formats go to the terminal.
func TestReportBinaryNotToTerminal(t *testing.T) {
	tty := openPTY(t)
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	file, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	for _, tc := range []struct {
		name   string
		format string
		out    *os.File
		code   int
	}{
		{"pdf to a terminal", "pdf", tty, exitFailed},
		{"parquet to a terminal", "parquet", tty, exitFailed},
		{"markdown to a terminal", "md", tty, 0},
		{"pdf to /dev/null", "pdf", devnull, 0},
		{"parquet to a file", "parquet", file, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			err := run(context.Background(), []string{"report", "--format", tc.format, shopHAR()}, strings.NewReader(""), tc.out, &stderr)
			if got := exitStatus(err); got != tc.code {
				t.Fatalf("exit %d, want %d: %v\n%s", got, tc.code, err, stderr.String())
			}
			if tc.code != 0 && (!strings.Contains(err.Error(), "with -o") || !strings.Contains(err.Error(), "terminal")) {
				t.Errorf("message %q does not say to use -o", err)
			}
		})
	}
	if st, err := file.Stat(); err != nil || st.Size() == 0 {
		t.Errorf("nothing written to the file: %v", err)
	}
}
