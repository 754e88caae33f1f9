package http2

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/tracewire/tracewire/pcap/internal/httpmsg"
	"github.com/tracewire/tracewire/pcap/internal/stream"
)

func TestIsPreface(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"", false},
		{"PRI", false}, // too short to tell
		{"PRI ", true},
		{"PRI * HTTP/2.0\r\n", true},
		{preface, true},
		{preface + "\x00\x00\x00\x04", true},
		{"PRI * HTTP/1.1\r\n", false},
		{"POST / HTTP/1.1\r\n", false},
		{"GET / HTTP/1.1\r\n", false},
		{"\x16\x03\x01\x02\x00", false},
		{"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\r", false},
	}
	for _, tt := range tests {
		if got := IsPreface([]byte(tt.in)); got != tt.want {
			t.Errorf("IsPreface(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// craftedSession is hand-made traffic with what x/net's client and server
// never send: padding, PRIORITY, CONTINUATION, PUSH_PROMISE, upper-case
// and odd pseudo-header names, informational responses, dynamic table size
// updates, a frame longer than the default maximum, unknown frame types.
func craftedSession() (*wire, map[uint32]exchange) {
	w := newWire()
	w.send(c2s, []byte(preface))
	w.frames(c2s, func(fr *http2.Framer) {
		fr.WriteSettings(http2.Setting{ID: http2.SettingHeaderTableSize, Val: 8192})
	})
	w.frames(s2c, func(fr *http2.Framer) {
		fr.WriteSettings(http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: 100})
		fr.WriteSettingsAck()
	})

	// Stream 1: padded HEADERS with priority, continued in CONTINUATION.
	req1 := w.block(c2s,
		":method", "GET", ":scheme", "https", ":authority", "example.com",
		":path", "/index.html?q=1", "X-Upper-Case", "Yes", ":odd", "pseudo",
		"cookie", "a=1", "cookie", "b=2", "user-agent", "crafted/1.0")
	w.frames(c2s, func(fr *http2.Framer) {
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: req1[:10], EndStream: true,
			PadLength: 5, Priority: http2.PriorityParam{StreamDep: 0, Weight: 200, Exclusive: true}})
		fr.WriteContinuation(1, false, req1[10:20])
		fr.WriteContinuation(1, true, req1[20:])
	})
	// Stream 3: a POST whose body comes in padded DATA frames, and the
	// request pseudo-headers repeated (kept as headers).
	req3 := w.block(c2s, ":method", "POST", ":scheme", "https", ":authority", "example.com",
		":path", "/upload", ":path", "/second", "content-type", "application/x-www-form-urlencoded")
	w.frames(c2s, func(fr *http2.Framer) {
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, BlockFragment: req3, EndHeaders: true})
		fr.WriteDataPadded(3, false, []byte("a=1&"), make([]byte, 7))
		fr.WritePriority(3, http2.PriorityParam{Weight: 10})
	})
	w.frames(c2s, func(fr *http2.Framer) {
		fr.WriteDataPadded(3, true, []byte("b=2"), make([]byte, 255))
	})

	// Push of /style.css on stream 2, promised in a padded PUSH_PROMISE
	// continued in CONTINUATION, after a dynamic table size update.
	w.enc[s2c].SetMaxDynamicTableSizeLimit(256)
	w.enc[s2c].SetMaxDynamicTableSize(256)
	push := w.block(s2c, ":method", "GET", ":scheme", "https", ":authority", "example.com", ":path", "/style.css")
	resp1 := w.block(s2c, ":status", "200", "content-type", "text/html", "Server", "Crafted")
	w.frames(s2c, func(fr *http2.Framer) {
		fr.WritePushPromise(http2.PushPromiseParam{StreamID: 1, PromiseID: 2, BlockFragment: push[:3], PadLength: 2})
		fr.WriteContinuation(1, true, push[3:])
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: resp1, EndHeaders: true})
		fr.WriteData(1, false, []byte("<html>"))
	})
	w.frames(s2c, func(fr *http2.Framer) {
		fr.WritePing(false, [8]byte{1, 2, 3})
		fr.WriteRawFrame(0xb, 0, 0, []byte("unknown extension frame"))
		fr.WriteWindowUpdate(0, 1000)
		fr.WriteData(1, true, []byte("</html>"))
	})
	resp2 := w.block(s2c, ":status", "200", "content-type", "text/css")
	w.frames(s2c, func(fr *http2.Framer) {
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 2, BlockFragment: resp2, EndHeaders: true})
		fr.WriteData(2, true, []byte("body{}"))
	})
	// Stream 3's response: 100 Continue, then 201, a body longer than one
	// default-sized frame, and trailers.
	cont := w.block(s2c, ":status", "100")
	resp3 := w.block(s2c, ":status", "201", "content-type", "text/plain")
	trail3 := w.block(s2c, "x-checksum", "abc", "X-Upper", "T")
	big := bytes.Repeat([]byte("0123456789"), 2000)
	w.frames(s2c, func(fr *http2.Framer) {
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, BlockFragment: cont, EndHeaders: true})
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, BlockFragment: resp3, EndHeaders: true})
		fr.WriteData(3, false, big)
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, BlockFragment: trail3, EndHeaders: true, EndStream: true})
	})
	// Stream 5 is refused by the server.
	req5 := w.block(c2s, ":method", "GET", ":scheme", "https", ":authority", "example.com", ":path", "/refused")
	w.frames(c2s, func(fr *http2.Framer) {
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 5, BlockFragment: req5, EndHeaders: true, EndStream: true})
	})
	w.frames(s2c, func(fr *http2.Framer) {
		fr.WriteRSTStream(5, http2.ErrCodeRefusedStream)
		fr.WriteData(5, true, []byte("in flight after the reset"))
		fr.WriteGoAway(5, http2.ErrCodeNo, nil)
	})

	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Millisecond) }
	want := map[uint32]exchange{
		1: {
			req: &httpmsg.Message{Method: "GET", Scheme: "https", Authority: "example.com", Target: "/index.html?q=1",
				Version: "HTTP/2", Headers: nv("X-Upper-Case", "Yes", ":odd", "pseudo", "cookie", "a=1", "cookie", "b=2", "user-agent", "crafted/1.0"),
				HeadersSize: int64(len(req1)), BodySize: 0, Start: at(3), End: at(3)},
			resp: &httpmsg.Message{Status: 200, Version: "HTTP/2", Headers: nv("content-type", "text/html", "Server", "Crafted"),
				Body: []byte("<html></html>"), HeadersSize: int64(len(resp1)), BodySize: 13, Start: at(6), End: at(7)},
		},
		2: {
			req: &httpmsg.Message{Method: "GET", Scheme: "https", Authority: "example.com", Target: "/style.css",
				Version: "HTTP/2", HeadersSize: int64(len(push)), BodySize: 0, Start: at(6), End: at(6)},
			resp: &httpmsg.Message{Status: 200, Version: "HTTP/2", Headers: nv("content-type", "text/css"),
				Body: []byte("body{}"), HeadersSize: int64(len(resp2)), BodySize: 6, Start: at(8), End: at(8)},
		},
		3: {
			req: &httpmsg.Message{Method: "POST", Scheme: "https", Authority: "example.com", Target: "/upload",
				Version: "HTTP/2", Headers: nv(":path", "/second", "content-type", "application/x-www-form-urlencoded"),
				Body: []byte("a=1&b=2"), HeadersSize: int64(len(req3)), BodySize: 7, Start: at(4), End: at(5)},
			resp: &httpmsg.Message{Status: 201, Version: "HTTP/2", Headers: nv("content-type", "text/plain"),
				Trailers: nv("x-checksum", "abc", "X-Upper", "T"), Body: big,
				HeadersSize: int64(len(cont) + len(resp3) + len(trail3)), BodySize: int64(len(big)), Start: at(9), End: at(9)},
		},
		5: {
			req: &httpmsg.Message{Method: "GET", Scheme: "https", Authority: "example.com", Target: "/refused",
				Version: "HTTP/2", HeadersSize: int64(len(req5)), BodySize: 0, Start: at(10), End: at(10)},
		},
	}
	return w, want
}

func TestCrafted(t *testing.T) {
	w, want := craftedSession()
	check := func(t *testing.T, chunks []rec) {
		t.Helper()
		s := &sink{}
		recordMessages(t, s)
		c := testConn()
		runInto(c, s, Config{TLS: true}, chunks)
		if c.Requests != len(want) || len(s.entries) != len(want) {
			t.Fatalf("got %d entries (Conn.Requests %d), want %d", len(s.entries), c.Requests, len(want))
		}
		if c.Protocol != "h2" {
			t.Errorf("Protocol = %q, want h2", c.Protocol)
		}
		for _, n := range s.notes {
			t.Errorf("unexpected note: %s", n.Reason)
		}
		byID := map[string]exchange{}
		for _, x := range s.ex {
			byID[x.req.Target] = x
		}
		for id, wx := range want {
			x, ok := byID[wx.req.Target]
			if !ok {
				t.Errorf("stream %d (%s): no entry", id, wx.req.Target)
				continue
			}
			if !reflect.DeepEqual(x.req, wx.req) {
				t.Errorf("stream %d request:\n got %+v\nwant %+v", id, x.req, wx.req)
			}
			if !reflect.DeepEqual(x.resp, wx.resp) {
				t.Errorf("stream %d response:\n got %+v\nwant %+v", id, x.resp, wx.resp)
			}
			pushed, _ := x.entry.Extra["_pushed"].(bool)
			if pushed != (id == 2) {
				t.Errorf("stream %d: _pushed = %v", id, x.entry.Extra["_pushed"])
			}
			rst, _ := x.entry.Extra["_rstStream"].(string)
			if wantRst := map[bool]string{true: "REFUSED_STREAM"}[id == 5]; rst != wantRst {
				t.Errorf("stream %d: _rstStream = %q, want %q", id, rst, wantRst)
			}
			if x.entry.Incomplete != (id == 5) {
				t.Errorf("stream %d: Incomplete = %v", id, x.entry.Incomplete)
			}
		}
	}
	t.Run("as-sent", func(t *testing.T) { check(t, w.chunks) })
	t.Run("bytewise", func(t *testing.T) { check(t, bytewise(w.chunks)) })
	for _, d := range []stream.Dir{c2s, s2c} {
		n := dirLen(w.chunks, d)
		for off := 1; off < n; off += 1 + off/64 {
			check(t, splitAt(w.chunks, d, off))
			if t.Failed() {
				t.Fatalf("failed when %s is split at byte %d", d, off)
			}
		}
	}
}

// TestSwapped feeds traffic whose connection was guessed the wrong way
// round: the parser must notice, and Swap the Conn (after which the TCP
// layer labels chunks the other way) unless it is inside TLS, where it
// only turns its own view.
func TestSwapped(t *testing.T) {
	w, want := craftedSession()
	for _, tls := range []bool{false, true} {
		s := &sink{}
		recordMessages(t, s)
		c := testConn()
		client, server := c.Client, c.Server
		p := New(c, s, Config{TLS: tls})
		for _, ch := range w.chunks {
			// The real client is what the Conn calls the server.
			sender := server
			if ch.dir == s2c {
				sender = client
			}
			d := c2s
			if tls || sender != c.Client {
				d = s2c
				if tls {
					d = ch.dir.Reverse()
				}
			}
			p.Feed(&stream.Chunk{Dir: d, Data: ch.data, Time: ch.t, Frame: ch.frame})
		}
		p.End(t0, stream.EndFIN)
		if swapped := c.Client == server; swapped == tls {
			t.Errorf("tls %v: Conn swapped %v", tls, swapped)
		}
		if len(s.ex) != len(want) {
			t.Fatalf("tls %v: got %d entries, want %d", tls, len(s.ex), len(want))
		}
		for _, x := range s.ex {
			if w := want[map[string]uint32{"/index.html?q=1": 1, "/style.css": 2, "/upload": 3, "/refused": 5}[x.req.Target]]; !reflect.DeepEqual(x.req, w.req) || !reflect.DeepEqual(x.resp, w.resp) {
				t.Errorf("tls %v: %s differs:\n got %+v %+v\nwant %+v %+v", tls, x.req.Target, x.req, x.resp, w.req, w.resp)
			}
		}
	}
}

func TestMalformed(t *testing.T) {
	hdr := func(w *wire, id uint32, path string, end bool) {
		b := w.block(c2s, ":method", "GET", ":scheme", "http", ":authority", "h", ":path", path)
		w.frames(c2s, func(fr *http2.Framer) {
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: b, EndHeaders: true, EndStream: end})
		})
	}
	tests := []struct {
		name     string
		build    func(w *wire)
		entries  int
		notes    []string // substrings, in order
		complete int      // entries not marked incomplete
	}{
		{
			name: "lost framing stops the connection",
			build: func(w *wire) {
				w.send(c2s, []byte(preface))
				hdr(w, 1, "/a", true)
				w.frames(c2s, func(fr *http2.Framer) { fr.WriteRawFrame(http2.FramePing, 0, 0, []byte{1, 2, 3}) })
				hdr(w, 3, "/never", true)
			},
			entries: 1,
			notes:   []string{"is PING with length 3"},
		},
		{
			name: "bad padding is skipped",
			build: func(w *wire) {
				w.send(c2s, []byte(preface))
				hdr(w, 1, "/a", false)
				// PADDED with a pad length larger than the payload.
				w.frames(c2s, func(fr *http2.Framer) { fr.WriteRawFrame(http2.FrameData, http2.FlagDataPadded, 1, []byte{200, 'x'}) })
				w.frames(c2s, func(fr *http2.Framer) { fr.WriteData(1, true, []byte("ok")) })
				w.frames(s2c, func(fr *http2.Framer) {
					fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: w.block(s2c, ":status", "204"), EndHeaders: true, EndStream: true})
				})
			},
			entries: 1,
			notes:   []string{"1 malformed frame(s) skipped"},
		},
		{
			name: "undecodable HPACK restarts the decoder",
			build: func(w *wire) {
				w.send(c2s, []byte(preface))
				// Index 70 does not exist in an empty dynamic table.
				w.frames(c2s, func(fr *http2.Framer) {
					fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: []byte{0x82, 0xbf + 7}, EndHeaders: true, EndStream: true})
				})
				w.enc[c2s] = nil
				w2 := newWire()
				b := w2.block(c2s, ":method", "GET", ":scheme", "http", ":authority", "h", ":path", "/after")
				w.frames(c2s, func(fr *http2.Framer) {
					fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, BlockFragment: b, EndHeaders: true, EndStream: true})
				})
			},
			entries: 2,
			notes:   []string{"header block of stream 1 not fully decoded"},
		},
		{
			name: "DATA for a closed stream is ignored",
			build: func(w *wire) {
				w.send(c2s, []byte(preface))
				hdr(w, 3, "/a", true)
				w.frames(c2s, func(fr *http2.Framer) { fr.WriteData(1, true, []byte("late")) })
			},
			entries: 1,
		},
		{
			name: "CONTINUATION never comes",
			build: func(w *wire) {
				w.send(c2s, []byte(preface))
				b := w.block(c2s, ":method", "GET", ":scheme", "http", ":authority", "h", ":path", "/cut")
				w.frames(c2s, func(fr *http2.Framer) {
					fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: b, EndStream: true})
				})
				w2 := newWire()
				b2 := w2.block(c2s, ":method", "GET", ":scheme", "http", ":authority", "h", ":path", "/next")
				w.frames(c2s, func(fr *http2.Framer) {
					fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, BlockFragment: b2, EndHeaders: true, EndStream: true})
				})
			},
			entries: 2,
		},
		{
			name: "GOAWAY with an error is noted",
			build: func(w *wire) {
				w.send(c2s, []byte(preface))
				w.frames(s2c, func(fr *http2.Framer) { fr.WriteGoAway(0, http2.ErrCodeEnhanceYourCalm, []byte("slow down")) })
			},
			notes: []string{`GOAWAY ENHANCE_YOUR_CALM after stream 0 ("slow down")`},
		},
		{
			name: "response without request",
			build: func(w *wire) {
				w.frames(s2c, func(fr *http2.Framer) {
					fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 7, BlockFragment: w.block(s2c, ":status", "200"), EndHeaders: true})
					fr.WriteData(7, true, []byte("x"))
				})
			},
			notes: []string{"1 stream(s) without a request"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWire()
			tt.build(w)
			s := &sink{}
			recordMessages(t, s)
			runInto(testConn(), s, Config{}, w.chunks)
			if len(s.entries) != tt.entries {
				t.Errorf("got %d entries, want %d", len(s.entries), tt.entries)
			}
			var got []string
			for _, n := range s.notes {
				got = append(got, n.Reason)
			}
			if len(got) != len(tt.notes) {
				t.Fatalf("notes %q, want %q", got, tt.notes)
			}
			for i := range got {
				if !strings.Contains(got[i], tt.notes[i]) {
					t.Errorf("note %q does not contain %q", got[i], tt.notes[i])
				}
			}
		})
	}
}

// TestHPACKAfterLoss checks the claim of the package comment: after the
// HPACK state is lost, every header value decoded is the one sent, fields
// that need the lost part of the table make the entry incomplete instead
// of being made up, and once the encoder's table has turned over (its
// entries are all newer than the loss) headers decode whole again.
func TestHPACKAfterLoss(t *testing.T) {
	w := newWire()
	w.send(c2s, []byte(preface))
	const n = 10
	newValue := func(i int) string { return strings.Repeat(string(rune('a'+i)), 1500) }
	var paths []string
	for i := 0; i < n; i++ {
		id := uint32(2*i + 1)
		path := "/p" + strings.Repeat("x", i)
		paths = append(paths, path)
		// x-same is indexed after its first use; referer is large and new
		// each time, so the 4 KiB table turns over every few requests. (Its
		// name is in the static table: a custom name would be taken from
		// the previous request's entry, and a chain of such references
		// that began before the loss stays unknown.)
		b := w.block(c2s, ":method", "GET", ":scheme", "http", ":authority", "h", ":path", path,
			"x-same", "same-value", "referer", newValue(i))
		w.frames(c2s, func(fr *http2.Framer) {
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: b, EndHeaders: true, EndStream: true})
		})
		w.frames(s2c, func(fr *http2.Framer) {
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: w.block(s2c, ":status", "200"), EndHeaders: true, EndStream: true})
		})
	}
	// Lose the client's second request (a gap).
	var chunks []rec
	seen := 0
	for _, c := range w.chunks {
		if c.dir == c2s {
			seen++
			if seen == 3 { // preface, request 1, [request 2]
				continue
			}
			if seen == 4 {
				c.skip = -1
			}
		}
		chunks = append(chunks, c)
	}
	s := &sink{}
	recordMessages(t, s)
	runInto(testConn(), s, Config{}, chunks)
	whole := map[string]bool{}
	for _, x := range s.ex {
		m := x.req
		i := slices.Index(paths, m.Target)
		if (m.Target != "" && i < 0) || (m.Method != "" && m.Method != "GET") || (m.Authority != "" && m.Authority != "h") {
			t.Errorf("request %q %q %q was never sent", m.Method, m.Authority, m.Target)
			continue
		}
		for _, h := range m.Headers {
			if !(h.Name == "x-same" && h.Value == "same-value") && !(h.Name == "referer" && i >= 0 && h.Value == newValue(i)) {
				t.Errorf("%s: header %s: %.20s was never sent", m.Target, h.Name, h.Value)
			}
		}
		ok := i >= 0 && m.Method == "GET" && m.Authority == "h" && len(m.Headers) == 2
		if !ok && !x.entry.Incomplete {
			t.Errorf("request %q lacks headers but is not marked incomplete: %+v", m.Target, m.Headers)
		}
		if ok {
			whole[m.Target] = true
		}
	}
	for _, i := range []int{0, n - 2, n - 1} {
		if !whole[paths[i]] {
			t.Errorf("request %d (%s) not decoded whole", i+1, paths[i])
		}
	}
	if whole[paths[1]] {
		t.Errorf("the lost request appeared")
	}
	if len(s.ex) != n-1 {
		t.Errorf("%d entries, want %d", len(s.ex), n-1)
	}
}

// TestStaticTable checks our copy of the static table against hpack's
// encoder, which sends a one-byte index for each exact match.
func TestStaticTable(t *testing.T) {
	for i, f := range staticTable {
		var b bytes.Buffer
		if err := hpack.NewEncoder(&b).WriteField(hpack.HeaderField{Name: f[0], Value: f[1]}); err != nil {
			t.Fatal(err)
		}
		if want := []byte{0x80 | byte(i+1)}; !bytes.Equal(b.Bytes(), want) {
			t.Errorf("static entry %d %q: hpack encodes %x, want %x", i+1, f, b.Bytes(), want)
		}
	}
}

// TestOpenStreamsBounded opens more streams than the parser tracks: the
// oldest are written out early as incomplete, with one note, and none is
// lost.
func TestOpenStreamsBounded(t *testing.T) {
	w := newWire()
	w.send(c2s, []byte(preface))
	const n = maxOpenStreams + 5
	for i := 0; i < n; i++ {
		b := w.block(c2s, ":method", "POST", ":scheme", "http", ":authority", "h", ":path", fmt.Sprintf("/s%d", i))
		w.frames(c2s, func(fr *http2.Framer) {
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: uint32(2*i + 1), BlockFragment: b, EndHeaders: true})
		})
	}
	// Data for an evicted stream is ignored, not a new stream.
	w.frames(c2s, func(fr *http2.Framer) { fr.WriteData(1, true, []byte("late")) })
	s := &sink{}
	recordMessages(t, s)
	runInto(testConn(), s, Config{}, w.chunks)
	if len(s.ex) != n {
		t.Fatalf("%d entries, want %d", len(s.ex), n)
	}
	for i, x := range s.ex {
		if i < 5 && x.req.Target != fmt.Sprintf("/s%d", i) {
			t.Errorf("entry %d is %s, want the oldest first", i, x.req.Target)
		}
		if !x.entry.Incomplete || len(x.req.Body) != 0 {
			t.Errorf("%s: incomplete %v body %q", x.req.Target, x.entry.Incomplete, x.req.Body)
		}
	}
	if len(s.notes) != 1 || !strings.Contains(s.notes[0].Reason, "more than 1000 streams") {
		t.Errorf("notes %v", s.notes)
	}
}

// TestComments checks that the comments of the packets that carried a
// message (pcapng) reach it, once each.
func TestComments(t *testing.T) {
	w := newWire()
	w.send(c2s, []byte(preface))
	b := w.block(c2s, ":method", "POST", ":scheme", "http", ":authority", "h", ":path", "/c")
	w.frames(c2s, func(fr *http2.Framer) {
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: b, EndHeaders: true})
		fr.WriteData(1, false, []byte("a"))
	})
	w.frames(c2s, func(fr *http2.Framer) { fr.WriteData(1, true, []byte("b")) })
	w.frames(s2c, func(fr *http2.Framer) {
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: w.block(s2c, ":status", "204"), EndHeaders: true, EndStream: true})
	})
	w.chunks[1].notes = []string{"pid=7 comm=app"}
	w.chunks[2].notes = []string{"pid=7 comm=app", "second"}
	w.chunks[3].notes = []string{"server side"}
	// Split the chunk so the comment's packet spans several chunks.
	chunks := splitAt(w.chunks, c2s, len(preface)+5)
	s := &sink{}
	recordMessages(t, s)
	runInto(testConn(), s, Config{}, chunks)
	if len(s.ex) != 1 {
		t.Fatalf("%d entries", len(s.ex))
	}
	x := s.ex[0]
	if !reflect.DeepEqual(x.req.Comments, []string{"pid=7 comm=app", "second"}) || !reflect.DeepEqual(x.resp.Comments, []string{"server side"}) {
		t.Errorf("comments: request %q response %q", x.req.Comments, x.resp.Comments)
	}
}
