package websocket

import (
	"bytes"
	"compress/flate"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/internal/gencap"
	"github.com/tracewire/tracewire/pcap/internal/stream"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// Frame builds one frame; a non-nil mask masks it as a client must.
var Frame = gencap.WSFrame

var key = []byte{0x37, 0xfa, 0x21, 0x3d}

// deflater compresses messages as a permessage-deflate sender does, with
// or without context takeover.
type deflater struct {
	buf bytes.Buffer
	w   *flate.Writer
	ctx bool
}

func (d *deflater) msg(t *testing.T, s string) []byte {
	if d.w == nil || !d.ctx {
		d.buf.Reset()
		d.w, _ = flate.NewWriter(&d.buf, flate.BestCompression)
	}
	d.buf.Reset()
	if _, err := d.w.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := d.w.Flush(); err != nil {
		t.Fatal(err)
	}
	b := bytes.Clone(d.buf.Bytes())
	if !bytes.HasSuffix(b, []byte{0, 0, 0xff, 0xff}) {
		t.Fatalf("no sync flush marker")
	}
	return b[:len(b)-4]
}

type chunk struct {
	dir  stream.Dir
	data []byte
	skip int
}

// run feeds the chunks split into pieces of split bytes (0: whole) and
// returns the messages as "type opcode data" lines and the warnings.
func run(cfg Config, chunks []chunk, split int) (string, []string, []Message) {
	var got []Message
	var warns []string
	p := New(cfg, func(m []Message, w []string) { got, warns = m, w })
	for i, c := range chunks {
		at := t0.Add(time.Duration(i) * time.Millisecond)
		d := c.data
		first := true
		for len(d) > 0 || first {
			n := len(d)
			if split > 0 && n > split {
				n = split
			}
			ch := stream.Chunk{Dir: c.dir, Data: d[:n], Time: at}
			if first {
				ch.Skip = c.skip
			}
			p.Feed(&ch)
			d = d[n:]
			first = false
		}
	}
	p.End(t0.Add(time.Second), stream.EndFIN)
	var lines []string
	for _, o := range HAR(got) {
		m := o.(map[string]any)
		l := fmt.Sprintf("%s %d %s", m["type"], m["opcode"], m["data"])
		if m["_truncated"] == true {
			l += " [truncated"
			if n, ok := m["_size"]; ok {
				l += fmt.Sprintf(" %d", n)
			}
			l += "]"
		}
		if w, ok := m["_warning"]; ok {
			l += fmt.Sprintf(" [%s]", w)
		}
		lines = append(lines, l)
	}
	return strings.Join(lines, "\n"), warns, got
}

func TestMessages(t *testing.T) {
	cs := stream.ClientToServer
	sc := stream.ServerToClient
	cat := func(b ...[]byte) []byte { return bytes.Join(b, nil) }
	ctx := &deflater{ctx: true}
	// The second message repeats the first: with context takeover it is
	// a back reference into the previous message.
	d1 := ctx.msg(t, "email=alice@example.com")
	d2 := ctx.msg(t, "email=alice@example.com")
	noctx := &deflater{}
	n1 := noctx.msg(t, "hello hello hello")
	n2 := noctx.msg(t, "hello hello hello")
	big := strings.Repeat("x", 300)
	tests := []struct {
		name   string
		cfg    Config
		chunks []chunk
		want   string
		warn   string
	}{
		{"text both ways, client masked", Config{},
			[]chunk{{cs, Frame(true, false, OpText, []byte("hi"), key), 0}, {sc, Frame(true, false, OpText, []byte("bye"), nil), 0}},
			"send 1 hi\nreceive 1 bye", ""},
		{"binary is base64", Config{},
			[]chunk{{sc, Frame(true, false, OpBinary, []byte{0xff, 0, 1}, nil), 0}},
			"receive 2 /wAB", ""},
		{"fragments joined, ping between them kept", Config{},
			[]chunk{{cs, cat(Frame(false, false, OpText, []byte("hel"), key), Frame(true, false, OpPing, []byte("p"), key),
				Frame(false, false, OpContinuation, []byte("lo "), key), Frame(true, false, OpContinuation, []byte("world"), key)), 0},
				{sc, Frame(true, false, OpPong, []byte("p"), nil), 0},
				{sc, Frame(true, false, OpClose, []byte{3, 0xe8}, nil), 0}},
			"send 1 hello world\nsend 9 cA==\nreceive 10 cA==\nreceive 8 A+g=", ""},
		{"16-bit length", Config{},
			[]chunk{{sc, Frame(true, false, OpText, []byte(big), nil), 0}},
			"receive 1 " + big, ""},
		{"message over the cap is truncated", Config{MaxMessage: 10},
			[]chunk{{cs, Frame(true, false, OpText, []byte("0123456789abcdef"), key), 0}},
			"send 1 0123456789 [truncated 16]", ""},
		{"message count capped", Config{MaxMessages: 2},
			[]chunk{{sc, cat(Frame(true, false, OpText, []byte("a"), nil), Frame(true, false, OpText, []byte("b"), nil), Frame(true, false, OpText, []byte("c"), nil)), 0}},
			"receive 1 a\nreceive 1 b", "1 WebSocket messages after the first 2 not kept"},
		{"permessage-deflate with context takeover", Config{Deflate: true},
			[]chunk{{cs, Frame(true, true, OpText, d1, key), 0}, {cs, Frame(true, true, OpText, d2, key), 0}},
			"send 1 email=alice@example.com\nsend 1 email=alice@example.com", ""},
		{"permessage-deflate without context takeover, fragmented", Config{Deflate: true, ServerNoContext: true},
			[]chunk{{sc, cat(Frame(false, true, OpText, n1[:3], nil), Frame(true, false, OpContinuation, n1[3:], nil)), 0}, {sc, Frame(true, true, OpText, n2, nil), 0},
				{sc, Frame(true, false, OpText, []byte("plain"), nil), 0}},
			"receive 1 hello hello hello\nreceive 1 hello hello hello\nreceive 1 plain", ""},
		{"deflate bomb capped", Config{Deflate: true, MaxMessage: 100, ServerNoContext: true},
			[]chunk{{sc, Frame(true, true, OpBinary, (&deflater{}).msg(t, strings.Repeat("A", 5000)), nil), 0}},
			"receive 2 " + "QUFB" + strings.Repeat("QUFB", 32) + "QQ== [truncated]", ""},
		{"gap ends the direction", Config{},
			[]chunk{{sc, Frame(false, false, OpText, []byte("part"), nil), 0}, {sc, Frame(true, false, OpText, []byte("x"), nil), 5},
				{cs, Frame(true, false, OpText, []byte("ok"), key), 0}},
			"receive 1 part [cut off by a gap in the capture]\nsend 1 ok", "gap in the server's WebSocket frames: the frames after it are not decoded"},
		{"cut off at the end", Config{},
			[]chunk{{sc, Frame(true, false, OpText, []byte("abcdef"), nil)[:5], 0}},
			"receive 1 abc [cut off by the end of the capture]", ""},
		{"reserved opcode", Config{},
			[]chunk{{sc, cat(Frame(true, false, OpText, []byte("a"), nil), Frame(true, false, 3, []byte("b"), nil)), 0}},
			"receive 1 a", "the server's bytes stopped being valid WebSocket frames (reserved opcode 3): the rest is not decoded"},
	}
	for _, tt := range tests {
		for _, split := range []int{0, 1, 3} {
			t.Run(fmt.Sprintf("%s/split%d", tt.name, split), func(t *testing.T) {
				got, warns, _ := run(tt.cfg, tt.chunks, split)
				if got != tt.want {
					t.Errorf("got\n%s\nwant\n%s", got, tt.want)
				}
				if w := strings.Join(warns, "; "); w != tt.warn {
					t.Errorf("warnings %q, want %q", w, tt.warn)
				}
			})
		}
	}
}

func TestConfigFrom(t *testing.T) {
	tests := []struct {
		h    string
		want Config
	}{
		{"", Config{}},
		{"permessage-deflate", Config{Deflate: true}},
		{"x-foo, permessage-deflate; client_max_window_bits=15; server_no_context_takeover", Config{Deflate: true, ServerNoContext: true}},
		{"PerMessage-Deflate;Client_No_Context_Takeover", Config{Deflate: true, ClientNoContext: true}},
	}
	for _, tt := range tests {
		got := ConfigFrom([]har.NameValue{{Name: "sec-websocket-extensions", Value: tt.h}})
		if got != tt.want {
			t.Errorf("%q: %+v, want %+v", tt.h, got, tt.want)
		}
	}
}

func FuzzFrames(f *testing.F) {
	f.Add(Frame(true, false, OpText, []byte("hi"), key), true)
	f.Add(bytes.Join([][]byte{Frame(false, true, OpText, []byte{0xf2, 0x48}, nil), Frame(true, false, 0, []byte{0xcd, 0xc9}, nil)}, nil), false)
	f.Add([]byte{0x81, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, false)
	f.Fuzz(func(t *testing.T, b []byte, deflate bool) {
		for _, split := range []int{0, 7} {
			_, _, msgs := run(Config{Deflate: deflate, MaxMessage: 1 << 16, MaxMessages: 100}, []chunk{{stream.ServerToClient, b, 0}, {stream.ClientToServer, b, 0}}, split)
			if len(msgs) > 100 {
				t.Fatalf("%d messages over the cap", len(msgs))
			}
			for _, m := range msgs {
				if len(m.Data) > 1<<16 {
					t.Fatalf("message of %d bytes over the cap", len(m.Data))
				}
			}
		}
	})
}
