package http2

import (
	"fmt"
	"strings"
	"testing"

	"golang.org/x/net/http2"

	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/internal/gencap"
)

var wsMask = []byte{0x11, 0x22, 0x33, 0x44}

// wsSession is an extended CONNECT (RFC 8441) on stream 1 and what the
// test changes in it.
type wsSession struct {
	status     string // the server's answer
	protocol   string // :protocol ("" leaves it out)
	early      bool   // the client sends a message before the answer
	gap        bool   // bytes of the client's direction are lost
	reset      bool   // the server resets the stream instead of closing
	cut        bool   // the capture ends before the close
	extensions string
}

func (ws wsSession) chunks() []rec {
	w := newWire()
	w.send(c2s, []byte(preface))
	w.frames(c2s, func(fr *http2.Framer) { fr.WriteSettings() })
	w.frames(s2c, func(fr *http2.Framer) {
		fr.WriteSettings(http2.Setting{ID: http2.SettingEnableConnectProtocol, Val: 1})
		fr.WriteSettingsAck()
	})
	kv := []string{":method", "CONNECT", ":scheme", "https", ":authority", "chat.example", ":path", "/live"}
	if ws.protocol != "" {
		kv = append(kv, ":protocol", ws.protocol)
	}
	req := w.block(c2s, append(kv, "sec-websocket-version", "13", "sec-websocket-extensions", "permessage-deflate")...)
	w.frames(c2s, func(fr *http2.Framer) {
		fr.WriteSettingsAck()
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: req, EndHeaders: true})
		if ws.early {
			fr.WriteData(1, false, gencap.WSFrame(true, false, gencap.WSText, []byte("early"), wsMask))
		}
	})
	rkv := []string{":status", ws.status}
	if ws.extensions != "" {
		rkv = append(rkv, "sec-websocket-extensions", ws.extensions)
	}
	resp := w.block(s2c, rkv...)
	w.frames(s2c, func(fr *http2.Framer) {
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: resp, EndHeaders: true})
		fr.WriteData(1, false, gencap.WSFrame(true, false, gencap.WSText, []byte("welcome"), nil))
	})
	// A frame cut across two DATA frames (one padded), then two frames
	// in one DATA frame: WebSocket framing ignores DATA boundaries.
	hello := gencap.WSFrame(true, false, gencap.WSText, []byte(`{"user":"alice@example.com"}`), wsMask)
	w.frames(c2s, func(fr *http2.Framer) {
		fr.WriteDataPadded(1, false, hello[:3], make([]byte, 4))
		fr.WriteData(1, false, hello[3:])
	})
	if ws.gap {
		w.frames(c2s, func(fr *http2.Framer) {
			fr.WriteData(1, false, gencap.WSFrame(true, false, gencap.WSText, []byte("lost"), wsMask))
		})
		w.chunks = w.chunks[:len(w.chunks)-1]
	}
	two := append(gencap.WSFrame(false, false, gencap.WSBinary, []byte{1, 2}, wsMask), gencap.WSFrame(true, false, gencap.WSContinuation, []byte{3}, wsMask)...)
	w.frames(c2s, func(fr *http2.Framer) { fr.WriteData(1, false, two) })
	if ws.gap {
		w.chunks[len(w.chunks)-1].skip = -1
	}
	if ws.cut {
		return w.chunks
	}
	w.frames(c2s, func(fr *http2.Framer) {
		fr.WriteData(1, true, gencap.WSFrame(true, false, gencap.WSClose, []byte{3, 0xe8}, wsMask))
	})
	w.frames(s2c, func(fr *http2.Framer) {
		if ws.reset {
			fr.WriteRSTStream(1, http2.ErrCodeCancel)
			return
		}
		fr.WriteData(1, true, gencap.WSFrame(true, false, gencap.WSClose, []byte{3, 0xe8}, nil))
	})
	return w.chunks
}

// wsLines renders an entry's _webSocketMessages as "type opcode data
// [marks]" lines.
func wsLines(e *har.Entry) string {
	v, ok := e.Extra["_webSocketMessages"]
	if !ok {
		return "none"
	}
	var out []string
	for _, x := range v.([]any) {
		m := x.(map[string]any)
		l := fmt.Sprintf("%s %d %s", m["type"], m["opcode"], m["data"])
		if w, ok := m["_warning"]; ok {
			l += fmt.Sprintf(" [%s]", w)
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

func TestExtendedConnectWebSocket(t *testing.T) {
	const msgs = "receive 1 welcome\nsend 1 {\"user\":\"alice@example.com\"}\nsend 2 AQID\nsend 8 A+g=\nreceive 8 A+g="
	tests := []struct {
		name       string
		ws         wsSession
		want       string
		incomplete bool
		body       int // the request body's size in the entry
		warning    string
	}{
		{"accepted", wsSession{status: "200", protocol: "websocket"}, msgs, false, 0, ""},
		{"client message before the answer", wsSession{status: "200", protocol: "websocket", early: true}, "send 1 early\n" + msgs, false, 0, ""},
		{":protocol in another case", wsSession{status: "200", protocol: "WebSocket"}, msgs, false, 0, ""},
		{"refused: DATA stays a body", wsSession{status: "403", protocol: "websocket"}, "none", false, 57, ""},
		{"plain CONNECT is a tunnel, not a WebSocket", wsSession{status: "200"}, "none", false, 57, ""},
		{"other :protocol", wsSession{status: "200", protocol: "webtransport"}, "none", false, 57, ""},
		{"gap in the client's direction", wsSession{status: "200", protocol: "websocket", gap: true},
			"receive 1 welcome\nsend 1 {\"user\":\"alice@example.com\"}\nreceive 8 A+g=", true, 0,
			"gap in the client's WebSocket frames: the frames after it are not decoded"},
		{"reset by the server", wsSession{status: "200", protocol: "websocket", reset: true},
			"receive 1 welcome\nsend 1 {\"user\":\"alice@example.com\"}\nsend 2 AQID\nsend 8 A+g=", true, 0, ""},
		{"capture ends first", wsSession{status: "200", protocol: "websocket", cut: true},
			"receive 1 welcome\nsend 1 {\"user\":\"alice@example.com\"}\nsend 2 AQID", true, 0, ""},
	}
	for _, tt := range tests {
		chunks := tt.ws.chunks()
		for _, split := range []string{"frames", "bytes"} {
			t.Run(tt.name+"/"+split, func(t *testing.T) {
				in := chunks
				if split == "bytes" {
					in = bytewise(chunks)
				}
				s := runInto(testConn(), &sink{}, Config{TLS: true}, in)
				if len(s.entries) != 1 {
					t.Fatalf("%d entries, want 1", len(s.entries))
				}
				e := s.entries[0]
				if e.Request.Method != "CONNECT" || e.Request.URL != "https://chat.example/live" || e.Request.HTTPVersion != "HTTP/2" {
					t.Errorf("request %s %s %s", e.Request.Method, e.Request.URL, e.Request.HTTPVersion)
				}
				if got := wsLines(e); got != tt.want {
					t.Errorf("messages\n%s\nwant\n%s", got, tt.want)
				}
				if e.Incomplete != tt.incomplete {
					t.Errorf("incomplete %v, want %v", e.Incomplete, tt.incomplete)
				}
				if e.Request.BodySize != int64(tt.body) && !(tt.body == 0 && e.Request.BodySize <= 0) {
					t.Errorf("request bodySize %d, want %d", e.Request.BodySize, tt.body)
				}
				warns, _ := e.Response.Extra["_warnings"].([]string)
				if got := strings.Join(warns, "; "); got != tt.warning {
					t.Errorf("response warnings %q, want %q", got, tt.warning)
				}
			})
		}
	}
}

// permessage-deflate negotiated in the response's headers is applied to
// the stream's messages, with the client's context kept across messages.
func TestExtendedConnectDeflate(t *testing.T) {
	var fw gencap.WSDeflater
	a := fw.Compress([]byte("advertising_id=0f9c1e2d"))
	b := fw.Compress([]byte("advertising_id=0f9c1e2d"))
	w := newWire()
	w.send(c2s, []byte(preface))
	w.frames(c2s, func(fr *http2.Framer) { fr.WriteSettings() })
	req := w.block(c2s, ":method", "CONNECT", ":protocol", "websocket", ":scheme", "http", ":authority", "h", ":path", "/")
	w.frames(c2s, func(fr *http2.Framer) {
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: req, EndHeaders: true})
	})
	resp := w.block(s2c, ":status", "200", "sec-websocket-extensions", "permessage-deflate; server_no_context_takeover")
	w.frames(s2c, func(fr *http2.Framer) {
		fr.WriteSettings()
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: resp, EndHeaders: true})
	})
	w.frames(c2s, func(fr *http2.Framer) {
		fr.WriteData(1, false, gencap.WSFrame(true, true, gencap.WSText, a, wsMask))
		fr.WriteData(1, true, gencap.WSFrame(true, true, gencap.WSText, b, wsMask))
	})
	w.frames(s2c, func(fr *http2.Framer) { fr.WriteData(1, true, nil) })
	s := runInto(testConn(), &sink{}, Config{}, w.chunks)
	if len(s.entries) != 1 {
		t.Fatalf("%d entries", len(s.entries))
	}
	if len(b) >= len(a) {
		t.Fatalf("the second message (%d bytes) does not refer to the first (%d bytes)", len(b), len(a))
	}
	want := "send 1 advertising_id=0f9c1e2d\nsend 1 advertising_id=0f9c1e2d"
	if got := wsLines(s.entries[0]); got != want {
		t.Errorf("messages\n%s\nwant\n%s", got, want)
	}
}
