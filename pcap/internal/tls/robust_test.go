package tls

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net/netip"
	"strings"
	"testing"

	"github.com/tracewire/tracewire/pcap/internal/stream"
)

// bigServerWire returns the index, in coalesced wires, of the server write
// holding the big response.
func bigServerWire(ws []wire) int {
	best := -1
	for i, w := range ws {
		if w.dir == stream.ServerToClient && (best < 0 || len(w.data) > len(ws[best].data)) {
			best = i
		}
	}
	return best
}

// feedWires feeds wires where each wire may carry a Skip.
type skipWire struct {
	wire
	skip int
}

func runSkip(keys *Keys, ws []skipWire) *collector {
	col := &collector{}
	conn := &stream.Conn{}
	p := New(conn, col, Config{Keys: keys, Inner: func(*stream.Conn, stream.Sink) stream.Parser { col.made++; return col }})
	for i, w := range ws {
		p.Feed(&stream.Chunk{Dir: w.dir, Data: w.data, Skip: w.skip, Time: t0.Add(msDur(uint64(i + 1))), Frame: uint64(i + 1)})
	}
	p.End(t0, stream.EndFIN)
	return col
}

// robustCases are sessions of each kind of record cipher.
func robustCases(t *testing.T) []goCase {
	var out []goCase
	for _, c := range goCases(t) {
		switch c.name {
		case "tls13-aes128gcm", "tls12-ecdhe-rsa-aes128gcm-http11", "tls12-ecdhe-chacha20", "tls12-ecdhe-aes128cbc-sha",
			"tls10-ecdhe-aes256cbc", "tls12-ecdhe-rc4", "tls12-rsa-3des":
			out = append(out, c)
		}
	}
	return out
}

// TestGap drops bytes from the middle of the server's big response and
// checks that decryption resumes after it: what comes out is a prefix and
// a suffix of what was sent, the first chunk after the gap says bytes were
// lost, and RC4, which cannot resume, reports it.
func TestGap(t *testing.T) {
	for _, tc := range robustCases(t) {
		s := record(t, tc.client, tc.server, defaultExchange(), false)
		keys := keysOf(t, s)
		ws := coalesce(s.wires)
		bi := bigServerWire(ws)
		for _, gap := range []struct {
			name      string
			at, n     int
			skip      int
			splitRest bool
		}{
			{name: "known size", at: 30000, n: 20000, skip: 20000},
			{name: "unknown size", at: 30000, n: 20000, skip: -1},
			{name: "small, cut in pieces", at: 41234, n: 7, skip: 7, splitRest: true},
		} {
			t.Run(tc.name+"/"+gap.name, func(t *testing.T) {
				var in []skipWire
				for i, w := range ws {
					if i != bi {
						in = append(in, skipWire{wire: w})
						continue
					}
					in = append(in, skipWire{wire: wire{dir: w.dir, data: w.data[:gap.at]}})
					rest := w.data[gap.at+gap.n:]
					skip := gap.skip
					for len(rest) > 0 {
						n := len(rest)
						if gap.splitRest {
							n = min(n, 1000)
						}
						in = append(in, skipWire{wire: wire{dir: w.dir, data: rest[:n]}, skip: skip})
						rest, skip = rest[n:], 0
					}
				}
				col := runSkip(keys, in)
				got, sent := col.got[1], s.sent[1]
				if tc.name == "tls12-ecdhe-rc4" {
					if len(col.notes) != 1 || !strings.Contains(col.notes[0].Reason, "RC4") {
						t.Errorf("notes %v, want one about RC4", col.notes)
					}
					if !bytes.HasPrefix(sent, got) {
						t.Errorf("RC4: output is not a prefix of what was sent")
					}
					return
				}
				if len(col.notes) != 0 {
					t.Errorf("notes %v", col.notes)
				}
				var skipAt = -1
				off := 0
				for _, c := range col.chunks {
					if c.Dir != stream.ServerToClient {
						continue
					}
					if c.Skip != 0 {
						if skipAt >= 0 || c.Skip != -1 {
							t.Errorf("unexpected Skip %d at %d", c.Skip, off)
						}
						skipAt = off
					}
					off += len(c.Data)
				}
				if skipAt < 0 {
					t.Fatalf("no chunk says bytes were lost")
				}
				prefix, suffix := got[:skipAt], got[skipAt:]
				if !bytes.HasPrefix(sent, prefix) || !bytes.HasSuffix(sent, suffix) {
					t.Fatalf("output is not a prefix and a suffix of what was sent")
				}
				lost := len(sent) - len(got)
				if lost < gap.n-64 || lost > gap.n+3*(1<<14) {
					t.Errorf("lost %d plaintext bytes for a gap of %d", lost, gap.n)
				}
				if !bytes.Equal(col.got[0], s.sent[0]) {
					t.Errorf("client direction damaged")
				}
			})
		}
	}
}

// TestDamagedRecord flips a byte inside one record of the big response:
// that record is dropped with a note, the rest decrypts.
func TestDamagedRecord(t *testing.T) {
	for _, tc := range robustCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			s := record(t, tc.client, tc.server, defaultExchange(), false)
			ws := coalesce(s.wires)
			bi := bigServerWire(ws)
			data := bytes.Clone(ws[bi].data)
			data[50000] ^= 0x40
			ws[bi] = wire{dir: ws[bi].dir, data: data}
			col, _ := run(keysOf(t, s), ws, nil)
			got, sent := col.got[1], s.sent[1]
			if tc.name == "tls12-ecdhe-rc4" {
				// RC4 cannot skip a record.
				if len(col.notes) != 1 || !bytes.HasPrefix(sent, got) {
					t.Errorf("notes %v; prefix %v", col.notes, bytes.HasPrefix(sent, got))
				}
				return
			}
			lost := len(sent) - len(got)
			if lost <= 0 || lost > 1<<14 {
				t.Errorf("lost %d bytes for one damaged record", lost)
			}
			if len(col.notes) != 1 || !strings.Contains(col.notes[0].Reason, "failed authentication") {
				t.Errorf("notes %v", col.notes)
			}
			if !bytes.HasSuffix(sent, got[len(got)-1000:]) || !bytes.HasPrefix(sent, got[:1000]) {
				t.Errorf("data around the damaged record is wrong")
			}
		})
	}
}

// TestWrongKey gives a key log whose secrets are wrong.
func TestWrongKey(t *testing.T) {
	for _, tc := range goCases(t)[:4] {
		t.Run(tc.name, func(t *testing.T) {
			s := record(t, tc.client, tc.server, defaultExchange(), false)
			// Damage every secret.
			lines := strings.Split(strings.TrimSpace(string(s.keylog)), "\n")
			for i, l := range lines {
				f := strings.Fields(l)
				f[2] = strings.Repeat("5", len(f[2]))
				lines[i] = strings.Join(f, " ")
			}
			k := NewKeys()
			k.AddKeyLog([]byte(strings.Join(lines, "\n")))
			col, conn := run(k, s.wires, nil)
			if len(col.got[0])+len(col.got[1]) != 0 || conn.Decrypted {
				t.Errorf("decrypted with wrong keys")
			}
			if len(col.notes) == 0 || !strings.Contains(col.notes[0].Reason, "decryption failed") {
				t.Errorf("notes %v", col.notes)
			}
		})
	}
}

// TestUnsupportedSuite replaces the cipher suite in a recorded ServerHello
// by one we cannot decrypt.
func TestUnsupportedSuite(t *testing.T) {
	tc := goCases(t)[3] // TLS 1.2 ECDHE-RSA-AES128-GCM
	s := record(t, tc.client, tc.server, defaultExchange(), false)
	ws := coalesce(s.wires)
	for i, w := range ws {
		if w.dir == stream.ServerToClient {
			// Record header 5, handshake header 4, version 2, random 32,
			// session ID vector.
			b := bytes.Clone(w.data)
			sid := int(b[5+4+2+32])
			at := 5 + 4 + 2 + 32 + 1 + sid
			b[at], b[at+1] = 0x00, 0x41 // TLS_RSA_WITH_CAMELLIA_128_CBC_SHA
			ws[i].data = b
			break
		}
	}
	col, conn := run(keysOf(t, s), ws, nil)
	if len(col.got[0])+len(col.got[1]) != 0 {
		t.Errorf("decrypted something")
	}
	if len(col.notes) != 1 || col.notes[0].Reason != "unsupported cipher suite 0x0041 (TLS_RSA_WITH_CAMELLIA_128_CBC_SHA)" {
		t.Errorf("notes %v", col.notes)
	}
	if conn.CipherSuite != "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA" || conn.TLSVersion != "TLS 1.2" {
		t.Errorf("conn %q %q", conn.CipherSuite, conn.TLSVersion)
	}
}

// TestSwappedDirections feeds a session whose first chunk, the
// ClientHello, comes labelled server→client (a capture that starts without
// the SYN and guessed wrong): the parser swaps the Conn, and the chunks that
// follow, labelled by the swapped Conn, decrypt.
func TestSwappedDirections(t *testing.T) {
	tc := goCases(t)[0]
	s := record(t, tc.client, tc.server, defaultExchange(), false)
	col := &collector{}
	conn := &stream.Conn{}
	conn.Client = mustAddrPort("192.0.2.1:443")   // the guess: really the server
	conn.Server = mustAddrPort("192.0.2.2:50000") // really the client
	realClient := conn.Server
	p := New(conn, col, Config{Keys: keysOf(t, s), Inner: func(*stream.Conn, stream.Sink) stream.Parser { return col }})
	for i, w := range s.wires {
		// Label as reassembly would: by the sender's address.
		sender := realClient
		if w.dir == stream.ServerToClient {
			sender = mustAddrPort("192.0.2.1:443")
		}
		d := stream.ServerToClient
		if sender == conn.Client {
			d = stream.ClientToServer
		}
		p.Feed(&stream.Chunk{Dir: d, Data: w.data, Time: t0, Frame: uint64(i + 1)})
	}
	p.End(t0, stream.EndFIN)
	if conn.Client != realClient {
		t.Errorf("Conn not swapped: client %v", conn.Client)
	}
	if !bytes.Equal(col.got[0], s.sent[0]) || !bytes.Equal(col.got[1], s.sent[1]) {
		t.Errorf("wrong plaintext after the swap")
	}
}

// TestResumption resumes TLS 1.2 and 1.3 sessions: with the key log (keys
// by client random) and, for TLS 1.2 with RSA key exchange, from the
// session the first connection left in the store (by ticket).
func TestResumption(t *testing.T) {
	rsaCert, _, pemKey := testCerts(t)
	for _, tc := range []struct {
		name    string
		version uint16
		suites  []uint16
		rsa     bool
	}{
		{"tls13", tls.VersionTLS13, nil, false},
		{"tls12-ecdhe", tls.VersionTLS12, []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}, false},
		{"tls12-rsa-ticket", tls.VersionTLS12, []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cache := tls.NewLRUClientSessionCache(4)
			cc := &tls.Config{InsecureSkipVerify: true, ServerName: "example.test", MinVersion: tc.version, MaxVersion: tc.version, CipherSuites: tc.suites, ClientSessionCache: cache}
			sc := &tls.Config{Certificates: []tls.Certificate{rsaCert}, MinVersion: tc.version, MaxVersion: tc.version, CipherSuites: tc.suites}
			first := record(t, cc, sc, defaultExchange(), tc.rsa)
			second := record(t, cc, sc, defaultExchange(), tc.rsa)
			if !second.state.DidResume {
				t.Fatalf("the second connection did not resume")
			}
			keys := NewKeys()
			if tc.rsa {
				if err := keys.AddRSAKey(pemKey); err != nil {
					t.Fatal(err)
				}
			} else {
				keys.AddKeyLog(first.keylog)
				keys.AddKeyLog(second.keylog)
			}
			for i, s := range []*session{first, second} {
				col, conn := run(keys, s.wires, nil)
				if !bytes.Equal(col.got[0], s.sent[0]) || !bytes.Equal(col.got[1], s.sent[1]) || len(col.notes) != 0 {
					t.Errorf("connection %d: decrypted %d/%d bytes, notes %v", i+1, len(col.got[0]), len(col.got[1]), col.notes)
				}
				_ = conn
			}
			if tc.rsa {
				// Without the first connection the second has no key.
				k2 := NewKeys()
				_ = k2.AddRSAKey(pemKey)
				col, _ := run(k2, second.wires, nil)
				if len(col.got[1]) != 0 || len(col.notes) != 1 || !strings.Contains(col.notes[0].Reason, "no key for client random") {
					t.Errorf("resumed session decrypted without its first connection: notes %v", col.notes)
				}
			}
		})
	}
}

func mustAddrPort(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// TestLostChangeCipherSpec drops the server's ChangeCipherSpec and
// Finished (TLS 1.2) in a gap: the application data after them still
// decrypts under the pending keys.
func TestLostChangeCipherSpec(t *testing.T) {
	for _, tc := range goCases(t) {
		if tc.name != "tls12-ecdhe-rsa-aes128gcm-http11" && tc.name != "tls12-ecdhe-aes128cbc-sha" && tc.name != "tls12-ecdhe-chacha20" {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			s := record(t, tc.client, tc.server, defaultExchange(), false)
			// The server's whole stream as one chunk, cut around its CCS
			// and Finished.
			var srv []byte
			var in []skipWire
			for _, w := range s.wires {
				if w.dir == stream.ServerToClient {
					srv = append(srv, w.data...)
				}
			}
			ccs := bytes.Index(srv, []byte{0x14, 0x03, 0x03, 0x00, 0x01, 0x01})
			if ccs < 0 {
				t.Fatal("no ChangeCipherSpec")
			}
			fin := ccs + 6
			end := fin + 5 + (int(srv[fin+3])<<8 | int(srv[fin+4]))
			sent := false
			for _, w := range coalesce(s.wires) {
				if w.dir == stream.ClientToServer {
					in = append(in, skipWire{wire: w})
					continue
				}
				if !sent {
					// Everything the server sent, at the time of its first
					// write, with the hole; client data interleaves fine
					// because the client only waits for the Finished.
					in = append(in, skipWire{wire: wire{dir: w.dir, data: srv[:ccs]}})
					in = append(in, skipWire{wire: wire{dir: w.dir, data: srv[end:]}, skip: end - ccs})
					sent = true
				}
			}
			col := runSkip(keysOf(t, s), in)
			if !bytes.Equal(col.got[1], s.sent[1]) || !bytes.Equal(col.got[0], s.sent[0]) {
				t.Errorf("decrypted %d/%d bytes, want %d/%d; notes %v", len(col.got[0]), len(col.got[1]), len(s.sent[0]), len(s.sent[1]), col.notes)
			}
		})
	}
}

// TestRSAKeyChoice gives the server's RSA key among others: the one that
// matches the certificate is used whatever the order; with only other keys
// the note says none fits.
func TestRSAKeyChoice(t *testing.T) {
	var tc goCase
	for _, c := range goCases(t) {
		if c.name == "tls12-rsa-kex-aes128gcm" {
			tc = c
		}
	}
	s := record(t, tc.client, tc.server, defaultExchange(), true)
	_, _, right := testCerts(t)
	other, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	wrong := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(other)})
	for _, order := range [][][]byte{{wrong, right}, {right, wrong}} {
		k := NewKeys()
		for _, pk := range order {
			if err := k.AddRSAKey(pk); err != nil {
				t.Fatal(err)
			}
		}
		col, _ := run(k, s.wires, nil)
		if !bytes.Equal(col.got[1], s.sent[1]) || len(col.notes) != 0 {
			t.Errorf("with two keys: %d bytes, notes %v", len(col.got[1]), col.notes)
		}
	}
	k := NewKeys()
	_ = k.AddRSAKey(wrong)
	col, _ := run(k, s.wires, nil)
	if len(col.got[1]) != 0 || len(col.notes) != 1 || !strings.Contains(col.notes[0].Reason, "none of the 1 RSA keys decrypts the pre-master secret") {
		t.Errorf("with the wrong key: %d bytes, notes %v", len(col.got[1]), col.notes)
	}
}

// TestInnerPlaintext checks TLS 1.3's TLSInnerPlaintext: the content type
// is the last non-zero byte, zeros after it are padding, a record of only
// padding carries nothing.
func TestInnerPlaintext(t *testing.T) {
	for _, tc := range []struct {
		name string
		pt   string
		want string
	}{
		{"no padding", "hello\x17", "hello"},
		{"padding", "hello\x17\x00\x00\x00\x00", "hello"},
		{"zeros in the data", "he\x00llo\x00\x17\x00", "he\x00llo\x00"},
		{"only padding", "\x00\x00\x00", ""},
		{"empty application data", "\x17\x00", ""},
		{"alert is not data", "\x01\x00\x15", ""},
	} {
		col := &collector{}
		p := newParser(&stream.Conn{}, col, Config{Inner: func(*stream.Conn, stream.Sink) stream.Parser { return col }})
		p.version = verTLS13
		p.eeSeen = true
		p.plain(&p.half[1], recApplicationData, []byte(tc.pt), meta{})
		if string(col.got[1]) != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, col.got[1], tc.want)
		}
	}
}
