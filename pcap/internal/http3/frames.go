package http3

import (
	"fmt"

	"github.com/tracewire/tracewire/pcap/internal/quic"
)

// HTTP/3 frame types (RFC 9114 section 7.2).
const (
	frameData        = 0x00
	frameHeaders     = 0x01
	frameCancelPush  = 0x03
	frameSettings    = 0x04
	framePushPromise = 0x05
	frameGoAway      = 0x07
	frameMaxPushID   = 0x0d
)

// maxWholeFrame bounds a frame that is kept whole (HEADERS, SETTINGS,
// ...); DATA is handed on as it comes.
const maxWholeFrame = 1 << 20

// FrameReader splits one direction of a stream into HTTP/3 frames as the
// bytes arrive, in any chunking.
type FrameReader struct {
	hdr    []byte
	typ    uint64
	left   uint64
	active bool
	keep   bool
	buf    []byte
	err    error
}

// kept reports whether frames of typ are buffered whole; DATA is streamed
// and unknown (reserved, extension) types are skipped.
func kept(typ uint64) bool {
	switch typ {
	case frameHeaders, frameCancelPush, frameSettings, framePushPromise, frameGoAway, frameMaxPushID:
		return true
	}
	return false
}

// Feed reads b: DATA payload goes to data as it comes, every other frame
// the parser uses to frame whole (its payload valid during the call). An
// error means the framing is lost; later calls return it again.
func (r *FrameReader) Feed(b []byte, data func([]byte), frame func(typ uint64, payload []byte)) error {
	for len(b) > 0 && r.err == nil {
		if !r.active {
			// A frame header: two varints, at most 16 bytes.
			need := 0
			for len(b) > 0 {
				r.hdr = append(r.hdr, b[0])
				b = b[1:]
				typ, n := quic.Varint(r.hdr)
				if n == 0 {
					continue
				}
				l, m := quic.Varint(r.hdr[n:])
				if m == 0 {
					continue
				}
				r.typ, r.left, r.active, need = typ, l, true, 1
				r.hdr = r.hdr[:0]
				break
			}
			if need == 0 {
				return nil
			}
			r.keep = kept(r.typ)
			if r.keep && r.left > maxWholeFrame {
				r.err = fmt.Errorf("HTTP/3 frame of type %#x and %d bytes is too long", r.typ, r.left)
				return r.err
			}
			r.buf = r.buf[:0]
			if r.left == 0 {
				r.end(frame)
				continue
			}
		}
		n := min(uint64(len(b)), r.left)
		switch {
		case r.typ == frameData:
			data(b[:n])
		case r.keep:
			r.buf = append(r.buf, b[:n]...)
		}
		b = b[n:]
		r.left -= n
		if r.left == 0 {
			r.end(frame)
		}
	}
	return r.err
}

func (r *FrameReader) end(frame func(uint64, []byte)) {
	r.active = false
	if r.keep {
		frame(r.typ, r.buf)
	}
}

// Partial reports whether a frame was cut off (bytes of it were read but
// not all).
func (r *FrameReader) Partial() bool { return r.active || len(r.hdr) > 0 }
