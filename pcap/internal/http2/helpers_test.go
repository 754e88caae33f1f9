package http2

import (
	"bytes"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/pcap/internal/httpmsg"
	"github.com/tracewire/tracewire/pcap/internal/stream"
)

// t0 is the capture time of the first chunk in generated traffic; each
// later chunk is 1 ms later, so times are deterministic.
var t0 = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

// rec is one recorded write: a chunk of one direction.
type rec struct {
	dir   stream.Dir
	data  []byte
	t     time.Time
	frame uint64
	skip  int
	notes []string
}

// recorder collects the writes of both ends of a connection in order.
type recorder struct {
	mu     sync.Mutex
	chunks []rec
}

// add records b before it is written, so that a request is recorded
// before the response it causes; written trims it to what was written.
func (r *recorder) add(d stream.Dir, b []byte) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := len(r.chunks)
	r.chunks = append(r.chunks, rec{dir: d, data: bytes.Clone(b), t: t0.Add(time.Duration(n) * time.Millisecond), frame: uint64(n + 1)})
	return n
}

func (r *recorder) written(i, n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.chunks[i].data = r.chunks[i].data[:n]
}

func (r *recorder) get() []rec {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []rec
	for _, c := range r.chunks {
		if len(c.data) > 0 {
			out = append(out, c)
		}
	}
	return out
}

// recConn records what is written to it.
type recConn struct {
	net.Conn
	dir stream.Dir
	rec *recorder
}

func (c *recConn) Write(b []byte) (int, error) {
	i := c.rec.add(c.dir, b)
	n, err := c.Conn.Write(b)
	c.rec.written(i, n)
	return n, err
}

// exchange is what the parser handed to BuildEntry for one stream.
type exchange struct {
	req, resp *httpmsg.Message
	entry     *har.Entry
}

// sink collects entries and notes.
type sink struct {
	entries []*har.Entry
	notes   []stream.Note
	ex      []exchange
}

func (s *sink) Entry(c *stream.Conn, e *har.Entry) { s.entries = append(s.entries, e) }
func (s *sink) Note(n stream.Note)                 { s.notes = append(s.notes, n) }

// recordMessages replaces BuildEntry for the test with a recorder of the
// messages, so the parser's own output is checked exactly.
func recordMessages(t testing.TB, s *sink) {
	t.Helper()
	old := buildEntry
	t.Cleanup(func() { buildEntry = old })
	buildEntry = func(c *stream.Conn, req, resp *httpmsg.Message, tls bool, lim httpmsg.Limits) *har.Entry {
		e := &har.Entry{Request: har.Request{Method: req.Method, URL: req.Target}}
		if resp != nil {
			e.Response.Status = resp.Status
		}
		s.ex = append(s.ex, exchange{req: req, resp: resp, entry: e})
		return e
	}
}

func testConn() *stream.Conn {
	return &stream.Conn{
		Index:  1,
		Client: netip.MustParseAddrPort("10.0.0.1:50000"),
		Server: netip.MustParseAddrPort("10.0.0.2:80"),
	}
}

// runInto feeds chunks to a new parser for c and ends it.
func runInto(c *stream.Conn, s *sink, cfg Config, chunks []rec) *sink {
	p := New(c, s, cfg)
	var last time.Time
	for _, ch := range chunks {
		p.Feed(&stream.Chunk{Dir: ch.dir, Data: ch.data, Time: ch.t, Frame: ch.frame, Skip: ch.skip, Comments: ch.notes})
		last = ch.t
	}
	p.End(last, stream.EndFIN)
	return s
}

// splitAt splits the chunk of direction d that holds byte off of that
// direction into two chunks with the same time, so the parser's output
// must not change.
func splitAt(chunks []rec, d stream.Dir, off int) []rec {
	out := make([]rec, 0, len(chunks)+1)
	pos := 0
	for _, c := range chunks {
		if c.dir == d && off > pos && off < pos+len(c.data) {
			a, b := c, c
			a.data, b.data = c.data[:off-pos], c.data[off-pos:]
			out = append(out, a, b)
		} else {
			out = append(out, c)
		}
		if c.dir == d {
			pos += len(c.data)
		}
	}
	return out
}

// bytewise splits every chunk into one chunk per byte.
func bytewise(chunks []rec) []rec {
	var out []rec
	for _, c := range chunks {
		for i := range c.data {
			b := c
			b.data = c.data[i : i+1]
			out = append(out, b)
		}
	}
	return out
}

func dirLen(chunks []rec, d stream.Dir) int {
	n := 0
	for _, c := range chunks {
		if c.dir == d {
			n += len(c.data)
		}
	}
	return n
}

// wire builds hand-crafted HTTP/2 traffic, one chunk per call.
type wire struct {
	chunks []rec
	enc    [2]*hpack.Encoder
	hbuf   [2]*bytes.Buffer
}

func newWire() *wire {
	w := &wire{}
	for i := range w.enc {
		w.hbuf[i] = new(bytes.Buffer)
		w.enc[i] = hpack.NewEncoder(w.hbuf[i])
	}
	return w
}

// send appends a chunk of raw bytes.
func (w *wire) send(d stream.Dir, b []byte) {
	n := len(w.chunks)
	w.chunks = append(w.chunks, rec{dir: d, data: bytes.Clone(b), t: t0.Add(time.Duration(n) * time.Millisecond), frame: uint64(n + 1)})
}

// frames appends one chunk holding the frames fn writes.
func (w *wire) frames(d stream.Dir, fn func(fr *http2.Framer)) {
	var b bytes.Buffer
	fr := http2.NewFramer(&b, nil)
	fr.AllowIllegalWrites = true
	fn(fr)
	w.send(d, b.Bytes())
}

// block HPACK-encodes name/value pairs with direction d's encoder.
func (w *wire) block(d stream.Dir, kv ...string) []byte {
	w.hbuf[d].Reset()
	for i := 0; i+1 < len(kv); i += 2 {
		if err := w.enc[d].WriteField(hpack.HeaderField{Name: kv[i], Value: kv[i+1]}); err != nil {
			panic(err)
		}
	}
	return bytes.Clone(w.hbuf[d].Bytes())
}

func nv(kv ...string) []har.NameValue {
	var out []har.NameValue
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, har.NameValue{Name: kv[i], Value: kv[i+1]})
	}
	return out
}

const c2s, s2c = stream.ClientToServer, stream.ServerToClient
