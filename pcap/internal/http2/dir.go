package http2

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
	"sort"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/tracewire/tracewire/pcap/internal/stream"
)

// dirState is one direction of a connection: its unparsed bytes, where
// they came from, and its HPACK decoder.
type dirState struct {
	wire  stream.Dir
	phase phase

	// buf holds the bytes not parsed yet; buf[0] is byte pos of the
	// direction (counting from the first byte the parser saw).
	buf []byte
	pos int64
	// want is the length of the frame being waited for, to grow buf once.
	want int
	// trial counts the frames read since sync found a boundary.
	trial int
	// scan is the first offset in buf sync has not judged; pend are the
	// offsets of candidates waiting for more bytes.
	scan int
	pend []int
	// marks say which packet each run of buf came from, in order; the
	// first one starts at or before pos.
	marks []mark

	rd bytes.Reader
	fr *http2.Framer

	// dec decodes header blocks while the HPACK state is known from the
	// start of the connection; loose replaces it once that is not so.
	dec   *hpack.Decoder
	loose *looseDecoder
	// looseNoted is set once the note about unresolvable fields was made.
	looseNoted bool
	block      headerBlock
}

// mark is the start of a chunk within a direction.
type mark struct {
	off      int64
	t        time.Time
	frame    uint64
	comments []string
}

func (d *dirState) addMark(c *stream.Chunk) {
	m := mark{off: d.pos + int64(len(d.buf)), t: c.Time, frame: c.Frame}
	if len(c.Comments) > 0 {
		m.comments = append([]string(nil), c.Comments...)
	}
	d.marks = append(d.marks, m)
}

// isChunkStart reports whether buf[i] is the first byte of a chunk.
func (d *dirState) isChunkStart(i int) bool {
	off := d.pos + int64(i)
	j, found := slices.BinarySearchFunc(d.marks, off, func(m mark, off int64) int { return cmp.Compare(m.off, off) })
	return found && j < len(d.marks)
}

// times returns the capture times of buf[from] and buf[to-1], and the
// comments of the packets that carried buf[from:to].
func (d *dirState) times(from, to int) (start, end time.Time, comments []string) {
	a, b := d.pos+int64(from), d.pos+int64(to)-1
	i := d.markAt(a)
	if i < 0 {
		return
	}
	start = d.marks[i].t
	for ; i < len(d.marks) && d.marks[i].off <= b; i++ {
		end = d.marks[i].t
		comments = appendComments(comments, d.marks[i].comments)
	}
	return start, end, comments
}

// markAt returns the index of the mark covering byte off, or -1 when there
// are no marks.
func (d *dirState) markAt(off int64) int {
	if len(d.marks) == 0 {
		return -1
	}
	// The first mark after off, minus one.
	j := sort.Search(len(d.marks), func(j int) bool { return d.marks[j].off > off })
	return max(j-1, 0)
}

func appendComments(dst, src []string) []string {
	for _, c := range src {
		if len(dst) >= maxComments {
			return dst
		}
		dup := false
		for _, have := range dst {
			if have == c {
				dup = true
				break
			}
		}
		if !dup {
			dst = append(dst, c)
		}
	}
	return dst
}

// consume drops n parsed bytes and the marks no longer needed.
func (d *dirState) consume(n int) {
	d.buf = d.buf[n:]
	d.pos += int64(n)
	i := d.markAt(d.pos)
	if i > 0 {
		d.marks = append(d.marks[:0], d.marks[i:]...)
	}
}

// compact moves the unparsed bytes to the front of the buffer, or frees it,
// so that a long connection does not keep what it parsed.
func (d *dirState) compact() {
	switch {
	case len(d.buf) == 0 && cap(d.buf) > 64<<10:
		d.buf = nil
	case len(d.buf) == 0:
		d.buf = d.buf[:0]
	case cap(d.buf) > 64<<10 && len(d.buf) < cap(d.buf)/4 && d.want <= len(d.buf):
		d.buf = append([]byte(nil), d.buf...)
	default:
		// Append reallocates once the tail is full, dropping the
		// consumed head then.
		if d.want > cap(d.buf) {
			nb := make([]byte, len(d.buf), d.want)
			copy(nb, d.buf)
			d.buf = nb
		}
	}
}

func (d *dirState) free() {
	d.buf, d.marks = nil, nil
	d.block = headerBlock{}
	d.fr = nil
}

// frameHeader is the 9-byte frame header, read without the Framer to
// judge whether it is plausible.
type frameHeader struct {
	length uint32
	typ    uint8
	flags  uint8
	rbit   bool
	stream uint32
}

func parseHeader(b []byte) frameHeader {
	id := binary.BigEndian.Uint32(b[5:9])
	return frameHeader{
		length: uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2]),
		typ:    b[3],
		flags:  b[4],
		rbit:   id&(1<<31) != 0,
		stream: id &^ (1 << 31),
	}
}

// wellFormed returns why a header cannot belong to a well-formed
// connection ("" when it can). These are violations no implementation
// commits, so seeing one means the bytes are not where a frame starts.
func (h frameHeader) wellFormed() string {
	onStream := func() string {
		if h.stream == 0 {
			return fmt.Sprintf("is %s on stream 0", http2.FrameType(h.typ))
		}
		return ""
	}
	connOnly := func() string {
		if h.stream != 0 {
			return fmt.Sprintf("is %s on stream %d", http2.FrameType(h.typ), h.stream)
		}
		return ""
	}
	fixed := func(n uint32) string {
		if h.length != n {
			return fmt.Sprintf("is %s with length %d", http2.FrameType(h.typ), h.length)
		}
		return ""
	}
	first := func(s ...string) string {
		for _, x := range s {
			if x != "" {
				return x
			}
		}
		return ""
	}
	switch http2.FrameType(h.typ) {
	case http2.FrameData, http2.FrameHeaders, http2.FrameContinuation:
		return onStream()
	case http2.FramePriority:
		return first(onStream(), fixed(5))
	case http2.FrameRSTStream:
		return first(onStream(), fixed(4))
	case http2.FramePushPromise:
		if h.length < 4 {
			return fixed(4)
		}
		return onStream()
	case http2.FrameSettings:
		if h.length%6 != 0 {
			return fmt.Sprintf("is SETTINGS with length %d", h.length)
		}
		return connOnly()
	case http2.FramePing:
		return first(connOnly(), fixed(8))
	case http2.FrameGoAway:
		if h.length < 8 {
			return fmt.Sprintf("is GOAWAY with length %d", h.length)
		}
		return connOnly()
	case http2.FrameWindowUpdate:
		return fixed(4)
	}
	return ""
}

// flagsOf are the flags defined per frame type; while looking for a frame
// boundary a header with any other flag is not taken for one.
var flagsOf = [...]uint8{
	http2.FrameData:         0x1 | 0x8,
	http2.FrameHeaders:      0x1 | 0x4 | 0x8 | 0x20,
	http2.FramePriority:     0,
	http2.FrameRSTStream:    0,
	http2.FrameSettings:     0x1,
	http2.FramePushPromise:  0x4 | 0x8,
	http2.FramePing:         0x1,
	http2.FrameGoAway:       0,
	http2.FrameWindowUpdate: 0,
	http2.FrameContinuation: 0x4,
}

// plausibleSync is wellFormed made strict for finding frame boundaries in
// unknown bytes: a known type, only its flags, the reserved bit clear, a
// length of at most syncFrameLen and a stream ID below syncMaxStream. It
// returns "" when h is plausible.
func (h frameHeader) plausibleSync() string {
	if int(h.typ) >= len(flagsOf) {
		return "unknown type"
	}
	if h.flags&^flagsOf[h.typ] != 0 || h.rbit {
		return "undefined flags"
	}
	if h.length > syncFrameLen {
		return "too long"
	}
	if h.stream >= syncMaxStream {
		return "stream ID too high"
	}
	switch http2.FrameType(h.typ) {
	case http2.FrameHeaders, http2.FramePushPromise, http2.FrameContinuation:
		if h.length == 0 {
			return "empty header block"
		}
	case http2.FrameData:
		if h.length == 0 && h.flags&uint8(http2.FlagDataEndStream) == 0 {
			// Legal but pointless, and what runs of zeros look like.
			return "empty DATA"
		}
	}
	if h.typ == uint8(http2.FrameSettings) && h.flags&1 != 0 && h.length != 0 {
		return "SETTINGS ACK with payload"
	}
	return h.wellFormed()
}
