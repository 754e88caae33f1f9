package gencap

import (
	"bytes"
	"crypto/ecdh"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"time"
)

// Dir says which side of a connection wrote (the same values as
// pcap/internal/stream.Dir).
type Dir uint8

const (
	ClientToServer Dir = 0 // the side that opened the connection
	ServerToClient Dir = 1
)

// Wire is one write of one side of a connection.
type Wire struct {
	Dir  Dir
	Data []byte
	// Pause is how long the writer waited before this write (think time
	// between exchanges on a kept-alive connection), beyond the
	// ConnWriter's usual packet spacing.
	Pause time.Duration
	// Drop lists segments of this write (0-based, in the order they are
	// sent) that the capture lost: they are not written, but their
	// sequence numbers are used, so the receiver's stream has a hole.
	Drop []int
}

// Exchange is what the two sides of a recorded TLS connection send: each
// request is followed by the response of the same index.
type Exchange struct {
	Requests, Responses [][]byte
	// Pauses, when set, are the client's think times before each request.
	Pauses []time.Duration
}

// TLSSession is a recorded TLS connection.
type TLSSession struct {
	Wires  []Wire
	KeyLog []byte
	// Sent is what the client and the server sent in clear.
	Sent [2][]byte
	// State is the client's view of the connection.
	State tls.ConnectionState
}

// Recorder keeps the writes of the connections it wraps, in order.
type Recorder struct {
	mu    sync.Mutex
	wires []Wire
}

func (l *Recorder) add(d Dir, b []byte) {
	l.mu.Lock()
	l.wires = append(l.wires, Wire{Dir: d, Data: bytes.Clone(b)})
	l.mu.Unlock()
}

// Conn wraps c so that its writes are recorded as direction d.
func (l *Recorder) Conn(c net.Conn, d Dir) net.Conn {
	return &recConn{Conn: c, dir: d, log: l}
}

// Wires returns what was recorded so far.
func (l *Recorder) Wires() []Wire {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Wire(nil), l.wires...)
}

type recConn struct {
	net.Conn
	dir Dir
	log *Recorder
}

func (c *recConn) Write(b []byte) (int, error) {
	// Recorded before the bytes leave, so the peer's answer is recorded
	// after.
	c.log.add(c.dir, b)
	return c.Conn.Write(b)
}

// RecordTLS runs Go's crypto/tls client and server with the given
// configurations over loopback TCP, has them send ex and records what they
// write. The client's KeyLogWriter is set when keylog is true.
//
// The order of the recorded writes is the same on every run as long as
// each write answers the peer's previous one, which holds for TLS 1.3
// without session tickets (a server sending tickets writes them while the
// client writes its Finished) and for TLS 1.2.
func RecordTLS(cc, sc *tls.Config, ex Exchange, keylog bool) (*TLSSession, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("gencap: listen: %w", err)
	}
	defer ln.Close()
	log := &Recorder{}
	var kl bytes.Buffer
	cc = cc.Clone()
	if keylog {
		cc.KeyLogWriter = &kl
	}
	errc := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			errc <- err
			return
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(60 * time.Second))
		s := tls.Server(log.Conn(c, ServerToClient), sc)
		for i, req := range ex.Requests {
			buf := make([]byte, len(req))
			if _, err := io.ReadFull(s, buf); err != nil {
				errc <- fmt.Errorf("server reading request %d: %w", i, err)
				return
			}
			if !bytes.Equal(buf, req) {
				errc <- fmt.Errorf("server got request %d wrong", i)
				return
			}
			if _, err := s.Write(ex.Responses[i]); err != nil {
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
		return nil, fmt.Errorf("gencap: dial: %w", err)
	}
	_ = raw.SetDeadline(time.Now().Add(60 * time.Second))
	c := tls.Client(log.Conn(raw, ClientToServer), cc)
	ses := &TLSSession{}
	pauses := map[int]time.Duration{} // index of the request's first wire → pause
	for i, req := range ex.Requests {
		if i < len(ex.Pauses) && ex.Pauses[i] > 0 {
			pauses[len(log.Wires())] = ex.Pauses[i]
		}
		if _, err := c.Write(req); err != nil {
			raw.Close()
			return nil, fmt.Errorf("gencap: client writing request %d: %w", i, err)
		}
		buf := make([]byte, len(ex.Responses[i]))
		if _, err := io.ReadFull(c, buf); err != nil {
			raw.Close()
			return nil, fmt.Errorf("gencap: client reading response %d: %w", i, err)
		}
		ses.Sent[0] = append(ses.Sent[0], req...)
		ses.Sent[1] = append(ses.Sent[1], ex.Responses[i]...)
	}
	ses.State = c.ConnectionState()
	c.Close()
	if err := <-errc; err != nil {
		return nil, fmt.Errorf("gencap: server: %w", err)
	}
	ses.Wires = log.Wires()
	for i, p := range pauses {
		ses.Wires[i].Pause = p
	}
	ses.KeyLog = kl.Bytes()
	return ses, nil
}

// SeededRand returns a deterministic stream of "random" bytes for
// tls.Config.Rand, from a ChaCha8 generator keyed with the SHA-256 of
// seed.
//
// Since Go 1.26, crypto/ecdh ignores the reader it is given (and with it
// the key shares of crypto/tls) unless GODEBUG=cryptocustomrand=1 is set;
// with it, it first reads one byte, or not, at random, so that nobody
// relies on the stream being used in a particular way. This reader answers
// one-byte reads without advancing (crypto/tls itself never reads a single
// byte), which keeps the stream, and so the whole TLS connection,
// reproducible. See CheckSeededTLS.
func SeededRand(seed string) io.Reader {
	return &seededRand{r: rand.NewChaCha8(sha256.Sum256([]byte(seed)))}
}

type seededRand struct {
	mu sync.Mutex
	r  *rand.ChaCha8
}

func (s *seededRand) Read(p []byte) (int, error) {
	if len(p) == 1 {
		p[0] = 0
		return 1, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.r.Read(p)
}

// ErrRandIgnored says that crypto/tls would not use tls.Config.Rand for
// its key shares in this program, so TLS connections cannot be
// reproduced.
var ErrRandIgnored = errors.New("crypto/ecdh ignores tls.Config.Rand in this program, so TLS key shares are random: " +
	"build with GODEBUG=cryptocustomrand=1 (a //go:debug line in the main package or a _test.go file)")

// CheckSeededTLS reports ErrRandIgnored unless X25519 keys made from two
// SeededRand streams with the same seed are equal.
func CheckSeededTLS() error {
	a, err := ecdh.X25519().GenerateKey(SeededRand("probe"))
	if err != nil {
		return err
	}
	b, err := ecdh.X25519().GenerateKey(SeededRand("probe"))
	if err != nil {
		return err
	}
	if !a.Equal(b) {
		return ErrRandIgnored
	}
	return nil
}
