package har

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

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
type Reader struct {
	br       *bufio.Reader
	off      int64
	log      Log
	state    int // 0 before entries, 1 inside entries, 2 after
	index    int
	warnings []Warning
	buf      []byte
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

// NewReader returns a Reader for the HAR in r.
func NewReader(r io.Reader) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, 256<<10)}
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
		if err == io.ErrUnexpectedEOF {
			err = r.syntax("unexpected end of file")
		}
		r.err = err
	}
	return e, err
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
			r.warn(idx, "", "entry is not an object; skipped")
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
	return &SyntaxError{Offset: r.off, Msg: msg}
}

func (r *Reader) readByte() (byte, error) {
	c, err := r.br.ReadByte()
	if err == nil {
		r.off++
	} else if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return c, err
}

func (r *Reader) peekNonSpace() (byte, error) {
	for {
		b, err := r.br.Peek(1)
		if err != nil {
			if err == io.EOF {
				return 0, io.ErrUnexpectedEOF
			}
			return 0, err
		}
		switch b[0] {
		case ' ', '\t', '\r', '\n':
			r.readByte()
			continue
		}
		return b[0], nil
	}
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
	if b, err := r.br.Peek(3); err == nil && bytes.Equal(b, []byte{0xef, 0xbb, 0xbf}) {
		r.br.Discard(3)
		r.off += 3
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

// value reads the bytes of one JSON value without interpreting them: only
// strings, escapes and nesting are tracked, which is enough to find where it
// ends.
func (r *Reader) value() ([]byte, error) {
	limit := r.MaxEntrySize
	if limit <= 0 {
		limit = DefaultMaxEntrySize
	}
	if _, err := r.peekNonSpace(); err != nil {
		return nil, err
	}
	buf := r.buf[:0]
	depth := 0
	inStr, esc := false, false
	for {
		if _, err := r.br.Peek(1); err != nil {
			if err == io.EOF {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
		chunk, _ := r.br.Peek(r.br.Buffered())
		i := 0
		done := false
	scan:
		for ; i < len(chunk); i++ {
			c := chunk[i]
			if inStr {
				if !esc && c != '\\' && c != '"' {
					// Jump to the next quote at memchr speed (most of a
					// HAR's bytes are long strings: bodies); it is escaped
					// when an odd number of backslashes precede it.
					rest := chunk[i:]
					n := bytes.IndexByte(rest, '"')
					if n < 0 {
						// The string goes on in the next chunk; carry an
						// escape pending at the chunk's end.
						k := len(chunk) - 1
						for k >= i && chunk[k] == '\\' {
							k--
						}
						esc = (len(chunk)-1-k)%2 == 1
						i = len(chunk)
						break scan
					}
					j := i + n
					k := j - 1
					for k >= i && chunk[k] == '\\' {
						k--
					}
					if (j-1-k)%2 == 1 {
						i = j // an escaped quote: the string goes on
						continue
					}
					i = j
					c = '"'
				}
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
				if depth > maxDepth {
					r.off += int64(i)
					return nil, r.syntax("nesting too deep")
				}
			case '}', ']':
				if depth == 0 {
					// End of a scalar followed by the parent's close.
					done = true
					break scan
				}
				depth--
				if depth == 0 {
					i++
					done = true
					break scan
				}
			case ',', ' ', '\t', '\r', '\n', ':':
				if depth == 0 {
					done = true
					break scan
				}
			}
		}
		buf = append(buf, chunk[:i]...)
		r.br.Discard(i)
		r.off += int64(i)
		if len(buf) > limit {
			return nil, r.syntax(fmt.Sprintf("value larger than %d bytes", limit))
		}
		if done {
			break
		}
	}
	if len(buf) == 0 {
		return nil, r.syntax("expected a value")
	}
	if cap(buf) <= 1<<20 {
		r.buf = buf
	}
	return buf, nil
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
