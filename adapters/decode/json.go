package decode

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
	json "github.com/go-json-experiment/json/v1"
)

// maxJSONDepth bounds nesting in parsed bodies; real tracking payloads nest
// a dozen levels at most.
const maxJSONDepth = 1000

// JSONError is a syntax error in parsed JSON, with its byte offset.
type JSONError struct {
	Offset int
	Msg    string
}

func (e *JSONError) Error() string { return fmt.Sprintf("parseJson: byte %d: %s", e.Offset, e.Msg) }

// ParseJSON parses JSON, also accepting what JavaScript object literals
// allow and trackers send: unquoted and single-quoted keys and strings,
// trailing commas, comments, hexadecimal numbers, NaN, Infinity and
// undefined. Integers become int64 (json.Number when they do not fit),
// other numbers float64. A repeated key keeps its last value, as in
// JavaScript; bytes that are not UTF-8 read as U+FFFD, as in a browser.
//
// The text is read by json/v2's jsontext decoder. Text that is not JSON
// goes through jsLiteralToJSON, a pre-pass that rewrites an object
// literal into the JSON it means, and is read again; an error names the
// byte of the original text where JSON reading stopped.
func ParseJSON(s string) (any, error) {
	s = strings.TrimLeft(s, " \t\r\n")
	s = strings.TrimPrefix(s, "\ufeff")
	v, err := decodeJSON(s)
	if err == nil {
		return v, nil
	}
	if lit, ok := jsLiteralToJSON(s); ok {
		if v, lerr := decodeJSON(lit); lerr == nil {
			return v, nil
		}
	}
	return nil, err
}

var noText = strings.NewReader("")

var decoders = sync.Pool{New: func() any { return new(jsontext.Decoder) }}

// decodeJSON reads one JSON value (and nothing after it) into the value
// model: map[string]any, []any, string, int64, json.Number, float64, bool,
// nil.
func decodeJSON(s string) (any, error) {
	dec := decoders.Get().(*jsontext.Decoder)
	defer func() {
		dec.Reset(noText) // do not keep the text alive in the pool
		decoders.Put(dec)
	}()
	dec.Reset(strings.NewReader(s), jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
	v, err := readJSON(dec)
	if err == nil {
		if _, err = dec.ReadToken(); err == io.EOF {
			return v, nil
		} else if err == nil {
			err = errors.New("unexpected text after the value")
		}
	}
	off := int(dec.InputOffset())
	var se *jsontext.SyntacticError
	if errors.As(err, &se) {
		off, err = int(se.ByteOffset), se.Err
	}
	return nil, &JSONError{Offset: off, Msg: err.Error()}
}

func readJSON(dec *jsontext.Decoder) (any, error) {
	tok, err := dec.ReadToken()
	if err != nil {
		return nil, err
	}
	if k := tok.Kind(); (k == '{' || k == '[') && dec.StackDepth() > maxJSONDepth {
		return nil, errors.New("nesting too deep")
	}
	switch tok.Kind() {
	case '{':
		m := map[string]any{}
		for dec.PeekKind() == '"' {
			k, err := dec.ReadToken()
			if err != nil {
				return nil, err
			}
			key := k.String()
			if m[key], err = readJSON(dec); err != nil {
				return nil, err
			}
		}
		if _, err := dec.ReadToken(); err != nil {
			return nil, err
		}
		return m, nil
	case '[':
		a := []any{}
		for k := dec.PeekKind(); k != ']' && k != 0; k = dec.PeekKind() {
			v, err := readJSON(dec)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
		if _, err := dec.ReadToken(); err != nil {
			return nil, err
		}
		return a, nil
	case '"':
		return tok.String(), nil
	case '0':
		return jsonNumber(tok.String()), nil
	case 't', 'f':
		return tok.Bool(), nil
	}
	return nil, nil
}

// jsonNumber gives a JSON number's value: an int64 when it is an integer
// that fits, its digits (json.Number) when it is a larger one, float64
// otherwise (±Inf beyond float64's range).
func jsonNumber(text string) any {
	if !strings.ContainsAny(text, ".eE") {
		if n, err := strconv.ParseInt(text, 10, 64); err == nil {
			return n
		}
		return json.Number(text)
	}
	f, _ := strconv.ParseFloat(text, 64) // valid JSON: only range errors
	return f
}

// jsLiteralToJSON rewrites a JavaScript object literal into JSON: comments
// and the whitespace JavaScript adds (no-break space, BOM, U+2028/9)
// dropped; unquoted and number keys quoted; single-quoted strings
// double-quoted, their escapes (\x41, \v, \0, \', line continuations)
// written as JSON escapes and raw control characters escaped; hexadecimal
// numbers, a leading "+", "." or zeros written as JSON numbers; undefined
// and NaN as null, ±Infinity as ±1e999 (which reads as ±Inf); trailing
// commas dropped and holes ([1,,2]) filled with null. It reports false on
// text it cannot rewrite; what it rewrites still has to be valid JSON.
func jsLiteralToJSON(s string) (string, bool) {
	var b strings.Builder
	b.Grow(len(s) + 16)
	var stack []byte // '{' or '['
	keyNext := false // an object key may come next
	prev := byte(0)  // the last significant byte written
	for i := 0; i < len(s); {
		if j := skipSpace(s, i); j > i {
			b.WriteByte(' ') // what separates tokens keeps them apart
			i = j
			continue
		}
		c := s[i]
		if c >= 0x80 && !keyNext {
			return "", false
		}
		switch c {
		case '{', '[':
			stack = append(stack, c)
			keyNext = c == '{'
			b.WriteByte(c)
			i++
		case '}', ']':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			keyNext = false
			b.WriteByte(c)
			i++
		case ':':
			keyNext = false
			b.WriteByte(c)
			i++
		case ',':
			i++
			inArray := len(stack) > 0 && stack[len(stack)-1] == '['
			if inArray && (prev == '[' || prev == ',') {
				b.WriteString("null") // a hole reads as undefined
			}
			if j := skipSpace(s, i); j < len(s) && (s[j] == '}' || s[j] == ']') {
				prev = 'x' // a trailing comma: dropped
				continue
			}
			keyNext = !inArray
			b.WriteByte(c)
		case '"', '\'':
			n, ok := jsString(&b, s[i:])
			if !ok {
				return "", false
			}
			i += n
		default:
			n, ok := jsWordOrNumber(&b, s[i:], keyNext)
			if !ok {
				return "", false
			}
			b.WriteByte(' ') // keeps it apart from what follows ("1+0")
			i += n
		}
		prev = c
	}
	return b.String(), true
}

// skipSpace returns the index of the first byte at or after i that is
// neither whitespace (JavaScript's: also U+00A0, U+FEFF, U+2028/9) nor in a
// comment.
func skipSpace(s string, i int) int {
	for i < len(s) {
		switch c := s[i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case strings.HasPrefix(s[i:], "//"):
			end := strings.IndexByte(s[i:], '\n')
			if end < 0 {
				return len(s)
			}
			i += end
		case strings.HasPrefix(s[i:], "/*"):
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				return len(s)
			}
			i += end + 4
		case c >= 0x80:
			r, n := utf8.DecodeRuneInString(s[i:])
			if r != '\u00a0' && r != '\ufeff' && r != '\u2028' && r != '\u2029' {
				return i
			}
			i += n
		default:
			return i
		}
	}
	return i
}

// jsString writes the string literal at the start of s as a JSON string
// and returns its length in s.
func jsString(b *strings.Builder, s string) (int, bool) {
	q := s[0]
	b.WriteByte('"')
	for i := 1; i < len(s); {
		c := s[i]
		switch {
		case c == q:
			b.WriteByte('"')
			return i + 1, true
		case c == '"':
			b.WriteString(`\"`)
			i++
		case c < 0x20:
			fmt.Fprintf(b, `\u%04x`, c)
			i++
		case c != '\\':
			b.WriteByte(c)
			i++
		case i+1 >= len(s):
			return 0, false
		default:
			e := s[i+1]
			i += 2
			switch e {
			case 'n', 't', 'r', 'b', 'f', '/', '\\', '"':
				b.WriteByte('\\')
				b.WriteByte(e)
			case 'u', 'x': // \uXXXX, or \xXX written as \u00XX
				n := 4
				if e == 'x' {
					n = 2
				}
				if i+n > len(s) {
					return 0, false
				}
				if _, err := strconv.ParseUint(s[i:i+n], 16, 16); err != nil {
					return 0, false
				}
				b.WriteString(`\u0000`[:6-n])
				b.WriteString(s[i : i+n])
				i += n
			case 'v':
				b.WriteString(`\u000b`)
			case '0':
				b.WriteString(`\u0000`)
			case '\r':
				if i < len(s) && s[i] == '\n' {
					i++
				}
			case '\n':
				// a line continuation
			default:
				if e < 0x20 {
					fmt.Fprintf(b, `\u%04x`, e)
				} else {
					b.WriteByte(e) // \' and any other escaped character: itself
				}
			}
		}
	}
	return 0, false
}

// jsWordOrNumber writes the identifier, keyword or number at the start of
// s as JSON (quoted when it is a key) and returns its length in s.
func jsWordOrNumber(b *strings.Builder, s string, key bool) (int, bool) {
	if c := s[0]; c == '-' || c == '+' || c == '.' || c >= '0' && c <= '9' {
		n := numberLen(s)
		if key {
			b.WriteByte('"')
			b.WriteString(s[:n]) // a number key is named by its text
			b.WriteByte('"')
			return n, n > 0
		}
		return n, jsNumberLiteral(b, s[:n])
	}
	n := 0
	for n < len(s) {
		r, size := utf8.DecodeRuneInString(s[n:])
		if r == '_' || r == '$' || unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' && n > 0 {
			n += size
			continue
		}
		break
	}
	w := s[:n]
	switch {
	case w == "":
		return 0, false
	case key:
		// Letters, digits, "_", "$" and "-": nothing to escape.
		b.WriteByte('"')
		b.WriteString(w)
		b.WriteByte('"')
	case w == "true" || w == "false" || w == "null":
		b.WriteString(w)
	case w == "undefined" || w == "NaN":
		b.WriteString("null")
	case w == "Infinity":
		b.WriteString("1e999")
	default:
		return 0, false
	}
	return n, true
}

// numberLen returns the length of the number-like text at the start of s:
// signs, digits, letters (hexadecimal, exponents, Infinity), ".", and a
// sign after an exponent's "e".
func numberLen(s string) int {
	n := 0
	for n < len(s) {
		c := s[n]
		if c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.' ||
			(c == '-' || c == '+') && (n == 0 || s[n-1] == 'e' || s[n-1] == 'E') {
			n++
			continue
		}
		break
	}
	return n
}

// jsNumberLiteral writes a JavaScript number literal as a JSON number: a "+"
// dropped, hexadecimal in decimal, leading zeros dropped, "0" before a
// leading "." and after a trailing one, ±Infinity as ±1e999.
func jsNumberLiteral(b *strings.Builder, w string) bool {
	if w[0] == '-' {
		b.WriteByte('-')
		w = w[1:]
	} else if w[0] == '+' {
		w = w[1:]
	}
	if w == "Infinity" {
		b.WriteString("1e999")
		return true
	}
	if len(w) > 2 && w[0] == '0' && (w[1] == 'x' || w[1] == 'X') {
		u, err := strconv.ParseUint(w[2:], 16, 64)
		if err != nil {
			return false
		}
		b.WriteString(strconv.FormatUint(u, 10))
		return true
	}
	mant, exp := w, ""
	if k := strings.IndexAny(w, "eE"); k >= 0 {
		mant, exp = w[:k], w[k:]
	}
	ip, frac, dot := strings.Cut(mant, ".")
	if ip == "" && frac == "" {
		return false
	}
	if ip = strings.TrimLeft(ip, "0"); ip == "" {
		ip = "0"
	}
	b.WriteString(ip)
	if dot {
		if frac == "" {
			frac = "0"
		}
		b.WriteByte('.')
		b.WriteString(frac)
	}
	b.WriteString(exp) // checked by the JSON reader
	return true
}
