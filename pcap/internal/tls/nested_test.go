package tls

import (
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"testing"
	"time"

	"github.com/tracewire/tracewire/pcap/internal/stream"
	"github.com/tracewire/tracewire/pcap/internal/tls/tlsgen"
)

// recordNested records TLS inside TLS: an inner connection through the
// outer one, made by the outer client (a CONNECT-style proxy tunnel) or,
// reversed, by the outer server.
func recordNested(t *testing.T, reverse bool) (ws []wire, keylog []byte, req, resp []byte) {
	rsaCert, _, _ := testCerts(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	log := &tlsgen.Recorder{}
	var kl syncBuffer
	req = []byte("GET /inner HTTP/1.1\r\nHost: inner.test\r\n\r\n")
	resp = []byte("HTTP/1.1 204 No Content\r\n\r\n")
	cliCfg := &tls.Config{InsecureSkipVerify: true, ServerName: "example.test", KeyLogWriter: &kl}
	srvCfg := &tls.Config{Certificates: []tls.Certificate{rsaCert}, KeyLogWriter: &kl}
	// The inner client: reads the response after writing the request.
	innerClient := func(c net.Conn) error {
		ic := tls.Client(c, cliCfg)
		if _, err := ic.Write(req); err != nil {
			return err
		}
		buf := make([]byte, len(resp))
		_, err := io.ReadFull(ic, buf)
		return err
	}
	innerServer := func(c net.Conn) error {
		is := tls.Server(c, srvCfg)
		buf := make([]byte, len(req))
		if _, err := io.ReadFull(is, buf); err != nil {
			return err
		}
		_, err := is.Write(resp)
		return err
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
		s := tls.Server(log.Conn(c, stream.ServerToClient), srvCfg)
		if reverse {
			errc <- innerClient(s)
		} else {
			errc <- innerServer(s)
		}
		time.Sleep(50 * time.Millisecond)
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	_ = raw.SetDeadline(time.Now().Add(20 * time.Second))
	c := tls.Client(log.Conn(raw, stream.ClientToServer), cliCfg)
	if reverse {
		err = innerServer(c)
	} else {
		err = innerClient(c)
	}
	if err != nil {
		t.Fatalf("inner connection: %v", err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("inner connection, other side: %v", err)
	}
	for _, w := range log.Wires() {
		ws = append(ws, wire{dir: w.Dir, data: w.Data})
	}
	return ws, kl.Bytes(), req, resp
}

// TestNestedTLS decrypts TLS inside TLS both ways round; inside, the
// parser must not Swap the outer parser's Conn but turn its own view.
func TestNestedTLS(t *testing.T) {
	for _, reverse := range []bool{false, true} {
		name := "client-made"
		if reverse {
			name = "server-made"
		}
		t.Run(name, func(t *testing.T) {
			ws, kl, req, resp := recordNested(t, reverse)
			keys := NewKeys()
			keys.AddKeyLog(kl)
			conn := &stream.Conn{Client: mustAddrPort("192.0.2.2:50000"), Server: mustAddrPort("192.0.2.1:443")}
			sink := &corpusSink{}
			pc := &plainConn{conn: conn}
			p := &sniffer{pc: pc, keys: keys, sink: sink}
			for i, w := range ws {
				p.Feed(&stream.Chunk{Dir: w.dir, Data: w.data, Time: t0, Frame: uint64(i + 1)})
			}
			p.End(t0, stream.EndFIN)
			if conn.Client != mustAddrPort("192.0.2.2:50000") {
				t.Errorf("the outer Conn was swapped")
			}
			if pc.nested == nil || !pc.nested.tls || pc.nested.nested == nil {
				t.Fatalf("no inner TLS found (notes %v)", sink.notes)
			}
			in := pc.nested.nested
			if !bytes.Equal(in.got[0], req) || !bytes.Equal(in.got[1], resp) {
				t.Errorf("inner plaintext %q / %q", in.got[0], in.got[1])
			}
			if len(sink.notes) != 0 {
				t.Errorf("notes %v", sink.notes)
			}
		})
	}
}
