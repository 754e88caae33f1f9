// Package tlsgen records TLS sessions for this package's tests and
// benchmarks: Go's crypto/tls client and server talk over loopback TCP
// while every write of each side is kept, with the client's key log;
// WritePcap turns recorded connections into a capture file with synthetic
// Ethernet/IPv4/TCP headers. The recording and the capture writing are
// internal/gencap's (which also makes the README's sample); this package
// adapts them to pcap/internal/stream's directions and adds throwaway
// test certificates. Nothing here is used outside tests.
package tlsgen

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
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/tracewire/tracewire/internal/gencap"
	"github.com/tracewire/tracewire/pcap/internal/stream"
)

// Wire is one write of one side.
type Wire struct {
	Dir  stream.Dir
	Data []byte
}

// Exchange is what the two sides send: each request is followed by the
// response of the same index.
type Exchange struct {
	Requests, Responses [][]byte
}

// Session is a recorded connection.
type Session struct {
	Wires  []Wire
	KeyLog []byte
	// Sent is what the client and the server sent in clear.
	Sent [2][]byte
	// State is the client's view of the connection.
	State tls.ConnectionState
}

// Certs are a self-signed RSA and ECDSA certificate for example.test and
// the RSA key in PEM, made once per process.
type Certs struct {
	RSA, EC   tls.Certificate
	RSAKeyPEM []byte
}

var (
	certsOnce sync.Once
	certs     Certs
	certsErr  error
)

// TestCerts returns the process's test certificates.
func TestCerts() (Certs, error) {
	certsOnce.Do(func() {
		rk, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			certsErr = err
			return
		}
		ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			certsErr = err
			return
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
			certsErr = err
			return
		}
		certs.RSA = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: rk}
		if der, err = x509.CreateCertificate(rand.Reader, tmpl, tmpl, &ek.PublicKey, ek); err != nil {
			certsErr = err
			return
		}
		certs.EC = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: ek}
		certs.RSAKeyPEM = pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rk)})
	})
	return certs, certsErr
}

// Recorder keeps the writes of the connections it wraps, in order.
type Recorder struct{ r gencap.Recorder }

// Conn wraps c so that its writes are recorded as direction d.
func (l *Recorder) Conn(c net.Conn, d stream.Dir) net.Conn {
	return l.r.Conn(c, gencap.Dir(d))
}

// Wires returns what was recorded so far.
func (l *Recorder) Wires() []Wire { return fromGencap(l.r.Wires()) }

func fromGencap(gw []gencap.Wire) []Wire {
	ws := make([]Wire, len(gw))
	for i, w := range gw {
		ws[i] = Wire{Dir: stream.Dir(w.Dir), Data: w.Data}
	}
	return ws
}

// Record runs a client and a server with the given configurations over
// loopback TCP, has them send ex and records what they write
// (gencap.RecordTLS). The client's KeyLogWriter is set when keylog is
// true.
func Record(cc, sc *tls.Config, ex Exchange, keylog bool) (*Session, error) {
	s, err := gencap.RecordTLS(cc, sc, gencap.Exchange{Requests: ex.Requests, Responses: ex.Responses}, keylog)
	if err != nil {
		return nil, err
	}
	return &Session{Wires: fromGencap(s.Wires), KeyLog: s.KeyLog, Sent: s.Sent, State: s.State}, nil
}

// HTTPExchange is HTTP/1.1 traffic: n requests with responses of 1 KiB to
// 256 KiB (Content-Length bodies).
func HTTPExchange(n int) Exchange {
	var ex Exchange
	body := bytes.Repeat([]byte("tracking pixel payload, "), 1<<14)
	for i := range n {
		size := 1024 << (i % 9)
		ex.Requests = append(ex.Requests, fmt.Appendf(nil, "GET /r%d HTTP/1.1\r\nHost: example.test\r\nUser-Agent: bench\r\n\r\n", i))
		resp := fmt.Appendf(nil, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n", size)
		ex.Responses = append(ex.Responses, append(resp, body[:size]...))
	}
	return ex
}

// Clear returns the wires of ex sent without TLS.
func Clear(ex Exchange) []Wire {
	var ws []Wire
	for i := range ex.Requests {
		ws = append(ws, Wire{Dir: stream.ClientToServer, Data: ex.Requests[i]}, Wire{Dir: stream.ServerToClient, Data: ex.Responses[i]})
	}
	return ws
}

// WritePcap writes connections one after the other as an Ethernet/IPv4
// capture (gencap.ConnWriter): for each, the handshake, segments of at
// most 1448 bytes, FINs; connection i uses client port 50000+i and server
// port 443.
func WritePcap(path string, conns ...[]Wire) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	cw, err := gencap.NewConnWriter(f, gencap.PCAP, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	for i, ws := range conns {
		if err != nil {
			break
		}
		c := gencap.Conn{
			Client: netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, 1}), uint16(50000+i)),
			Server: netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, 2}), 443),
			ISN:    [2]uint32{1000, 5000},
		}
		for _, w := range ws {
			c.Wires = append(c.Wires, gencap.Wire{Dir: gencap.Dir(w.Dir), Data: w.Data})
		}
		err = cw.WriteConn(c)
	}
	if err == nil {
		err = cw.Flush()
	}
	return errors.Join(err, f.Close())
}
