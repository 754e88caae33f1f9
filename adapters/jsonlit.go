package adapters

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
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
// JavaScript.
func ParseJSON(s string) (any, error) { return parseJSONProj(s, keepAll) }

// parseJSONProj is ParseJSON keeping of the value only what proj selects
// (see jsonProj); the text is checked whole all the same, so it fails
// exactly when ParseJSON does, with the same error.
func parseJSONProj(s string, proj *jsonProj) (any, error) {
	p := &jsonParser{s: s}
	p.skip()
	if p.i < len(p.s) && strings.HasPrefix(p.s[p.i:], "\ufeff") {
		p.i += 3
		p.skip()
	}
	v, err := p.value(0, proj)
	if err != nil {
		return nil, err
	}
	p.skip()
	if p.i < len(p.s) {
		return nil, p.err("unexpected text after the value")
	}
	return v, nil
}

type jsonParser struct {
	s string
	i int
}

func (p *jsonParser) err(msg string) error { return &JSONError{Offset: p.i, Msg: msg} }

// skip passes whitespace and comments. Most tokens follow the last one
// directly: that is told inline, without a call.
func (p *jsonParser) skip() {
	if i := p.i; i < len(p.s) && !mayBeSpace[p.s[i]] {
		return
	}
	p.skipSpace()
}

// mayBeSpace marks the bytes skipSpace may pass: ASCII whitespace and
// control characters, '/' (comments), and bytes of multibyte runes.
var mayBeSpace = func() (t [256]bool) {
	for c := range 256 {
		t[c] = c <= ' ' || c == '/' || c >= 0x7f
	}
	return t
}()

func (p *jsonParser) skipSpace() {
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			p.i++
		case c == '/' && p.i+1 < len(p.s) && p.s[p.i+1] == '/':
			for p.i < len(p.s) && p.s[p.i] != '\n' {
				p.i++
			}
		case c == '/' && p.i+1 < len(p.s) && p.s[p.i+1] == '*':
			end := strings.Index(p.s[p.i+2:], "*/")
			if end < 0 {
				p.i = len(p.s)
				return
			}
			p.i += end + 4
		case c >= 0x80:
			r, n := utf8.DecodeRuneInString(p.s[p.i:])
			if r == '\u00a0' || r == '\ufeff' || r == '\u2028' || r == '\u2029' {
				p.i += n
				continue
			}
			return
		default:
			return
		}
	}
}

// value parses the value at p.i, of which it keeps what proj selects:
// everything with keepAll, nothing (the text is only checked) with
// skipAll.
func (p *jsonParser) value(depth int, proj *jsonProj) (any, error) {
	if depth > maxJSONDepth {
		return nil, p.err("nesting too deep")
	}
	if p.i >= len(p.s) {
		return nil, p.err("unexpected end")
	}
	switch c := p.s[p.i]; {
	case c == '{':
		return p.object(depth, proj)
	case c == '[':
		return p.array(depth, proj)
	case c == '"' || c == '\'':
		if proj == skipAll {
			return nil, p.skipStr(c)
		}
		return p.str(c)
	case c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9'):
		return p.number(proj != skipAll)
	default:
		w := p.word()
		switch w {
		case "true":
			return true, nil
		case "false":
			return false, nil
		case "null", "undefined":
			return nil, nil
		case "NaN":
			return math.NaN(), nil
		case "Infinity":
			return math.Inf(1), nil
		case "":
			return nil, p.err(fmt.Sprintf("unexpected %q", c))
		}
		p.i -= len(w)
		return nil, p.err(fmt.Sprintf("unexpected word %q", w))
	}
}

// word reads an identifier (for keywords and unquoted keys).
func (p *jsonParser) word() string {
	start := p.i
	for p.i < len(p.s) {
		r, n := utf8.DecodeRuneInString(p.s[p.i:])
		if r == '_' || r == '$' || unicode.IsLetter(r) || unicode.IsDigit(r) || (r == '-' && p.i > start) {
			p.i += n
			continue
		}
		break
	}
	return p.s[start:p.i]
}

func (p *jsonParser) object(depth int, proj *jsonProj) (any, error) {
	p.i++ // {
	var m map[string]any
	if proj != skipAll {
		m = map[string]any{}
	}
	for {
		p.skip()
		if p.i >= len(p.s) {
			return nil, p.err("unterminated object")
		}
		if p.s[p.i] == '}' {
			p.i++
			if m == nil {
				return nil, nil // skipped
			}
			return m, nil
		}
		var key string
		switch c := p.s[p.i]; {
		case c == '"' || c == '\'':
			if proj == skipAll {
				if err := p.skipStr(c); err != nil {
					return nil, err
				}
				break
			}
			k, err := p.str(c)
			if err != nil {
				return nil, err
			}
			key = k
		case c >= '0' && c <= '9' || c == '-' || c == '.':
			start := p.i
			if _, err := p.number(false); err != nil {
				return nil, err
			}
			key = p.s[start:p.i]
		default:
			key = p.word()
			if key == "" {
				return nil, p.err(fmt.Sprintf("expected an object key, found %q", c))
			}
		}
		p.skip()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return nil, p.err("expected ':'")
		}
		p.i++
		p.skip()
		child := proj.member(key)
		v, err := p.value(depth+1, child)
		if err != nil {
			return nil, err
		}
		if child != skipAll {
			m[key] = v
		}
		p.skip()
		if p.i >= len(p.s) {
			return nil, p.err("unterminated object")
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case '}':
		default:
			return nil, p.err(fmt.Sprintf("expected ',' or '}', found %q", p.s[p.i]))
		}
	}
}

func (p *jsonParser) array(depth int, proj *jsonProj) (any, error) {
	p.i++ // [
	keep := proj != skipAll
	var a []any
	if keep {
		a = []any{}
	}
	elem := proj.element()
	for {
		p.skip()
		if p.i >= len(p.s) {
			return nil, p.err("unterminated array")
		}
		if p.s[p.i] == ']' {
			p.i++
			if !keep {
				return nil, nil
			}
			return a, nil
		}
		if p.s[p.i] == ',' {
			// A hole, as in [1,,2]: JavaScript reads undefined.
			if keep {
				a = append(a, nil)
			}
			p.i++
			continue
		}
		v, err := p.value(depth+1, elem)
		if err != nil {
			return nil, err
		}
		if keep {
			a = append(a, v) // nil when skipped: indexes stay
		}
		p.skip()
		if p.i >= len(p.s) {
			return nil, p.err("unterminated array")
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case ']':
		default:
			return nil, p.err(fmt.Sprintf("expected ',' or ']', found %q", p.s[p.i]))
		}
	}
}

func (p *jsonParser) str(q byte) (string, error) {
	start := p.i
	p.i++
	// Fast path: no escapes.
	if end := strings.IndexByte(p.s[p.i:], q); end >= 0 && strings.IndexByte(p.s[p.i:p.i+end], '\\') < 0 {
		s := p.s[p.i : p.i+end]
		p.i += end + 1
		return s, nil
	}
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == q {
			p.i++
			return b.String(), nil
		}
		if c != '\\' {
			b.WriteByte(c)
			p.i++
			continue
		}
		p.i++
		if p.i >= len(p.s) {
			break
		}
		e := p.s[p.i]
		p.i++
		switch e {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'v':
			b.WriteByte('\v')
		case '0':
			b.WriteByte(0)
		case '\r':
			if p.i < len(p.s) && p.s[p.i] == '\n' {
				p.i++
			}
		case '\n':
			// line continuation
		case 'x':
			if p.i+2 > len(p.s) || !isHex(p.s[p.i]) || !isHex(p.s[p.i+1]) {
				return "", p.err("bad \\x escape")
			}
			b.WriteRune(rune(unhex(p.s[p.i])<<4 | unhex(p.s[p.i+1])))
			p.i += 2
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return "", p.err("bad \\u escape")
			}
			if utf16.IsSurrogate(r) && strings.HasPrefix(p.s[p.i:], "\\u") {
				save := p.i
				p.i += 2
				if r2, ok := p.hex4(); ok {
					if d := utf16.DecodeRune(r, r2); d != unicode.ReplacementChar {
						b.WriteRune(d)
						continue
					}
				}
				p.i = save
			}
			b.WriteRune(r)
		default:
			b.WriteByte(e)
		}
	}
	p.i = start
	return "", p.err("unterminated string")
}

// skipStr checks the string at p.i as str does (the same errors at the
// same offsets), and passes it.
func (p *jsonParser) skipStr(q byte) error {
	start := p.i
	p.i++
	for {
		rest := p.s[p.i:]
		end := strings.IndexByte(rest, q)
		lim := end
		if end < 0 {
			lim = len(rest)
		}
		bs := strings.IndexByte(rest[:lim], '\\')
		if bs < 0 {
			if end < 0 {
				break
			}
			p.i += end + 1
			return nil
		}
		// An escape before the quote (or the end): checked as str does.
		p.i += bs + 1
		if p.i >= len(p.s) {
			break
		}
		e := p.s[p.i]
		p.i++
		switch e {
		case '\r':
			if p.i < len(p.s) && p.s[p.i] == '\n' {
				p.i++
			}
		case 'x':
			if p.i+2 > len(p.s) || !isHex(p.s[p.i]) || !isHex(p.s[p.i+1]) {
				return p.err("bad \\x escape")
			}
			p.i += 2
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return p.err("bad \\u escape")
			}
			if utf16.IsSurrogate(r) && strings.HasPrefix(p.s[p.i:], "\\u") {
				save := p.i
				p.i += 2
				if r2, ok := p.hex4(); ok && utf16.DecodeRune(r, r2) != unicode.ReplacementChar {
					continue
				}
				p.i = save
			}
		}
	}
	p.i = start
	return p.err("unterminated string")
}

func (p *jsonParser) hex4() (rune, bool) {
	if p.i+4 > len(p.s) {
		return 0, false
	}
	var r rune
	for k := 0; k < 4; k++ {
		c := p.s[p.i+k]
		if !isHex(c) {
			return 0, false
		}
		r = r<<4 | rune(unhex(c))
	}
	p.i += 4
	return r, true
}

// number parses a number; without build it only checks it (and returns
// nil).
func (p *jsonParser) number(build bool) (any, error) {
	start := p.i
	neg := false
	if c := p.s[p.i]; c == '-' || c == '+' {
		neg = c == '-'
		p.i++
	}
	if strings.HasPrefix(p.s[p.i:], "Infinity") {
		p.i += len("Infinity")
		if neg {
			return math.Inf(-1), nil
		}
		return math.Inf(1), nil
	}
	if p.i+1 < len(p.s) && p.s[p.i] == '0' && (p.s[p.i+1] == 'x' || p.s[p.i+1] == 'X') {
		p.i += 2
		hs := p.i
		for p.i < len(p.s) && isHex(p.s[p.i]) {
			p.i++
		}
		u, err := strconv.ParseUint(p.s[hs:p.i], 16, 64)
		if err != nil || p.i == hs {
			return nil, p.err("bad hexadecimal number")
		}
		if !build {
			return nil, nil
		}
		if neg {
			if u <= 1<<63 {
				return -int64(u), nil
			}
			return json.Number("-" + strconv.FormatUint(u, 10)), nil
		}
		if u <= math.MaxInt64 {
			return int64(u), nil
		}
		return json.Number(strconv.FormatUint(u, 10)), nil
	}
	digits := 0
	isInt := true
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' || c == 'e' || c == 'E':
			isInt = false
		case (c == '+' || c == '-') && (p.s[p.i-1] == 'e' || p.s[p.i-1] == 'E'):
		default:
			goto done
		}
		p.i++
	}
done:
	text := p.s[start:p.i]
	if digits == 0 {
		return nil, p.err(fmt.Sprintf("bad number %q", text))
	}
	text = strings.TrimPrefix(text, "+")
	if isInt {
		if !build {
			return nil, nil // an integer is never an error
		}
		if n, err := strconv.ParseInt(text, 10, 64); err == nil {
			return n, nil
		}
		return json.Number(strings.TrimLeft(text, "0")), nil
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			if !build {
				return nil, nil
			}
			return f, nil
		}
		return nil, p.err(fmt.Sprintf("bad number %q", text))
	}
	if !build {
		return nil, nil
	}
	return f, nil
}
