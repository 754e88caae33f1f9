// Package tlsgen records TLS sessions for tests and benchmarks: Go's
// crypto/tls client and server talk over loopback TCP while every write of
// each side is kept, with the client's key log; WritePcap turns recorded
// connections into a capture file with synthetic Ethernet/IPv4/TCP
// headers. Nothing here is used outside tests.
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
	"io"
	"math/big"
	"net"
	"os"
	"sync"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

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
type Recorder struct {
	mu    sync.Mutex
	wires []Wire
}

func (l *Recorder) add(d stream.Dir, b []byte) {
	l.mu.Lock()
	l.wires = append(l.wires, Wire{Dir: d, Data: bytes.Clone(b)})
	l.mu.Unlock()
}

// Conn wraps c so that its writes are recorded as direction d.
func (l *Recorder) Conn(c net.Conn, d stream.Dir) net.Conn {
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
	dir stream.Dir
	log *Recorder
}

func (c *recConn) Write(b []byte) (int, error) {
	// Logged before the bytes leave, so the peer's answer is logged after.
	c.log.add(c.dir, b)
	return c.Conn.Write(b)
}

// Record runs a client and a server with the given configurations over
// loopback TCP, has them send ex and records what they write. The
// client's KeyLogWriter is set when keylog is true.
func Record(cc, sc *tls.Config, ex Exchange, keylog bool) (*Session, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
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
		s := tls.Server(&recConn{Conn: c, dir: stream.ServerToClient, log: log}, sc)
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
		return nil, fmt.Errorf("dial: %w", err)
	}
	_ = raw.SetDeadline(time.Now().Add(60 * time.Second))
	c := tls.Client(&recConn{Conn: raw, dir: stream.ClientToServer, log: log}, cc)
	ses := &Session{}
	for i, req := range ex.Requests {
		if _, err := c.Write(req); err != nil {
			raw.Close()
			return nil, fmt.Errorf("client writing request %d: %w", i, err)
		}
		buf := make([]byte, len(ex.Responses[i]))
		if _, err := io.ReadFull(c, buf); err != nil {
			raw.Close()
			return nil, fmt.Errorf("client reading response %d: %w", i, err)
		}
		ses.Sent[0] = append(ses.Sent[0], req...)
		ses.Sent[1] = append(ses.Sent[1], ex.Responses[i]...)
	}
	ses.State = c.ConnectionState()
	c.Close()
	if err := <-errc; err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	log.mu.Lock()
	ses.Wires = log.wires
	log.mu.Unlock()
	ses.KeyLog = kl.Bytes()
	return ses, nil
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
// capture: for each, the handshake, segments of at most 1448 bytes, FINs;
// connection i uses client port 50000+i and server port 443.
func WritePcap(path string, conns ...[]Wire) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := pcapgo.NewWriter(f)
	err = w.WriteFileHeader(65536, layers.LinkTypeEthernet)
	ts := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, ws := range conns {
		if err != nil {
			break
		}
		err = writeConn(w, &ts, layers.TCPPort(50000+i), ws)
	}
	return errors.Join(err, f.Close())
}

func writeConn(w *pcapgo.Writer, ts *time.Time, cport layers.TCPPort, ws []Wire) error {
	addr := [2]net.IP{{10, 0, 0, 1}, {10, 0, 0, 2}}
	port := [2]layers.TCPPort{cport, 443}
	seq := [2]uint32{1000, 5000}
	buf := gopacket.NewSerializeBuffer()
	send := func(d int, syn, fin bool, payload []byte) error {
		eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, byte(d + 1)}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, byte(2 - d)}, EthernetType: layers.EthernetTypeIPv4}
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: addr[d], DstIP: addr[1-d]}
		t := &layers.TCP{SrcPort: port[d], DstPort: port[1-d], Seq: seq[d], Ack: seq[1-d], Window: 65535, SYN: syn, FIN: fin, ACK: !syn || d == 1}
		_ = t.SetNetworkLayerForChecksum(ip)
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, t, gopacket.Payload(payload)); err != nil {
			return err
		}
		seq[d] += uint32(len(payload))
		if syn || fin {
			seq[d]++
		}
		*ts = ts.Add(10 * time.Microsecond)
		return w.WritePacket(gopacket.CaptureInfo{Timestamp: *ts, CaptureLength: len(buf.Bytes()), Length: len(buf.Bytes())}, buf.Bytes())
	}
	if err := errors.Join(send(0, true, false, nil), send(1, true, false, nil), send(0, false, false, nil)); err != nil {
		return err
	}
	for _, wr := range ws {
		for b := wr.Data; len(b) > 0; {
			n := min(len(b), 1448)
			if err := send(int(wr.Dir), false, false, b[:n]); err != nil {
				return err
			}
			b = b[n:]
		}
	}
	return errors.Join(send(0, false, true, nil), send(1, false, true, nil), send(0, false, false, nil))
}
