package pcap

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/internal/gencap"
)

// writeWebSockets writes gencap's WebSocket capture into a temporary
// directory.
func writeWebSockets(t *testing.T) (string, []gencap.WSConn) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "websockets.pcapng")
	var buf bytes.Buffer
	conns, err := gencap.WriteWebSockets(&buf, gencap.PCAPNG, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, conns
}

// wsData returns a message's payload as bytes.
func wsData(t *testing.T, m map[string]any) []byte {
	t.Helper()
	s, _ := m["data"].(string)
	if m["opcode"] == 1 && m["_encoding"] == nil {
		return []byte(s)
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("message data %q: %v", s, err)
	}
	return b
}

// The generated WebSockets (internal/gencap.WriteWebSockets): after an
// HTTP/1.1 upgrade and after an HTTP/2 extended CONNECT (RFC 8441), plain,
// with permessage-deflate and context takeover, and without context
// takeover (RFC 7692); text and binary messages in fragments with a ping
// between them, 16- and 64-bit lengths, a 70 KB message cut into many
// DATA frames and TCP segments, and the closing handshake. Every message
// comes out as the generator sent it, on the handshake's entry.
func TestWebSocketGenerated(t *testing.T) {
	path, conns := writeWebSockets(t)
	var es []*har.Entry
	sum, err := Convert(context.Background(), []string{path}, Options{}, func(e *har.Entry) error {
		es = append(es, e)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Notes) > 0 {
		t.Errorf("notes: %v", sum.Notes)
	}
	byPort := map[string][]*har.Entry{}
	for _, e := range es {
		byPort[e.Connection] = append(byPort[e.Connection], e)
	}
	for _, c := range conns {
		t.Run(c.Name, func(t *testing.T) {
			got := byPort[strconv.Itoa(int(c.Client.Port()))]
			var ws *har.Entry
			for _, e := range got {
				if _, ok := e.Extra["_webSocketMessages"]; ok {
					ws = e
				}
			}
			if ws == nil {
				t.Fatalf("no entry with _webSocketMessages among %d", len(got))
			}
			method, version, status, n := "GET", "HTTP/1.1", 101, 1
			if c.HTTP2 {
				// The WebSocket's stream and an ordinary GET.
				method, version, status, n = "CONNECT", "HTTP/2", 200, 2
			}
			if len(got) != n {
				t.Errorf("%d entries, want %d", len(got), n)
			}
			if ws.Request.Method != method || ws.Request.HTTPVersion != version || ws.Response.Status != status || ws.Incomplete {
				t.Errorf("handshake %s %s %s → %d, incomplete %v", ws.Request.Method, ws.Request.URL, ws.Request.HTTPVersion, ws.Response.Status, ws.Incomplete)
			}
			ms := ws.Extra["_webSocketMessages"].([]any)
			if len(ms) != len(c.Messages) {
				t.Fatalf("%d messages, want %d", len(ms), len(c.Messages))
			}
			for i, x := range ms {
				m := x.(map[string]any)
				want := c.Messages[i]
				typ := "receive"
				if want.Send {
					typ = "send"
				}
				if m["type"] != typ || m["opcode"] != want.Opcode {
					t.Errorf("message %d: %v %v, want %s %d", i, m["type"], m["opcode"], typ, want.Opcode)
				}
				if d := wsData(t, m); !bytes.Equal(d, want.Data) {
					t.Errorf("message %d: data %.80q (%d bytes), want %.80q (%d bytes)", i, d, len(d), want.Data, len(want.Data))
				}
				for _, k := range []string{"_warning", "_truncated", "_encoding"} {
					if v, ok := m[k]; ok {
						t.Errorf("message %d: %s %v", i, k, v)
					}
				}
			}
		})
	}
}

// tshark (4.0) decodes the WebSockets after an HTTP/1.1 upgrade: the same
// frames open the same messages (opcode by opcode), and each text, ping
// and pong payload tshark shows is the message's. tshark 4.0 does not
// inflate a compressed message that is fragmented, nor one after it in the
// same context (it shows the compressed bytes or nothing): payloads it
// shows that are not valid UTF-8, or empty, are not compared. It does not
// decode WebSocket inside HTTP/2 at all (no dissector for extended
// CONNECT streams, and no Decode As for HTTP/2 streams), so the HTTP/2
// connections are checked against the generator only, above; they run the
// same script as the HTTP/1.1 ones.
func TestWebSocketGeneratedTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("skipping: tshark is not installed (apt-get install tshark)")
	}
	path, conns := writeWebSockets(t)
	var es []*har.Entry
	if _, err := Convert(context.Background(), []string{path}, Options{}, func(e *har.Entry) error {
		es = append(es, e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	compared := 0
	for _, c := range conns {
		if c.HTTP2 {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			port := strconv.Itoa(int(c.Client.Port()))
			var ms []any
			for _, e := range es {
				if v, ok := e.Extra["_webSocketMessages"]; ok && e.Connection == port {
					ms = v.([]any)
				}
			}
			// One line per packet: the opcodes of its WebSocket frames,
			// and the text, ping and pong payloads tshark decoded.
			out, err := exec.Command(tshark, "-r", path, "-Y", "websocket && tcp.port=="+port,
				"-T", "fields", "-E", "aggregator=|", "-e", "websocket.opcode",
				"-e", "websocket.payload.text", "-e", "websocket.payload.ping", "-e", "websocket.payload.pong").Output()
			if err != nil {
				t.Fatalf("tshark: %v", err)
			}
			msg := -1  // index of the message the last frame began
			text := -1 // index of the last text message begun
			frames := 0
			for l := range strings.SplitSeq(strings.TrimSuffix(string(out), "\n"), "\n") {
				f := strings.Split(l, "\t")
				if len(f) != 4 {
					t.Fatalf("tshark line %q", l)
				}
				ctl := -1
				for op := range strings.SplitSeq(f[0], "|") {
					frames++
					if op == "0" {
						continue
					}
					msg++
					if msg >= len(ms) {
						t.Fatalf("tshark shows more messages than the %d found", len(ms))
					}
					m := ms[msg].(map[string]any)
					if fmt.Sprint(m["opcode"]) != op {
						t.Errorf("message %d: opcode %v, tshark %s", msg, m["opcode"], op)
					}
					switch op {
					case "1":
						text = msg
					case "9", "10":
						ctl = msg
					}
				}
				if s := f[1]; s != "" && utf8.ValidString(s) && !strings.ContainsRune(s, utf8.RuneError) && text >= 0 {
					if d := wsData(t, ms[text].(map[string]any)); string(d) != s {
						t.Errorf("message %d: %.60q, tshark %.60q", text, d, s)
					}
					compared++
				}
				for _, h := range f[2:] {
					if h == "" {
						continue
					}
					want, err := hex.DecodeString(h)
					if err != nil || ctl < 0 {
						t.Fatalf("tshark control payload %q", h)
					}
					if d := wsData(t, ms[ctl].(map[string]any)); !bytes.Equal(d, want) {
						t.Errorf("message %d: %x, tshark %s", ctl, d, h)
					}
					compared++
				}
			}
			if msg+1 != len(ms) || frames != c.Frames {
				t.Errorf("tshark: %d messages in %d frames; we have %d messages, the generator wrote %d frames", msg+1, frames, len(ms), c.Frames)
			}
		})
	}
	// Texts, pings and pongs tshark decoded, over the three connections;
	// fewer means tshark stopped decoding something it decoded before.
	t.Logf("%d payloads compared with tshark", compared)
	if compared < 18 {
		t.Errorf("only %d payloads compared with tshark", compared)
	}
}
