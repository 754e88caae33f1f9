package tls

import (
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tracewire/tracewire/pcap/internal/stream"
)

// Fuzz input: a 2-byte length and a key log, then chunks of 1 flag byte
// (bit 0 direction, bit 1 "bytes lost before", bit 2 "how many unknown"),
// a 2-byte length and the data (cut short at the end of the input).
func encodeFuzz(keylog []byte, ws []wire, cut int) []byte {
	out := binary.BigEndian.AppendUint16(nil, uint16(len(keylog)))
	out = append(out, keylog...)
	for _, w := range ws {
		for b := w.data; len(b) > 0; {
			n := min(len(b), cut)
			out = append(out, byte(w.dir))
			out = binary.BigEndian.AppendUint16(out, uint16(n))
			out = append(out, b[:n]...)
			b = b[n:]
		}
	}
	return out
}

var updateFuzzSeeds = flag.Bool("update-fuzz-seeds", false, "rewrite testdata/fuzz/FuzzRecords from freshly recorded sessions")

// TestWriteFuzzSeeds records small sessions of several kinds and writes
// them, with their key logs, as FuzzRecords' seed corpus. The seeds are
// files because recording them inside FuzzRecords would run the handshakes
// (and RSA key generation) in every instrumented fuzz worker.
func TestWriteFuzzSeeds(t *testing.T) {
	if !*updateFuzzSeeds {
		t.Skip("run with -update-fuzz-seeds to rewrite the seed corpus")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzRecords")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cases := goCases(t)
	for _, i := range []int{0, 2, 3, 5, 6, 10, 12} {
		c := cases[i]
		s := record(t, c.client, c.server, exchange{
			requests:  [][]byte{[]byte("GET / HTTP/1.1\r\n\r\n")},
			responses: [][]byte{[]byte("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")},
		}, false)
		for j, in := range [][]byte{encodeFuzz(s.keylog, coalesce(s.wires), 1<<16-1), encodeFuzz(s.keylog, s.wires, 700)} {
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", in)
			name := filepath.Join(dir, fmt.Sprintf("%s-%d", c.name, j))
			if err := os.WriteFile(name, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// FuzzRecords feeds arbitrary chunks of both directions, with gaps, to a
// parser that has the key log at the start of the input: it must never
// panic and must keep within its memory limits. The seeds in
// testdata/fuzz/FuzzRecords are real sessions; they are large, so run with
// a short -fuzzminimizetime (e.g. go test -fuzz FuzzRecords -fuzztime 60s
// -fuzzminimizetime 3s), or minimising a new input takes the whole run.
func FuzzRecords(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 5, 0x16, 0x03, 0x01, 0x00, 0x00})
	f.Fuzz(func(t *testing.T, in []byte) {
		if err := runFuzzInput(in); err != nil {
			t.Fatal(err)
		}
	})
}

// runFuzzInput feeds one fuzz input to a parser.
func runFuzzInput(in []byte) error {
	{
		if len(in) < 2 {
			return nil
		}
		n := min(int(binary.BigEndian.Uint16(in)), len(in)-2)
		keys := NewKeys()
		keys.AddKeyLog(in[2 : 2+n])
		in = in[2+n:]
		col := &collector{}
		conn := &stream.Conn{}
		p := newParser(conn, col, Config{Keys: keys, Inner: func(*stream.Conn, stream.Sink) stream.Parser { return nopParser{} }})
		frame := uint64(0)
		for len(in) >= 3 {
			flags := in[0]
			n := min(int(binary.BigEndian.Uint16(in[1:])), len(in)-3)
			data := in[3 : 3+n]
			in = in[3+n:]
			frame++
			c := &stream.Chunk{Dir: stream.Dir(flags & 1), Data: data, Time: time.Unix(int64(frame), 0), Frame: frame}
			if flags&2 != 0 {
				c.Skip = int(flags >> 3)
				if flags&4 != 0 {
					c.Skip = -1
				}
			}
			p.Feed(c)
			if err := p.checkBounds(); err != nil {
				return fmt.Errorf("after frame %d: %w", frame, err)
			}
		}
		p.End(time.Unix(0, 0), stream.EndCapture)
		if len(col.notes) > 8 {
			return fmt.Errorf("%d notes for one connection", len(col.notes))
		}
		return nil
	}
}

type nopParser struct{}

func (nopParser) Feed(*stream.Chunk)              {}
func (nopParser) End(time.Time, stream.EndReason) {}

// checkBounds verifies that what a parser holds stays within its limits.
func (p *parser) checkBounds() error {
	for i := range p.half {
		h := &p.half[i]
		switch {
		case len(h.buf) > 5+maxRecord:
			return fmt.Errorf("%s: record buffer %d", h.role, len(h.buf))
		case len(h.hs) > maxHandshake+4+maxRecord:
			return fmt.Errorf("%s: handshake buffer %d", h.role, len(h.hs))
		case len(h.rbuf) > 2*(5+maxRecord):
			return fmt.Errorf("%s: resync buffer %d", h.role, len(h.rbuf))
		case h.queueN > maxQueued:
			return fmt.Errorf("%s: queue %d", h.role, h.queueN)
		}
	}
	if p.pendingN > maxPending || len(p.transcript) > maxTranscript {
		return fmt.Errorf("pending %d, transcript %d", p.pendingN, len(p.transcript))
	}
	return nil
}
