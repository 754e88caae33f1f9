package har

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/ohler55/ojg/oj"
)

// NextRaw returns the JSON text of the next entry and the entry's index, or
// io.EOF after the last entry. The bytes are the caller's. Together with
// ParseEntry it lets callers parse entries on several goroutines while one
// goroutine reads; RequestOnly does not apply (ParseRequest does that work
// on the caller's goroutine). NextBatch does the same without copying.
func (r *Reader) NextRaw() ([]byte, int, error) {
	if r.err != nil {
		return nil, 0, r.err
	}
	raw, idx, err := r.nextRaw()
	if err != nil {
		r.fail(err)
		return nil, 0, r.err
	}
	return bytes.Clone(raw), idx, nil
}

func (r *Reader) nextRaw() ([]byte, int, error) {
	if r.state == 0 {
		if err := r.findEntries(); err != nil {
			return nil, 0, err
		}
	}
	for r.state == 1 {
		c, err := r.peekNonSpace()
		if err != nil {
			return nil, 0, err
		}
		switch c {
		case ']':
			r.readByte()
			r.state = 2
			if err := r.finishLog(); err != nil {
				return nil, 0, err
			}
			return nil, 0, io.EOF
		case ',':
			r.readByte()
			continue
		}
		raw, err := r.value()
		if err != nil {
			return nil, 0, err
		}
		idx := r.index
		r.index++
		return raw, idx, nil
	}
	return nil, 0, io.EOF
}

// RawBatch is the JSON text of consecutive entries as NextBatch read them.
// The texts point into the Reader's buffer, so nothing is copied; they stay
// valid until Release, after which the buffer is reused.
type RawBatch struct {
	// First is the index of the first entry in the HAR's entries.
	First int
	Texts [][]byte
	blk   *block
}

// Release gives the batch's buffer back to the Reader. The texts must not
// be used afterwards.
func (b *RawBatch) Release() {
	if b.blk != nil {
		b.blk.release()
		b.blk = nil
	}
	b.Texts = nil
}

// NextBatch returns the texts of up to max next entries (at least one), or
// io.EOF after the last entry, like NextRaw but without copying them: a
// pipeline that parses entries on other goroutines hands the batch on and
// releases it when done. Memory stays bounded only if batches are released:
// the Reader needs a new buffer whenever one it filled is still in use.
// Entries before a SyntaxError come in a batch; the error comes with the
// next call.
func (r *Reader) NextBatch(max int) (*RawBatch, error) {
	if r.err != nil {
		return nil, r.err
	}
	b := &RawBatch{First: r.index, Texts: make([][]byte, 0, max)}
	for len(b.Texts) < max {
		var raw []byte
		if len(b.Texts) == 0 {
			// The first entry may need reading (and moving what was
			// read, which is why later ones may not).
			var err error
			raw, _, err = r.nextRaw()
			if err != nil {
				r.fail(err)
				return nil, r.err
			}
		} else if raw = r.nextBuffered(); raw == nil {
			break // the next entry needs reading: the next batch's first
		}
		b.Texts = append(b.Texts, raw)
	}
	b.blk = r.blk
	b.blk.refs.Add(1)
	return b, nil
}

// nextBuffered returns the next entry if it is whole in the buffer, and
// nil when reading is needed, at the end of the entries or on an error
// (nextRaw then takes over).
func (r *Reader) nextBuffered() []byte {
	if r.state != 1 {
		return nil
	}
	i := r.pos
	for ; i < len(r.buf); i++ {
		switch r.buf[i] {
		case ' ', '\t', '\r', '\n', ',':
			continue
		case ']':
			return nil
		}
		break
	}
	if i == len(r.buf) {
		return nil
	}
	var s valueScanner
	done, err := s.scan(r.buf[i:])
	if !done || err != nil || s.i == 0 || s.i > r.maxEntrySize() {
		return nil
	}
	r.pos = i + s.i
	r.index++
	return r.buf[i:r.pos]
}

var parserPool = sync.Pool{New: func() any { return new(oj.Parser) }}

// ParseEntry parses one entry's JSON text as Reader.Next does; index is
// the entry's index, used in warnings. An entry that is not a JSON object
// is an error.
func ParseEntry(raw []byte, index int) (e *Entry, warnings []Warning, err error) {
	p := parserPool.Get().(*oj.Parser)
	defer func() {
		if rec := recover(); rec != nil {
			// ojg's parser panics on some malformed input; do not reuse it.
			e, err = nil, &EntryError{Index: index, Err: fmt.Errorf("malformed JSON value (%v)", rec)}
			return
		}
		parserPool.Put(p)
	}()
	v, perr := p.Parse(raw)
	if perr != nil {
		return nil, nil, &EntryError{Index: index, Err: perr}
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, nil, &EntryError{Index: index, Err: errNotObject}
	}
	c := conv{idx: index, warn: func(entry int, path, msg string) {
		if len(warnings) < 100 {
			warnings = append(warnings, Warning{Entry: entry, Path: path, Msg: msg})
		}
	}}
	return c.entry(m), warnings, nil
}

var errNotObject = errors.New("entry is not an object")

// EntryError is an entry that cannot be read at all (not a JSON object,
// malformed JSON): readers leave it out, and whoever reports on the HAR
// must say so, with Index, the entry's index in log.entries.
type EntryError struct {
	Index int
	Err   error
}

func (e *EntryError) Error() string { return fmt.Sprintf("har: entry %d: %v", e.Index, e.Err) }

func (e *EntryError) Unwrap() error { return e.Err }

// ParseRequest is ParseEntry for entries read with RequestOnly in mind: the
// response and exporters' extensions are skipped unparsed, and the Entry's
// Response is empty.
func ParseRequest(raw []byte, index int) (*Entry, []Warning, error) {
	if e := decodeRequest(raw); e != nil {
		return e, nil, nil
	}
	if m, ok := parseRequestOnly(raw); ok {
		var warnings []Warning
		c := conv{idx: index, warn: func(entry int, path, msg string) {
			if len(warnings) < 100 {
				warnings = append(warnings, Warning{Entry: entry, Path: path, Msg: msg})
			}
		}}
		return c.entry(m), warnings, nil
	}
	var buf []byte
	return ParseEntry(withoutResponse(raw, &buf), index)
}

// parseRequestOnly returns the generic form of the entry's members in
// requestOnlyKeys, exactly what withoutResponse and ojg's parser give
// together, when the entry is plain JSON; ok is false for anything else
// (ParseRequest then takes the slower path, with its exact errors). It is
// the hot path of detection for the entries that go to a tracker: it
// crosses strings (JSON bodies with escaped quotes, mostly) at memchr speed
// and builds the cut entry in no buffer.
func parseRequestOnly(raw []byte) (m map[string]any, ok bool) {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return nil, false
	}
	i++
	m = make(map[string]any, len(requestOnlyKeys))
	p := plainParser{b: raw}
	defer p.release()
	// The same walk as withoutResponse's, which ignores what follows the
	// entry's closing brace.
	for n := 0; ; n++ {
		i = skipSpace(raw, i)
		if n == 0 && i < len(raw) && raw[i] == '}' {
			return m, true
		}
		if i >= len(raw) || raw[i] != '"' {
			return nil, false
		}
		kend := skipString(raw, i)
		if kend < 0 {
			return nil, false
		}
		key := raw[i+1 : kend-1]
		i = skipSpace(raw, kend)
		if i >= len(raw) || raw[i] != ':' {
			return nil, false
		}
		vs := skipSpace(raw, i+1)
		var ve int
		if requestOnlyKeys[string(key)] {
			// The keys kept have no escapes: the text is the name.
			var v any
			if v, ve, ok = p.value(vs, 0); !ok {
				return nil, false
			}
			m[string(key)] = v
		} else if ve = skipValue(raw, vs); ve < 0 {
			return nil, false
		}
		i = skipSpace(raw, ve)
		if i < len(raw) && raw[i] == '}' {
			return m, true
		}
		if i >= len(raw) || raw[i] != ',' {
			return nil, false
		}
		i++
	}
}

// plainParser parses the JSON that needs no special care into the generic
// form ojg's parser gives (map[string]any, []any, string, int64, float64,
// bool, nil): whitespace only of the four kinds, numbers that fit ojg's
// int64 and float64 (not its json.Number), no control characters in
// strings. Anything else is not ok, so that the caller can leave it to
// ojg. Invalid UTF-8 is kept as it is, and a \u escape of a surrogate
// becomes U+FFFD on its own, as ojg does.
type plainParser struct {
	b       []byte
	scratch *[]byte // str's buffer for unescaping, from scratchPool
	// arena holds the parsed strings: they are copied into it rather than
	// allocated one by one (a request has hundreds). Its bytes are never
	// written again once a string points at them: a full arena is left to
	// its strings and a new one started.
	arena []byte
	nvs   []NameValue // nameValues' list while it grows
}

// arenaSize is the size of a plainParser's first arena; later ones double
// up to maxArena. Strings of more than a quarter of it get their own
// allocation, so that at most a quarter of an arena is wasted at its end.
const (
	arenaSize = 2 << 10
	maxArena  = 64 << 10
)

// keep returns a string that holds b's bytes and points into no buffer
// that is used again (neither the entry's text nor the scratch buffer).
func (p *plainParser) keep(b []byte) string {
	n := len(b)
	if n == 0 {
		return ""
	}
	if n > cap(p.arena)-len(p.arena) {
		size := min(max(2*cap(p.arena), arenaSize), maxArena)
		if n > size/4 {
			return string(b)
		}
		p.arena = make([]byte, 0, size)
	}
	start := len(p.arena)
	p.arena = append(p.arena, b...)
	return unsafe.String(&p.arena[start], n)
}

// scratchPool holds the buffers strings with escapes are unescaped in,
// which plainParsers borrow for an entry: the longest strings (JSON
// bodies) would otherwise cost a buffer grown several times per entry.
var scratchPool = sync.Pool{New: func() any { return new([]byte) }}

// release gives the parser's scratch buffer back, unless it grew too large
// to keep.
func (p *plainParser) release() {
	if p.scratch != nil && cap(*p.scratch) <= 4<<20 {
		scratchPool.Put(p.scratch)
	}
	p.scratch = nil
}

// value parses the value at b[i] and returns it with the index after it.
func (p *plainParser) value(i, depth int) (v any, end int, ok bool) {
	b := p.b
	if i >= len(b) {
		return nil, 0, false
	}
	switch c := b[i]; {
	case c == '"':
		return p.strAny(i)
	case c == '{':
		if depth >= maxDepth {
			return nil, 0, false
		}
		m := make(map[string]any)
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == '}' {
			return m, i + 1, true
		}
		for {
			if i >= len(b) || b[i] != '"' {
				return nil, 0, false
			}
			k, e, ok := p.str(i)
			if !ok {
				return nil, 0, false
			}
			i = skipSpace(b, e)
			if i >= len(b) || b[i] != ':' {
				return nil, 0, false
			}
			v, e, ok := p.value(skipSpace(b, i+1), depth+1)
			if !ok {
				return nil, 0, false
			}
			m[k] = v
			i = skipSpace(b, e)
			if i < len(b) && b[i] == ',' {
				i = skipSpace(b, i+1)
				continue
			}
			if i < len(b) && b[i] == '}' {
				return m, i + 1, true
			}
			return nil, 0, false
		}
	case c == '[':
		if depth >= maxDepth {
			return nil, 0, false
		}
		l := []any{}
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == ']' {
			return l, i + 1, true
		}
		for {
			v, e, ok := p.value(i, depth+1)
			if !ok {
				return nil, 0, false
			}
			l = append(l, v)
			i = skipSpace(b, e)
			if i < len(b) && b[i] == ',' {
				i = skipSpace(b, i+1)
				continue
			}
			if i < len(b) && b[i] == ']' {
				return l, i + 1, true
			}
			return nil, 0, false
		}
	case c == 't':
		if bytes.HasPrefix(b[i:], []byte("true")) {
			return true, i + 4, true
		}
	case c == 'f':
		if bytes.HasPrefix(b[i:], []byte("false")) {
			return false, i + 5, true
		}
	case c == 'n':
		if bytes.HasPrefix(b[i:], []byte("null")) {
			return nil, i + 4, true
		}
	case c == '-' || '0' <= c && c <= '9':
		return p.number(i)
	}
	return nil, 0, false
}

// number parses -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)? within the limits where
// ojg gives an int64 (no fraction, no exponent or a zero one) or the
// float64 strconv.ParseFloat makes of the same digits.
func (p *plainParser) number(i int) (any, int, bool) {
	b := p.b
	start := i
	if b[i] == '-' {
		i++
	}
	intStart := i
	for i < len(b) && '0' <= b[i] && b[i] <= '9' {
		i++
	}
	nInt := i - intStart
	if nInt == 0 || nInt > 18 || nInt > 1 && b[intStart] == '0' {
		return nil, 0, false
	}
	frac, exp := false, int64(0)
	if i < len(b) && b[i] == '.' {
		i++
		fs := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if n := i - fs; n == 0 || n > 17 {
			return nil, 0, false
		}
		frac = true
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		if !frac && b[intStart] == '0' {
			return nil, 0, false // ojg refuses "0e1"
		}
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		es := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			exp = exp*10 + int64(b[i]-'0')
			i++
		}
		if n := i - es; n == 0 || n > 3 {
			return nil, 0, false
		}
	}
	if !frac && exp == 0 {
		// An integer, also with an exponent of zero ("5e0"), as in ojg.
		var n int64
		for _, c := range b[intStart : intStart+nInt] {
			n = n*10 + int64(c-'0')
		}
		if b[start] == '-' {
			n = -n
		}
		return n, i, true
	}
	f, _ := strconv.ParseFloat(string(b[start:i]), 64)
	return f, i, true
}

// strAny is str for value.
func (p *plainParser) strAny(i int) (any, int, bool) {
	s, end, ok := p.str(i)
	if !ok {
		return nil, 0, false
	}
	return s, end, true
}

// str parses the string starting at b[i].
func (p *plainParser) str(i int) (string, int, bool) {
	b := p.b
	// Most strings have no escape: one pass finds their end.
	j := nextSpecial(b, i+1, true)
	if j == len(b) || b[j] < 0x20 {
		return "", 0, false
	}
	if b[j] == '"' {
		return p.keep(b[i+1 : j]), j + 1, true
	}
	// Escapes (JSON bodies are full of \", a few bytes apart): the string
	// is unescaped into a scratch buffer that the parser keeps, from the
	// plain bytes nextSpecial passed on.
	if p.scratch == nil {
		p.scratch = scratchPool.Get().(*[]byte)
	}
	buf := (*p.scratch)[:cap(*p.scratch)]
	if m := j - (i + 1); m+8 > len(buf) {
		buf = make([]byte, max(2*len(buf), m+64, 256))
	}
	n := copy(buf, b[i+1:j])
	for {
		// Runs of plain bytes, eight at a time, each word stored as it is
		// tested: the bytes after the special one are overwritten later
		// or lie beyond n. All in one loop: JSON bodies have an escape
		// every few bytes, and a call per run cost more than the copy.
		for j+8 <= len(b) {
			if n+8 > len(buf) {
				buf = growScratch(buf, n)
			}
			x := binary.LittleEndian.Uint64(b[j:])
			binary.LittleEndian.PutUint64(buf[n:], x)
			w := x ^ 0x02*ones8
			y := x ^ 0x5c5c5c5c5c5c5c5c
			// Control characters and quotes, backslashes; the lowest
			// flagged byte is exact (see nextSpecial).
			if t := ((w-0x21*ones8)&^w | (y-ones8)&^y) & highs8; t != 0 {
				k := bits.TrailingZeros64(t) / 8
				j += k
				n += k
				goto special
			}
			j += 8
			n += 8
		}
		for ; j < len(b) && strPlain[b[j]]; j++ {
			if n == len(buf) {
				buf = growScratch(buf, n)
			}
			buf[n] = b[j]
			n++
		}
	special:
		if j == len(b) || b[j] < 0x20 {
			return "", 0, false
		}
		if b[j] == '"' {
			*p.scratch = buf
			return p.keep(buf[:n]), j + 1, true
		}
		// b[j] is a backslash.
		if j+1 >= len(b) {
			return "", 0, false
		}
		if n+utf8.UTFMax > len(buf) {
			buf = growScratch(buf, n)
		}
		switch e := b[j+1]; e {
		case '"', '\\', '/':
			buf[n] = e
		case 'b':
			buf[n] = '\b'
		case 'f':
			buf[n] = '\f'
		case 'n':
			buf[n] = '\n'
		case 'r':
			buf[n] = '\r'
		case 't':
			buf[n] = '\t'
		case 'u':
			if j+6 > len(b) {
				return "", 0, false
			}
			var r rune
			for _, h := range b[j+2 : j+6] {
				if !isHexDigit(h) {
					return "", 0, false
				}
				r = r<<4 | rune(unhexDigit(h))
			}
			// A surrogate on its own becomes U+FFFD, as in ojg.
			n += utf8.EncodeRune(buf[n:], r) - 1
			j += 4
		default:
			return "", 0, false
		}
		n++
		j += 2
	}
}

// growScratch returns buf with room for at least 64 more bytes after n,
// buf[:n] kept.
func growScratch(buf []byte, n int) []byte {
	nb := make([]byte, max(2*len(buf), n+64, 256))
	copy(nb, buf[:n])
	return nb
}

// strPlain marks the bytes a string holds as they are: not a control
// character, quote or backslash.
var strPlain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// nextSpecial returns the index of the first byte at or after i that is a
// backslash or a control character (or a quote, with quotes set), or
// len(s); eight bytes at a time.
func nextSpecial(s []byte, i int, quotes bool) int {
	// Bytes below lim after an XOR with flip: control characters, and
	// with quotes also the quote (0x22 ^ 0x02 = 0x20, while the control
	// characters stay below 0x20 and the rest at or above 0x21).
	flip, lim := uint64(0), uint64(0x20*ones8)
	if quotes {
		flip, lim = 0x02*ones8, 0x21*ones8
	}
	for ; i+8 <= len(s); i += 8 {
		x := binary.LittleEndian.Uint64(s[i:])
		w := x ^ flip
		y := x ^ 0x5c5c5c5c5c5c5c5c
		// One term flags bytes below lim, the other backslashes; the
		// lowest flagged byte of each is exact, so the lowest of both is.
		if t := ((w-lim)&^w | (y-ones8)&^y) & highs8; t != 0 {
			return i + bits.TrailingZeros64(t)/8
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '\\' || quotes && c == '"' {
			return i
		}
	}
	return len(s)
}

// decodeRequest is the fast path of ParseRequest: the members in
// requestOnlyKeys of an entry in plain JSON (see plainParser), decoded
// straight into an Entry, which is what conv makes of parseRequestOnly's
// result whenever conv has nothing to warn about. For anything else (a
// value of an unexpected type, a date that needs a warning, escapes in
// keys) it returns nil, and the generic path does the work. A member given
// twice counts with its last value, as through a map.
func decodeRequest(raw []byte) *Entry {
	var nvs [32]NameValue // nameValues' lists grow here first: one allocation
	p := plainParser{b: raw, nvs: nvs[:0]}
	defer p.release()
	e := &Entry{Timings: NoTimings}
	e.Request.HeadersSize, e.Request.BodySize = -1, -1
	e.Response.HeadersSize, e.Response.BodySize = -1, -1
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return nil
	}
	i++
	// The walk of withoutResponse (and parseRequestOnly).
	for n := 0; ; n++ {
		i = skipSpace(raw, i)
		if n == 0 && i < len(raw) && raw[i] == '}' {
			return e
		}
		if i >= len(raw) || raw[i] != '"' {
			return nil
		}
		kend := skipString(raw, i)
		if kend < 0 {
			return nil
		}
		key := raw[i+1 : kend-1]
		i = skipSpace(raw, kend)
		if i >= len(raw) || raw[i] != ':' {
			return nil
		}
		vs := skipSpace(raw, i+1)
		ve, ok := 0, true
		switch string(key) {
		case "request":
			req := Request{HeadersSize: -1, BodySize: -1}
			if ve, ok = p.null(vs); !ok {
				ve, ok = p.request(vs, &req)
			}
			e.Request = req
		case "startedDateTime":
			var t string
			if ve, ok = p.null(vs); ok {
				e.StartedDateTime = time.Time{}
			} else if t, ve, ok = p.text(vs); ok {
				e.StartedDateTime, ok = parseTime(t)
			}
		case "time":
			e.Time, ve, ok = p.num(vs, 0)
		case "pageref":
			e.Pageref, ve, ok = p.textOrNull(vs)
		case "serverIPAddress":
			var a string
			a, ve, ok = p.textOrNull(vs)
			e.ServerIPAddress = strings.Trim(a, "[]")
		case "connection":
			e.Connection, ve, ok = p.textOrNull(vs)
		case "comment":
			e.Comment, ve, ok = p.textOrNull(vs)
		case "_timestamp":
			e.Timestamp, ve, ok = p.num(vs, 0)
		case "_communityId":
			e.CommunityID, ve, ok = p.textOrNull(vs)
		case "_incomplete":
			var b *bool
			b, ve, ok = p.boolOrNull(vs)
			e.Incomplete = b != nil && *b
		default:
			if requestOnlyKeys[string(key)] {
				return nil // a key the cases above miss
			}
			if ve = skipValue(raw, vs); ve < 0 {
				return nil
			}
		}
		if !ok {
			return nil
		}
		i = skipSpace(raw, ve)
		if i < len(raw) && raw[i] == '}' {
			return e
		}
		if i >= len(raw) || raw[i] != ',' {
			return nil
		}
		i++
	}
}

// parseTime is conv.time for a non-empty string, ok false where conv warns.
func parseTime(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// request decodes a request object into r.
func (p *plainParser) request(i int, r *Request) (int, bool) {
	return p.object(i, func(key []byte, i int) (end int, ok bool) {
		switch string(key) {
		case "method":
			r.Method, end, ok = p.textOrNull(i)
		case "url":
			r.URL, end, ok = p.textOrNull(i)
		case "httpVersion":
			r.HTTPVersion, end, ok = p.textOrNull(i)
		case "cookies":
			r.Cookies, end, ok = p.cookies(i)
		case "headers":
			r.Headers, end, ok = p.nameValues(i)
		case "queryString":
			r.QueryString, end, ok = p.nameValues(i)
		case "postData":
			if end, ok = p.null(i); ok {
				r.PostData = nil
			} else {
				pd := &PostData{}
				end, ok = p.postData(i, pd)
				r.PostData = pd
			}
		case "headersSize":
			r.HeadersSize, end, ok = p.int(i, -1)
		case "bodySize":
			r.BodySize, end, ok = p.int(i, -1)
		case "comment":
			r.Comment, end, ok = p.textOrNull(i)
		case "_timestamp":
			r.Timestamp, end, ok = p.num(i, 0)
		default:
			var v any
			if v, end, ok = p.value(i, 2); ok {
				r.Extra.Set(p.keep(key), v)
			}
		}
		return end, ok
	})
}

func (p *plainParser) postData(i int, pd *PostData) (int, bool) {
	var sawEncoding, sawOther bool
	end, ok := p.object(i, func(key []byte, i int) (end int, ok bool) {
		switch string(key) {
		case "mimeType":
			pd.MimeType, end, ok = p.textOrNull(i)
		case "text":
			pd.Text, end, ok = p.textOrNull(i)
		case "encoding", "_encoding":
			sawEncoding = sawEncoding || string(key) == "encoding"
			sawOther = sawOther || string(key) == "_encoding"
			pd.Encoding, end, ok = p.textOrNull(i)
		case "comment":
			pd.Comment, end, ok = p.textOrNull(i)
		case "params":
			var params []Param
			if end, ok = p.null(i); ok {
				pd.Params = nil
				break
			}
			end, ok = p.array(i, func(i int) (end int, ok bool) {
				var q Param
				if end, ok = p.null(i); !ok {
					end, ok = p.object(i, func(key []byte, i int) (end int, ok bool) {
						switch string(key) {
						case "name":
							q.Name, end, ok = p.textOrNull(i)
						case "value":
							q.Value, end, ok = p.textOrNull(i)
						case "fileName":
							q.FileName, end, ok = p.textOrNull(i)
						case "contentType":
							q.ContentType, end, ok = p.textOrNull(i)
						case "comment":
							q.Comment, end, ok = p.textOrNull(i)
						default:
							_, end, ok = p.value(i, 4)
						}
						return end, ok
					})
				}
				params = append(params, q)
				return end, ok
			})
			pd.Params = params
		default:
			var v any
			if v, end, ok = p.value(i, 3); ok {
				pd.Extra.Set(p.keep(key), v)
			}
		}
		return end, ok
	})
	if sawEncoding && sawOther {
		// Which one conv keeps depends on map order: leave it to conv.
		return 0, false
	}
	return end, ok
}

// nameValues decodes a list of {name, value, comment} objects; null is an
// empty list, as in conv.
func (p *plainParser) nameValues(i int) ([]NameValue, int, bool) {
	if end, ok := p.null(i); ok {
		return []NameValue{}, end, true
	}
	// The list grows in the parser's buffer and is copied out at its
	// size: one allocation.
	list := p.nvs[:0]
	end, ok := p.array(i, func(i int) (end int, ok bool) {
		var nv NameValue
		if end, ok = p.nameValue(i, &nv); ok {
			list = append(list, nv)
			return end, true
		}
		if end, ok = p.null(i); !ok {
			end, ok = p.object(i, func(key []byte, i int) (end int, ok bool) {
				switch string(key) {
				case "name":
					nv.Name, end, ok = p.textOrNull(i)
				case "value":
					nv.Value, end, ok = p.textOrNull(i)
				case "comment":
					nv.Comment, end, ok = p.textOrNull(i)
				default:
					_, end, ok = p.value(i, 4)
				}
				return end, ok
			})
		}
		list = append(list, nv)
		return end, ok
	})
	p.nvs = list
	out := make([]NameValue, len(list))
	copy(out, list)
	return out, end, ok
}

// nameValue reads the object at b[i] into nv when it is exactly
// {"name":"...","value":"..."} (what tracewire and most exporters write),
// which the general walk of nameValues would read the same way.
func (p *plainParser) nameValue(i int, nv *NameValue) (int, bool) {
	const pre, mid = `{"name":"`, `,"value":"`
	b := p.b
	if !bytes.HasPrefix(b[i:], []byte(pre)) {
		return 0, false
	}
	name, e, ok := p.str(i + len(pre) - 1)
	if !ok || !bytes.HasPrefix(b[e:], []byte(mid)) {
		return 0, false
	}
	value, e, ok := p.str(e + len(mid) - 1)
	if !ok || e >= len(b) || b[e] != '}' {
		return 0, false
	}
	nv.Name, nv.Value = name, value
	return e + 1, true
}

func (p *plainParser) cookies(i int) ([]Cookie, int, bool) {
	out := []Cookie{}
	if end, ok := p.null(i); ok {
		return out, end, true
	}
	end, ok := p.array(i, func(i int) (end int, ok bool) {
		var ck Cookie
		if end, ok = p.null(i); !ok {
			end, ok = p.object(i, func(key []byte, i int) (end int, ok bool) {
				switch string(key) {
				case "name":
					ck.Name, end, ok = p.textOrNull(i)
				case "value":
					ck.Value, end, ok = p.textOrNull(i)
				case "path":
					ck.Path, end, ok = p.textOrNull(i)
				case "domain":
					ck.Domain, end, ok = p.textOrNull(i)
				case "expires":
					ck.Expires, end, ok = p.textOrNull(i)
				case "httpOnly":
					ck.HTTPOnly, end, ok = p.boolOrNull(i)
				case "secure":
					ck.Secure, end, ok = p.boolOrNull(i)
				case "comment":
					ck.Comment, end, ok = p.textOrNull(i)
				default:
					_, end, ok = p.value(i, 4)
				}
				return end, ok
			})
		}
		out = append(out, ck)
		return end, ok
	})
	return out, end, ok
}

// object calls f with each member of the object at b[i] (f parses the
// value and returns the index after it), in the grammar of value. Keys
// with escapes are not handled.
func (p *plainParser) object(i int, f func(key []byte, i int) (int, bool)) (int, bool) {
	b := p.b
	if i >= len(b) || b[i] != '{' {
		return 0, false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, true
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return 0, false
		}
		kend := skipString(b, i)
		if kend < 0 {
			return 0, false
		}
		key := b[i+1 : kend-1]
		if nextSpecial(key, 0, false) < len(key) {
			return 0, false
		}
		i = skipSpace(b, kend)
		if i >= len(b) || b[i] != ':' {
			return 0, false
		}
		e, ok := f(key, skipSpace(b, i+1))
		if !ok {
			return 0, false
		}
		i = skipSpace(b, e)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
			continue
		}
		if i < len(b) && b[i] == '}' {
			return i + 1, true
		}
		return 0, false
	}
}

// array calls f with the start of each element of the array at b[i].
func (p *plainParser) array(i int, f func(i int) (int, bool)) (int, bool) {
	b := p.b
	if i >= len(b) || b[i] != '[' {
		return 0, false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, true
	}
	for {
		e, ok := f(i)
		if !ok {
			return 0, false
		}
		i = skipSpace(b, e)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
			continue
		}
		if i < len(b) && b[i] == ']' {
			return i + 1, true
		}
		return 0, false
	}
}

// null reports whether b[i] starts a null, and the index after it.
func (p *plainParser) null(i int) (int, bool) {
	if bytes.HasPrefix(p.b[i:], []byte("null")) {
		return i + 4, true
	}
	return 0, false
}

// text is a string value.
func (p *plainParser) text(i int) (string, int, bool) {
	if i >= len(p.b) || p.b[i] != '"' {
		return "", 0, false
	}
	return p.str(i)
}

// textOrNull is conv.str for the types it takes without a warning and
// without formatting: a string, or null as "".
func (p *plainParser) textOrNull(i int) (string, int, bool) {
	if end, ok := p.null(i); ok {
		return "", end, true
	}
	return p.text(i)
}

// num is conv.num without its warnings: null, NaN and infinities are def.
func (p *plainParser) num(i int, def float64) (float64, int, bool) {
	if end, ok := p.null(i); ok {
		return def, end, true
	}
	if i >= len(p.b) || p.b[i] != '-' && (p.b[i] < '0' || p.b[i] > '9') {
		return 0, 0, false
	}
	v, end, ok := p.number(i)
	if !ok {
		return 0, 0, false
	}
	switch v := v.(type) {
	case int64:
		return float64(v), end, true
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return def, end, true
		}
		return v, end, true
	}
	return 0, 0, false
}

// int is conv.int without its warnings.
func (p *plainParser) int(i int, def int64) (int64, int, bool) {
	if i < len(p.b) && (p.b[i] == '-' || '0' <= p.b[i] && p.b[i] <= '9') {
		if v, end, ok := p.number(i); ok {
			if n, isInt := v.(int64); isInt {
				return n, end, true
			}
		}
	}
	f, end, ok := p.num(i, float64(def))
	if !ok {
		return 0, 0, false
	}
	if f > math.MaxInt64 || f < math.MinInt64 {
		return def, end, true
	}
	return int64(f), end, true
}

// boolOrNull is a boolean as conv keeps it (a pointer), or null as nil.
func (p *plainParser) boolOrNull(i int) (*bool, int, bool) {
	if end, ok := p.null(i); ok {
		return nil, end, true
	}
	v, end, ok := p.value(i, 0)
	if b, isBool := v.(bool); ok && isBool {
		return &b, end, true
	}
	return nil, 0, false
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhexDigit(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// requestOnlyKeys are the entry members RequestOnly keeps; the response,
// timings, cache and exporters' extensions (_initiator, ...) are dropped
// unparsed.
var requestOnlyKeys = map[string]bool{
	"request": true, "startedDateTime": true, "time": true, "pageref": true,
	"serverIPAddress": true, "connection": true, "comment": true,
	"_timestamp": true, "_communityId": true, "_incomplete": true,
}

// withoutResponse returns the entry text with only the members in
// requestOnlyKeys, built in buf; it returns raw unchanged when the text is
// not a well-formed object (the parser then reports the problem).
func withoutResponse(raw []byte, buf *[]byte) []byte {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return raw
	}
	out := append((*buf)[:0], '{')
	i++
	for n := 0; ; n++ {
		i = skipSpace(raw, i)
		if n == 0 && i < len(raw) && raw[i] == '}' {
			break
		}
		if i >= len(raw) || raw[i] != '"' {
			return raw
		}
		ks := i
		kend := skipString(raw, i)
		if kend < 0 {
			return raw
		}
		key := raw[i+1 : kend-1]
		i = skipSpace(raw, kend)
		if i >= len(raw) || raw[i] != ':' {
			return raw
		}
		vs := skipSpace(raw, i+1)
		ve := skipValue(raw, vs)
		if ve < 0 {
			return raw
		}
		if requestOnlyKeys[string(key)] {
			if len(out) > 1 {
				out = append(out, ',')
			}
			out = append(out, raw[ks:ve]...)
		}
		i = skipSpace(raw, ve)
		if i < len(raw) && raw[i] == '}' {
			break
		}
		if i >= len(raw) || raw[i] != ',' {
			return raw
		}
		i++
	}
	out = append(out, '}')
	*buf = out
	return out
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at b[i] ('"'),
// or -1.
func skipString(b []byte, i int) int {
	i++
	for {
		j := indexQuote(b, i)
		if j < 0 {
			return -1
		}
		// The quote is escaped when an odd number of backslashes precede it.
		k := j - 1
		for k >= i && b[k] == '\\' {
			k--
		}
		if (j-1-k)%2 == 0 {
			return j + 1
		}
		i = j + 1
	}
}

// skipValue returns the index after the JSON value starting at b[i], or -1.
func skipValue(b []byte, i int) int {
	if haveKernel && i < len(b) && (b[i] == '{' || b[i] == '[') {
		// Objects and lists (a response, mostly) go through the vector
		// scan that cuts entries, which agrees with the loop below on
		// every value it finishes (FuzzSkipValue).
		var s valueScanner
		if done, err := s.scan(b[i:]); done && err == nil {
			return i + s.i
		}
	}
	return skipValueBytes(b, i)
}

// skipValueBytes is skipValue a byte (in strings, eight bytes) at a time.
func skipValueBytes(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = skipString(b, i)
				if i < 0 {
					return -1
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return -1
	}
	start := i
	for i < len(b) {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\r', '\n':
			if i == start {
				return -1
			}
			return i
		}
		i++
	}
	return i
}

// PeekRequest returns the request method and URL of an entry's JSON text
// without parsing the rest, for callers that decide from the URL alone
// whether an entry needs a full parse. ok is false when they cannot be
// found as plain strings (ParseEntry then says what is wrong). It reads
// only up to the request's url and method members: raw is meant to be an
// entry as the Reader cut it, whose nesting is balanced.
func PeekRequest(raw []byte) (method, url string, ok bool) {
	vs, found := firstMember(raw, "request")
	if !found {
		return "", "", false
	}
	return peekMethodURL(raw, vs, false)
}

// PeekRequestShared is PeekRequest for callers that keep the URL only as
// long as raw (or copy it): the URL may point into raw.
func PeekRequestShared(raw []byte) (method, url string, ok bool) {
	vs, found := firstMember(raw, "request")
	if !found {
		return "", "", false
	}
	return peekMethodURL(raw, vs, true)
}

// firstMember returns where the value of the first member called name
// starts in the JSON object that b holds.
func firstMember(b []byte, name string) (int, bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return 0, false
	}
	i++
	for {
		i = skipSpace(b, i)
		if i >= len(b) || b[i] != '"' {
			return 0, false
		}
		kend := skipString(b, i)
		if kend < 0 {
			return 0, false
		}
		key := b[i+1 : kend-1]
		i = skipSpace(b, kend)
		if i >= len(b) || b[i] != ':' {
			return 0, false
		}
		vs := skipSpace(b, i+1)
		if string(key) == name {
			return vs, true
		}
		ve := skipValue(b, vs)
		if ve < 0 {
			return 0, false
		}
		i = skipSpace(b, ve)
		if i >= len(b) || b[i] != ',' {
			return 0, false
		}
		i++
	}
}

// peekMethodURL walks the members of the request object starting at b[i]
// until it has seen the first "method" and the first "url".
func peekMethodURL(b []byte, i int, shared bool) (method, url string, ok bool) {
	var m, u []byte
	if walkMembers(b, i, func(key []byte, v []byte) bool {
		switch {
		case m == nil && string(key) == "method":
			m = v
		case u == nil && string(key) == "url":
			u = v
		}
		return m == nil || u == nil
	}) {
		return "", "", false // not an object
	}
	method, okm := methodString(m)
	if shared && len(u) >= 2 && u[0] == '"' && bytes.IndexByte(u, '\\') < 0 {
		return method, unsafe.String(&u[1], len(u)-2), okm
	}
	url, oku := jsonString(u)
	return method, url, okm && oku
}

// walkMembers calls f with each member of the JSON object starting at b[i]
// until f returns false or the members end (or stop making sense). It
// returns true when b[i] does not start an object.
func walkMembers(b []byte, i int, f func(key, value []byte) bool) bool {
	if i >= len(b) || b[i] != '{' {
		return true
	}
	i++
	for {
		i = skipSpace(b, i)
		if i >= len(b) || b[i] != '"' {
			return false
		}
		kend := skipString(b, i)
		if kend < 0 {
			return false
		}
		key := b[i+1 : kend-1]
		i = skipSpace(b, kend)
		if i >= len(b) || b[i] != ':' {
			return false
		}
		vs := skipSpace(b, i+1)
		ve := skipValue(b, vs)
		if ve < 0 || !f(key, b[vs:ve]) {
			return false
		}
		i = skipSpace(b, ve)
		if i >= len(b) || b[i] != ',' {
			return false
		}
		i++
	}
}

// methodString is jsonString without an allocation for the usual methods.
func methodString(v []byte) (string, bool) {
	switch string(v) {
	case `"GET"`:
		return "GET", true
	case `"POST"`:
		return "POST", true
	case `"OPTIONS"`:
		return "OPTIONS", true
	case `"HEAD"`:
		return "HEAD", true
	case `"PUT"`:
		return "PUT", true
	}
	return jsonString(v)
}

// jsonString returns the string a JSON string literal holds.
func jsonString(v []byte) (string, bool) {
	if len(v) < 2 || v[0] != '"' {
		return "", false
	}
	if bytes.IndexByte(v, '\\') < 0 {
		return string(v[1 : len(v)-1]), true
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", false
	}
	return s, true
}
