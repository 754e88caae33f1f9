package capture

import (
	"bytes"
	"encoding/binary"
	"time"
)

// Builders for small synthetic captures, used by the tests, fuzz seeds and
// benchmarks (no corpus files are committed).

// ngBuilder writes a pcapng stream. ends records where each packet block
// ends, so truncation tests know how many packets a prefix holds.
type ngBuilder struct {
	o    binary.AppendByteOrder
	buf  bytes.Buffer
	ends []int // where each packet block ends
	// blockEnds lists where every block ends.
	blockEnds []int
}

type opt struct {
	code uint16
	val  []byte
}

func (b *ngBuilder) u16(v uint16) []byte { return b.o.AppendUint16(nil, v) }
func (b *ngBuilder) u32(v uint32) []byte { return b.o.AppendUint32(nil, v) }

func pad4(p []byte) []byte {
	for len(p)%4 != 0 {
		p = append(p, 0)
	}
	return p
}

func (b *ngBuilder) options(opts []opt) []byte {
	if len(opts) == 0 {
		return nil
	}
	var out []byte
	for _, o := range opts {
		out = b.o.AppendUint16(out, o.code)
		out = b.o.AppendUint16(out, uint16(len(o.val)))
		out = pad4(append(out, o.val...))
	}
	return append(out, 0, 0, 0, 0) // opt_endofopt
}

func (b *ngBuilder) block(typ uint32, body []byte) {
	body = pad4(body)
	n := uint32(12 + len(body))
	b.buf.Write(b.u32(typ))
	b.buf.Write(b.u32(n))
	b.buf.Write(body)
	b.buf.Write(b.u32(n))
	b.blockEnds = append(b.blockEnds, b.buf.Len())
}

// shb starts a section in byte order o.
func (b *ngBuilder) shb(o binary.AppendByteOrder, opts ...opt) {
	b.o = o
	body := b.u32(shbMagicLE)
	body = append(body, b.u16(1)...)
	body = append(body, b.u16(0)...)
	body = append(body, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff) // unknown section length
	b.block(blockSHB, append(body, b.options(opts)...))
}

func (b *ngBuilder) idb(link uint16, snaplen uint32, opts ...opt) {
	body := append(b.u16(link), 0, 0)
	body = append(body, b.u32(snaplen)...)
	b.block(blockIDB, append(body, b.options(opts)...))
}

func (b *ngBuilder) epb(ifID uint32, ts uint64, data []byte, origLen uint32, opts ...opt) {
	body := b.u32(ifID)
	body = append(body, b.u32(uint32(ts>>32))...)
	body = append(body, b.u32(uint32(ts))...)
	body = append(body, b.u32(uint32(len(data)))...)
	body = append(body, b.u32(origLen)...)
	body = pad4(append(body, data...))
	b.block(blockEPB, append(body, b.options(opts)...))
	b.ends = append(b.ends, b.buf.Len())
}

func (b *ngBuilder) pb(ifID uint16, ts uint64, data []byte, opts ...opt) {
	body := append(b.u16(ifID), 0, 0)
	body = append(body, b.u32(uint32(ts>>32))...)
	body = append(body, b.u32(uint32(ts))...)
	body = append(body, b.u32(uint32(len(data)))...)
	body = append(body, b.u32(uint32(len(data)))...)
	body = pad4(append(body, data...))
	b.block(blockPB, append(body, b.options(opts)...))
	b.ends = append(b.ends, b.buf.Len())
}

func (b *ngBuilder) spb(data []byte, origLen uint32) {
	b.block(blockSPB, append(b.u32(origLen), data...))
	b.ends = append(b.ends, b.buf.Len())
}

func (b *ngBuilder) dsb(typ uint32, secret []byte) {
	body := append(b.u32(typ), b.u32(uint32(len(secret)))...)
	b.block(blockDSB, append(body, secret...))
}

// pcapBuilder writes a classic pcap stream.
type pcapBuilder struct {
	o        binary.AppendByteOrder
	nano     bool
	modified bool
	buf      bytes.Buffer
	ends     []int
}

func newPcap(o binary.AppendByteOrder, magic uint32, snaplen uint32, link uint32) *pcapBuilder {
	b := &pcapBuilder{o: o, nano: magic == magicNano, modified: magic == magicModified}
	h := o.AppendUint32(nil, magic)
	h = o.AppendUint16(h, 2)
	h = o.AppendUint16(h, 4)
	h = o.AppendUint32(h, 0) // thiszone
	h = o.AppendUint32(h, 0) // sigfigs
	h = o.AppendUint32(h, snaplen)
	h = o.AppendUint32(h, link)
	b.buf.Write(h)
	return b
}

func (b *pcapBuilder) record(ts time.Time, data []byte, origLen uint32) {
	frac := uint32(ts.Nanosecond() / 1000)
	if b.nano {
		frac = uint32(ts.Nanosecond())
	}
	h := b.o.AppendUint32(nil, uint32(ts.Unix()))
	h = b.o.AppendUint32(h, frac)
	h = b.o.AppendUint32(h, uint32(len(data)))
	h = b.o.AppendUint32(h, origLen)
	if b.modified {
		h = append(h, 1, 0, 0, 0, 0x08, 0x00, 0, 0)
	}
	b.buf.Write(h)
	b.buf.Write(data)
	b.ends = append(b.ends, b.buf.Len())
}

// frameData returns n deterministic bytes that differ per seed.
func frameData(seed, n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(seed*31 + i*7)
	}
	return p
}
