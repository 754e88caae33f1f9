package pcap

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/internal/testutil"
)

// wsMessages returns the "_webSocketMessages" of the one entry that has
// them.
func wsMessages(t *testing.T, es []*har.Entry) []map[string]any {
	t.Helper()
	var out []map[string]any
	n := 0
	for _, e := range es {
		v, ok := e.Extra["_webSocketMessages"]
		if !ok {
			continue
		}
		n++
		for _, m := range v.([]any) {
			out = append(out, m.(map[string]any))
		}
	}
	if n != 1 {
		t.Fatalf("%d entries with _webSocketMessages, want 1", n)
	}
	return out
}

// The WebSocket of wireshark/websocket.pcapng.gz: 8 text messages, the
// client's requests each answered by the server.
func TestWebSocketWireshark(t *testing.T) {
	es, _ := convertEntries(t, "wireshark", "websocket.pcapng.gz")
	ms := wsMessages(t, es)
	if len(ms) != 8 {
		t.Fatalf("%d messages, want 8: %v", len(ms), ms)
	}
	for i, m := range ms {
		want := "send"
		kind := "request"
		if i%2 == 1 {
			want, kind = "receive", "response"
		}
		if m["type"] != want || m["opcode"] != 1 {
			t.Errorf("message %d: type %v opcode %v, want %s 1", i, m["type"], m["opcode"], want)
		}
		if d, _ := m["data"].(string); !strings.HasPrefix(d, `{"type":"`+kind+`","data":"`) {
			t.Errorf("message %d: data %q", i, d)
		}
	}
}

// zeek/http_websocket.pcap against tshark: the same messages (direction,
// opcode and time, in order). Its messages are single frames, so tshark's
// frames are messages.
func TestWebSocketZeekTshark(t *testing.T) {
	es, _ := convertEntries(t, "zeek", "http_websocket.pcap")
	ms := wsMessages(t, es)
	var got []string
	for _, m := range ms {
		got = append(got, fmt.Sprintf("%s %d %.6f", m["type"], m["opcode"], m["time"]))
	}
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("skipping the comparison: tshark is not installed (apt-get install tshark)")
	}
	out, err := exec.Command(tshark, "-r", testutil.Corpus(t, "zeek", "http_websocket.pcap"), "-Y", "websocket",
		"-T", "fields", "-e", "frame.time_epoch", "-e", "websocket.opcode", "-e", "websocket.mask").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	var want []string
	for l := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(l, "\t")
		if len(f) != 3 {
			t.Fatalf("tshark line %q", l)
		}
		dir := "receive"
		if f[2] == "1" {
			dir = "send"
		}
		var sec float64
		fmt.Sscan(f[0], &sec)
		want = append(want, fmt.Sprintf("%s %s %.6f", dir, f[1], sec))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("messages:\n%s\ntshark:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(want) != 9 {
		t.Errorf("tshark lists %d frames, expected 9", len(want))
	}
}
