package http2

import (
	"bytes"
	"testing"
	"time"

	"github.com/tracewire/tracewire/pcap/internal/httpmsg"
	"github.com/tracewire/tracewire/pcap/internal/stream"
)

func joinDir(chunks []rec, d stream.Dir) []byte {
	var b bytes.Buffer
	for _, c := range chunks {
		if c.dir == d {
			b.Write(c.data)
		}
	}
	return b.Bytes()
}

// FuzzFrames feeds arbitrary client and server bytes, cut into chunks as
// cuts says (a cut byte with the high bit set also marks a gap), and checks
// that the parser neither panics nor keeps more than its bounds.
func FuzzFrames(f *testing.F) {
	// Seeds stay small: the engine minimises every new input, which is
	// slow for large ones.
	w, _ := craftedSession()
	g := generatedSession(f, false)
	short := func(b []byte) []byte { return b[:min(len(b), 3000)] }
	f.Add(short(joinDir(w.chunks, c2s)), short(joinDir(w.chunks, s2c)), []byte{7, 200, 13, 1, 64})
	f.Add(short(joinDir(g, c2s)), short(joinDir(g, s2c)), []byte{255, 3})
	f.Add(short(joinDir(g, c2s)[30:]), short(joinDir(g, s2c)[5:]), []byte{0})
	f.Add([]byte(preface), []byte{}, []byte{})
	// A WebSocket over extended CONNECT: its DATA go to the WebSocket
	// decoder.
	ws := wsSession{status: "200", protocol: "websocket", early: true}.chunks()
	f.Add(joinDir(ws, c2s), joinDir(ws, s2c), []byte{9, 40})
	f.Add([]byte(preface+"\x00\x00\x00\x04\x00\x00\x00\x00\x00"), []byte("\x00\x00\x03\x06\x00\x00\x00\x00\x00abc"), []byte{2})

	f.Fuzz(func(t *testing.T, client, server, cuts []byte) {
		s := &sink{}
		recordMessages(t, s)
		c := testConn()
		lim := httpmsg.Limits{MaxBody: 1000, MaxDecoded: 4000}
		p := New(c, s, Config{Limits: lim}).(*parser)
		data := [2][]byte{client, server}
		at := t0
		for i, k := 0, 0; len(data[0])+len(data[1]) > 0; i++ {
			d := stream.Dir(i % 2)
			if len(data[d]) == 0 {
				continue
			}
			n, skip := len(data[d]), 0
			if len(cuts) > 0 {
				cut := cuts[k%len(cuts)]
				k++
				n = min(n, 1+int(cut&0x7f)*int(cut&0x7f))
				if cut&0x80 != 0 {
					skip = int(cut & 0x7f)
				}
			}
			at = at.Add(time.Millisecond)
			p.Feed(&stream.Chunk{Dir: d, Data: data[d][:n], Time: at, Skip: skip, Frame: uint64(i + 1)})
			data[d] = data[d][n:]
			if len(p.streams) > maxOpenStreams {
				t.Fatalf("%d streams tracked", len(p.streams))
			}
			for _, d := range p.dirs {
				if b := len(d.buf); b > frameHeaderLen+maxFrameLen {
					t.Fatalf("%d bytes buffered", b)
				}
			}
		}
		p.End(at, stream.EndCapture)
		if c.Requests != len(s.entries) {
			t.Errorf("Conn.Requests %d, %d entries", c.Requests, len(s.entries))
		}
		for _, x := range s.ex {
			for _, m := range []*httpmsg.Message{x.req, x.resp} {
				if m == nil {
					continue
				}
				if int64(len(m.Body)) > lim.MaxBody || m.BodySize < int64(len(m.Body)) {
					t.Errorf("body of %d bytes kept, BodySize %d", len(m.Body), m.BodySize)
				}
			}
		}
		if len(p.streams) != 0 {
			t.Errorf("%d streams left after End", len(p.streams))
		}
	})
}
