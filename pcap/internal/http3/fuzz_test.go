package http3

import (
	"bytes"
	"testing"
	"time"

	"github.com/tracewire/tracewire/pcap/internal/quic"
	"github.com/tracewire/tracewire/pcap/internal/stream"
)

type frameRec struct {
	data   []byte
	frames [][]byte
	err    bool
}

func readFrames(in []byte, chunk int) frameRec {
	var r FrameReader
	var out frameRec
	for len(in) > 0 && !out.err {
		n := min(chunk, len(in))
		err := r.Feed(in[:n], func(b []byte) { out.data = append(out.data, b...) }, func(typ uint64, p []byte) {
			out.frames = append(out.frames, append(quic.AppendVarint(nil, typ), p...))
		})
		out.err = err != nil
		in = in[n:]
	}
	return out
}

// FuzzFrameReader reads HTTP/3 frames whole and in small chunks: the DATA
// bytes and the kept frames must be the same.
func FuzzFrameReader(f *testing.F) {
	f.Add(append(frame(frameHeaders, []byte{0, 0, 0xd1}), frame(frameData, []byte("hello"))...), uint8(1))
	f.Add(append(frame(0x21, []byte("grease")), frame(frameSettings, []byte{1, 0x40, 0x64})...), uint8(3))
	f.Fuzz(func(t *testing.T, in []byte, chunk uint8) {
		whole := readFrames(in, len(in)+1)
		parts := readFrames(in, int(chunk%13)+1)
		if whole.err != parts.err || !bytes.Equal(whole.data, parts.data) || len(whole.frames) != len(parts.frames) {
			t.Fatalf("whole %+v, in parts %+v", whole, parts)
		}
		for i := range whole.frames {
			if !bytes.Equal(whole.frames[i], parts.frames[i]) {
				t.Fatalf("frame %d differs", i)
			}
		}
	})
}

// FuzzQPACK applies an encoder stream and decodes a field section with
// the table; then the whole HTTP/3 parser reads both as streams. Nothing
// may panic.
func FuzzQPACK(f *testing.F) {
	f.Add([]byte{0x3f, 0xbd, 0x01, 0xc0, 0x03, 'a', 'b', 'c'}, []byte{0x02, 0x00, 0x80})
	f.Add([]byte{0x4a, 'c', 'u', 's', 't', 'o', 'm', '-', 'k', 'e', 'y', 0x01, 'v', 0x00}, []byte{0x03, 0x81, 0x10, 0x11})
	f.Add([]byte{}, []byte{0x00, 0x00, 0xd1, 0x5f, 0x1d, 0x03, 'a', 'b', 'c'})
	f.Fuzz(func(t *testing.T, enc, sec []byte) {
		var tb table
		tb.encoderStream(enc)
		tb.decodeSection(sec)

		s := &sink{}
		p := New(&stream.Conn{}, s, Config{})
		m := quic.Meta{Time: time.Unix(1700000000, 0)}
		p.Data(0, stream.ClientToServer, frame(frameHeaders, sec), 0, m)
		p.Data(2, stream.ClientToServer, append([]byte{uniEncoder}, enc...), 0, m)
		p.Data(0, stream.ServerToClient, sec, 0, m)
		p.Fin(0, stream.ClientToServer, m)
		p.End(m.Time)
	})
}
