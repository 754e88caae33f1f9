package tls

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"strings"
	"testing"
)

func TestAddKeyLog(t *testing.T) {
	cr := strings.Repeat("ab", 32)
	cr2 := strings.Repeat("CD", 32) // upper case works too
	ms := strings.Repeat("11", 48)
	sec := strings.Repeat("22", 32)
	sec48 := strings.Repeat("33", 48)
	tests := []struct {
		name             string
		log              string
		added, skipped   int
		master, clientHS string // expected for cr ("" none)
	}{
		{name: "client random", log: "CLIENT_RANDOM " + cr + " " + ms + "\n", added: 1, master: ms},
		{name: "crlf, comments, blank lines, spaces", log: "# comment\r\n\r\n  CLIENT_RANDOM  " + cr + "\t" + ms + "  \r\n", added: 1, master: ms},
		{name: "byte order mark", log: "\xef\xbb\xbfCLIENT_RANDOM " + cr + " " + ms + "\n", added: 1, master: ms},
		{name: "no final newline", log: "CLIENT_RANDOM " + cr + " " + ms, added: 1, master: ms},
		{name: "tls13", log: "CLIENT_HANDSHAKE_TRAFFIC_SECRET " + cr + " " + sec + "\nSERVER_HANDSHAKE_TRAFFIC_SECRET " + cr + " " + sec48 + "\nCLIENT_TRAFFIC_SECRET_0 " + cr + " " + sec + "\nSERVER_TRAFFIC_SECRET_0 " + cr + " " + sec + "\nCLIENT_EARLY_TRAFFIC_SECRET " + cr + " " + sec + "\n", added: 5, clientHS: sec},
		{name: "ignored labels count as neither", log: "EXPORTER_SECRET " + cr + " " + sec + "\nCLIENT_TRAFFIC_SECRET_1 " + cr + " " + sec + "\nECH_SECRET " + cr + " " + sec + "\n", added: 0, skipped: 0},
		{name: "unknown label", log: "FOO " + cr + " " + ms + "\n", skipped: 1},
		{name: "bad hex", log: "CLIENT_RANDOM " + cr + " zz" + ms[2:] + "\n", skipped: 1},
		{name: "short random", log: "CLIENT_RANDOM " + cr[2:] + " " + ms + "\n", skipped: 1},
		{name: "short master", log: "CLIENT_RANDOM " + cr + " " + ms[2:] + "\n", skipped: 1},
		{name: "too few fields", log: "CLIENT_RANDOM " + cr + "\n", skipped: 1},
		{name: "too many fields", log: "CLIENT_RANDOM " + cr + " " + ms + " x\n", skipped: 1},
		{name: "tls13 secret too short", log: "CLIENT_HANDSHAKE_TRAFFIC_SECRET " + cr + " 1122\n", skipped: 1},
		{name: "first wins", log: "CLIENT_RANDOM " + cr + " " + ms + "\nCLIENT_RANDOM " + cr + " " + strings.Repeat("99", 48) + "\n", added: 2, master: ms},
		{name: "pms and rsa lines", log: "PMS_CLIENT_RANDOM " + cr2 + " " + ms + "\nRSA 0102030405060708 " + ms + "\nRSA Session-ID:" + sec + " Master-Key:" + ms + "\n", added: 3},
		{name: "bad rsa lines", log: "RSA 01020304 " + ms + "\nRSA Session-ID:zz Master-Key:" + ms + "\n", skipped: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := NewKeys()
			added, skipped := k.AddKeyLog([]byte(tc.log))
			if added != tc.added || skipped != tc.skipped {
				t.Errorf("added %d skipped %d, want %d %d", added, skipped, tc.added, tc.skipped)
			}
			crb, _ := hex.DecodeString(cr)
			s := k.lookup(crb)
			if tc.master != "" || tc.clientHS != "" {
				if s == nil {
					t.Fatal("no secrets for the client random")
				}
				if got := hex.EncodeToString(s.master); tc.master != "" && got != tc.master {
					t.Errorf("master %s", got)
				}
				if got := hex.EncodeToString(s.clientHS); tc.clientHS != "" && got != tc.clientHS {
					t.Errorf("client handshake secret %s", got)
				}
			}
		})
	}

	// The special lines land where the parser looks.
	k := NewKeys()
	k.AddKeyLog([]byte("PMS_CLIENT_RANDOM " + cr2 + " " + ms + "\nRSA 0102030405060708 " + ms + "\nRSA Session-ID:" + sec + " Master-Key:" + ms + "\n"))
	crb2, _ := hex.DecodeString(cr2)
	msb, _ := hex.DecodeString(ms)
	secb, _ := hex.DecodeString(sec)
	if s := k.lookup(crb2); s == nil || !bytes.Equal(s.pms, msb) {
		t.Errorf("PMS_CLIENT_RANDOM not found by its random")
	}
	if pms := k.lookupRSAPMS([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 9}); !bytes.Equal(pms, msb) {
		t.Errorf("RSA line not found by the encrypted pre-master's first bytes")
	}
	if m := k.session("id:", secb); !bytes.Equal(m, msb) {
		t.Errorf("RSA Session-ID line not found by session ID")
	}
	if r, rsa, sess := k.Len(); r != 1 || rsa != 0 || sess != 1 {
		t.Errorf("Len %d %d %d", r, rsa, sess)
	}

	// Several sources merge.
	k = NewKeys()
	k.AddKeyLog([]byte("CLIENT_RANDOM " + cr + " " + ms + "\n"))
	k.AddKeyLog([]byte("CLIENT_HANDSHAKE_TRAFFIC_SECRET " + cr2 + " " + sec + "\n"))
	crb, _ := hex.DecodeString(cr)
	if k.lookup(crb) == nil || k.lookup(crb2) == nil {
		t.Errorf("secrets of two sources not merged")
	}
	if k.lookup(crb[:31]) != nil || (*Keys)(nil).lookup(crb) != nil {
		t.Errorf("lookup of a short random or in a nil store found something")
	}
}

func TestAddRSAKey(t *testing.T) {
	_, _, pkcs1 := testCerts(t)
	blk, _ := pem.Decode(pkcs1)
	key, err := x509.ParsePKCS1PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	p8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8 := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8})
	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	e8, _ := x509.MarshalPKCS8PrivateKey(ek)
	ec8 := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: e8})
	cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1, 2, 3}})
	tests := []struct {
		name    string
		data    []byte
		keys    int
		wantErr bool
	}{
		{"pkcs1", pkcs1, 1, false},
		{"pkcs8", pkcs8, 1, false},
		{"certificate and key in one file", append(append([]byte{}, cert...), pkcs1...), 1, false},
		{"two keys", append(append([]byte{}, pkcs1...), pkcs8...), 2, false},
		{"ec key", ec8, 0, true},
		{"broken pkcs1", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: []byte{0x30, 1, 2}}), 0, true},
		{"no pem", []byte("hello"), 0, true},
		{"only a certificate", cert, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := NewKeys()
			err := k.AddRSAKey(tc.data)
			if (err != nil) != tc.wantErr {
				t.Errorf("error %v, want error %v", err, tc.wantErr)
			}
			if _, n, _ := k.Len(); n != tc.keys {
				t.Errorf("%d keys, want %d", n, tc.keys)
			}
		})
	}
}

func TestLooksLikeClientHello(t *testing.T) {
	ch := []byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03}
	v2 := []byte{0x80, 0x67, 0x01, 0x03, 0x00, 0x00, 0x4e}
	tests := []struct {
		name string
		b    []byte
		want bool
	}{
		{"client hello", ch, true},
		{"short prefixes", ch[:1], true},
		{"three bytes", ch[:3], true},
		{"header only", ch[:5], true},
		{"tls 1.0 record", append([]byte{0x16, 0x03, 0x01, 0x00, 0xa0, 0x01, 0x00, 0x00, 0x9c}, make([]byte, 10)...), true},
		{"sslv2 hello", v2, true},
		{"sslv2 hello offering sslv2 only", []byte{0x80, 0x67, 0x01, 0x00, 0x02}, false},
		{"empty", nil, false},
		{"server hello", []byte{0x16, 0x03, 0x03, 0x00, 0x5a, 0x02, 0x00, 0x00, 0x56}, false},
		{"application data", []byte{0x17, 0x03, 0x03, 0x00, 0x20}, false},
		{"version 2.0", []byte{0x16, 0x02, 0x00}, false},
		{"version 3.5", []byte{0x16, 0x03, 0x05}, false},
		{"record too long", []byte{0x16, 0x03, 0x01, 0xff, 0xff, 0x01}, false},
		{"record too short", []byte{0x16, 0x03, 0x01, 0x00, 0x02, 0x01}, false},
		{"hello too short", []byte{0x16, 0x03, 0x01, 0x00, 0x40, 0x01, 0x00, 0x00, 0x05}, false},
		{"http get", []byte("GET / HTTP/1.1\r\n"), false},
		{"http post", []byte("POST /x HTTP/1.1\r\n"), false},
		{"h2 preface", []byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), false},
		{"http response", []byte("HTTP/1.1 200 OK\r\n"), false},
	}
	for _, tc := range tests {
		if got := LooksLikeClientHello(tc.b); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
