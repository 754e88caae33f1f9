package tls

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tracewire/tracewire/pcap/internal/stream"
)

// coalesce merges consecutive writes of the same direction, as one TCP
// segment (or the reassembler) may carry them.
func coalesce(ws []wire) []wire {
	var out []wire
	for _, w := range ws {
		if n := len(out); n > 0 && out[n-1].dir == w.dir {
			out[n-1].data = append(out[n-1].data, w.data...)
			continue
		}
		out = append(out, wire{dir: w.dir, data: bytes.Clone(w.data)})
	}
	return out
}

// recordStarts returns, for a feed of ws cut by split, the frames that
// carry the first byte of a record, per direction, found independently of
// the parser.
func recordStarts(ws []wire, split func(int, []byte) []int) map[uint64]bool {
	starts := map[uint64]bool{}
	var next [2]int // offset of the next record header per direction
	var off [2]int
	frame := uint64(0)
	for i, w := range ws {
		sizes := []int{len(w.data)}
		if split != nil {
			if s := split(i, w.data); s != nil {
				sizes = s
			}
		}
		all := w.data
		pos := 0
		for _, n := range sizes {
			frame++
			d := w.dir
			for next[d] < off[d]+n {
				starts[frame] = true
				// Read the header; it may span chunks, but within one
				// write it is contiguous in all.
				rel := next[d] - off[d] + pos
				if rel+5 > len(all) {
					break
				}
				next[d] += 5 + int(binary.BigEndian.Uint16(all[rel+3:]))
			}
			off[d] += n
			pos += n
		}
	}
	return starts
}

type goCase struct {
	name        string
	client      *tls.Config
	server      *tls.Config
	rsaKey      bool // decrypt with the server's RSA key instead of the key log
	wantVersion string
	wantSuite   string
	wantALPN    string
}

func goCases(t testing.TB) []goCase {
	rsaCert, ecCert, _ := testCerts(t)
	cli := func(min, max uint16, suites ...uint16) *tls.Config {
		return &tls.Config{InsecureSkipVerify: true, ServerName: "example.test", MinVersion: min, MaxVersion: max, CipherSuites: suites}
	}
	srv := func(cert tls.Certificate, min, max uint16, suites ...uint16) *tls.Config {
		return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: min, MaxVersion: max, CipherSuites: suites}
	}
	v10, v11, v12, v13 := uint16(tls.VersionTLS10), uint16(tls.VersionTLS11), uint16(tls.VersionTLS12), uint16(tls.VersionTLS13)
	h2c := cli(v13, v13)
	h2c.NextProtos = []string{"h2", "http/1.1"}
	h2s := srv(rsaCert, v13, v13)
	h2s.NextProtos = []string{"h2", "http/1.1"}
	h1c := cli(v12, v12, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)
	h1c.NextProtos = []string{"h2", "http/1.1"}
	h1s := srv(rsaCert, v12, v12)
	h1s.NextProtos = []string{"http/1.1"}
	// A HelloRetryRequest: the client's first key share (X25519) is not
	// one the server accepts.
	hrrc := cli(v13, v13)
	hrrc.CurvePreferences = []tls.CurveID{tls.X25519, tls.CurveP256}
	hrrs := srv(rsaCert, v13, v13)
	hrrs.CurvePreferences = []tls.CurveID{tls.CurveP256}
	return []goCase{
		{name: "tls13-aes128gcm", client: cli(v13, v13), server: srv(rsaCert, v13, v13), wantVersion: "TLS 1.3", wantSuite: "TLS_AES_128_GCM_SHA256"},
		{name: "tls13-ecdsa-h2", client: h2c, server: func() *tls.Config { c := h2s.Clone(); c.Certificates = []tls.Certificate{ecCert}; return c }(), wantVersion: "TLS 1.3", wantSuite: "TLS_AES_128_GCM_SHA256", wantALPN: "h2"},
		{name: "tls13-hrr", client: hrrc, server: hrrs, wantVersion: "TLS 1.3", wantSuite: "TLS_AES_128_GCM_SHA256"},
		{name: "tls12-ecdhe-rsa-aes128gcm-http11", client: h1c, server: h1s, wantVersion: "TLS 1.2", wantSuite: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", wantALPN: "http/1.1"},
		{name: "tls12-ecdhe-ecdsa-aes256gcm", client: cli(v12, v12, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384), server: srv(ecCert, v12, v12, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384), wantVersion: "TLS 1.2", wantSuite: "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"},
		{name: "tls12-ecdhe-chacha20", client: cli(v12, v12, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256), server: srv(rsaCert, v12, v12, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256), wantVersion: "TLS 1.2", wantSuite: "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
		{name: "tls12-ecdhe-aes128cbc-sha", client: cli(v12, v12, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA), server: srv(rsaCert, v12, v12, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA), wantVersion: "TLS 1.2", wantSuite: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"},
		{name: "tls12-ecdhe-aes256cbc-sha", client: cli(v12, v12, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA), server: srv(ecCert, v12, v12, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA), wantVersion: "TLS 1.2", wantSuite: "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA"},
		{name: "tls12-ecdhe-aes128cbc-sha256", client: cli(v12, v12, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256), server: srv(rsaCert, v12, v12, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256), wantVersion: "TLS 1.2", wantSuite: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256"},
		{name: "tls12-rsa-3des", client: cli(v12, v12, tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA), server: srv(rsaCert, v12, v12, tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA), wantVersion: "TLS 1.2", wantSuite: "TLS_RSA_WITH_3DES_EDE_CBC_SHA"},
		{name: "tls12-ecdhe-rc4", client: cli(v12, v12, tls.TLS_ECDHE_RSA_WITH_RC4_128_SHA), server: srv(rsaCert, v12, v12, tls.TLS_ECDHE_RSA_WITH_RC4_128_SHA), wantVersion: "TLS 1.2", wantSuite: "TLS_ECDHE_RSA_WITH_RC4_128_SHA"},
		{name: "tls11-ecdhe-aes128cbc", client: cli(v11, v11, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA), server: srv(rsaCert, v11, v11, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA), wantVersion: "TLS 1.1", wantSuite: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"},
		{name: "tls10-ecdhe-aes256cbc", client: cli(v10, v10, tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA), server: srv(rsaCert, v10, v10, tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA), wantVersion: "TLS 1.0", wantSuite: "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"},
		{name: "tls12-rsa-kex-aes128gcm", client: cli(v12, v12, tls.TLS_RSA_WITH_AES_128_GCM_SHA256), server: srv(rsaCert, v12, v12, tls.TLS_RSA_WITH_AES_128_GCM_SHA256), rsaKey: true, wantVersion: "TLS 1.2", wantSuite: "TLS_RSA_WITH_AES_128_GCM_SHA256"},
		{name: "tls10-rsa-kex-aes128cbc", client: cli(v10, v10, tls.TLS_RSA_WITH_AES_128_CBC_SHA), server: srv(rsaCert, v10, v10, tls.TLS_RSA_WITH_AES_128_CBC_SHA), rsaKey: true, wantVersion: "TLS 1.0", wantSuite: "TLS_RSA_WITH_AES_128_CBC_SHA"},
	}
}

func checkRun(t *testing.T, col *collector, conn *stream.Conn, s *session) {
	t.Helper()
	for d := range 2 {
		if !bytes.Equal(col.got[d], s.sent[d]) {
			t.Errorf("%s: decrypted %d bytes, want the %d sent (first difference at %d)", stream.Dir(d), len(col.got[d]), len(s.sent[d]), firstDiff(col.got[d], s.sent[d]))
		}
	}
	if len(col.notes) != 0 {
		t.Errorf("notes: %v", col.notes)
	}
	if !conn.Decrypted || conn.Protocol != "tls" {
		t.Errorf("conn: Decrypted %v, Protocol %q", conn.Decrypted, conn.Protocol)
	}
	if col.made != 1 || !col.ended {
		t.Errorf("inner parser made %d times, ended %v", col.made, col.ended)
	}
	for _, c := range col.chunks {
		if c.Skip != 0 {
			t.Errorf("chunk at frame %d has Skip %d", c.Frame, c.Skip)
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestGoSessions(t *testing.T) {
	for _, tc := range goCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			s := record(t, tc.client, tc.server, defaultExchange(), tc.rsaKey)
			keys := NewKeys()
			if tc.rsaKey {
				_, _, pemKey := testCerts(t)
				if err := keys.AddRSAKey(pemKey); err != nil {
					t.Fatal(err)
				}
			} else {
				keys = keysOf(t, s)
			}
			variants := map[string][]wire{"recorded": s.wires, "coalesced": coalesce(s.wires)}
			for vname, ws := range variants {
				for sname, split := range splits {
					t.Run(vname+"/"+sname, func(t *testing.T) {
						col, conn := run(keys, ws, split)
						checkRun(t, col, conn, s)
						if conn.TLSVersion != tc.wantVersion || conn.CipherSuite != tc.wantSuite {
							t.Errorf("version %q suite %q, want %q %q", conn.TLSVersion, conn.CipherSuite, tc.wantVersion, tc.wantSuite)
						}
						if conn.SNI != "example.test" {
							t.Errorf("SNI %q", conn.SNI)
						}
						if conn.ALPN != tc.wantALPN || col.alpn != tc.wantALPN {
							t.Errorf("ALPN %q (when the inner parser was made: %q), want %q", conn.ALPN, col.alpn, tc.wantALPN)
						}
						starts := recordStarts(ws, split)
						for _, c := range col.chunks {
							if !starts[c.Frame] {
								t.Errorf("chunk stamped with frame %d, which carries no record's first byte", c.Frame)
								break
							}
							if want := t0.Add(msDur(c.Frame)); !c.Time.Equal(want) {
								t.Errorf("chunk of frame %d has time %v, want %v", c.Frame, c.Time, want)
								break
							}
							if len(c.Comments) != 1 || c.Comments[0] != fmt.Sprint("frame ", c.Frame) {
								t.Errorf("chunk of frame %d has comments %q", c.Frame, c.Comments)
								break
							}
						}
					})
				}
			}
		})
	}
}

// TestNoKey checks that a session without keys yields no data and one note
// that names the client random.
func TestNoKey(t *testing.T) {
	for _, tc := range goCases(t)[:4] {
		t.Run(tc.name, func(t *testing.T) {
			s := record(t, tc.client, tc.server, defaultExchange(), false)
			col, conn := run(NewKeys(), s.wires, nil)
			if len(col.got[0])+len(col.got[1]) != 0 || col.made != 0 || conn.Decrypted {
				t.Errorf("decrypted something without keys")
			}
			if len(col.notes) != 1 || !strings.Contains(col.notes[0].Reason, "no key for client random") || col.notes[0].Kind != "tls" {
				t.Fatalf("notes %+v", col.notes)
			}
			if col.notes[0].Conn != conn {
				t.Errorf("note's Conn is not the connection")
			}
		})
	}
}

func msDur(frame uint64) time.Duration { return time.Duration(frame) * time.Millisecond }
