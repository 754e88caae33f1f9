package quic

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"github.com/tracewire/tracewire/pcap/internal/stream"
	"github.com/tracewire/tracewire/pcap/internal/tls"
)

// Fuzz input of FuzzDatagrams: datagrams as 1 direction byte and a 2-byte
// length, then the bytes (cut short at the end).
func encodeDatagrams(ds ...[]byte) []byte {
	var out []byte
	for i, d := range ds {
		out = append(out, byte(i&1))
		out = binary.BigEndian.AppendUint16(out, uint16(len(d)))
		out = append(out, d...)
	}
	return out
}

// FuzzDatagrams feeds arbitrary datagrams to a flow whose keys are known
// (the seeds' Initial keys derive from their DCIDs): header parsing, header
// protection, coalesced packets and the CRYPTO reassembly must never
// panic.
func FuzzDatagrams(f *testing.F) {
	dcid := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	ck, sk := initialKeys(Version1, dcid)
	ch := clientHello(bytes.Repeat([]byte{7}, 32), "fuzz.example", "h3")
	p1 := sealPacket(ck, 0, true, Version1, dcid, []byte{9}, 0, cryptoFrame(0, ch[:40]))
	p2 := sealPacket(ck, 0, true, Version1, dcid, []byte{9}, 1, cryptoFrame(40, ch[40:]))
	s1 := sealPacket(sk, 0, true, Version1, []byte{9}, []byte{5, 5, 5, 5}, 0, append([]byte{0x02, 0, 0, 0, 0}, cryptoFrame(0, []byte{2, 0, 0, 4, 3, 3, 0, 0})...))
	f.Add(encodeDatagrams(p1, s1, p2))
	f.Add(encodeDatagrams(append(append([]byte{}, p1...), p2...)))
	f.Add(encodeDatagrams([]byte{0x40, 9, 1, 2, 3}, []byte{0x80, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 1}))
	keys := tls.NewKeys()
	keys.AddKeyLog([]byte("CLIENT_TRAFFIC_SECRET_0 0707070707070707070707070707070707070707070707070707070707070707 9ac312a7f877468ebe69422748ad00a15443f18203a07d6060f688f30f21632b\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		s := &sink{}
		fl := NewFlow(&stream.Conn{}, s, Config{Keys: keys, NewApp: func(*stream.Conn, stream.Sink, string) App { return dropApp{} }})
		at := time.Unix(1700000000, 0)
		for len(in) >= 3 {
			dir := stream.Dir(in[0] & 1)
			n := min(int(binary.BigEndian.Uint16(in[1:])), len(in)-3)
			fl.Datagram(dir, in[3:3+n], Meta{Time: at})
			in = in[3+n:]
		}
		fl.End(at)
	})
}

// recordApp collects stream bytes.
type recordApp struct {
	data map[uint64][]byte
	fin  map[uint64]bool
}

func (a *recordApp) Data(id uint64, _ stream.Dir, b []byte, skip uint64, _ Meta) {
	a.data[id] = append(a.data[id], b...)
}
func (a *recordApp) Fin(id uint64, _ stream.Dir, _ Meta)    { a.fin[id] = true }
func (a *recordApp) Reset(uint64, stream.Dir, uint64, Meta) {}
func (a *recordApp) End(time.Time)                          {}

// FuzzFrames parses decrypted packet payloads (RFC 9000 section 19 frames)
// and checks that STREAM data given in any order and repeated comes out
// once and in order.
func FuzzFrames(f *testing.F) {
	f.Add([]byte{0x01, 0x00, 0x00, 0x02, 0x05, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x03, 'a', 'b', 'c'}, uint8(3))
	f.Add([]byte{0x0e, 0x04, 0x02, 0x02, 'c', 'd', 0x18, 0x01, 0x00, 0x04, 1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x1c, 0x00, 0x00, 0x00}, uint8(1))
	f.Fuzz(func(t *testing.T, payload []byte, cut uint8) {
		a := &recordApp{data: map[uint64][]byte{}, fin: map[uint64]bool{}}
		fl := NewFlow(&stream.Conn{}, &sink{}, Config{})
		c := &conn{f: fl, streams: map[streamKey]*reasm{}, app: a}
		c.frames(stream.ClientToServer, levelApp, payload, Meta{})
		// On a fresh connection, a stream sent in pieces, back to front and twice.
		a = &recordApp{data: map[uint64][]byte{}, fin: map[uint64]bool{}}
		c = &conn{f: fl, streams: map[streamKey]*reasm{}, app: a}
		msg := bytes.Repeat([]byte("0123456789"), 10)
		step := int(cut%17) + 1
		for pass := 0; pass < 2; pass++ {
			for off := (len(msg) - 1) / step * step; off >= 0; off -= step {
				end := min(off+step, len(msg))
				fr := AppendVarint([]byte{0x0e}, 100)
				fr = AppendVarint(fr, uint64(off))
				fr = AppendVarint(fr, uint64(end-off))
				fr = append(fr, msg[off:end]...)
				if end == len(msg) {
					fr[0] |= 1
				}
				c.frames(stream.ClientToServer, levelApp, fr, Meta{})
			}
		}
		if !bytes.Equal(a.data[100], msg) || !a.fin[100] {
			t.Fatalf("stream 100: %q fin %v", a.data[100], a.fin[100])
		}
	})
}
