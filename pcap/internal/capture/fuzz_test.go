package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"time"
)

// fuzzRead reads everything from data and checks the reader's invariants:
// no panic, no error but io.EOF from Next, data within the input, frames
// increasing, warnings placed inside the input.
func fuzzRead(t *testing.T, data []byte) {
	r, err := NewReader("fuzz", bytes.NewReader(data))
	if err != nil {
		return
	}
	var last uint64
	for n := 0; ; n++ {
		p, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		if len(p.Data) > len(data) {
			t.Fatalf("packet of %d bytes from %d bytes of input", len(p.Data), len(data))
		}
		if p.Frame <= last {
			t.Fatalf("frame %d after %d", p.Frame, last)
		}
		last = p.Frame
		if n > len(data) {
			t.Fatalf("more packets than input bytes")
		}
	}
	for _, w := range r.Warnings() {
		if w.Offset < 0 || w.Offset > int64(len(data)) {
			t.Fatalf("warning offset %d outside %d bytes", w.Offset, len(data))
		}
	}
	if _, err := r.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("Next after the end: %v", err)
	}
	// The secrets walk over the same bytes.
	r, err = NewReader("fuzz", bytes.NewReader(data))
	if err != nil {
		t.Fatalf("second open failed: %v", err)
	}
	for _, s := range r.allSecrets() {
		if len(s) > len(data) {
			t.Fatalf("secret of %d bytes from %d bytes", len(s), len(data))
		}
	}
}

func FuzzPcapng(f *testing.F) {
	b, _ := syntheticNg()
	f.Add(b.buf.Bytes())
	for _, cut := range []int{13, 40, 100, len(b.buf.Bytes()) - 3} {
		f.Add(b.buf.Bytes()[:cut])
	}
	small := &ngBuilder{}
	small.shb(binary.BigEndian)
	small.idb(228, 0, opt{ifTSResol, []byte{0x80 | 20}})
	small.epb(0, 1<<40, frameData(1, 41), 41, opt{optComment, []byte("c")})
	small.spb(frameData(2, 3), 100)
	f.Add(small.buf.Bytes())
	f.Fuzz(fuzzRead)
}

func FuzzPcap(f *testing.F) {
	for _, magic := range []uint32{magicMicro, magicNano, magicModified} {
		b := newPcap(binary.LittleEndian, magic, 65535, 1)
		b.record(time.Unix(1, 2000), frameData(1, 30), 30)
		b.record(time.Unix(2, 0), nil, 0)
		f.Add(b.buf.Bytes())
	}
	b := newPcap(binary.BigEndian, magicMicro, 100, 101)
	b.record(time.Unix(1, 0), frameData(1, 90), 1500)
	f.Add(b.buf.Bytes())
	f.Add(b.buf.Bytes()[:30])
	f.Fuzz(fuzzRead)
}
