package tls

import (
	"crypto/tls"
	"errors"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/pcap/internal/capture"
	"github.com/tracewire/tracewire/pcap/internal/decode"
	"github.com/tracewire/tracewire/pcap/internal/stream"
	"github.com/tracewire/tracewire/pcap/internal/tcp"
	"github.com/tracewire/tracewire/pcap/internal/tls/tlsgen"
)

func benchExchange() exchange {
	ex := tlsgen.HTTPExchange(64)
	return exchange{requests: ex.Requests, responses: ex.Responses}
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

func writePcap(path string, ws []wire) error {
	var tw []tlsgen.Wire
	for _, w := range ws {
		tw = append(tw, tlsgen.Wire{Dir: w.dir, Data: w.data})
	}
	return tlsgen.WritePcap(path, tw)
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
