// Package progress shows the progress of long work on a terminal, and
// nothing anywhere else: a file, pipe or /dev/null gets no progress line.
// Wall-clock time only paces the display; it never reaches any output.
package progress

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/term"

	"github.com/tracewire/tracewire/pcap"
)

// Terminal returns w as a file when it is a terminal (not a file, pipe or
// /dev/null, which a character-device test would take for one).
func Terminal(w io.Writer) (*os.File, bool) {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil, false
	}
	return f, true
}

// Capture returns a pcap.Options.Progress that shows the file, share read,
// packets and entries on w, at most every 200 ms; nil when w is not a
// terminal.
func Capture(w io.Writer) func(pcap.Progress) {
	f, ok := Terminal(w)
	if !ok {
		return nil
	}
	var last time.Time
	return func(p pcap.Progress) {
		now := time.Now()
		if !p.Done && now.Sub(last) < 200*time.Millisecond {
			return
		}
		last = now
		pct := ""
		if p.Size > 0 {
			pct = fmt.Sprintf(" %3d%%", min(100, p.Offset*100/p.Size))
		}
		fmt.Fprintf(f, "\r\033[K[%d/%d] %s%s: %d packets, %d entries", p.FileIndex+1, p.Files, filepath.Base(p.File), pct, p.Packets, p.Entries)
		if p.Done && p.FileIndex+1 == p.Files {
			fmt.Fprintln(f)
		}
	}
}

// Enrich returns a tracewire.Options.EnrichProgress that shows the
// enrichment's passes on w; nil when w is not a terminal.
func Enrich(w io.Writer) func(pass, n int) {
	f, ok := Terminal(w)
	if !ok {
		return nil
	}
	return func(pass, n int) {
		what := "reading entries"
		if pass == 2 {
			what = "enriching entries"
		}
		fmt.Fprintf(f, "\r\033[K%s: %d", what, n)
	}
}
