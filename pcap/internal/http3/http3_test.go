package http3

import (
	"bytes"
	"compress/gzip"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/quic-go/qpack"

	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/pcap/internal/quic"
	"github.com/tracewire/tracewire/pcap/internal/stream"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func fieldsText(fs []qpack.HeaderField) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "%s=%s;", f.Name, f.Value)
	}
	return b.String()
}

// The examples of RFC 9204 appendix B: the encoder stream and the field
// sections that refer to it, static and dynamic, relative and post-base.
func TestQPACKExamples(t *testing.T) {
	var tb table
	tb.maxCap = 220
	steps := []struct {
		encoder string
		section string
		want    string
	}{
		// B.1: literal with static name reference, no dynamic table.
		{section: "0000 510b 2f69 6e64 6578 2e68 746d 6c", want: ":path=/index.html;"},
		// B.2: two insertions, then post-base references.
		{encoder: "3fbd01 c00f7777772e6578616d706c652e636f6d c10c2f73616d706c652f70617468",
			section: "0381 10 11", want: ":authority=www.example.com;:path=/sample/path;"},
		// B.3: a literal-name insertion and a duplicate; relative and
		// static references.
		{encoder: "4a637573746f6d2d6b65790c637573746f6d2d76616c7565",
			section: "", want: ""},
		{encoder: "02", section: "0500 80 c1 81", want: ":authority=www.example.com;:path=/;custom-key=custom-value;"},
		// B.4 (Huffman-coded insert with dynamic name reference, after an
		// eviction) needs capacity handling only an endpoint does; B.5's
		// section uses a reference into the dynamic table.
		{encoder: "810d637573746f6d2d76616c756532", section: "0500 80 c1 81", want: ":authority=www.example.com;:path=/;custom-key=custom-value;"},
	}
	for i, s := range steps {
		if s.encoder != "" {
			if err := tb.encoderStream(unhex(t, s.encoder)); err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
		}
		if s.section == "" {
			continue
		}
		fs, err := tb.decodeSection(unhex(t, s.section))
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if got := fieldsText(fs); got != s.want {
			t.Errorf("step %d: %s, want %s", i, got, s.want)
		}
	}
	if tb.inserted() != 5 {
		t.Errorf("%d entries inserted, want 5", tb.inserted())
	}
	if e, _ := tb.at(4); e.Name != "custom-key" || e.Value != "custom-value2" {
		t.Errorf("entry 4 %+v", e)
	}
	// A section that needs a sixth entry waits.
	if _, err := tb.decodeSection(unhex(t, "0700 80")); err != errBlocked {
		t.Errorf("section beyond the inserts: %v", err)
	}
	if len(staticTable) != 99 || staticTable[98].Name != "x-frame-options" {
		t.Errorf("static table of %d entries", len(staticTable))
	}
}

// An encoder stream split anywhere applies the same.
func TestQPACKEncoderSplit(t *testing.T) {
	enc := unhex(t, "3fbd01 c00f7777772e6578616d706c652e636f6d c10c2f73616d706c652f70617468 4a637573746f6d2d6b65790c637573746f6d2d76616c7565 02")
	for cut := range enc {
		var tb table
		if err := tb.encoderStream(enc[:cut]); err != nil {
			t.Fatal(err)
		}
		if err := tb.encoderStream(enc[cut:]); err != nil {
			t.Fatal(err)
		}
		if tb.inserted() != 4 {
			t.Fatalf("cut %d: %d inserted", cut, tb.inserted())
		}
	}
}

type sink struct {
	entries []*har.Entry
	notes   []stream.Note
}

func (s *sink) Entry(_ *stream.Conn, e *har.Entry) { s.entries = append(s.entries, e) }
func (s *sink) Note(n stream.Note)                 { s.notes = append(s.notes, n) }

func frame(typ uint64, payload []byte) []byte {
	b := quic.AppendVarint(nil, typ)
	b = quic.AppendVarint(b, uint64(len(payload)))
	return append(b, payload...)
}

func encSection(t testing.TB, fields ...string) []byte {
	var b bytes.Buffer
	e := qpack.NewEncoder(&b)
	for i := 0; i < len(fields); i += 2 {
		if err := e.WriteField(qpack.HeaderField{Name: fields[i], Value: fields[i+1]}); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

// A request stream fed a byte at a time gives the same entry as fed
// whole; gzip content is decoded; a reset stream is kept and marked; a
// section that waits for the encoder stream is decoded when it comes.
func TestParser(t *testing.T) {
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write([]byte(`{"advertisingId":"6f1c2a3e"}`))
	w.Close()
	req := append(frame(frameHeaders, encSection(t, ":method", "POST", ":scheme", "https", ":authority", "t.example", ":path", "/collect?a=1", "content-type", "application/json")),
		frame(frameData, []byte(`{"id":`))...)
	req = append(req, frame(frameData, []byte(`42}`))...)
	resp := append(frame(frameHeaders, encSection(t, ":status", "103")), frame(frameHeaders, encSection(t, ":status", "200", "content-encoding", "gzip"))...)
	resp = append(resp, frame(0x21, []byte("reserved"))...)
	resp = append(resp, frame(frameData, gz.Bytes())...)
	at := time.Unix(1700000000, 0)
	m := quic.Meta{Time: at, Frame: 3}
	for _, chunk := range []int{1, 7, 1 << 20} {
		s := &sink{}
		c := &stream.Conn{CommunityID: "1:x"}
		p := New(c, s, Config{})
		feed := func(id uint64, from stream.Dir, b []byte) {
			for len(b) > 0 {
				n := min(chunk, len(b))
				p.Data(id, from, b[:n], 0, m)
				b = b[n:]
			}
		}
		// Control streams with SETTINGS, then the request.
		feed(2, stream.ClientToServer, append([]byte{0}, frame(frameSettings, []byte{0x01, 0x40, 0x64})...))
		feed(0, stream.ClientToServer, req)
		p.Fin(0, stream.ClientToServer, m)
		feed(0, stream.ServerToClient, resp)
		p.Fin(0, stream.ServerToClient, m)
		// Stream 4: reset by the client after its headers.
		feed(4, stream.ClientToServer, frame(frameHeaders, encSection(t, ":method", "GET", ":scheme", "https", ":authority", "t.example", ":path", "/cancelled")))
		p.Reset(4, stream.ClientToServer, 0x10c, m)
		p.Reset(4, stream.ServerToClient, 0x10c, m)
		// Stream 8: its header section refers to the dynamic table, whose
		// encoder stream arrives later.
		feed(8, stream.ClientToServer, frame(frameHeaders, unhex(t, "0381 10 11")))
		p.Fin(8, stream.ClientToServer, m)
		feed(8, stream.ServerToClient, frame(frameHeaders, encSection(t, ":status", "204")))
		p.Fin(8, stream.ServerToClient, m)
		if len(s.entries) != 2 {
			t.Fatalf("chunk %d: %d entries before the encoder stream", chunk, len(s.entries))
		}
		feed(6, stream.ClientToServer, unhex(t, "02 3fbd01 c00f7777772e6578616d706c652e636f6d c10c2f73616d706c652f70617468"))
		p.End(at)
		if len(s.entries) != 3 {
			t.Fatalf("chunk %d: %d entries", chunk, len(s.entries))
		}
		e := s.entries[0]
		body, _ := e.Response.Content.Body()
		if e.Request.Method != "POST" || e.Request.URL != "https://t.example/collect?a=1" || e.Request.HTTPVersion != "HTTP/3" ||
			e.Request.PostData == nil || e.Request.PostData.Text != `{"id":42}` || e.Response.Status != 200 ||
			string(body) != `{"advertisingId":"6f1c2a3e"}` || e.Incomplete || e.CommunityID != "1:x" || e.Timestamp == 0 {
			t.Errorf("chunk %d: entry %+v %+v body %q", chunk, e.Request, e.Response, body)
		}
		if e := s.entries[1]; e.Request.URL != "https://t.example/cancelled" || !e.Incomplete || e.Extra["_rstStream"] != "H3_REQUEST_CANCELLED" {
			t.Errorf("reset entry %s incomplete %v extra %v", e.Request.URL, e.Incomplete, e.Extra)
		}
		if e := s.entries[2]; e.Request.URL != "https://www.example.com/sample/path" || e.Response.Status != 204 || e.Incomplete {
			t.Errorf("blocked entry %s status %d incomplete %v", e.Request.URL, e.Response.Status, e.Incomplete)
		}
		if len(s.notes) != 0 {
			t.Errorf("notes %+v", s.notes)
		}
	}
}

// A stream cut by a gap and a stream that never ended are kept as
// incomplete entries, with a note.
func TestParserCut(t *testing.T) {
	s := &sink{}
	p := New(&stream.Conn{}, s, Config{})
	m := quic.Meta{Time: time.Unix(1700000000, 0)}
	p.Data(0, stream.ClientToServer, frame(frameHeaders, encSection(t, ":method", "GET", ":scheme", "https", ":authority", "a", ":path", "/")), 0, m)
	p.Fin(0, stream.ClientToServer, m)
	p.Data(0, stream.ServerToClient, frame(frameHeaders, encSection(t, ":status", "200")), 0, m)
	p.Data(0, stream.ServerToClient, []byte{0, 5, 'a'}, 0, m)
	p.Data(0, stream.ServerToClient, []byte("bc"), 100, m)
	p.Data(4, stream.ClientToServer, frame(frameHeaders, encSection(t, ":method", "GET", ":scheme", "https", ":authority", "a", ":path", "/open")), 0, m)
	p.End(m.Time)
	if len(s.entries) != 2 || !s.entries[0].Incomplete || !s.entries[1].Incomplete || s.entries[1].Response.Status != 0 {
		t.Fatalf("entries %+v", s.entries)
	}
	if len(s.notes) != 1 || !strings.Contains(s.notes[0].Reason, "100 bytes missing") {
		t.Errorf("notes %+v", s.notes)
	}
}
