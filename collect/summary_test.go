package collect

import (
	"bytes"
	"testing"
)

func TestSummaryText(t *testing.T) {
	s := &Summary{Events: 3, Processes: 1, Flows: 2, Lost: 0, Frames: 4, FramesSymbolised: 4, Packets: 10, PacketsKept: 8, KeyLogLines: 2,
		TLSLibraries: []string{"/lib/libssl.so.3"}, TLSCalls: 5, Warnings: []string{"w"}}
	var b bytes.Buffer
	s.WriteText(&b, "run")
	want := "collect: 3 socket events of 1 processes on 2 flows (0 lost), 4 of 4 frames named; 8 of 10 packets kept; 2 key log lines\n" +
		"collect: 5 SSL calls recorded in /lib/libssl.so.3 (0 without a socket, 0 cut at 64 KiB)\n" +
		"collect: warning: w\ncollect: wrote run\n"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}
