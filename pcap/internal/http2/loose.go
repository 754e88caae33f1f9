package http2

import (
	"errors"
	"fmt"

	"golang.org/x/net/http2/hpack"
)

// looseDecoder decodes HPACK header blocks when the start of the dynamic
// table was not seen: after a capture that begins mid-connection, a gap,
// or a block hpack.Decoder could not decode. hpack.Decoder stops at the
// first reference it cannot resolve, and everything that block would have
// inserted is lost with the rest of it, so one missing entry would spoil
// every later block. This decoder instead skips the fields it cannot
// resolve and keeps a placeholder for each insertion whose name it does
// not know, so that the indices of all later insertions stay right.
//
// Why the result can be trusted: the dynamic table is indexed from its
// newest entry. Every insertion made since this decoder started is also
// among the encoder's newest entries, in the same order, so an index that
// falls within them names the same field on both sides; a larger index
// names an entry from before we started, which is reported as unknown
// rather than guessed. The decoder never evicts (up to maxTableSize of
// known bytes): the encoder does not reference what it evicted, so keeping
// more entries than it does is harmless. A literal whose name refers to an
// unknown entry inserts a placeholder with that name unknown, so a custom
// header whose name is always taken from its previous occurrence stays
// unknown for the rest of the connection; names from the static table and
// literal names are always known.
type looseDecoder struct {
	ents  []looseEntry // oldest first
	bytes int          // size of known strings in ents
	// Skipped counts the fields of the last block that could not be
	// resolved.
	skipped int
}

type looseEntry struct {
	name, value string
	known       bool // name (and so the field) is known
}

// decode decodes one whole header block, calling emit for each field it
// can resolve. An error means the block's encoding is broken; the caller
// must then start a new decoder.
func (d *looseDecoder) decode(b []byte, emit func(hpack.HeaderField)) error {
	d.skipped = 0
	for len(b) > 0 {
		c := b[0]
		switch {
		case c&0x80 != 0: // indexed field
			i, rest, err := varint(7, b)
			if err != nil {
				return err
			}
			b = rest
			e, ok := d.at(i)
			if !ok {
				if i == 0 {
					return errors.New("hpack: index 0")
				}
				d.skipped++
				continue
			}
			emit(hpack.HeaderField{Name: e.name, Value: e.value})
		case c&0xe0 == 0x20: // dynamic table size update
			_, rest, err := varint(5, b)
			if err != nil {
				return err
			}
			// Keeping more entries than the encoder does is harmless.
			b = rest
		default:
			n, indexing := uint8(4), false
			if c&0xc0 == 0x40 {
				n, indexing = 6, true
			}
			i, rest, err := varint(n, b)
			if err != nil {
				return err
			}
			b = rest
			var name string
			known := true
			if i == 0 {
				if name, b, err = str(b); err != nil {
					return err
				}
			} else {
				e, ok := d.at(i)
				name, known = e.name, ok
			}
			var value string
			if value, b, err = str(b); err != nil {
				return err
			}
			if indexing {
				d.add(looseEntry{name: name, value: value, known: known})
			}
			if !known {
				d.skipped++
				continue
			}
			emit(hpack.HeaderField{Name: name, Value: value, Sensitive: c&0xf0 == 0x10})
		}
	}
	return nil
}

// at resolves index i (1-based, static table first).
func (d *looseDecoder) at(i uint64) (looseEntry, bool) {
	if i == 0 {
		return looseEntry{}, false
	}
	if i <= uint64(len(staticTable)) {
		f := staticTable[i-1]
		return looseEntry{name: f[0], value: f[1], known: true}, true
	}
	k := i - uint64(len(staticTable)) // 1 = newest
	if k > uint64(len(d.ents)) {
		return looseEntry{}, false
	}
	e := d.ents[len(d.ents)-int(k)]
	return e, e.known
}

func (d *looseDecoder) add(e looseEntry) {
	d.ents = append(d.ents, e)
	d.bytes += len(e.name) + len(e.value) + 32
	n := 0
	for d.bytes > maxTableSize && n < len(d.ents) {
		d.bytes -= len(d.ents[n].name) + len(d.ents[n].value) + 32
		n++
	}
	if n > 0 {
		// Entries beyond the kept ones resolve as unknown, which is
		// right: we no longer know them.
		d.ents = append(d.ents[:0], d.ents[n:]...)
	}
}

// varint reads an HPACK integer with an n-bit prefix (RFC 7541, 5.1).
func varint(n uint8, b []byte) (uint64, []byte, error) {
	if len(b) == 0 {
		return 0, nil, errors.New("hpack: truncated integer")
	}
	mask := uint64(1)<<n - 1
	v := uint64(b[0]) & mask
	b = b[1:]
	if v < mask {
		return v, b, nil
	}
	for shift := uint(0); len(b) > 0; shift += 7 {
		if shift > 56 {
			return 0, nil, errors.New("hpack: integer overflow")
		}
		c := b[0]
		b = b[1:]
		v += uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			return v, b, nil
		}
	}
	return 0, nil, errors.New("hpack: truncated integer")
}

// str reads an HPACK string literal (RFC 7541, 5.2).
func str(b []byte) (string, []byte, error) {
	if len(b) == 0 {
		return "", nil, errors.New("hpack: truncated string")
	}
	huff := b[0]&0x80 != 0
	n, b, err := varint(7, b)
	if err != nil {
		return "", nil, err
	}
	if n > uint64(len(b)) {
		return "", nil, fmt.Errorf("hpack: string of %d bytes, %d left", n, len(b))
	}
	s, rest := b[:n], b[n:]
	if !huff {
		return string(s), rest, nil
	}
	v, err := hpack.HuffmanDecodeToString(s)
	if err != nil {
		return "", nil, fmt.Errorf("hpack: %w", err)
	}
	return v, rest, nil
}

// staticTable is RFC 7541, appendix A (hpack keeps its copy unexported).
var staticTable = [...][2]string{
	{":authority", ""},
	{":method", "GET"},
	{":method", "POST"},
	{":path", "/"},
	{":path", "/index.html"},
	{":scheme", "http"},
	{":scheme", "https"},
	{":status", "200"},
	{":status", "204"},
	{":status", "206"},
	{":status", "304"},
	{":status", "400"},
	{":status", "404"},
	{":status", "500"},
	{"accept-charset", ""},
	{"accept-encoding", "gzip, deflate"},
	{"accept-language", ""},
	{"accept-ranges", ""},
	{"accept", ""},
	{"access-control-allow-origin", ""},
	{"age", ""},
	{"allow", ""},
	{"authorization", ""},
	{"cache-control", ""},
	{"content-disposition", ""},
	{"content-encoding", ""},
	{"content-language", ""},
	{"content-length", ""},
	{"content-location", ""},
	{"content-range", ""},
	{"content-type", ""},
	{"cookie", ""},
	{"date", ""},
	{"etag", ""},
	{"expect", ""},
	{"expires", ""},
	{"from", ""},
	{"host", ""},
	{"if-match", ""},
	{"if-modified-since", ""},
	{"if-none-match", ""},
	{"if-range", ""},
	{"if-unmodified-since", ""},
	{"last-modified", ""},
	{"link", ""},
	{"location", ""},
	{"max-forwards", ""},
	{"proxy-authenticate", ""},
	{"proxy-authorization", ""},
	{"range", ""},
	{"referer", ""},
	{"refresh", ""},
	{"retry-after", ""},
	{"server", ""},
	{"set-cookie", ""},
	{"strict-transport-security", ""},
	{"transfer-encoding", ""},
	{"user-agent", ""},
	{"vary", ""},
	{"via", ""},
	{"www-authenticate", ""},
}
