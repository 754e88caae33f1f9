package collect

import (
	"fmt"
	"io"
	"strings"
)

// WriteText writes what a run recorded, as "tracewire collect" ends:
// events, processes, flows and losses, the SSL calls recorded, the
// warnings, and the folder written (dir).
func (s *Summary) WriteText(w io.Writer, dir string) {
	fmt.Fprintf(w, "collect: %d socket events of %d processes on %d flows (%d lost), %d of %d frames named; %d of %d packets kept; %d key log lines\n",
		s.Events, s.Processes, s.Flows, s.Lost, s.FramesSymbolised, s.Frames, s.PacketsKept, s.Packets, s.KeyLogLines)
	if len(s.TLSLibraries) > 0 {
		fmt.Fprintf(w, "collect: %d SSL calls recorded in %s (%d without a socket, %d cut at 64 KiB)\n",
			s.TLSCalls, strings.Join(s.TLSLibraries, ", "), s.TLSUnlinked, s.TLSTruncated)
	}
	for _, x := range s.Warnings {
		fmt.Fprintln(w, "collect: warning:", x)
	}
	fmt.Fprintf(w, "collect: wrote %s\n", dir)
}
