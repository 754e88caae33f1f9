package report

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	json "github.com/go-json-experiment/json/v1"
	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/match"
)

func TestWebSocketExcerpts(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	id := "4f1c2a9e-7b3d"
	entry := func(msgs ...map[string]any) *har.Entry {
		e := &har.Entry{}
		l := make([]any, len(msgs))
		for i, m := range msgs {
			l[i] = m
		}
		e.Extra.Set("_webSocketMessages", l)
		return e
	}
	find := func(paths ...string) []*match.Finding {
		var fs []*match.Finding
		for _, p := range paths {
			fs = append(fs, &match.Finding{Source: match.SourceIndicator, Context: "websocket", Path: p, Value: id, Property: "advertisingId"})
		}
		return fs
	}
	text := map[string]any{"type": "send", "time": 1704067200.5, "opcode": 1, "data": `{"id":"` + id + `"}`}
	tests := []struct {
		name string
		e    *har.Entry
		fs   []*match.Finding
		want string // "index send time opcode binary | excerpt" per excerpt
	}{
		{"text as converted", entry(map[string]any{"type": "receive", "opcode": 1, "data": "x"}, text), find("_webSocketMessages[1]"),
			`1 true 2024-01-01 00:00:00.500 UTC 1 false | {"id":"»4f1c2a9e-7b3d«"}`},
		{"numbers as read from a HAR", entry(map[string]any{"type": "send", "time": json.Number("1704067201"), "opcode": json.Number("1"), "data": id}), find("_webSocketMessages[0]"),
			"0 true 2024-01-01 00:00:01.000 UTC 1 false | »4f1c2a9e-7b3d«"},
		{"binary escaped, backslash doubled, marks moved", entry(map[string]any{"type": "send", "opcode": 2, "data": b64("\x00\\\n" + id + "\xff")}), find("_webSocketMessages[0]"),
			`0 true – 2 true | \x00\\\x0a»4f1c2a9e-7b3d«\xff`},
		{"text that is not UTF-8", entry(map[string]any{"type": "send", "opcode": 1, "_encoding": "base64", "data": b64(id + "\xc3")}), find("_webSocketMessages[0]"),
			`0 true – 1 true | »4f1c2a9e-7b3d«\xc3`},
		{"two findings in two messages, in message order", entry(text, text), find("_webSocketMessages[1]", "_webSocketMessages[0]"),
			`0 true 2024-01-01 00:00:00.500 UTC 1 false | {"id":"»4f1c2a9e-7b3d«"}` + "\n" + `1 true 2024-01-01 00:00:00.500 UTC 1 false | {"id":"»4f1c2a9e-7b3d«"}`},
		{"paths that name no message", entry(text), find("_webSocketMessages[1]", "_webSocketMessages[x]", "_webSocketMessages[-1]", "body"), ""},
		{"no entry", nil, find("_webSocketMessages[0]"), ""},
		{"value not in the message", entry(map[string]any{"type": "send", "opcode": 1, "data": "nothing"}), find("_webSocketMessages[0]"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, ex := range wsExcerpts(tt.e, tt.fs) {
				m := ex.Message
				if ex.Context != "websocket" || m == nil {
					t.Fatalf("excerpt %+v", ex)
				}
				got = append(got, strings.Join([]string{itoa(m.Index), boolStr(m.Send), fmtTime(m.Time), itoa(m.Opcode), boolStr(m.Binary), "|", strings.TrimSuffix(excerptText(ex.Lines, "»", "«"), "\n")}, " "))
			}
			if g := strings.Join(got, "\n"); g != tt.want {
				t.Errorf("got\n%s\nwant\n%s", g, tt.want)
			}
		})
	}
}

// The label of a WebSocket excerpt says which message, who sent it when,
// and its kind, in English and German.
func TestWebSocketLabel(t *testing.T) {
	at := time.Date(2024, 1, 1, 0, 0, 1, 0, time.UTC)
	tests := []struct {
		m    wsMessage
		lang string
		want string
	}{
		{wsMessage{Index: 2, Send: true, Time: at, Opcode: 1}, "en", "WebSocket message 2, sent by the client at 2024-01-01 00:00:01.000 UTC: text (opcode 1)"},
		{wsMessage{Index: 2, Send: true, Time: at, Opcode: 1}, "de", "WebSocket-Nachricht 2, vom Client gesendet um 2024-01-01 00:00:01.000 UTC: Text (Opcode 1)"},
		{wsMessage{Index: 0, Time: at, Opcode: 2, Binary: true}, "en", `WebSocket message 0, received by the client at 2024-01-01 00:00:01.000 UTC: binary data, bytes other than printable ASCII shown as \xNN (opcode 2)`},
		{wsMessage{Index: 3, Send: true, Opcode: 1, Binary: true}, "de", `WebSocket-Nachricht 3, vom Client gesendet um –: Text, Bytes außer druckbarem ASCII als \xNN dargestellt (Opcode 1)`},
		{wsMessage{Index: 4, Send: true, Time: at, Opcode: 9, Binary: true}, "en", `WebSocket message 4, sent by the client at 2024-01-01 00:00:01.000 UTC: ping, bytes other than printable ASCII shown as \xNN (opcode 9)`},
	}
	for _, tt := range tests {
		tr := newTranslator(tt.lang)
		if got := wsLabel(&tt.m, tr); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.lang, got, tt.want)
		}
		if m := tr.missingKeys(); len(m) > 0 {
			t.Errorf("%s: keys missing: %v", tt.lang, m)
		}
	}
}
