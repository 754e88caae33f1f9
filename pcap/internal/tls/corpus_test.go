package tls

// Decryption over the external corpus, below the HTTP parsers: the
// captures are read, decoded and reassembled by the sibling packages, TLS
// connections (found by their ClientHello) go to this package's parser,
// and the tests look at the plaintext itself. The HAR-level checks of the
// same files are in pcap/tls_corpus_test.go.

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/internal/testutil"
	"github.com/tracewire/tracewire/pcap/internal/capture"
	"github.com/tracewire/tracewire/pcap/internal/decode"
	"github.com/tracewire/tracewire/pcap/internal/stream"
	"github.com/tracewire/tracewire/pcap/internal/tcp"
)

// plainConn is what one connection decrypted to.
type plainConn struct {
	conn   *stream.Conn
	tls    bool
	got    [2][]byte
	skips  int
	nested *plainConn // TLS found inside the decrypted bytes
}

type corpusSink struct{ notes []stream.Note }

func (s *corpusSink) Entry(*stream.Conn, *har.Entry) {}
func (s *corpusSink) Note(n stream.Note)             { s.notes = append(s.notes, n) }

// sniffer is the parser of a connection: TLS if the client starts with a
// ClientHello (also inside TLS, for proxies), else a byte collector.
type sniffer struct {
	pc    *plainConn
	keys  *Keys
	sink  stream.Sink
	inner stream.Parser
	first bool
	// depth limits nesting.
	depth int
}

func (s *sniffer) Feed(c *stream.Chunk) {
	if !s.first && len(c.Data) > 0 {
		s.first = true
		if s.depth < 3 && LooksLikeClientHello(c.Data) {
			s.pc.tls = true
			s.inner = New(s.pc.conn, s.sink, Config{Keys: s.keys, Inner: func(cn *stream.Conn, sk stream.Sink) stream.Parser {
				n := &plainConn{conn: cn}
				s.pc.nested = n
				return &sniffer{pc: n, keys: s.keys, sink: sk, depth: s.depth + 1}
			}})
		}
	}
	if s.inner != nil {
		s.inner.Feed(c)
		return
	}
	if c.Skip != 0 {
		s.pc.skips++
	}
	s.pc.got[c.Dir] = append(s.pc.got[c.Dir], c.Data...)
}

func (s *sniffer) End(at time.Time, why stream.EndReason) {
	if s.inner != nil {
		s.inner.End(at, why)
	}
}

// decryptCapture runs a corpus capture through capture, decode, tcp and
// this package with the key logs (and DSBs) and RSA keys given.
func decryptCapture(t testing.TB, path string, keylogs, rsaKeys []string) ([]*plainConn, []stream.Note) {
	t.Helper()
	keys := NewKeys()
	for _, f := range keylogs {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if added, _ := keys.AddKeyLog(b); added == 0 {
			t.Fatalf("%s: no secrets", f)
		}
	}
	for _, f := range rsaKeys {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := keys.AddRSAKey(b); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	dsbs, err := capture.Secrets(path)
	if err != nil {
		t.Fatalf("secrets of %s: %v", path, err)
	}
	for _, d := range dsbs {
		keys.AddKeyLog(d)
	}
	sink := &corpusSink{}
	var conns []*plainConn
	asm := tcp.New(tcp.Config{
		Sink: sink,
		Factory: func(c *stream.Conn, sk stream.Sink) stream.Parser {
			pc := &plainConn{conn: c}
			conns = append(conns, pc)
			return &sniffer{pc: pc, keys: keys, sink: sk}
		},
	})
	r, err := capture.Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer r.Close()
	dec := decode.NewDecoder()
	for {
		p, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		d, err := dec.Decode(p)
		if err != nil || d.TCP == nil {
			continue
		}
		asm.Add(&tcp.Packet{Src: d.Src, Dst: d.Dst, TCP: d.TCP, Time: p.Time, Frame: p.Frame, Comments: p.Comments})
	}
	asm.Close()
	return conns, sink.notes
}

func corpusFile(t testing.TB, rel string) string {
	t.Helper()
	parts := strings.Split(rel, "/")
	return testutil.Corpus(t, parts...)
}

// plaintext concatenates what the TLS connections decrypted to, per
// direction, following nested TLS to the innermost level.
func plaintext(conns []*plainConn) (client, server []byte, n int) {
	for _, c := range conns {
		if !c.tls {
			continue
		}
		n++
		in := c.nested
		for in != nil && in.tls {
			in = in.nested
		}
		if in != nil {
			client = append(client, in.got[0]...)
			server = append(server, in.got[1]...)
		}
	}
	return client, server, n
}

func TestCorpusDecrypt(t *testing.T) {
	type tc struct {
		file      string
		keylogs   []string
		rsa       []string
		tlsConns  int
		requests  []string // substrings of the client plaintext, in order
		responses []string // substrings of the server plaintext, in order
		notes     []string // substrings of the notes
		// absent must not appear in the client plaintext.
		absent string
		// minServer is the least server plaintext.
		minServer int
		// noteCount is the number of notes when more than listed.
		noteCount int
		// exactRequests: the first request substring occurs exactly as
		// often as listed.
		exactRequests bool
	}
	cases := []tc{
		{file: "wireshark/tls13-rfc8446.pcap", keylogs: []string{"wireshark/tls13-rfc8446.keys"}, tlsConns: 2,
			requests: []string{"GET /first ", "GET /early ", "GET /second "},
			responses: []string{"Request for /first, version TLSv1.3, Early data: no\n",
				"Request for /early, version TLSv1.3, Early data: yes\n",
				"Request for /second, version TLSv1.3, Early data: yes\n"}},
		{file: "wireshark/tls13-rfc8446.pcap", keylogs: []string{"wireshark/tls13-rfc8446-noearly.keys"}, tlsConns: 2,
			requests: []string{"GET /first ", "GET /second "}, absent: "/early",
			responses: []string{"Request for /first, version TLSv1.3, Early data: no\n",
				"Request for /early, version TLSv1.3, Early data: yes\n",
				"Request for /second, version TLSv1.3, Early data: yes\n"},
			notes: []string{"0-RTT early data at frame 8 not decrypted: no CLIENT_EARLY_TRAFFIC_SECRET"}},
		{file: "wireshark/tls12-dsb.pcapng", tlsConns: 2,
			requests:  []string{"Host: example.com", "Host: example.net"},
			responses: []string{"HTTP/1.1 200 OK", "HTTP/1.1 200 OK"}},
		{file: "wireshark/tls12-chacha20poly1305.pcap", keylogs: []string{"wireshark/tls12-chacha20poly1305.keys"}, tlsConns: 7,
			requests: repeat("GET / HTTP/1.", 7), responses: repeat("HTTP/1.0 200 ok", 7)},
		{file: "wireshark/tls13-20-chacha20poly1305.pcap", keylogs: []string{"wireshark/tls13-20-chacha20poly1305.keys"}, tlsConns: 2,
			requests: repeat("GET / HTTP/1.", 2), responses: repeat("HTTP/1.0 200 ok", 2)},
		{file: "wireshark/dhe1.pcapng.gz", keylogs: []string{"wireshark/dhe1_keylog.dat"}, tlsConns: 1,
			requests: []string{"GET /test HTTP/1.0"}}, // the capture has no response
		{file: "zeek/tls_tls12-decryption.pcap", keylogs: []string{"zeek/tls_tls12-decryption.keylog.txt"}, tlsConns: 1,
			requests: []string{"GET /"}, responses: []string{"HTTP/1.1 "}},
		{file: "wireshark/rsasnakeoil2.pcap", rsa: []string{"wireshark/rsasnakeoil2.key"}, tlsConns: 2,
			requests: repeat("GET /", 11)},
		{file: "tls-extra/test301-baidu-tls12-dsb.pcapng", tlsConns: 1,
			requests: []string{"GET /s?wd=ccc HTTP/1.1"}, responses: []string{"HTTP/1.1 200 OK"}, minServer: 857814},
		// The tunnel carries 5G lawful-interception X3 PDUs (tshark's
		// 5GLI dissector) wrapping the intercepted HTTP, not TLS: the
		// request is in the plaintext, inside X3 framing.
		{file: "wireshark/tls-over-tls.pcapng.gz", rsa: []string{"wireshark/tls-over-tls.key"}, tlsConns: 1,
			requests: []string{"GET /generate_204 HTTP/1.1"}},
		// 73 connections over every OpenSSL 1.0 suite, with TLS
		// compression. tshark decrypts 70; we lack Camellia (6), SEED (3)
		// and IDEA (1); neither of us has the key of the RC4-MD5 one or
		// decrypts RC2 and RC4 export.
		{file: "tls-extra/dsb-dump.pcapng", tlsConns: 73, requests: repeat("GET / HTTP/1.0\r\n", 60),
			notes: []string{"unsupported cipher suite 0x0041 (TLS_RSA_WITH_CAMELLIA_128_CBC_SHA)", "unsupported cipher suite 0x0096 (TLS_RSA_WITH_SEED_CBC_SHA)",
				"unsupported cipher suite 0x0007 (TLS_RSA_WITH_IDEA_CBC_SHA)", "unsupported cipher suite 0x0006 (TLS_RSA_EXPORT_WITH_RC2_CBC_40_MD5)",
				"no key for client random 4575c2fa383b34ff9c5aa53c27a31188a5cbd9976dd1cbee23124aba078bc2f1"},
			noteCount: 13, exactRequests: true},
		{file: "tls-extra/dsb-tls3.cryptohack.org.pcapng", tlsConns: 1,
			requests: []string{"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"}, responses: []string{"Flag: crypto{export_SSLKEYLOGFILE}"}},
		{file: "wireshark/http2-data-reassembly.pcap", keylogs: []string{"wireshark/http2-data-reassembly.keys"}, tlsConns: 1,
			requests: []string{"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"}, responses: []string{"\x89PNG"}},
		{file: "wireshark/http2-brotli.pcapng", tlsConns: 1,
			requests: []string{"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"}},
		{file: "wireshark/quic-with-secrets.pcapng", tlsConns: 1,
			requests: []string{"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"}},
	}
	for _, c := range cases {
		name := c.file
		if len(c.keylogs) > 0 {
			name += "+" + filepath.Base(c.keylogs[0])
		}
		t.Run(name, func(t *testing.T) {
			path := corpusFile(t, c.file)
			var kl, rk []string
			for _, f := range c.keylogs {
				kl = append(kl, corpusFile(t, f))
			}
			for _, f := range c.rsa {
				rk = append(rk, corpusFile(t, f))
			}
			conns, notes := decryptCapture(t, path, kl, rk)
			client, server, n := plaintext(conns)
			if n != c.tlsConns {
				t.Errorf("%d TLS connections, want %d", n, c.tlsConns)
			}
			inOrder(t, "client", client, c.requests)
			inOrder(t, "server", server, c.responses)
			if c.absent != "" && bytes.Contains(client, []byte(c.absent)) {
				t.Errorf("client plaintext has %q", c.absent)
			}
			if len(server) < c.minServer {
				t.Errorf("server plaintext %d bytes, want at least %d", len(server), c.minServer)
			}
			var reasons []string
			for _, n := range notes {
				reasons = append(reasons, n.Reason)
			}
			if c.exactRequests && len(c.requests) > 0 {
				if n := bytes.Count(client, []byte(c.requests[0])); n != len(c.requests) {
					t.Errorf("%d × %q, want %d", n, c.requests[0], len(c.requests))
				}
			}
			if want := max(c.noteCount, len(c.notes)); len(notes) != want {
				t.Errorf("notes %q, want %d", reasons, want)
			}
			for _, want := range c.notes {
				found := false
				for _, r := range reasons {
					found = found || strings.Contains(r, want)
				}
				if !found {
					t.Errorf("no note with %q in %q", want, reasons)
				}
			}
		})
	}
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// inOrder checks that the substrings occur in b one after the other.
func inOrder(t *testing.T, what string, b []byte, subs []string) {
	t.Helper()
	rest := b
	for i, s := range subs {
		j := bytes.Index(rest, []byte(s))
		if j < 0 {
			t.Errorf("%s plaintext (%d bytes): occurrence %d of %q missing; start: %q", what, len(b), i+1, s, head(b, 300))
			return
		}
		rest = rest[j+len(s):]
	}
}

func head(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
