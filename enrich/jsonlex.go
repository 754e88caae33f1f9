package enrich

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
)

// Trace files are read record by record: valueReader cuts the stream into
// the raw bytes of each top-level value, and the functions below walk one
// record's bytes without building a tree, so a million records cost one
// pass over their bytes and no garbage beyond the values kept. Everything
// is validated on the way; nothing here panics on bad input.

// maxRecordSize bounds one record so a broken file cannot make us hold
// gigabytes for one value.
const maxRecordSize = 64 << 20

// maxJSONDepth bounds nesting; real records nest four or five levels.
const maxJSONDepth = 128

// errTruncated marks a stream that ends inside a value.
var errTruncated = errors.New("the file ends inside a record")

// valueReader reads either one JSON array of values or a sequence of JSON
// values (concatenated or one per line, as JSON Lines).
type valueReader struct {
	br    *bufio.Reader
	off   int64
	state int // 0 before the first value, 1 in an array, 2 in a sequence, 3 done
	n     int
	buf   []byte
}

func newValueReader(r io.Reader) *valueReader {
	return &valueReader{br: bufio.NewReaderSize(r, 256<<10)}
}

// syntaxError is a problem at a byte offset of the stream.
type syntaxError struct {
	off     int64
	msg     string
	trunc   bool
	records int
}

func (e *syntaxError) Error() string { return e.msg }

func (v *valueReader) fail(msg string, args ...any) error {
	return &syntaxError{off: v.off, msg: fmt.Sprintf(msg, args...)}
}

func (v *valueReader) truncated(at int64) error {
	return &syntaxError{off: at, msg: errTruncated.Error(), trunc: true, records: v.n}
}

// peek returns the next byte that is not white space, without consuming
// it; ok is false at the end of the stream.
func (v *valueReader) peek() (byte, bool, error) {
	for {
		b, err := v.br.Peek(1)
		if err == io.EOF {
			return 0, false, nil
		}
		if err != nil {
			return 0, false, err
		}
		switch b[0] {
		case ' ', '\t', '\r', '\n':
			v.br.Discard(1)
			v.off++
			continue
		}
		return b[0], true, nil
	}
}

func (v *valueReader) skip1() {
	v.br.Discard(1)
	v.off++
}

// next returns the raw bytes of the next value (valid until the next call)
// and the byte offset where it starts; io.EOF after the last one.
func (v *valueReader) next() ([]byte, int64, error) {
	switch v.state {
	case 0:
		// A UTF-8 byte order mark is common in files written on Windows.
		if b, err := v.br.Peek(3); err == nil && bytes.Equal(b, []byte{0xef, 0xbb, 0xbf}) {
			v.br.Discard(3)
			v.off += 3
		}
		c, ok, err := v.peek()
		if err != nil {
			return nil, v.off, err
		}
		if !ok {
			v.state = 3
			return nil, v.off, io.EOF
		}
		if c == '[' {
			v.skip1()
			v.state = 1
		} else {
			v.state = 2
		}
	case 3:
		return nil, v.off, io.EOF
	}
	if v.state == 1 {
		c, ok, err := v.peek()
		if err != nil {
			return nil, v.off, err
		}
		if !ok {
			return nil, v.off, v.truncated(v.off)
		}
		if c == ']' {
			v.skip1()
			v.state = 3
			if c, ok, err := v.peek(); err != nil {
				return nil, v.off, err
			} else if ok {
				return nil, v.off, v.fail("unexpected %q after the closing ']'", c)
			}
			return nil, v.off, io.EOF
		}
		if v.n > 0 {
			if c != ',' {
				return nil, v.off, v.fail("expected ',' or ']' after record %d, found %q", v.n-1, c)
			}
			v.skip1()
			if _, ok, err := v.peek(); err != nil {
				return nil, v.off, err
			} else if !ok {
				return nil, v.off, v.truncated(v.off)
			}
		}
	} else {
		_, ok, err := v.peek()
		if err != nil {
			return nil, v.off, err
		}
		if !ok {
			v.state = 3
			return nil, v.off, io.EOF
		}
	}
	start := v.off
	raw, err := v.value()
	if err != nil {
		return nil, start, err
	}
	v.n++
	return raw, start, nil
}

// value reads the bytes of one value, tracking only strings and nesting;
// the record's own parser checks the rest.
func (v *valueReader) value() ([]byte, error) {
	start := v.off
	buf := v.buf[:0]
	depth := 0
	inStr, esc := false, false
	first := true
	for {
		if _, err := v.br.Peek(1); err != nil {
			if err != io.EOF {
				return nil, err
			}
			if depth == 0 && !inStr && len(buf) > 0 && v.state == 2 {
				break // a scalar that ends the file
			}
			return nil, v.truncated(start)
		}
		chunk, _ := v.br.Peek(v.br.Buffered())
		i := 0
		done := false
	scan:
		for ; i < len(chunk); i++ {
			c := chunk[i]
			if first {
				first = false
				if c == ']' || c == '}' || c == ',' || c == ':' {
					v.off += int64(i)
					return nil, v.fail("unexpected %q where a record should start", c)
				}
			}
			if inStr {
				switch {
				case esc:
					esc = false
				case c == '\\':
					esc = true
				case c == '"':
					inStr = false
					if depth == 0 {
						i++
						done = true
						break scan
					}
				}
				continue
			}
			switch c {
			case '"':
				inStr = true
			case '{', '[':
				depth++
				if depth > maxJSONDepth {
					v.off += int64(i)
					return nil, v.fail("nesting deeper than %d levels", maxJSONDepth)
				}
			case '}', ']':
				if depth == 0 {
					done = true
					break scan
				}
				depth--
				if depth == 0 {
					i++
					done = true
					break scan
				}
			case ',', ' ', '\t', '\r', '\n':
				if depth == 0 {
					done = true
					break scan
				}
			}
		}
		buf = append(buf, chunk[:i]...)
		v.br.Discard(i)
		v.off += int64(i)
		if len(buf) > maxRecordSize {
			return nil, &syntaxError{off: start, msg: fmt.Sprintf("record larger than %d bytes", maxRecordSize)}
		}
		if done {
			break
		}
	}
	if cap(buf) <= 1<<20 {
		v.buf = buf
	}
	return buf, nil
}

// readRecords calls fn with each record of r. A stream that ends inside a
// record stops the reading without an error: stats.Truncated says where.
// Other syntax errors are returned as *InputError.
func readRecords(r io.Reader, stats *ReadStats, fn func(rec int, off int64, raw []byte) error) error {
	hr := newHashingReader(r)
	vr := newValueReader(hr)
	for {
		raw, off, err := vr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			var se *syntaxError
			if errors.As(err, &se) {
				if se.trunc {
					stats.Truncated = fmt.Sprintf("%s ends inside record %d (at byte %d); the %d records before it were used", stats.File, se.records, se.off, se.records)
					break
				}
				return &InputError{File: stats.File, Record: vr.n, Offset: se.off, Msg: se.msg}
			}
			return fmt.Errorf("%s: %w", stats.File, err)
		}
		stats.Records++
		if err := fn(vr.n-1, off, raw); err != nil {
			return err
		}
	}
	stats.SHA256 = hr.sum()
	stats.finish()
	return nil
}

// jsonError is a problem inside one record's bytes.
type jsonError struct {
	at  int // byte offset within the record
	msg string
}

func (e *jsonError) Error() string { return e.msg }

func jerr(at int, format string, a ...any) error {
	return &jsonError{at: at, msg: fmt.Sprintf(format, a...)}
}

func skipWS(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}

// scanValue checks the value starting at b[i] and returns where it ends.
func scanValue(b []byte, i, depth int) (int, error) {
	if i >= len(b) {
		return i, jerr(i, "unexpected end of the record")
	}
	switch c := b[i]; {
	case c == '{':
		if depth >= maxJSONDepth {
			return i, jerr(i, "nesting deeper than %d levels", maxJSONDepth)
		}
		i = skipWS(b, i+1)
		if i < len(b) && b[i] == '}' {
			return i + 1, nil
		}
		for {
			if i >= len(b) || b[i] != '"' {
				return i, jerr(i, "expected a member name")
			}
			j, err := scanString(b, i)
			if err != nil {
				return j, err
			}
			i = skipWS(b, j)
			if i >= len(b) || b[i] != ':' {
				return i, jerr(i, "expected ':' after a member name")
			}
			if i, err = scanValue(b, skipWS(b, i+1), depth+1); err != nil {
				return i, err
			}
			i = skipWS(b, i)
			if i >= len(b) {
				return i, jerr(i, "unexpected end inside an object")
			}
			switch b[i] {
			case ',':
				i = skipWS(b, i+1)
			case '}':
				return i + 1, nil
			default:
				return i, jerr(i, "expected ',' or '}' in an object, found %q", b[i])
			}
		}
	case c == '[':
		if depth >= maxJSONDepth {
			return i, jerr(i, "nesting deeper than %d levels", maxJSONDepth)
		}
		i = skipWS(b, i+1)
		if i < len(b) && b[i] == ']' {
			return i + 1, nil
		}
		for {
			var err error
			if i, err = scanValue(b, i, depth+1); err != nil {
				return i, err
			}
			i = skipWS(b, i)
			if i >= len(b) {
				return i, jerr(i, "unexpected end inside an array")
			}
			switch b[i] {
			case ',':
				i = skipWS(b, i+1)
			case ']':
				return i + 1, nil
			default:
				return i, jerr(i, "expected ',' or ']' in an array, found %q", b[i])
			}
		}
	case c == '"':
		return scanString(b, i)
	case c == '-' || (c >= '0' && c <= '9'):
		return scanNumber(b, i)
	case c == 't':
		return scanLiteral(b, i, "true")
	case c == 'f':
		return scanLiteral(b, i, "false")
	case c == 'n':
		return scanLiteral(b, i, "null")
	default:
		return i, jerr(i, "unexpected %q", c)
	}
}

func scanLiteral(b []byte, i int, lit string) (int, error) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return i, jerr(i, "invalid literal (expected %s)", lit)
	}
	return i + len(lit), nil
}

func scanString(b []byte, i int) (int, error) {
	start := i
	for i++; i < len(b); i++ {
		c := b[i]
		switch {
		case c == '"':
			return i + 1, nil
		case c == '\\':
			i++
			if i >= len(b) {
				return i, jerr(start, "unterminated string")
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if len(b)-i < 5 || !isHex4(b[i+1:i+5]) {
					return i, jerr(i, `invalid \u escape`)
				}
				i += 4
			default:
				return i, jerr(i, "invalid escape \\%c", b[i])
			}
		case c < 0x20:
			return i, jerr(i, "control character in a string")
		}
	}
	return i, jerr(start, "unterminated string")
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func scanNumber(b []byte, i int) (int, error) {
	start := i
	if b[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(b) && b[i] == '0' {
		i++
	} else if digits() == 0 {
		return i, jerr(start, "invalid number")
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return i, jerr(start, "invalid number")
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return i, jerr(start, "invalid number")
		}
	}
	return i, nil
}

// eachMember calls fn with the name and raw value of each member of the
// object in raw, in order. It fails on anything that is not an object.
func eachMember(raw []byte, fn func(name, val []byte) error) error {
	i := skipWS(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return jerr(i, "expected an object, found %s", kindOf(raw))
	}
	i = skipWS(raw, i+1)
	if i < len(raw) && raw[i] == '}' {
		return trailing(raw, i+1)
	}
	for {
		if i >= len(raw) || raw[i] != '"' {
			return jerr(i, "expected a member name")
		}
		j, err := scanString(raw, i)
		if err != nil {
			return err
		}
		name := raw[i+1 : j-1]
		if bytes.IndexByte(name, '\\') >= 0 {
			name = []byte(unquote(raw[i:j]))
		}
		i = skipWS(raw, j)
		if i >= len(raw) || raw[i] != ':' {
			return jerr(i, "expected ':' after a member name")
		}
		vs := skipWS(raw, i+1)
		ve, err := scanValue(raw, vs, 1)
		if err != nil {
			return err
		}
		if err := fn(name, raw[vs:ve]); err != nil {
			return err
		}
		i = skipWS(raw, ve)
		if i >= len(raw) {
			return jerr(i, "unexpected end inside an object")
		}
		switch raw[i] {
		case ',':
			i = skipWS(raw, i+1)
		case '}':
			return trailing(raw, i+1)
		default:
			return jerr(i, "expected ',' or '}' in an object, found %q", raw[i])
		}
	}
}

func trailing(raw []byte, i int) error {
	if i = skipWS(raw, i); i < len(raw) {
		return jerr(i, "unexpected %q after the record", raw[i])
	}
	return nil
}

// eachItem calls fn with each raw element of the array in raw.
func eachItem(raw []byte, fn func(i int, val []byte) error) error {
	i := skipWS(raw, 0)
	if i >= len(raw) || raw[i] != '[' {
		return jerr(i, "expected an array, found %s", kindOf(raw))
	}
	i = skipWS(raw, i+1)
	if i < len(raw) && raw[i] == ']' {
		return nil
	}
	for n := 0; ; n++ {
		ve, err := scanValue(raw, i, 1)
		if err != nil {
			return err
		}
		if err := fn(n, raw[i:ve]); err != nil {
			return err
		}
		i = skipWS(raw, ve)
		if i >= len(raw) {
			return jerr(i, "unexpected end inside an array")
		}
		switch raw[i] {
		case ',':
			i = skipWS(raw, i+1)
		case ']':
			return nil
		default:
			return jerr(i, "expected ',' or ']' in an array, found %q", raw[i])
		}
	}
}

// kindOf names the type of a raw value for messages.
func kindOf(raw []byte) string {
	i := skipWS(raw, 0)
	if i >= len(raw) {
		return "nothing"
	}
	switch c := raw[i]; {
	case c == '{':
		return "an object"
	case c == '[':
		return "an array"
	case c == '"':
		return "a string"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == 'n':
		return "null"
	case c == '-' || (c >= '0' && c <= '9'):
		return "a number"
	}
	return fmt.Sprintf("%q", raw[i])
}

func isNull(raw []byte) bool { return string(raw) == "null" }

// unquote decodes a checked JSON string.
func unquote(raw []byte) string {
	if len(raw) >= 2 && raw[0] == '"' && bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1])
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return ""
	}
	return s
}

// str returns the string value of raw; ok is false for other types.
func str(raw []byte) (string, bool) {
	if len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	return unquote(raw), true
}

// num returns the value of a JSON number; ok is false for other types and
// numbers out of float64 range.
func num(raw []byte) (float64, bool) {
	if len(raw) == 0 || !(raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9') {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// integer returns the value of a JSON number that is a whole number in the
// int64 range (1234, 1234.0, 1.234e3).
func integer(raw []byte) (int64, bool) {
	if len(raw) == 0 || !(raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9') {
		return 0, false
	}
	if n, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
		return n, true
	}
	f, ok := num(raw)
	if !ok || f != math.Trunc(f) || f >= 1<<63 || f < -(1<<63) {
		return 0, false
	}
	return int64(f), true
}

// generic decodes a raw value into the generic form HAR extra fields hold
// (map[string]any, []any, string, float64, bool, nil); whole numbers that
// fit become int64 so they are written back as they came.
func generic(raw []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return fromNumbers(v), nil
}

func fromNumbers(v any) any {
	switch t := v.(type) {
	case json.Number:
		if n, err := t.Int64(); err == nil {
			return n
		}
		if f, err := t.Float64(); err == nil {
			return f
		}
		return string(t)
	case map[string]any:
		for k, x := range t {
			t[k] = fromNumbers(x)
		}
	case []any:
		for i, x := range t {
			t[i] = fromNumbers(x)
		}
	}
	return v
}
