package har

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"sync/atomic"

	"github.com/ohler55/ojg/oj"
)

// DefaultMaxEntrySize bounds the size of one entry's JSON text, so that a
// broken or hostile file cannot make the reader hold gigabytes for one entry.
const DefaultMaxEntrySize = 512 << 20

// maxDepth bounds nesting in a HAR; real HARs nest a few levels deep and
// bodies are strings, so deeper nesting is an attack or corruption.
const maxDepth = 512

// Warning is a problem in a HAR file that the reader worked around.
type Warning struct {
	// Entry is the index of the entry, -1 for the log itself.
	Entry int
	// Path is where in the entry (or log), e.g. "response.content.size".
	Path string
	Msg  string
	// Skipped is set when the entry was left out: it could not be read
	// at all (see EntryError).
	Skipped bool
}

func (w Warning) String() string {
	if w.Entry < 0 {
		return fmt.Sprintf("log.%s: %s", w.Path, w.Msg)
	}
	return fmt.Sprintf("entries[%d].%s: %s", w.Entry, w.Path, w.Msg)
}

// SyntaxError is a HAR that is not JSON or not shaped like a HAR, with the
// byte offset where reading stopped.
type SyntaxError struct {
	Offset int64
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("har: byte %d: %s", e.Offset, e.Msg)
}

// Reader reads a HAR file one entry at a time.
//
// It reads its input in large blocks (up to maxBlock bytes with one Read)
// and finds where each entry ends with a scan that follows only strings and
// nesting; most of a HAR's bytes are long strings (bodies), which the scan
// crosses at memchr speed. Entries are not copied out of the block unless
// the caller asks for its own copy (NextRaw).
type Reader struct {
	src  io.Reader
	blk  *block // the block buf lives in; nil before the first read
	buf  []byte // bytes read and not yet given up; buf[pos] is the next
	pos  int
	base int64 // file offset of buf[0]
	rerr error // what ended reading the input (io.EOF at its end)
	size int   // size of the next new block
	free chan *block

	log      Log
	state    int // 0 before entries, 1 inside entries, 2 after
	index    int
	warnings []Warning
	cut      []byte
	parser   oj.Parser
	// MaxEntrySize overrides DefaultMaxEntrySize when > 0.
	MaxEntrySize int
	// RequestOnly, set before the first Next, skips each entry's response
	// without parsing it: entries come back with an empty Response (status
	// 0, sizes -1). Consumers that look only at requests (tracker
	// detection) save most of the work on HARs with response bodies.
	RequestOnly bool
	err         error
}

// Block sizes: a small HAR (or a fuzz input) costs a small block, a large
// one is read maxBlock bytes at a time, which keeps the number of read
// calls and of scans interrupted at a block's end low.
const (
	minBlock = 64 << 10
	maxBlock = 4 << 20
)

// block is a buffer the Reader reads into. Entries handed out in a
// RawBatch point into it, so it is reused only when the Reader and every
// RawBatch have let go of it.
type block struct {
	b []byte
	// refs counts the Reader (while it reads into the block) and each
	// RawBatch in it.
	refs atomic.Int32
	free chan *block
}

func (b *block) release() {
	if b.refs.Add(-1) == 0 && len(b.b) == maxBlock {
		select {
		case b.free <- b:
		default: // enough spare blocks: leave this one to the GC
		}
	}
}

// NewReader returns a Reader for the HAR in r.
func NewReader(r io.Reader) *Reader {
	return &Reader{src: r, size: minBlock, free: make(chan *block, 4)}
}

// off is the file offset of the next unread byte.
func (r *Reader) off() int64 { return r.base + int64(r.pos) }

// more reads more input after buf, keeping the unread bytes buf[pos:],
// which it moves to the front of the block (pos becomes 0). It returns the
// read error (io.EOF at the end) when nothing could be added.
func (r *Reader) more() error {
	if r.rerr != nil {
		return r.rerr
	}
	live := len(r.buf) - r.pos
	if r.blk == nil || r.blk.refs.Load() > 1 || live > len(r.blk.b)/2 {
		// A new block: RawBatches still point into the current one, or it
		// is too small for the value being read.
		size := r.size
		for size < 2*live {
			size *= 2
		}
		nb := r.newBlock(size)
		copy(nb.b, r.buf[r.pos:])
		if r.blk != nil {
			r.blk.release()
		}
		r.blk = nb
		if r.size < maxBlock {
			r.size *= 2 // the file is not that small: read more at a time
		}
	} else if r.pos > 0 {
		copy(r.blk.b, r.buf[r.pos:])
	}
	r.base += int64(r.pos)
	r.pos = 0
	b := r.blk.b
	n, err := 0, error(nil)
	for tries := 0; n == 0 && err == nil; tries++ {
		if tries == 100 {
			err = io.ErrNoProgress
			break
		}
		n, err = r.src.Read(b[live:])
	}
	r.buf = b[:live+n]
	if err != nil {
		r.rerr = err
		if n == 0 {
			return err
		}
	}
	return nil
}

func (r *Reader) newBlock(size int) *block {
	var b *block
	if size == maxBlock {
		select {
		case b = <-r.free:
		default:
		}
	}
	if b == nil {
		b = &block{b: make([]byte, size), free: r.free}
	}
	b.refs.Store(1)
	return b
}

// Log returns the log's properties other than the entries. Properties that
// come after the entries in the file are there only once Next has returned
// io.EOF.
func (r *Reader) Log() *Log { return &r.log }

// Warnings returns the problems worked around so far.
func (r *Reader) Warnings() []Warning { return r.warnings }

// Index returns the index of the entry the last Next returned.
func (r *Reader) Index() int { return r.index - 1 }

// Next returns the next entry, or io.EOF after the last one. A SyntaxError
// ends the reading; entries returned before it stay valid.
func (r *Reader) Next() (*Entry, error) {
	if r.err != nil {
		return nil, r.err
	}
	e, err := r.next()
	if err != nil {
		r.fail(err)
	}
	return e, r.err
}

// fail records the error that ends reading; an end of input where more
// was expected becomes a SyntaxError.
func (r *Reader) fail(err error) {
	if err == io.ErrUnexpectedEOF {
		err = r.syntax("unexpected end of file")
	}
	r.err = err
}

func (r *Reader) next() (*Entry, error) {
	if r.state == 0 {
		if err := r.findEntries(); err != nil {
			return nil, err
		}
	}
	for r.state == 1 {
		c, err := r.peekNonSpace()
		if err != nil {
			return nil, err
		}
		switch c {
		case ']':
			r.readByte()
			r.state = 2
			if err := r.finishLog(); err != nil {
				return nil, err
			}
			return nil, io.EOF
		case ',':
			r.readByte()
			continue
		}
		raw, err := r.value()
		if err != nil {
			return nil, err
		}
		if r.RequestOnly {
			raw = withoutResponse(raw, &r.cut)
		}
		v, err := r.parse(raw)
		if err != nil {
			return nil, err
		}
		idx := r.index
		r.index++
		m, ok := v.(map[string]any)
		if !ok {
			// Always recorded: every entry left out must be named.
			r.warnings = append(r.warnings, Warning{Entry: idx, Msg: "entry is not an object; skipped", Skipped: true})
			continue
		}
		c2 := conv{idx: idx, warn: r.warn}
		e := c2.entry(m)
		return e, nil
	}
	return nil, io.EOF
}

func (r *Reader) warn(entry int, path, msg string) {
	// A hostile file could produce a warning per byte; a few thousand say
	// enough.
	if len(r.warnings) < 10000 {
		r.warnings = append(r.warnings, Warning{Entry: entry, Path: path, Msg: msg})
	}
}

func (r *Reader) syntax(msg string) error {
	return &SyntaxError{Offset: r.off(), Msg: msg}
}

// readByte consumes the byte peekNonSpace returned.
func (r *Reader) readByte() { r.pos++ }

// peekNonSpace skips whitespace and returns the next byte, without
// consuming it.
func (r *Reader) peekNonSpace() (byte, error) {
	for {
		for r.pos < len(r.buf) {
			switch c := r.buf[r.pos]; c {
			case ' ', '\t', '\r', '\n':
				r.pos++
			default:
				return c, nil
			}
		}
		if err := r.more(); err != nil {
			return 0, unexpected(err)
		}
	}
}

// unexpected turns the end of input, where more was expected, into
// io.ErrUnexpectedEOF.
func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

func (r *Reader) expect(c byte) error {
	got, err := r.peekNonSpace()
	if err != nil {
		return err
	}
	if got != c {
		return r.syntax(fmt.Sprintf("expected %q, found %q", c, got))
	}
	r.readByte()
	return nil
}

// key reads an object key and the colon after it; it returns ok false at
// the end of the object.
func (r *Reader) key() (string, bool, error) {
	c, err := r.peekNonSpace()
	if err != nil {
		return "", false, err
	}
	if c == ',' {
		r.readByte()
		if c, err = r.peekNonSpace(); err != nil {
			return "", false, err
		}
	}
	if c == '}' {
		r.readByte()
		return "", false, nil
	}
	if c != '"' {
		return "", false, r.syntax(fmt.Sprintf("expected an object key, found %q", c))
	}
	raw, err := r.value()
	if err != nil {
		return "", false, err
	}
	v, err := r.parse(raw)
	if err != nil {
		return "", false, err
	}
	s, _ := v.(string)
	if err := r.expect(':'); err != nil {
		return "", false, err
	}
	return s, true, nil
}

// findEntries reads up to the first entry, keeping the log's other
// properties on the way.
func (r *Reader) findEntries() error {
	// A UTF-8 byte order mark is common in exports from Windows tools.
	for len(r.buf)-r.pos < 3 && r.more() == nil {
	}
	if bytes.HasPrefix(r.buf[r.pos:], []byte{0xef, 0xbb, 0xbf}) {
		r.pos += 3
	}
	if c, err := r.peekNonSpace(); err != nil {
		if err == io.ErrUnexpectedEOF {
			return r.syntax("empty file")
		}
		return err
	} else if c != '{' {
		return r.syntax(fmt.Sprintf("not a HAR: starts with %q", c))
	}
	r.readByte()
	for {
		k, ok, err := r.key()
		if err != nil {
			return err
		}
		if !ok {
			return r.syntax(`no "log" object`)
		}
		if k != "log" {
			if _, err := r.value(); err != nil {
				return err
			}
			continue
		}
		if err := r.expect('{'); err != nil {
			return err
		}
		sawEntries := false
		for {
			k, ok, err := r.key()
			if err != nil {
				return err
			}
			if !ok {
				// A log without entries.
				r.state = 2
				if !sawEntries {
					r.warn(-1, "entries", "missing")
				}
				return r.finishTop()
			}
			if k == "entries" {
				sawEntries = true
				c, err := r.peekNonSpace()
				if err != nil {
					return err
				}
				if c == 'n' {
					if _, err := r.value(); err != nil {
						return err
					}
					r.warn(-1, "entries", "null")
					continue
				}
				if c != '[' {
					return r.syntax(fmt.Sprintf("log.entries is not an array (found %q)", c))
				}
				r.readByte()
				r.state = 1
				return nil
			}
			if err := r.logProperty(k); err != nil {
				return err
			}
		}
	}
}

// finishLog reads the log's properties after the entries.
func (r *Reader) finishLog() error {
	for {
		k, ok, err := r.key()
		if err != nil {
			return err
		}
		if !ok {
			return r.finishTop()
		}
		if err := r.logProperty(k); err != nil {
			return err
		}
	}
}

// finishTop checks the rest of the top-level object; whatever follows it
// is ignored, as browsers ignore it.
func (r *Reader) finishTop() error {
	for {
		_, ok, err := r.key()
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		if _, err := r.value(); err != nil {
			return err
		}
	}
}

func (r *Reader) logProperty(k string) error {
	raw, err := r.value()
	if err != nil {
		return err
	}
	v, err := r.parse(raw)
	if err != nil {
		return err
	}
	c := conv{idx: -1, warn: r.warn}
	c.logProperty(&r.log, k, v)
	return nil
}

func (r *Reader) parse(raw []byte) (v any, err error) {
	// ojg's parser panics on some malformed input (a key without a value);
	// a HAR reader must return an error instead, and start afresh.
	defer func() {
		if p := recover(); p != nil {
			r.parser = oj.Parser{}
			v, err = nil, r.syntax(fmt.Sprintf("malformed JSON value (%v)", p))
		}
	}()
	v, err = r.parser.Parse(raw)
	if err != nil {
		return nil, r.syntax(err.Error())
	}
	return v, nil
}

// value reads one JSON value and returns its bytes, which stay valid until
// the next read; see valueScanner for what is checked.
func (r *Reader) value() ([]byte, error) {
	if _, err := r.peekNonSpace(); err != nil {
		return nil, err
	}
	limit := r.maxEntrySize()
	var s valueScanner
	for {
		done, err := s.scan(r.buf[r.pos:])
		if err != nil {
			r.pos += s.i
			return nil, r.syntax(err.Error())
		}
		if s.i > limit {
			r.pos += s.i
			return nil, r.syntax(fmt.Sprintf("value larger than %d bytes", limit))
		}
		if done {
			break
		}
		if err := r.more(); err != nil {
			r.pos = len(r.buf)
			return nil, unexpected(err)
		}
	}
	if s.i == 0 {
		return nil, r.syntax("expected a value")
	}
	v := r.buf[r.pos : r.pos+s.i]
	r.pos += s.i
	return v, nil
}

func (r *Reader) maxEntrySize() int {
	if r.MaxEntrySize > 0 {
		return r.MaxEntrySize
	}
	return DefaultMaxEntrySize
}

// valueScanner finds where a JSON value ends without interpreting it: only
// strings, escapes and nesting are tracked. That is enough to cut a HAR
// into entries; the parser checks the rest. The scan can be resumed when
// the value goes on past the bytes at hand.
type valueScanner struct {
	i     int // bytes of the value scanned so far
	depth int
	inStr bool
}

var errTooDeep = errors.New("nesting too deep")

// depthDelta is what a byte outside strings does to the nesting depth.
var depthDelta = func() (t [256]int8) {
	t['{'], t['['] = 1, 1
	t['}'], t[']'] = -1, -1
	return t
}()

// scan goes on over b, the value's bytes from its first one. It returns
// true when the value ends at s.i: after its closing quote or bracket, or
// before the delimiter that ends a scalar. Otherwise every byte of b was
// scanned and more are needed. errTooDeep leaves s.i at the bracket.
func (s *valueScanner) scan(b []byte) (bool, error) {
	if s.depth == 0 {
		if s.i == 0 && len(b) > 0 && (b[0] == '{' || b[0] == '[') {
			s.depth, s.i = 1, 1
		} else if done := s.scanScalar(b); done || s.depth == 0 {
			return done, nil
		}
	}
	if haveKernel {
		if done, err, ok := s.scanBlocks(b, false); ok {
			return done, err
		}
	}
	return s.scanBytes(b)
}

// scanBytes is scan's loop over nested values a byte (or, in strings,
// eight bytes) at a time.
func (s *valueScanner) scanBytes(b []byte) (bool, error) {
	i, depth, inStr := s.i, s.depth, s.inStr
	for {
		if inStr {
			// Jump to the next quote, eight bytes at a time inline for
			// short strings (most of them: names, header values), with
			// bytes.IndexByte for long ones (bodies). The quote is escaped
			// when an odd number of backslashes precede it; the string's
			// opening quote is in b, so the backward count stops there at
			// the latest.
			j := i
			for n := 0; ; n++ {
				if n == 4 || j+8 > len(b) {
					if k := bytes.IndexByte(b[j:], '"'); k >= 0 {
						j += k
					} else {
						j = -1
					}
					break
				}
				x := binary.LittleEndian.Uint64(b[j:]) ^ quotes8
				if t := (x - ones8) &^ x & highs8; t != 0 {
					j += bits.TrailingZeros64(t) / 8
					break
				}
				j += 8
			}
			if j < 0 {
				i = len(b)
				break
			}
			i = j + 1
			if b[j-1] == '\\' {
				k := j - 2
				for b[k] == '\\' {
					k--
				}
				if (j-1-k)%2 == 1 {
					continue
				}
			}
			inStr = false
		}
		// Between strings (mostly a few bytes: ":", ",", "},{"), only
		// brackets count.
		for ; i < len(b); i++ {
			c := b[i]
			if c == '"' {
				break
			}
			depth += int(depthDelta[c])
			if uint(depth-1) >= maxDepth { // 0, or too deep
				if depth == 0 {
					s.i, s.depth, s.inStr = i+1, 0, false
					return true, nil
				}
				s.i, s.depth, s.inStr = i, depth, false
				return false, errTooDeep
			}
		}
		if i == len(b) {
			break
		}
		i, inStr = i+1, true
	}
	s.i, s.depth, s.inStr = i, depth, inStr
	return false, nil
}

// scanScalar scans a value that does not start with a bracket: a string
// ends after its closing quote, anything else before a delimiter or a
// closing bracket. An opening bracket in it ("1{...}", malformed: the
// parser says so) starts nesting, which scan goes on with (depth 1).
func (s *valueScanner) scanScalar(b []byte) bool {
	i := s.i
	if s.inStr {
		for {
			j := indexQuote(b, i)
			if j < 0 {
				s.i = len(b)
				return false
			}
			i = j + 1
			k := j - 1
			for b[k] == '\\' {
				k--
			}
			if (j-1-k)%2 == 0 {
				s.i, s.inStr = i, false
				return true
			}
		}
	}
	for ; i < len(b); i++ {
		switch b[i] {
		case '"':
			s.i, s.inStr = i+1, true
			return s.scanScalar(b)
		case '{', '[':
			// "1{...}": the rest is scanned as a nested value.
			s.i, s.depth = i+1, 1
			return false
		case '}', ']', ',', ' ', '\t', '\r', '\n', ':':
			s.i = i
			return true
		}
	}
	s.i = i
	return false
}

// Constants of the eight-bytes-at-a-time search for a quote.
const (
	ones8   = 0x0101010101010101
	highs8  = 0x8080808080808080
	quotes8 = 0x2222222222222222
)

// indexQuote returns the index of the first '"' in b at or after i, or -1.
// Most strings in a HAR are short (names, header values): for them, testing
// eight bytes at a time inline beats calling bytes.IndexByte, which wins on
// long ones (bodies).
func indexQuote(b []byte, i int) int {
	for k := 0; k < 4 && i+8 <= len(b); k++ {
		// A zero byte in x is a quote; the lowest flagged byte is exact.
		x := binary.LittleEndian.Uint64(b[i:]) ^ quotes8
		if t := (x - ones8) &^ x & highs8; t != 0 {
			return i + bits.TrailingZeros64(t)/8
		}
		i += 8
	}
	n := bytes.IndexByte(b[i:], '"')
	if n < 0 {
		return -1
	}
	return i + n
}

// ReadAll reads a whole HAR into memory. Use it only for files known to be
// small; Reader streams.
func ReadAll(rd io.Reader) (*HAR, []Warning, error) {
	r := NewReader(rd)
	var entries []Entry
	for {
		e, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, r.Warnings(), err
		}
		entries = append(entries, *e)
	}
	h := &HAR{Log: r.log}
	h.Log.Entries = entries
	return h, r.Warnings(), nil
}
