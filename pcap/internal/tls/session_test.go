package tls

// Sessions for the tests, recorded from Go's crypto/tls client and server
// talking over loopback TCP: every Write of each side is kept with its
// direction, which is what a capture's reassembled streams hold.

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/pcap/internal/stream"
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

type wireLog struct {
	mu    sync.Mutex
	wires []wire
}

func (l *wireLog) add(d stream.Dir, b []byte) {
	l.mu.Lock()
	l.wires = append(l.wires, wire{dir: d, data: bytes.Clone(b)})
	l.mu.Unlock()
}

type recConn struct {
	net.Conn
	dir stream.Dir
	log *wireLog
}

func (c *recConn) Write(b []byte) (int, error) {
	// Logged before the bytes leave, so the peer's answer is logged after.
	c.log.add(c.dir, b)
	return c.Conn.Write(b)
}

var (
	testCertsOnce sync.Once
	testRSACert   tls.Certificate
	testECCert    tls.Certificate
	testRSAKeyPEM []byte
)

func testCerts(t testing.TB) (rsaCert, ecCert tls.Certificate, rsaPEM []byte) {
	t.Helper()
	testCertsOnce.Do(func() {
		rk, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(1),
			Subject:      pkix.Name{CommonName: "example.test"},
			NotBefore:    time.Now().Add(-time.Hour),
			NotAfter:     time.Now().Add(24 * time.Hour),
			DNSNames:     []string{"example.test"},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &rk.PublicKey, rk)
		if err != nil {
			panic(err)
		}
		testRSACert = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: rk}
		der, err = x509.CreateCertificate(rand.Reader, tmpl, tmpl, &ek.PublicKey, ek)
		if err != nil {
			panic(err)
		}
		testECCert = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: ek}
		testRSAKeyPEM = pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rk)})
	})
	return testRSACert, testECCert, testRSAKeyPEM
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

// record runs a client and a server with the given configurations over
// loopback TCP and records what they write. The client's KeyLogWriter is
// set unless noKeylog.
func record(t testing.TB, cc, sc *tls.Config, ex exchange, noKeylog bool) *session {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	defer ln.Close()
	log := &wireLog{}
	var keylog bytes.Buffer
	cc = cc.Clone()
	if !noKeylog {
		cc.KeyLogWriter = &keylog
	}
	errc := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			errc <- err
			return
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(20 * time.Second))
		s := tls.Server(&recConn{Conn: c, dir: stream.ServerToClient, log: log}, sc)
		for i, req := range ex.requests {
			buf := make([]byte, len(req))
			if _, err := io.ReadFull(s, buf); err != nil {
				errc <- fmt.Errorf("server reading request %d: %w", i, err)
				return
			}
			if !bytes.Equal(buf, req) {
				errc <- fmt.Errorf("server got request %d wrong", i)
				return
			}
			if _, err := s.Write(ex.responses[i]); err != nil {
				errc <- fmt.Errorf("server writing: %w", err)
				return
			}
		}
		// Wait for the client's close_notify so the recording is complete.
		_, _ = io.Copy(io.Discard, s)
		errc <- s.Close()
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	_ = raw.SetDeadline(time.Now().Add(20 * time.Second))
	c := tls.Client(&recConn{Conn: raw, dir: stream.ClientToServer, log: log}, cc)
	ses := &session{}
	for i, req := range ex.requests {
		if _, err := c.Write(req); err != nil {
			t.Fatalf("client writing request %d: %v", i, err)
		}
		buf := make([]byte, len(ex.responses[i]))
		if _, err := io.ReadFull(c, buf); err != nil {
			t.Fatalf("client reading response %d: %v", i, err)
		}
		ses.sent[0] = append(ses.sent[0], req...)
		ses.sent[1] = append(ses.sent[1], ex.responses[i]...)
	}
	ses.state = c.ConnectionState()
	c.Close()
	if err := <-errc; err != nil {
		t.Fatalf("server: %v", err)
	}
	log.mu.Lock()
	ses.wires = log.wires
	log.mu.Unlock()
	ses.keylog = keylog.Bytes()
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
