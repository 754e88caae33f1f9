package har

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/ohler55/ojg/oj"
)

// NextRaw returns the JSON text of the next entry and the entry's index, or
// io.EOF after the last entry. The bytes are the caller's. Together with
// ParseEntry it lets callers parse entries on several goroutines while one
// goroutine reads; RequestOnly does not apply (ParseRequest does that work
// on the caller's goroutine).
func (r *Reader) NextRaw() ([]byte, int, error) {
	if r.err != nil {
		return nil, 0, r.err
	}
	raw, idx, err := r.nextRaw()
	if err != nil {
		if err == io.ErrUnexpectedEOF {
			err = r.syntax("unexpected end of file")
		}
		r.err = err
	}
	return raw, idx, err
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
		return bytes.Clone(raw), idx, nil
	}
	return nil, 0, io.EOF
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
			e, err = nil, fmt.Errorf("har: entry %d: malformed JSON value (%v)", index, rec)
			return
		}
		parserPool.Put(p)
	}()
	v, perr := p.Parse(raw)
	if perr != nil {
		return nil, nil, fmt.Errorf("har: entry %d: %w", index, perr)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, nil, fmt.Errorf("har: entry %d: %w", index, errNotObject)
	}
	c := conv{idx: index, warn: func(entry int, path, msg string) {
		if len(warnings) < 100 {
			warnings = append(warnings, Warning{Entry: entry, Path: path, Msg: msg})
		}
	}}
	return c.entry(m), warnings, nil
}

var errNotObject = errors.New("entry is not an object")

// ParseRequest is ParseEntry for entries read with RequestOnly in mind: the
// response and exporters' extensions are skipped unparsed, and the Entry's
// Response is empty.
func ParseRequest(raw []byte, index int) (*Entry, []Warning, error) {
	var buf []byte
	return ParseEntry(withoutResponse(raw, &buf), index)
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
		n := bytes.IndexByte(b[i:], '"')
		if n < 0 {
			return -1
		}
		j := i + n
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
// found as plain strings (ParseEntry then says what is wrong).
func PeekRequest(raw []byte) (method, url string, ok bool) {
	req, found := member(raw, "request")
	if !found {
		return "", "", false
	}
	m, okm := stringMember(req, "method")
	u, oku := stringMember(req, "url")
	return m, u, okm && oku
}

// member returns the value of the named member of the JSON object in b.
func member(b []byte, name string) ([]byte, bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, false
	}
	i++
	for {
		i = skipSpace(b, i)
		if i >= len(b) || b[i] != '"' {
			return nil, false
		}
		kend := skipString(b, i)
		if kend < 0 {
			return nil, false
		}
		key := b[i+1 : kend-1]
		i = skipSpace(b, kend)
		if i >= len(b) || b[i] != ':' {
			return nil, false
		}
		vs := skipSpace(b, i+1)
		ve := skipValue(b, vs)
		if ve < 0 {
			return nil, false
		}
		if string(key) == name {
			return b[vs:ve], true
		}
		i = skipSpace(b, ve)
		if i >= len(b) || b[i] != ',' {
			return nil, false
		}
		i++
	}
}

func stringMember(b []byte, name string) (string, bool) {
	v, ok := member(b, name)
	if !ok || len(v) < 2 || v[0] != '"' {
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
