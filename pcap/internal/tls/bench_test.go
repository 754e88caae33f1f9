package tls

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/pcap/internal/capture"
	"github.com/tracewire/tracewire/pcap/internal/decode"
	"github.com/tracewire/tracewire/pcap/internal/stream"
	"github.com/tracewire/tracewire/pcap/internal/tcp"
)

// benchExchange is HTTP/1.1-like traffic: 64 requests with responses from
// 1 KiB to 256 KiB, about 4 MiB in all.
func benchExchange() exchange {
	var ex exchange
	body := bytes.Repeat([]byte("tracking pixel payload, "), 1<<14)
	for i := range 64 {
		n := 1024 << (i % 9) // 1 KiB .. 256 KiB
		ex.requests = append(ex.requests, fmt.Appendf(nil, "GET /r%d HTTP/1.1\r\nHost: example.test\r\nUser-Agent: bench\r\n\r\n", i))
		resp := fmt.Appendf(nil, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", n)
		ex.responses = append(ex.responses, append(resp, body[:n]...))
	}
	return ex
}

type countParser struct{ n *int64 }

func (c countParser) Feed(ch *stream.Chunk)           { *c.n += int64(len(ch.Data)) }
func (c countParser) End(time.Time, stream.EndReason) {}

type nopSink struct{}

func (nopSink) Entry(*stream.Conn, *har.Entry) {}
func (nopSink) Note(stream.Note)               {}

// BenchmarkDecrypt measures the parser alone: records already reassembled,
// bytes/s of plaintext.
func BenchmarkDecrypt(b *testing.B) {
	cases := map[string]goCase{}
	for _, c := range goCases(b) {
		cases[c.name] = c
	}
	for _, name := range []string{"tls13-aes128gcm", "tls12-ecdhe-rsa-aes128gcm-http11", "tls12-ecdhe-chacha20", "tls12-ecdhe-aes128cbc-sha", "tls12-ecdhe-aes128cbc-sha256"} {
		c := cases[name]
		b.Run(name, func(b *testing.B) {
			s := record(b, c.client, c.server, benchExchange(), false)
			keys := keysOf(b, s)
			ws := coalesce(s.wires)
			want := int64(len(s.sent[0]) + len(s.sent[1]))
			b.SetBytes(want)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				var n int64
				p := New(&stream.Conn{}, nopSink{}, Config{Keys: keys, Inner: func(*stream.Conn, stream.Sink) stream.Parser { return countParser{&n} }})
				for i, w := range ws {
					p.Feed(&stream.Chunk{Dir: w.dir, Data: w.data, Frame: uint64(i + 1)})
				}
				p.End(time.Time{}, stream.EndFIN)
				if n != want {
					b.Fatalf("decrypted %d bytes, want %d", n, want)
				}
			}
		})
	}
}

// writePcap writes the wires of one TCP connection as an Ethernet/IPv4
// capture: handshake, segments of at most 1448 bytes, FINs.
func writePcap(path string, ws []wire) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65536, layers.LinkTypeEthernet); err != nil {
		return err
	}
	addr := [2]net.IP{{10, 0, 0, 1}, {10, 0, 0, 2}}
	port := [2]layers.TCPPort{50000, 443}
	seq := [2]uint32{1000, 5000}
	ts := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	buf := gopacket.NewSerializeBuffer()
	send := func(d int, flags string, payload []byte) error {
		eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, byte(d + 1)}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, byte(2 - d)}, EthernetType: layers.EthernetTypeIPv4}
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: addr[d], DstIP: addr[1-d]}
		t := &layers.TCP{SrcPort: port[d], DstPort: port[1-d], Seq: seq[d], Ack: seq[1-d], Window: 65535, ACK: flags != "S"}
		switch flags {
		case "S":
			t.SYN = true
		case "SA":
			t.SYN = true
		case "F":
			t.FIN = true
		}
		_ = t.SetNetworkLayerForChecksum(ip)
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, t, gopacket.Payload(payload)); err != nil {
			return err
		}
		seq[d] += uint32(len(payload))
		if t.SYN || t.FIN {
			seq[d]++
		}
		ts = ts.Add(10 * time.Microsecond)
		return w.WritePacket(gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(buf.Bytes()), Length: len(buf.Bytes())}, buf.Bytes())
	}
	if err := errors.Join(send(0, "S", nil), send(1, "SA", nil), send(0, "A", nil)); err != nil {
		return err
	}
	for _, wr := range ws {
		for b := wr.data; len(b) > 0; {
			n := min(len(b), 1448)
			if err := send(int(wr.dir), "A", b[:n]); err != nil {
				return err
			}
			b = b[n:]
		}
	}
	return errors.Join(send(0, "F", nil), send(1, "F", nil), send(0, "A", nil))
}

// convertBelow runs a capture through capture, decode, tcp and, for
// connections that start with a ClientHello, this package, to parsers that
// count the (decrypted) bytes.
func convertBelow(path string, keys *Keys) (int64, error) {
	var n int64
	asm := tcp.New(tcp.Config{Sink: nopSink{}, Factory: func(c *stream.Conn, sk stream.Sink) stream.Parser {
		return &lazy{make: func(first []byte) stream.Parser {
			if LooksLikeClientHello(first) {
				return New(c, sk, Config{Keys: keys, Inner: func(*stream.Conn, stream.Sink) stream.Parser { return countParser{&n} }})
			}
			return countParser{&n}
		}}
	}})
	r, err := capture.Open(path)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	dec := decode.NewDecoder()
	for {
		p, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, err
		}
		d, err := dec.Decode(p)
		if err != nil || d.TCP == nil {
			continue
		}
		asm.Add(&tcp.Packet{Src: d.Src, Dst: d.Dst, TCP: d.TCP, Time: p.Time, Frame: p.Frame})
	}
	asm.Close()
	return n, nil
}

// lazy picks the parser on the first bytes, as the converter's dispatcher.
type lazy struct {
	make func([]byte) stream.Parser
	p    stream.Parser
}

func (l *lazy) Feed(c *stream.Chunk) {
	if l.p == nil {
		l.p = l.make(c.Data)
	}
	l.p.Feed(c)
}

func (l *lazy) End(at time.Time, why stream.EndReason) {
	if l.p != nil {
		l.p.End(at, why)
	}
}

// BenchmarkTLSOverhead converts the same HTTP traffic captured in clear
// and inside TLS 1.3 (AES-128-GCM) or TLS 1.2 (ChaCha20-Poly1305), through
// reading, decoding and reassembly, and reports the ratio of the times:
// what decryption adds to conversion. (pcap's BenchmarkConvertTLS measures
// the same with the HTTP parsers.)
func BenchmarkTLSOverhead(b *testing.B) {
	rsaCert, _, _ := testCerts(b)
	for _, tc := range []struct {
		name   string
		v      uint16
		suites []uint16
	}{
		{"tls13-aes128gcm", tls.VersionTLS13, nil},
		{"tls12-chacha20", tls.VersionTLS12, []uint16{tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			cc := &tls.Config{InsecureSkipVerify: true, ServerName: "example.test", MinVersion: tc.v, MaxVersion: tc.v, CipherSuites: tc.suites}
			sc := &tls.Config{Certificates: []tls.Certificate{rsaCert}, MinVersion: tc.v, MaxVersion: tc.v, CipherSuites: tc.suites}
			ex := benchExchange()
			s := record(b, cc, sc, ex, false)
			keys := keysOf(b, s)
			dir := b.TempDir()
			tlsPath, clearPath := filepath.Join(dir, "tls.pcap"), filepath.Join(dir, "clear.pcap")
			var clear []wire
			for i := range ex.requests {
				clear = append(clear, wire{dir: stream.ClientToServer, data: ex.requests[i]}, wire{dir: stream.ServerToClient, data: ex.responses[i]})
			}
			if err := errors.Join(writePcap(tlsPath, s.wires), writePcap(clearPath, clear)); err != nil {
				b.Fatal(err)
			}
			want := int64(len(s.sent[0]) + len(s.sent[1]))
			b.SetBytes(want)
			b.ResetTimer()
			var tTLS, tClear time.Duration
			for range b.N {
				start := time.Now()
				n, err := convertBelow(tlsPath, keys)
				tTLS += time.Since(start)
				if err != nil || n != want {
					b.Fatalf("TLS capture: %d bytes, want %d (%v)", n, want, err)
				}
				start = time.Now()
				n, err = convertBelow(clearPath, keys)
				tClear += time.Since(start)
				if err != nil || n != want {
					b.Fatalf("clear capture: %d bytes, want %d (%v)", n, want, err)
				}
			}
			b.ReportMetric(float64(tTLS.Nanoseconds())/float64(b.N), "tls-ns/op")
			b.ReportMetric(float64(tClear.Nanoseconds())/float64(b.N), "clear-ns/op")
			b.ReportMetric(float64(tTLS)/float64(tClear), "tls/clear")
		})
	}
}
