package quic

import (
	"bytes"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/pcap/internal/stream"
	"github.com/tracewire/tracewire/pcap/internal/tls"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The test vectors of RFC 9001 appendix A and RFC 9369 appendix A.
func TestInitialSecrets(t *testing.T) {
	dcid := []byte{0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08}
	for _, tc := range []struct {
		version            uint32
		salt               []byte
		client, server     [3]string // key, iv, hp
		clientKU, serverKU string
	}{
		{version: Version1, salt: saltV1,
			client: [3]string{"1f369613dd76d5467730efcbe3b1a22d", "fa044b2f42a3fd3b46fb255c", "9f50449e04a0e810283a1e9933adedd2"},
			server: [3]string{"cf3a5331653c364c88f0f379b6067e37", "0ac1493ca1905853b0bba03e", "c206b8d9b9f0f37644430b490eeaa314"}},
		{version: Version2, salt: saltV2,
			client: [3]string{"8b1a0bc121284290a29e0971b5cd045d", "91f73e2351d8fa91660e909f", "45b95e15235d6f45a6b19cbcb0294ba9"},
			server: [3]string{"82db637861d55e1d011f19ea71d5d2a7", "dd13c276499c0249d3310652", "edf6d05c83121201b436e16877593c3a"}},
	} {
		initial, err := hkdf.Extract(sha256.New, dcid, tc.salt)
		if err != nil {
			t.Fatal(err)
		}
		lab := labelsOf(tc.version)
		for i, side := range []struct {
			label string
			want  [3]string
		}{{"client in", tc.client}, {"server in", tc.server}} {
			secret := expandLabel(sha256.New, initial, side.label, 32)
			got := [3]string{
				hex.EncodeToString(expandLabel(sha256.New, secret, lab.key, 16)),
				hex.EncodeToString(expandLabel(sha256.New, secret, lab.iv, 12)),
				hex.EncodeToString(expandLabel(sha256.New, secret, lab.hp, 16)),
			}
			if got != side.want {
				t.Errorf("version %#x side %d: key/iv/hp %v, want %v", tc.version, i, got, side.want)
			}
		}
		c, s := initialKeys(tc.version, dcid)
		if c == nil || s == nil {
			t.Fatalf("version %#x: no initial keys", tc.version)
		}
	}
}

// RFC 9001 appendix A.2 (AES header protection) and A.5 (ChaCha20, key
// update).
func TestHeaderProtectionAndKeyUpdate(t *testing.T) {
	_, s := initialKeys(Version1, unhex(t, "8394c8f03e515708"))
	c, _ := initialKeys(Version1, unhex(t, "8394c8f03e515708"))
	if m := c.hp.mask(unhex(t, "d1b1c98dd7689fb8ec11d242b123dc9b")); hex.EncodeToString(m[:]) != "437b9aec36" {
		t.Errorf("client AES mask %x", m)
	}
	if m := s.hp.mask(unhex(t, "2cd0991cd25b0aac406a5816b6394100")); hex.EncodeToString(m[:]) != "2ec0d8356a" {
		t.Errorf("server AES mask %x", m)
	}
	secret := unhex(t, "9ac312a7f877468ebe69422748ad00a15443f18203a07d6060f688f30f21632b")
	k, err := newKeys(suiteChaCha, secret, labelsOf(Version1))
	if err != nil {
		t.Fatal(err)
	}
	if m := k.hp.mask(unhex(t, "5e5cd55c41f69080575d7999c25a5bfb")); hex.EncodeToString(m[:]) != "aefefe7d03" {
		t.Errorf("ChaCha20 mask %x", m)
	}
	if got := hex.EncodeToString(k.next().secret); got != "1223504755036d556342ee9361d253421a826c9ecdf3c7148684b36b714881f9" {
		t.Errorf("next secret %s", got)
	}
	// The RFC's protected ChaCha20 short-header packet decrypts to PING.
	pkt := unhex(t, "4cfe4189655e5cd55c41f69080575d7999c25a5bfb")
	h, err := parseHeader(pkt, 0)
	if err != nil {
		t.Fatal(err)
	}
	tpn, pnLen, _, err := unprotect(k, &h, pkt)
	if err != nil {
		t.Fatal(err)
	}
	pn := decodePN(654360563, tpn, pnLen)
	if pn != 654360564 {
		t.Errorf("packet number %d", pn)
	}
	plain, err := k.open(nil, pn, pkt[:1+pnLen], pkt[1+pnLen:])
	if err != nil || !bytes.Equal(plain, []byte{0x01}) {
		t.Errorf("payload %x, %v", plain, err)
	}
}

func TestVarintAndPN(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint64
	}{{"c2197c5eff14e88c", 151288809941952652}, {"9d7f3e7d", 494878333}, {"7bbd", 15293}, {"25", 37}, {"4025", 37}} {
		v, n := Varint(unhex(t, tc.in))
		if v != tc.want || n != len(tc.in)/2 {
			t.Errorf("%s: %d (%d bytes)", tc.in, v, n)
		}
		if tc.in != "4025" && hex.EncodeToString(AppendVarint(nil, v)) != tc.in {
			t.Errorf("%d encodes as %x", v, AppendVarint(nil, v))
		}
	}
	if _, n := Varint([]byte{0x40}); n != 0 {
		t.Error("short varint read")
	}
	if pn := decodePN(0xa82f30ea, 0x9b32, 2); pn != 0xa82f9b32 {
		t.Errorf("pn %#x", pn)
	}
	if pn := decodePN(-1, 0, 1); pn != 0 {
		t.Errorf("first pn %d", pn)
	}
}

// sealPacket builds a protected long-header packet (for tests and fuzz
// seeds): the reverse of what the parser does, with the same keys.
func sealPacket(k *keys, typ byte, initial bool, version uint32, dcid, scid []byte, pn uint32, payload []byte) []byte {
	// A 4-byte packet number; the payload padded so a sample exists.
	for len(payload) < 20 {
		payload = append(payload, 0)
	}
	b := []byte{0xc0 | typ<<4 | 3}
	b = binary.BigEndian.AppendUint32(b, version)
	b = append(b, byte(len(dcid)))
	b = append(b, dcid...)
	b = append(b, byte(len(scid)))
	b = append(b, scid...)
	if initial {
		b = append(b, 0) // no token
	}
	b = AppendVarint(b, uint64(4+len(payload)+16))
	pnOff := len(b)
	b = binary.BigEndian.AppendUint32(b, pn)
	var nonce [12]byte
	copy(nonce[:], k.iv)
	for i := range 8 {
		nonce[11-i] ^= byte(uint64(pn) >> (8 * i))
	}
	b = k.aead.Seal(b, nonce[:], payload, b)
	m := k.hp.mask(b[pnOff+4 : pnOff+20])
	b[0] ^= m[0] & 0x0f
	for i := range 4 {
		b[pnOff+i] ^= m[1+i]
	}
	return b
}

// clientHello is a minimal ClientHello handshake message with SNI and
// ALPN.
func clientHello(random []byte, sni string, alpn ...string) []byte {
	var ext []byte
	name := append([]byte{0}, byte(len(sni)>>8), byte(len(sni)))
	name = append(name, sni...)
	ext = append(ext, 0, 0, byte((len(name)+2)>>8), byte(len(name)+2), byte(len(name)>>8), byte(len(name)))
	ext = append(ext, name...)
	var list []byte
	for _, a := range alpn {
		list = append(append(list, byte(len(a))), a...)
	}
	ext = append(ext, 0, 16, byte((len(list)+2)>>8), byte(len(list)+2), byte(len(list)>>8), byte(len(list)))
	ext = append(ext, list...)
	body := []byte{3, 3}
	body = append(body, random...)
	body = append(body, 0)                // session ID
	body = append(body, 0, 2, 0x13, 0x01) // cipher suites
	body = append(body, 1, 0)             // compression
	body = append(body, byte(len(ext)>>8), byte(len(ext)))
	body = append(body, ext...)
	return append([]byte{1, 0, byte(len(body) >> 8), byte(len(body))}, body...)
}

// cryptoFrame wraps data at off in a CRYPTO frame.
func cryptoFrame(off uint64, data []byte) []byte {
	b := AppendVarint([]byte{0x06}, off)
	b = AppendVarint(b, uint64(len(data)))
	return append(b, data...)
}

type sink struct {
	entries []*har.Entry
	notes   []stream.Note
}

func (s *sink) Entry(_ *stream.Conn, e *har.Entry) { s.entries = append(s.entries, e) }
func (s *sink) Note(n stream.Note)                 { s.notes = append(s.notes, n) }

// The server name is read from the client's Initial packets without any
// key, with the ClientHello split over two packets that arrive in the
// wrong order, one of them twice, in v1 and v2.
func TestInitialSNI(t *testing.T) {
	for _, version := range []uint32{Version1, Version2, 0xff00001d} {
		t.Run(fmt.Sprintf("%#x", version), func(t *testing.T) {
			dcid := []byte{1, 2, 3, 4, 5, 6, 7, 8}
			ck, _ := initialKeys(version, dcid)
			ch := clientHello(bytes.Repeat([]byte{7}, 32), "tracker.example", "h3")
			typ := byte(0)
			if version == Version2 {
				typ = 1
			}
			p1 := sealPacket(ck, typ, true, version, dcid, []byte{9}, 0, cryptoFrame(0, ch[:30]))
			p2 := sealPacket(ck, typ, true, version, dcid, []byte{9}, 1, cryptoFrame(30, ch[30:]))
			c := &stream.Conn{}
			s := &sink{}
			f := NewFlow(c, s, Config{Keys: tls.NewKeys()})
			at := time.Unix(1700000000, 0)
			for _, p := range [][]byte{p2, p1, p2} {
				f.Datagram(stream.ClientToServer, p, Meta{Time: at})
			}
			f.End(at)
			if c.SNI != "tracker.example" || c.Protocol != "quic" || c.Decrypted {
				t.Errorf("conn %+v", c)
			}
			if len(s.notes) != 1 || s.notes[0].Kind != "tls" || !strings.Contains(s.notes[0].Reason, "no TLS 1.3 traffic secrets for client random 0707") {
				t.Errorf("notes %+v", s.notes)
			}
		})
	}
}

// sealShort builds a protected 1-RTT packet.
func sealShort(k *keys, dcid []byte, pn uint32, phase bool, payload []byte) []byte {
	for len(payload) < 20 {
		payload = append(payload, 0)
	}
	b := []byte{0x40 | 3}
	if phase {
		b[0] |= 0x04
	}
	b = append(b, dcid...)
	pnOff := len(b)
	b = binary.BigEndian.AppendUint32(b, pn)
	var nonce [12]byte
	copy(nonce[:], k.iv)
	for i := range 8 {
		nonce[11-i] ^= byte(uint64(pn) >> (8 * i))
	}
	b = k.aead.Seal(b, nonce[:], payload, b)
	m := k.hp.mask(b[pnOff+4 : pnOff+20])
	b[0] ^= m[0] & 0x1f
	for i := range 4 {
		b[pnOff+i] ^= m[1+i]
	}
	return b
}

func streamFrame(id, off uint64, data string, fin bool) []byte {
	b := []byte{0x0e}
	if fin {
		b[0] |= 1
	}
	b = AppendVarint(b, id)
	b = AppendVarint(b, off)
	b = AppendVarint(b, uint64(len(data)))
	return append(b, data...)
}

// 1-RTT packets are decrypted with the key log's traffic secret (the
// suite found by trial, the ServerHello being absent), across a key
// update, with a packet of the old phase arriving after the new phase
// began, one arriving before its keys (between the two Initial packets
// of the ClientHello), and one that belongs to no key counted as
// undecryptable.
func TestKeyUpdate(t *testing.T) {
	random := bytes.Repeat([]byte{7}, 32)
	secret := unhex(t, "9ac312a7f877468ebe69422748ad00a15443f18203a07d6060f688f30f21632b")
	kl := fmt.Sprintf("CLIENT_TRAFFIC_SECRET_0 %x %x\n", random, secret)
	keys := tls.NewKeys()
	keys.AddKeyLog([]byte(kl))
	dcid := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	ck, _ := initialKeys(Version1, dcid)
	k0, err := newKeys(suiteAES128, secret, labelsOf(Version1))
	if err != nil {
		t.Fatal(err)
	}
	k1 := k0.next()
	wrong, _ := newKeys(suiteAES128, bytes.Repeat([]byte{1}, 32), labelsOf(Version1))
	ch := clientHello(random, "ku.example", "h3")
	pkts := [][]byte{
		sealPacket(ck, 0, true, Version1, dcid, []byte{9}, 0, cryptoFrame(0, ch[:40])),
		sealShort(k0, dcid, 0, false, streamFrame(0, 0, "early ", false)), // before the rest of the ClientHello
		sealPacket(ck, 0, true, Version1, dcid, []byte{9}, 1, cryptoFrame(40, ch[40:])),
		sealShort(k0, dcid, 1, false, streamFrame(0, 6, "phase0 ", false)),
		sealShort(k1, dcid, 3, true, streamFrame(0, 19, "phase1 ", false)),
		sealShort(k0, dcid, 2, false, streamFrame(0, 13, "late0 ", false)),
		sealShort(k1, dcid, 4, true, streamFrame(0, 26, "end", true)),
		sealShort(wrong, dcid, 5, false, streamFrame(0, 29, "never", false)),
	}
	a := &recordApp{data: map[uint64][]byte{}, fin: map[uint64]bool{}}
	var alpn string
	c := &stream.Conn{}
	s := &sink{}
	f := NewFlow(c, s, Config{Keys: keys, NewApp: func(_ *stream.Conn, _ stream.Sink, p string) App { alpn = p; return a }})
	at := time.Unix(1700000000, 0)
	for _, p := range pkts {
		f.Datagram(stream.ClientToServer, p, Meta{Time: at})
	}
	f.End(at)
	if got := string(a.data[0]); got != "early phase0 late0 phase1 end" || !a.fin[0] {
		t.Errorf("stream 0: %q, fin %v", got, a.fin[0])
	}
	if alpn != "h3" || !c.Decrypted || c.CipherSuite != "TLS_AES_128_GCM_SHA256" || c.SNI != "ku.example" {
		t.Errorf("alpn %q, conn %+v", alpn, c)
	}
	if len(s.notes) != 1 || s.notes[0].Kind != "quic" || !strings.Contains(s.notes[0].Reason, "1 of 8 packets could not be decrypted: 1 1-RTT") {
		t.Errorf("notes %+v", s.notes)
	}
}

// Version negotiation: the client's v1 Initial is refused with a Version
// Negotiation packet and it starts again in v2 to the same connection ID;
// the v2 Initial is read with v2 keys, as one connection, and its new
// ClientHello's random is the one looked up.
func TestVersionNegotiation(t *testing.T) {
	dcid := []byte{8, 7, 6, 5, 4, 3, 2, 1}
	k1, _ := initialKeys(Version1, dcid)
	k2, _ := initialKeys(Version2, dcid)
	// Version 0, DCID the client's SCID (9), SCID the client's DCID, and
	// the versions the server speaks.
	vn := []byte{0x80, 0, 0, 0, 0, 1, 9, 8}
	vn = append(vn, dcid...)
	vn = binary.BigEndian.AppendUint32(vn, Version2)
	pkts := [][]byte{
		sealPacket(k1, 0, true, Version1, dcid, []byte{9}, 0, cryptoFrame(0, clientHello(bytes.Repeat([]byte{1}, 32), "v1.example", "h3"))),
		vn,
		sealPacket(k2, 1, true, Version2, dcid, []byte{9}, 1, cryptoFrame(0, clientHello(bytes.Repeat([]byte{2}, 32), "v2.example", "h3"))),
	}
	c := &stream.Conn{}
	s := &sink{}
	f := NewFlow(c, s, Config{Keys: tls.NewKeys()})
	at := time.Unix(1700000000, 0)
	dirs := []stream.Dir{stream.ClientToServer, stream.ServerToClient, stream.ClientToServer}
	for i, p := range pkts {
		f.Datagram(dirs[i], p, Meta{Time: at})
	}
	f.End(at)
	if len(f.conns) != 1 || f.vn != 1 || f.conns[0].version != Version2 || c.SNI != "v1.example" {
		t.Errorf("%d conns, %d VN, SNI %q", len(f.conns), f.vn, c.SNI)
	}
	if len(s.notes) != 1 || !strings.Contains(s.notes[0].Reason, "no TLS 1.3 traffic secrets for client random 0202") {
		t.Errorf("notes %+v", s.notes)
	}
}

// The streams that ended are remembered, individually and then by a floor
// per kind, in bounded memory.
func TestClosedSet(t *testing.T) {
	var s closedSet
	const n = 3 * maxClosed
	for i := uint64(0); i < n; i++ {
		s.add(streamKey{id: 4 * i, from: stream.ClientToServer})
	}
	if len(s.ids) > maxClosed {
		t.Errorf("%d IDs kept", len(s.ids))
	}
	for i := uint64(0); i < n; i++ {
		if !s.has(streamKey{id: 4 * i, from: stream.ClientToServer}) {
			t.Fatalf("stream %d forgotten", 4*i)
		}
	}
	for _, k := range []streamKey{{id: 4 * n, from: stream.ClientToServer}, {id: 4, from: stream.ServerToClient}, {id: 2}} {
		if s.has(k) {
			t.Errorf("%+v counted as ended", k)
		}
	}
}
