package report

import (
	"bytes"
	"encoding/base64"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/match"
)

func FuzzReadDeviceReport(f *testing.F) {
	f.Add([]byte("\"uid\",\"daddr\",\"time\",\"Package\"\n\"1\",\"a.example\",\"1712308081917\",\"p\"\n"))
	f.Add([]byte(`{"type":"networkActivity","domain":"a.example","timeStamp":"2024-04-05T10:38:19.569+02:00","bundleID":"b"}` + "\n"))
	f.Add([]byte("\"unterminated\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ReadDeviceReport(bytes.NewReader(b), "f")
		if err != nil {
			return
		}
		for _, c := range d.Contacts {
			if c.Host == "" {
				t.Fatal("contact without host")
			}
		}
		// A device report never breaks a report.
		_ = deviceEvidence(d, map[string]string{"a.example": "A"}, "b", "")
	})
}

// FuzzReadAnalysis feeds findings files to the reader and every report
// format: whatever the file holds, reading fails cleanly or the report is
// written.
func FuzzReadAnalysis(f *testing.F) {
	var buf bytes.Buffer
	_ = sampleAnalysis().WriteJSON(&buf)
	f.Add(buf.Bytes())
	f.Add([]byte(`{"findings":[{"entry":{"index":-1,"url":"%zz://"},"property":"","value":"\u0000"}],"entries_read":1}`))
	f.Add([]byte(`{"findings":[],"entries":[{"index":1,"entry":{"request":{"url":"http://x/","postData":{"text":"AAA=","encoding":"base64"}}}}]}`))
	f.Add([]byte(`{"findings":[{"entry":{"index":0,"url":"http://x/"},"property":"p","value":"v","context":"websocket","path":"_webSocketMessages[0]"}],` +
		`"entries":[{"index":0,"entry":{"request":{"method":"GET","url":"http://x/"},"_webSocketMessages":[{"type":"send","time":1.5,"opcode":2,"data":"AHYA"}]}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ReadAnalysis(bytes.NewReader(b), "f.json")
		if err != nil {
			return
		}
		if len(a.Findings) > 50 || len(a.Entries) > 50 {
			return // keep each run short
		}
		for _, fm := range []Format{HTML, Markdown, JSONL} {
			if err := Write(io.Discard, fm, a, Options{MaxBody: 1024}); err != nil && !strings.Contains(err.Error(), "language") {
				t.Fatalf("%s: %v", fm, err)
			}
		}
	})
}

// FuzzExcerpt cuts arbitrary text around arbitrary values: the lines come
// back as valid UTF-8 and each marked segment is part of the text.
func FuzzExcerpt(f *testing.F) {
	f.Add("a=1&b=22&c=333", "22")
	f.Add(strings.Repeat("x", 400)+"VALUE"+strings.Repeat("ü", 300), "VALUE")
	f.Add("line1\nline2\n\nline4", "line")
	f.Fuzz(func(t *testing.T, text, value string) {
		if !utf8.ValidString(text) || len(text) > 1<<16 {
			return
		}
		marks := textMarks(text, []*match.Finding{{Value: value}})
		for _, l := range cutExcerpt(text, marks) {
			for _, s := range l.Segs {
				if !utf8.ValidString(s.Text) {
					t.Fatalf("invalid UTF-8 in %q", s.Text)
				}
				if s.Mark && !strings.Contains(text, strings.TrimSuffix(s.Text, "…")) {
					t.Fatalf("mark %q not in the text", s.Text)
				}
			}
		}
	})
}

// FuzzWebSocketExcerpt cuts excerpts from an arbitrary WebSocket message:
// the lines are valid UTF-8, and a payload that is not text comes back
// escaped, printable ASCII only.
func FuzzWebSocketExcerpt(f *testing.F) {
	f.Add([]byte(`{"id":"abc"}`), 1, false, "abc")
	f.Add([]byte("\x00\\abc\xff"), 2, true, "abc")
	f.Add([]byte("abc\xc3"), 1, true, "c")
	f.Fuzz(func(t *testing.T, payload []byte, opcode int, b64 bool, value string) {
		if len(payload) > 1<<16 {
			return
		}
		m := map[string]any{"type": "send", "opcode": opcode, "time": 1.5}
		if b64 || !utf8.Valid(payload) || opcode != 1 {
			m["data"] = base64.StdEncoding.EncodeToString(payload)
			if opcode == 1 {
				m["_encoding"] = "base64"
			}
		} else {
			m["data"] = string(payload)
		}
		e := &har.Entry{}
		e.Extra.Set("_webSocketMessages", []any{m})
		for _, ex := range wsExcerpts(e, []*match.Finding{{Context: "websocket", Path: "_webSocketMessages[0]", Value: value}}) {
			for _, l := range ex.Lines {
				for _, s := range l.Segs {
					if !utf8.ValidString(s.Text) {
						t.Fatalf("invalid UTF-8 in %q", s.Text)
					}
					if ex.Message.Binary && strings.ContainsFunc(strings.ReplaceAll(s.Text, "…", ""), func(r rune) bool { return r < 0x20 || r > 0x7e }) {
						t.Fatalf("unescaped byte in %q", s.Text)
					}
				}
			}
		}
	})
}

func FuzzIsFindingsJSON(f *testing.F) {
	f.Add([]byte(`{"log":{}}`))
	f.Add([]byte(`{"x":[1,{"y":"}"}],"findings":[]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if IsFindingsJSON(b) && !bytes.Contains(b, []byte(`"`)) {
			t.Fatal("findings without a key")
		}
	})
}
