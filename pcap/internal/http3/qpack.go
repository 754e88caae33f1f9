package http3

import (
	"errors"
	"fmt"
	"io"

	"github.com/quic-go/qpack"
	"golang.org/x/net/http2/hpack"
)

// QPACK (RFC 9204). github.com/quic-go/qpack decodes field sections that
// use only the static table, which is what it was written for (quic-go
// never inserts into the dynamic table). Browsers and Cronet do insert, so
// the dynamic table is kept here: the peer's encoder stream is applied to
// it, and sections that refer to it are decoded by decodeDynamic, with
// qpack's static table and hpack's Huffman code. A capture is read
// passively, so entries are evicted only past maxTableBytes, not at the
// encoder's capacity: a reference the encoder may make is never missing.

// staticTable is QPACK's static table, read out of qpack's decoder once
// (the package does not export it).
var staticTable = func() []qpack.HeaderField {
	var out []qpack.HeaderField
	d := qpack.NewDecoder()
	for i := uint64(0); ; i++ {
		// Indexed field line, static (0b11), 6-bit prefix.
		b := appendPrefixInt([]byte{0, 0}, 0xc0, 6, i)
		f, err := d.Decode(b)()
		if err != nil {
			return out
		}
		out = append(out, f)
	}
}()

func appendPrefixInt(b []byte, first byte, n uint, v uint64) []byte {
	max := uint64(1)<<n - 1
	if v < max {
		return append(b, first|byte(v))
	}
	b = append(b, first|byte(max))
	v -= max
	for v >= 128 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

var errPrefixInt = errors.New("QPACK: bad integer")

// prefixInt reads an integer with an n-bit prefix (RFC 7541 section 5.1).
func prefixInt(b []byte, n uint) (uint64, []byte, error) {
	if len(b) == 0 {
		return 0, b, io.ErrUnexpectedEOF
	}
	max := uint64(1)<<n - 1
	v := uint64(b[0]) & max
	b = b[1:]
	if v < max {
		return v, b, nil
	}
	var shift uint
	for {
		if len(b) == 0 {
			return 0, b, io.ErrUnexpectedEOF
		}
		c := b[0]
		b = b[1:]
		if shift > 56 {
			return 0, b, errPrefixInt
		}
		v += uint64(c&0x7f) << shift
		shift += 7
		if c&0x80 == 0 {
			return v, b, nil
		}
	}
}

// str reads a string literal whose Huffman flag is bit hbit of the first
// byte and whose length has an n-bit prefix.
func str(b []byte, hbit byte, n uint) (string, []byte, error) {
	if len(b) == 0 {
		return "", b, io.ErrUnexpectedEOF
	}
	huff := b[0]&hbit != 0
	l, rest, err := prefixInt(b, n)
	if err != nil {
		return "", rest, err
	}
	if uint64(len(rest)) < l {
		return "", rest, io.ErrUnexpectedEOF
	}
	s := rest[:l]
	rest = rest[l:]
	if !huff {
		return string(s), rest, nil
	}
	v, err := hpack.HuffmanDecodeToString(s)
	return v, rest, err
}

// maxTableBytes bounds a dynamic table kept by the parser.
const maxTableBytes = 1 << 20

// table is one direction's dynamic table, filled from its encoder stream.
type table struct {
	entries []qpack.HeaderField
	dropped uint64 // entries evicted (absolute index of entries[0])
	size    int
	// capacity as set by the encoder; maxCap is the decoder's
	// SETTINGS_QPACK_MAX_TABLE_CAPACITY, needed to decode the Required
	// Insert Count (0 until seen).
	capacity, maxCap uint64
	buf              []byte // encoder stream bytes not yet a whole instruction
	broken           error
}

func (t *table) inserted() uint64 { return t.dropped + uint64(len(t.entries)) }

func (t *table) insert(f qpack.HeaderField) {
	t.entries = append(t.entries, f)
	t.size += len(f.Name) + len(f.Value) + 32
	for t.size > maxTableBytes && len(t.entries) > 1 {
		t.size -= len(t.entries[0].Name) + len(t.entries[0].Value) + 32
		t.entries = t.entries[1:]
		t.dropped++
	}
}

// at returns the entry of absolute index i.
func (t *table) at(i uint64) (qpack.HeaderField, error) {
	if i < t.dropped || i >= t.inserted() {
		return qpack.HeaderField{}, fmt.Errorf("QPACK: dynamic table entry %d not available (%d inserted)", i, t.inserted())
	}
	return t.entries[i-t.dropped], nil
}

func staticAt(i uint64) (qpack.HeaderField, error) {
	if i >= uint64(len(staticTable)) {
		return qpack.HeaderField{}, fmt.Errorf("QPACK: static table index %d out of range", i)
	}
	return staticTable[i], nil
}

// encoderStream applies encoder stream bytes (RFC 9204 section 4.3).
func (t *table) encoderStream(b []byte) error {
	if t.broken != nil {
		return t.broken
	}
	t.buf = append(t.buf, b...)
	for len(t.buf) > 0 {
		rest, err := t.instruction(t.buf)
		if err == io.ErrUnexpectedEOF {
			if len(t.buf) > maxTableBytes {
				t.broken = errors.New("QPACK: encoder instruction too long")
				return t.broken
			}
			return nil
		}
		if err != nil {
			t.broken = err
			return err
		}
		t.buf = rest
	}
	t.buf = t.buf[:0]
	return nil
}

func (t *table) instruction(b []byte) ([]byte, error) {
	switch c := b[0]; {
	case c&0x80 != 0: // Insert with name reference
		idx, rest, err := prefixInt(b, 6)
		if err != nil {
			return b, err
		}
		val, rest, err := str(rest, 0x80, 7)
		if err != nil {
			return b, err
		}
		var f qpack.HeaderField
		if c&0x40 != 0 {
			f, err = staticAt(idx)
		} else {
			if idx >= t.inserted() {
				return b, fmt.Errorf("QPACK: insert refers to entry %d of %d", idx, t.inserted())
			}
			f, err = t.at(t.inserted() - 1 - idx)
		}
		if err != nil {
			return b, err
		}
		t.insert(qpack.HeaderField{Name: f.Name, Value: val})
		return rest, nil
	case c&0x40 != 0: // Insert with literal name
		name, rest, err := str(b, 0x20, 5)
		if err != nil {
			return b, err
		}
		val, rest, err := str(rest, 0x80, 7)
		if err != nil {
			return b, err
		}
		t.insert(qpack.HeaderField{Name: name, Value: val})
		return rest, nil
	case c&0x20 != 0: // Set dynamic table capacity
		v, rest, err := prefixInt(b, 5)
		if err != nil {
			return b, err
		}
		t.capacity = v
		return rest, nil
	default: // Duplicate
		idx, rest, err := prefixInt(b, 5)
		if err != nil {
			return b, err
		}
		if idx >= t.inserted() {
			return b, fmt.Errorf("QPACK: duplicate of entry %d of %d", idx, t.inserted())
		}
		f, err := t.at(t.inserted() - 1 - idx)
		if err != nil {
			return b, err
		}
		t.insert(f)
		return rest, nil
	}
}

// requiredInsertCount decodes a field section's Required Insert Count
// (RFC 9204 section 4.5.1.1).
func (t *table) requiredInsertCount(enc uint64) (uint64, error) {
	if enc == 0 {
		return 0, nil
	}
	maxCap := t.maxCap
	if maxCap == 0 {
		// The decoder's setting was not seen: the encoder's capacity is
		// at most that, and right unless the count wrapped.
		maxCap = max(t.capacity, 4096)
	}
	maxEntries := maxCap / 32
	full := 2 * maxEntries
	if full == 0 || enc > full {
		return 0, fmt.Errorf("QPACK: encoded Required Insert Count %d beyond %d", enc, full)
	}
	maxValue := t.inserted() + maxEntries
	ric := maxValue/full*full + enc - 1
	if ric > maxValue {
		if ric <= full {
			return 0, fmt.Errorf("QPACK: bad Required Insert Count")
		}
		ric -= full
	}
	if ric == 0 {
		return 0, fmt.Errorf("QPACK: Required Insert Count 0 encoded as %d", enc)
	}
	return ric, nil
}

// errBlocked means a field section refers to entries the encoder stream
// has not inserted yet (in capture order).
var errBlocked = errors.New("QPACK: blocked on the encoder stream")

// decodeSection decodes a field section with the table's state.
func (t *table) decodeSection(b []byte) ([]qpack.HeaderField, error) {
	enc, rest, err := prefixInt(b, 8)
	if err != nil {
		return nil, err
	}
	ric, err := t.requiredInsertCount(enc)
	if err != nil {
		return nil, err
	}
	if ric == 0 {
		return decodeStatic(b)
	}
	if ric > t.inserted() {
		return nil, errBlocked
	}
	if len(rest) == 0 {
		return nil, io.ErrUnexpectedEOF
	}
	sign := rest[0]&0x80 != 0
	delta, rest, err := prefixInt(rest, 7)
	if err != nil {
		return nil, err
	}
	base := ric + delta
	if sign {
		if delta+1 > ric {
			return nil, errors.New("QPACK: negative base")
		}
		base = ric - delta - 1
	}
	return t.decodeDynamic(rest, base)
}

// decodeStatic decodes a section without dynamic references with qpack.
func decodeStatic(b []byte) ([]qpack.HeaderField, error) {
	next := qpack.NewDecoder().Decode(b)
	var out []qpack.HeaderField
	for {
		f, err := next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, f)
	}
}

func (t *table) rel(base, idx uint64) (qpack.HeaderField, error) {
	if idx >= base {
		return qpack.HeaderField{}, fmt.Errorf("QPACK: relative index %d beyond base %d", idx, base)
	}
	return t.at(base - 1 - idx)
}

// decodeDynamic decodes the field lines of a section (RFC 9204 section
// 4.5.2-4.5.6).
func (t *table) decodeDynamic(b []byte, base uint64) ([]qpack.HeaderField, error) {
	var out []qpack.HeaderField
	for len(b) > 0 {
		c := b[0]
		var f qpack.HeaderField
		var err error
		switch {
		case c&0x80 != 0: // Indexed field line
			var idx uint64
			if idx, b, err = prefixInt(b, 6); err != nil {
				return out, err
			}
			if c&0x40 != 0 {
				f, err = staticAt(idx)
			} else {
				f, err = t.rel(base, idx)
			}
		case c&0x40 != 0: // Literal with name reference
			var idx uint64
			if idx, b, err = prefixInt(b, 4); err != nil {
				return out, err
			}
			if c&0x10 != 0 {
				f, err = staticAt(idx)
			} else {
				f, err = t.rel(base, idx)
			}
			if err == nil {
				f.Value, b, err = str(b, 0x80, 7)
			}
		case c&0x20 != 0: // Literal with literal name
			if f.Name, b, err = str(b, 0x08, 3); err == nil {
				f.Value, b, err = str(b, 0x80, 7)
			}
		case c&0x10 != 0: // Indexed, post-base
			var idx uint64
			if idx, b, err = prefixInt(b, 4); err != nil {
				return out, err
			}
			f, err = t.at(base + idx)
		default: // Literal with post-base name reference
			var idx uint64
			if idx, b, err = prefixInt(b, 3); err != nil {
				return out, err
			}
			if f, err = t.at(base + idx); err == nil {
				f.Value, b, err = str(b, 0x80, 7)
			}
		}
		if err != nil {
			return out, err
		}
		out = append(out, f)
	}
	return out, nil
}
