package capture

import (
	"encoding/binary"
	"fmt"
	"io"
	"time"
)

// byteOrder is a file's (or pcapng section's) byte order; a bool rather than
// binary.ByteOrder keeps the per-packet reads free of interface calls.
type byteOrder bool

const (
	littleEndian byteOrder = false
	bigEndian    byteOrder = true
)

func (o byteOrder) u16(b []byte) uint16 {
	if o == bigEndian {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

func (o byteOrder) u32(b []byte) uint32 {
	if o == bigEndian {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

func (o byteOrder) u64(b []byte) uint64 {
	if o == bigEndian {
		return binary.BigEndian.Uint64(b)
	}
	return binary.LittleEndian.Uint64(b)
}

// Classic pcap magic numbers as read little-endian.
const (
	magicMicro    = 0xa1b2c3d4
	magicNano     = 0xa1b23c4d
	magicModified = 0xa1b2cd34 // Alexey Kuznetsov's patched libpcap
)

func (r *Reader) readPcapHeader() error {
	h, err := r.peek(24)
	if len(h) < 4 {
		return fmt.Errorf("%s: %w", r.path, ErrNotCapture)
	}
	le := binary.LittleEndian.Uint32(h)
	be := binary.BigEndian.Uint32(h)
	switch {
	case le == magicMicro:
		r.order = littleEndian
	case be == magicMicro:
		r.order = bigEndian
	case le == magicNano:
		r.order, r.nano = littleEndian, true
	case be == magicNano:
		r.order, r.nano = bigEndian, true
	case le == magicModified:
		r.order, r.modified = littleEndian, true
	case be == magicModified:
		r.order, r.modified = bigEndian, true
	default:
		return fmt.Errorf("%s: %w (magic %08x)", r.path, ErrNotCapture, be)
	}
	r.format = formatPcap
	if len(h) < 24 {
		// A header cut short: no packets, but say so.
		r.warn("pcap file header truncated (%d of 24 bytes)", len(h))
		r.warnings[len(r.warnings)-1].Stop = true
		r.done = true
		_ = err
		return nil
	}
	if major := r.order.u16(h[4:]); major != 2 {
		return fmt.Errorf("%s: unsupported pcap version %d.%d", r.path, major, r.order.u16(h[6:]))
	}
	r.snaplen = r.order.u32(h[16:])
	// The upper bits of the link type field hold FCS information.
	r.pcapLink = uint16(r.order.u32(h[20:]))
	r.skip(24)
	return nil
}

func (r *Reader) nextPcap() bool {
	hl := 16
	if r.modified {
		hl = 24
	}
	h, err := r.peek(hl)
	if len(h) < hl {
		if len(h) > 0 {
			r.warn("file ends inside a record header (%d of %d bytes)", len(h), hl)
		} else if err != nil && err != io.EOF {
			r.warn("read error: %v", err)
		}
		return false
	}
	copy(r.recordHead[:], h)
	h = r.recordHead[:hl]
	sec := r.order.u32(h[0:])
	frac := r.order.u32(h[4:])
	caplen := r.order.u32(h[8:])
	origlen := r.order.u32(h[12:])
	limit := max(r.snaplen, maxSaneCaplen)
	if caplen > limit || caplen > maxBlock {
		// Wireshark stops here too ("bigger than maximum"); guessing where the
		// next record starts could invent packets.
		r.warn("record claims %d captured bytes, more than the limit %d: file corrupt, stopping", caplen, limit)
		return false
	}
	if caplen > r.snaplen && r.snaplen != 0 && !r.warnedSnap {
		// Kept, as Wireshark does; said once, as it may repeat for every
		// record of a file whose header is simply wrong.
		r.warnedSnap = true
		r.warn("frame %d has %d captured bytes, more than the file's snap length %d (kept)", r.frame+1, caplen, r.snaplen)
	}
	if !r.fits(int64(hl) + int64(caplen)) {
		r.warn("file ends inside frame %d (record of %d bytes, %d left)", r.frame+1, caplen, r.size-r.offset-int64(hl))
		return false
	}
	r.skip(hl)
	data, err := r.readN(int(caplen))
	if err != nil {
		r.warn("file ends inside frame %d (%d captured bytes): %v", r.frame+1, caplen, err)
		return false
	}
	r.frame++
	ns := int64(frac)
	if !r.nano {
		ns *= 1000
	}
	r.pkt = Packet{
		Data:     data,
		OrigLen:  int(origlen),
		Time:     time.Unix(int64(sec), ns),
		LinkType: r.pcapLink,
		Frame:    r.frame,
	}
	return true
}
