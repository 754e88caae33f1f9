package collect

import (
	"encoding/binary"
	"testing"
)

// The ring buffer records come from our BPF programs, but a reader that a
// corrupt or mismatched record can crash would lose the whole run: the
// decoders must return an error, never panic or read out of bounds.

func FuzzDecodeEvent(f *testing.F) {
	ok := make([]byte, offStack+2*frameSize)
	le := binary.LittleEndian
	le.PutUint16(ok[offFamily:], afInet)
	le.PutUint32(ok[offStackBytes:], uint32(2*frameSize))
	f.Add(ok)
	big := append([]byte(nil), ok...)
	le.PutUint32(big[offStackBytes:], 1<<31-1)
	f.Add(big)
	f.Add(ok[:offStack-1])
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := decodeEvent(b)
		if err == nil && len(e.stack)*frameSize > len(b)-offStack {
			t.Fatalf("%d frames from %d bytes", len(e.stack), len(b))
		}
	})
}

func FuzzDecodeTLS(f *testing.F) {
	f.Add(tlsRaw(1, 2, 0, 4, 0, "POST", true, "127.0.0.1:1", "127.0.0.1:443"))
	f.Add(make([]byte, tlsOffData-1))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := decodeTLS(b)
		if err == nil && len(c.data) > len(b)-tlsOffData {
			t.Fatalf("%d data bytes from a record of %d", len(c.data), len(b))
		}
	})
}
