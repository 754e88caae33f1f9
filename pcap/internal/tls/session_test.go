package tls

// Sessions for the tests, recorded from Go's crypto/tls client and server
// talking over loopback TCP: every Write of each side is kept with its
// direction, which is what a capture's reassembled streams hold.

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/pcap/internal/stream"
	"github.com/tracewire/tracewire/pcap/internal/tls/tlsgen"
)

// wire is one Write of one side.
type wire struct {
	dir  stream.Dir
	data []byte
}

// session is a recorded connection with what each side sent in clear.
type session struct {
	wires  []wire
	keylog []byte
	sent   [2][]byte
	// state is the client's view of the connection.
	state tls.ConnectionState
}

func testCerts(t testing.TB) (rsaCert, ecCert tls.Certificate, rsaPEM []byte) {
	t.Helper()
	c, err := tlsgen.TestCerts()
	if err != nil {
		t.Fatal(err)
	}
	return c.RSA, c.EC, c.RSAKeyPEM
}

// exchange is what the two sides send: the client's messages, each
// followed by the server's answer of the same index.
type exchange struct {
	requests, responses [][]byte
}

func defaultExchange() exchange {
	big := bytes.Repeat([]byte("0123456789abcdef"), 6000) // 96000 bytes: several full records
	return exchange{
		requests:  [][]byte{[]byte("GET /first HTTP/1.1\r\nHost: example.test\r\n\r\n"), []byte("x"), big[:40000]},
		responses: [][]byte{[]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"), big, []byte("y")},
	}
}

// record runs a client and a server (tlsgen.Record) and converts the
// recording to the tests' types. The client's KeyLogWriter is set unless
// noKeylog.
func record(t testing.TB, cc, sc *tls.Config, ex exchange, noKeylog bool) *session {
	t.Helper()
	s, err := tlsgen.Record(cc, sc, tlsgen.Exchange{Requests: ex.requests, Responses: ex.responses}, !noKeylog)
	if err != nil {
		t.Fatal(err)
	}
	ses := &session{keylog: s.KeyLog, sent: s.Sent, state: s.State}
	for _, w := range s.Wires {
		ses.wires = append(ses.wires, wire{dir: w.Dir, data: w.Data})
	}
	return ses
}

// collector is the inner parser and the sink of a test run.
type collector struct {
	got    [2][]byte
	chunks []stream.Chunk
	notes  []stream.Note
	ended  bool
	alpn   string // the Conn's ALPN when the inner parser was made
	made   int
}

func (c *collector) Feed(ch *stream.Chunk) {
	c.got[ch.Dir] = append(c.got[ch.Dir], ch.Data...)
	cp := *ch
	cp.Data = bytes.Clone(ch.Data)
	c.chunks = append(c.chunks, cp)
}
func (c *collector) End(time.Time, stream.EndReason) { c.ended = true }
func (c *collector) Entry(*stream.Conn, *har.Entry)  {}
func (c *collector) Note(n stream.Note)              { c.notes = append(c.notes, n) }

var t0 = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// run feeds the recorded wires to a parser, cut as split says: split
// returns the sizes to cut one wire into (nil: whole).
func run(keys *Keys, wires []wire, split func(i int, b []byte) []int) (*collector, *stream.Conn) {
	col := &collector{}
	conn := &stream.Conn{}
	cfg := Config{Keys: keys, Inner: func(c *stream.Conn, s stream.Sink) stream.Parser {
		col.alpn = c.ALPN
		col.made++
		return col
	}}
	p := New(conn, col, cfg)
	frame := uint64(0)
	for i, w := range wires {
		sizes := []int{len(w.data)}
		if split != nil {
			if s := split(i, w.data); s != nil {
				sizes = s
			}
		}
		b := w.data
		for _, n := range sizes {
			frame++
			p.Feed(&stream.Chunk{Dir: w.dir, Data: b[:n], Time: t0.Add(time.Duration(frame) * time.Millisecond), Frame: frame, Comments: []string{fmt.Sprint("frame ", frame)}})
			b = b[n:]
		}
	}
	p.End(t0.Add(time.Hour), stream.EndFIN)
	return col, conn
}

func keysOf(t testing.TB, s *session) *Keys {
	t.Helper()
	k := NewKeys()
	if added, skipped := k.AddKeyLog(s.keylog); skipped != 0 || added == 0 && len(s.keylog) > 0 {
		t.Fatalf("key log: added %d, skipped %d", added, skipped)
	}
	return k
}

// splits are the ways the tests cut the recorded writes into chunks.
var splits = map[string]func(int, []byte) []int{
	"writes": nil,
	"bytes": func(_ int, b []byte) []int {
		s := make([]int, len(b))
		for i := range s {
			s[i] = 1
		}
		return s
	},
	"odd": func(i int, b []byte) []int {
		// Irregular cuts that fall inside headers and across records.
		var s []int
		for n, k := len(b), 0; n > 0; k++ {
			c := min(n, 1+(k*7919+i*31)%1500)
			s = append(s, c)
			n -= c
		}
		return s
	},
}

// syncBuffer is a bytes.Buffer for key logs written from two goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.b.Bytes())
}
