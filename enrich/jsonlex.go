package enrich

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/go-json-experiment/json/jsontext"
)

// PiRogue socket traces are read record by record, in place: the stream
// keeps a large buffer, and each record is parsed where it lies by a reader
// that walks it once, without building a tree; a record cut by the end of
// the buffer is parsed again once more data is in. Everything is checked on
// the way; nothing here panics on bad input.
//
// The other trace formats are read with json/v2 (records.go). Socket traces
// are not yet: on the enrichment benchmark (BENCHMARKS.md, 1,018,240
// records, 1.25 GB), reading them with json/v2 record structs took 3x the
// CPU time of this reader (6.8 against 2.2 cpu-s, same loaded machine),
// and the read is most of the enrichment figure users see.

// maxRecordSize bounds one record so a broken file cannot make us hold
// gigabytes for one value.
const maxRecordSize = 64 << 20

// readChunk is how much the stream reads at a time.
const readChunk = 1 << 20

// maxJSONDepth bounds nesting; real records nest four or five levels.
const maxJSONDepth = 128

// recordFunc parses the record at the start of b (which may go on with
// the next records) and returns where it ends. A *recordProblem (with the
// end) skips the record; a *jsonError with eof set asks for more data.
type recordFunc func(rec int, off int64, b []byte) (int, error)

// recordStream reads either one JSON array of values or a sequence of JSON
// values (concatenated or one per line, as JSON Lines).
type recordStream struct {
	r    io.Reader
	buf  []byte
	pos  int   // start of what is not consumed
	base int64 // file offset of buf[0]
	eof  bool  // r is exhausted
	// sentinel is set once a newline has been appended after the last
	// byte, to end a number or literal that ends the file.
	sentinel bool
	state    int   // 0 before the first value, 1 in an array, 2 in a sequence, 3 done
	n        int   // records read
	err      error // read error
	// ahead, when set, parses part of each chunk read on another
	// goroutine, from a record start it guesses (see aheadParser).
	ahead    aheadParser
	chunk    int   // bytes to read at a time with ahead
	aheadMin int   // fewest unparsed bytes worth parsing ahead
	aheadAt  int64 // file offset where the parse ahead started, -1 none
	// With ahead, the goroutine parsing ahead then reads the next chunk
	// (so that reading overlaps the stream's parse) into pre, a buffer
	// whose first preRoom bytes are left for what is unparsed of buf.
	pre    prefetch
	spare  []byte // the buffer pre reads into
	bufAll []byte // all of buf's array, to take as spare once pre is taken
}

type prefetch struct {
	buf []byte // the bytes read, from preRoom on
	eof bool
	err error
	ok  bool
}

const preRoom = 64 << 10

// aheadParser parses records ahead of the stream, on another goroutine:
// start is given the bytes from a guessed record start to the end of what
// was read. The guess is only taken when the stream's own parse arrives
// exactly there, between two records of the top-level array: join(true)
// then adds the records parsed ahead as if the stream had parsed them and
// says how many there were and where (in start's bytes) the last ends.
// Otherwise join(false) drops them. Either way the stream goes on from
// there as if there had been no guess, so the result never depends on it.
type aheadParser interface {
	// likely says whether a record is likely to start at b[0]; a guess
	// that is wrong costs a wasted parse ahead, never a wrong result.
	likely(b []byte) bool
	// start parses b on another goroutine, then calls then there.
	start(b []byte, then func())
	join(take bool) (n, end int)
}

// joinAhead waits for the parse ahead, if any; take says whether the
// stream is about to parse a record exactly where it started.
func (s *recordStream) joinAhead(take bool) (int, int) {
	if s.aheadAt < 0 {
		return 0, 0
	}
	s.aheadAt = -1
	return s.ahead.join(take)
}

// startAhead starts parsing the last 2/5 of what is unparsed ahead, from
// the first place that looks like a record start there. (The goroutine
// parsing ahead also reads the next chunk, the stream's merges what was
// parsed ahead; the split that keeps both busy was measured.)
func (s *recordStream) startAhead() {
	u := len(s.buf) - s.pos
	if s.ahead == nil || s.state != 1 || u < max(s.aheadMin, 2) {
		return
	}
	at := s.pos + u*3/5
	for try := 0; try < 1000; try++ {
		if at = guessRecordStart(s.buf, at); at < 0 {
			return
		}
		if b := s.buf[at:len(s.buf):len(s.buf)]; s.ahead.likely(b) {
			s.aheadAt = s.off(at)
			then := func() {}
			if !s.eof {
				then = s.prefetch
			}
			s.ahead.start(b, then)
			return
		}
		at++
	}
}

// guessRecordStart returns the first i >= from where b[i] is '{' after a
// comma after a '}' (white space between), -1 if there is none: where a
// record of an array of objects could start.
func guessRecordStart(b []byte, from int) int {
	for i := from; i < len(b); i++ {
		k := bytes.IndexByte(b[i:], ',')
		if k < 0 {
			return -1
		}
		i += k
		j := skipWS(b, i+1)
		if j < len(b) && b[j] == '{' {
			h := i - 1
			for h >= 0 && (b[h] == ' ' || b[h] == '\t' || b[h] == '\r' || b[h] == '\n') {
				h--
			}
			if h >= 0 && b[h] == '}' {
				return j
			}
		}
	}
	return -1
}

// off returns the file offset of buf[i].
func (s *recordStream) off(i int) int64 { return s.base + int64(i) }

// fill reads more, keeping buf[pos:]; it returns once it has added want
// bytes (at least one read's worth when want is 0), or at the end of the
// stream, reporting whether it added any.
func (s *recordStream) fill(want int) bool {
	// The buffer is about to change under the parse ahead: drop it (the
	// stream's parse did not reach its start, or it would have taken it).
	s.joinAhead(false)
	if s.eof {
		return false
	}
	if s.ahead == nil {
		return s.read(want, readChunk)
	}
	added := 0
	if s.pre.ok {
		added = s.takePrefetch()
		if s.err != nil {
			return false
		}
		want -= added
	}
	if !s.eof && (added == 0 || want > 0) && s.read(max(want, s.chunk), s.chunk) {
		added++
	}
	if s.err != nil || added == 0 {
		return false
	}
	s.startAhead()
	return true
}

// prefetch reads the next chunk into pre, as read would read it.
func (s *recordStream) prefetch() {
	if cap(s.spare) < preRoom+s.chunk {
		s.spare = make([]byte, preRoom+s.chunk)
	}
	b := s.spare[:cap(s.spare)]
	n := preRoom
	var err error
	for n < len(b) && err == nil {
		var k int
		k, err = s.r.Read(b[n:])
		n += k
	}
	s.pre = prefetch{buf: b[:n], ok: true}
	if err == io.EOF {
		s.pre.eof = true
	} else if err != nil {
		s.pre.eof, s.pre.err = true, err
	}
}

// takePrefetch adds the bytes of pre after buf[pos:], and returns how
// many. Unless too much of buf is unparsed, the unparsed bytes go before
// pre's, and pre's buffer becomes buf (no copy of the chunk).
func (s *recordStream) takePrefetch() int {
	p := s.pre
	s.pre = prefetch{}
	s.spare = nil
	n := len(p.buf) - preRoom
	if left := s.buf[s.pos:]; len(left) <= preRoom {
		at := preRoom - len(left)
		copy(p.buf[at:], left)
		s.base += int64(s.pos)
		if cap(s.bufAll) >= preRoom+s.chunk {
			s.spare = s.bufAll
		}
		s.buf, s.bufAll, s.pos = p.buf[at:], p.buf[:cap(p.buf)], 0
	} else {
		if s.pos > 0 {
			k := copy(s.buf, s.buf[s.pos:])
			s.base += int64(s.pos)
			s.buf = s.buf[:k]
			s.pos = 0
		}
		s.buf = append(s.buf, p.buf[preRoom:]...)
		s.bufAll = nil
	}
	s.eof, s.err = p.eof, p.err
	return n
}

// read is fill's reading, chunk bytes at least at a time.
func (s *recordStream) read(want, chunk int) bool {
	if s.pos > 0 {
		n := copy(s.buf, s.buf[s.pos:])
		s.base += int64(s.pos)
		s.buf = s.buf[:n]
		s.pos = 0
	}
	if cap(s.buf)-len(s.buf) < max(want, chunk) {
		nb := make([]byte, len(s.buf), len(s.buf)+max(want, chunk))
		copy(nb, s.buf)
		s.buf, s.bufAll = nb, nb
	}
	added := 0
	for {
		n, err := s.r.Read(s.buf[len(s.buf):cap(s.buf)])
		s.buf = s.buf[:len(s.buf)+n]
		added += n
		if err == io.EOF {
			s.eof = true
			return added > 0
		}
		if err != nil {
			s.err = err
			s.eof = true
			return false
		}
		if added > 0 && added >= want {
			return true
		}
	}
}

// peek returns the next byte that is not white space, consuming the white
// space; ok is false at the end of the stream.
func (s *recordStream) peek() (byte, bool) {
	for {
		for s.pos < len(s.buf) {
			switch s.buf[s.pos] {
			case ' ', '\t', '\r', '\n':
				s.pos++
				continue
			}
			return s.buf[s.pos], true
		}
		if !s.fill(0) {
			return 0, false
		}
	}
}

// truncatedError is a stream that ends inside a record.
type truncatedError struct {
	off     int64
	records int
}

func (e *truncatedError) Error() string { return "the file ends inside a record" }

// streamError is a syntax error between records.
type streamError struct {
	off int64
	msg string
}

func (e *streamError) Error() string { return e.msg }

// next parses the next record with parse; it returns io.EOF after the last.
func (s *recordStream) next(parse recordFunc, stats *ReadStats) error {
	switch s.state {
	case 0:
		s.fill(0)
		// A UTF-8 byte order mark is common in files written on Windows.
		if bytes.HasPrefix(s.buf[s.pos:], []byte{0xef, 0xbb, 0xbf}) {
			s.pos += 3
		}
		c, ok := s.peek()
		if !ok {
			s.state = 3
			return io.EOF
		}
		if c == '[' {
			s.pos++
			s.state = 1
		} else {
			s.state = 2
		}
	case 3:
		return io.EOF
	}
	c, ok := s.peek()
	if s.state == 1 {
		if !ok {
			return &truncatedError{s.off(s.pos), s.n}
		}
		if c == ']' {
			s.pos++
			s.state = 3
			if c, ok := s.peek(); ok {
				return &streamError{s.off(s.pos), fmt.Sprintf("unexpected %q after the closing ']'", c)}
			}
			return io.EOF
		}
		if s.n > 0 {
			if c != ',' {
				return &streamError{s.off(s.pos), fmt.Sprintf("expected ',' or ']' after record %d, found %q", s.n-1, c)}
			}
			s.pos++
			if c, ok = s.peek(); !ok {
				return &truncatedError{s.off(s.pos), s.n}
			}
		}
	} else if !ok {
		s.state = 3
		return io.EOF
	}
	switch c {
	case ']', '}', ',', ':':
		return &streamError{s.off(s.pos), fmt.Sprintf("unexpected %q where a record should start", c)}
	}
	if s.aheadAt >= 0 && s.off(s.pos) >= s.aheadAt {
		n, end := s.joinAhead(s.off(s.pos) == s.aheadAt)
		if n > 0 {
			stats.Used += n
			stats.Records += n
			s.n += n
			s.pos += end
			return nil
		}
	}
	for {
		end, err := parse(s.n, s.off(s.pos), s.buf[s.pos:])
		if err == nil {
			// The usual case, before the error variables below, which
			// errors.As makes the heap hold (one allocation a record).
			stats.Used++
			stats.Records++
			s.n++
			s.pos += end
			return nil
		}
		var je *jsonError
		if errors.As(err, &je) && je.eof {
			if len(s.buf)-s.pos > maxRecordSize {
				return &streamError{s.off(s.pos), fmt.Sprintf("record larger than %d bytes", maxRecordSize)}
			}
			// Read at least as much again, so a huge record is parsed
			// O(log size) times, not once per chunk.
			if s.fill(len(s.buf) - s.pos) {
				continue
			}
			if s.err != nil {
				return s.err
			}
			if !s.sentinel {
				s.sentinel = true
				s.buf = append(s.buf, '\n')
				continue
			}
			return &truncatedError{s.off(s.pos), s.n}
		}
		if je != nil && s.sentinel && s.pos+je.at >= len(s.buf)-1 {
			// Only the sentinel made it a syntax error: a string cut short.
			return &truncatedError{s.off(s.pos), s.n}
		}
		rec := s.n
		var rp *recordProblem
		if !errors.As(err, &rp) {
			if je != nil {
				return &InputError{File: stats.File, Record: rec, Offset: s.off(s.pos) + int64(je.at), Msg: "invalid JSON: " + je.msg}
			}
			return err
		}
		stats.skip(rp.reason, rec, s.off(s.pos), rp.detail)
		stats.Records++
		s.n++
		s.pos += end
		return nil
	}
}

// readRecords calls parse on each record of r. A stream that ends inside a
// record stops the reading without an error: stats.Truncated says where.
// Other syntax errors are returned as *InputError.
func readRecords(r io.Reader, stats *ReadStats, parse recordFunc) error {
	return readRecordsAhead(r, stats, parse, nil, 0, 0)
}

// readRecordsAhead is readRecords with a parse ahead (when ahead is not
// nil), reading chunk bytes at a time and parsing ahead when at least min
// bytes are unparsed.
func readRecordsAhead(r io.Reader, stats *ReadStats, parse recordFunc, ahead aheadParser, chunk, min int) error {
	h := newDigester(r)
	defer h.stop()
	s := &recordStream{r: h, ahead: ahead, chunk: max(chunk, 1), aheadMin: min, aheadAt: -1}
	defer s.joinAhead(false)
	for {
		err := s.next(parse, stats)
		if s.err != nil {
			return fmt.Errorf("%s: %w", stats.File, s.err)
		}
		if err == nil {
			continue
		}
		if err == io.EOF {
			break
		}
		var te *truncatedError
		var se *streamError
		switch {
		case errors.As(err, &te):
			stats.Truncated = fmt.Sprintf("%s ends inside record %d (at byte %d); the %d records before it were used", stats.File, te.records, te.off, te.records)
		case errors.As(err, &se):
			return &InputError{File: stats.File, Record: s.n, Offset: se.off, Msg: se.msg}
		case errors.As(err, new(*InputError)):
			return err
		case err != nil:
			return fmt.Errorf("%s: %w", stats.File, err)
		}
		if te != nil {
			break
		}
	}
	stats.SHA256 = h.sum()
	stats.finish()
	return nil
}

// jsonError is a problem inside one record's bytes. eof marks a record
// that goes on past the bytes at hand.
type jsonError struct {
	at  int // byte offset within the record
	msg string
	eof bool
}

func (e *jsonError) Error() string { return e.msg }

func jerr(at int, format string, a ...any) error {
	return &jsonError{at: at, msg: fmt.Sprintf(format, a...)}
}

func jerrEOF(at int, msg string) error {
	return &jsonError{at: at, msg: msg, eof: true}
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
		return i, jerrEOF(i, "unexpected end of the record")
	}
	switch c := b[i]; {
	case c == '{':
		return walkObject(b, i, depth, func(_ []byte, vs int) (int, error) {
			return scanValue(b, vs, depth+1)
		})
	case c == '[':
		return walkArray(b, i, depth, func(_, vs int) (int, error) {
			return scanValue(b, vs, depth+1)
		})
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

// walkObject walks the object at b[i]: member is called with each name and
// the start of its value, and returns where the value ends. walkObject
// returns where the object ends.
func walkObject(b []byte, i, depth int, member func(name []byte, vs int) (int, error)) (int, error) {
	if i >= len(b) {
		return i, jerrEOF(i, "unexpected end of the record")
	}
	if b[i] != '{' {
		return i, jerr(i, "expected an object, found %s", kindOf(b[i:]))
	}
	if depth >= maxJSONDepth {
		return i, jerr(i, "nesting deeper than %d levels", maxJSONDepth)
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(b) {
			return i, jerrEOF(i, "unexpected end inside an object")
		}
		if b[i] != '"' {
			return i, jerr(i, "expected a member name")
		}
		j, err := scanString(b, i)
		if err != nil {
			return j, err
		}
		name := b[i+1 : j-1]
		if bytes.IndexByte(name, '\\') >= 0 {
			name = []byte(unquote(b[i:j]))
		}
		i = skipWS(b, j)
		if i >= len(b) {
			return i, jerrEOF(i, "unexpected end inside an object")
		}
		if b[i] != ':' {
			return i, jerr(i, "expected ':' after a member name")
		}
		vs := skipWS(b, i+1)
		if vs >= len(b) {
			return vs, jerrEOF(vs, "unexpected end inside an object")
		}
		ve, err := member(name, vs)
		if err != nil {
			return ve, err
		}
		i = skipWS(b, ve)
		if i >= len(b) {
			return i, jerrEOF(i, "unexpected end inside an object")
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
}

// walkArray walks the array at b[i] as walkObject walks objects.
func walkArray(b []byte, i, depth int, item func(k, vs int) (int, error)) (int, error) {
	if i >= len(b) {
		return i, jerrEOF(i, "unexpected end of the record")
	}
	if b[i] != '[' {
		return i, jerr(i, "expected an array, found %s", kindOf(b[i:]))
	}
	if depth >= maxJSONDepth {
		return i, jerr(i, "nesting deeper than %d levels", maxJSONDepth)
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, nil
	}
	for k := 0; ; k++ {
		if i >= len(b) {
			return i, jerrEOF(i, "unexpected end inside an array")
		}
		ve, err := item(k, i)
		if err != nil {
			return ve, err
		}
		i = skipWS(b, ve)
		if i >= len(b) {
			return i, jerrEOF(i, "unexpected end inside an array")
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
}

func scanLiteral(b []byte, i int, lit string) (int, error) {
	n := min(len(lit), len(b)-i)
	if string(b[i:i+n]) != lit[:n] {
		return i, jerr(i, "invalid literal (expected %s)", lit)
	}
	if n < len(lit) {
		return i, jerrEOF(i, "unexpected end inside a literal")
	}
	return i + len(lit), nil
}

// strStop marks the bytes that end a run of plain string content.
var strStop = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return
}()

func scanString(b []byte, i int) (int, error) {
	start := i
	for i++; i < len(b); i++ {
		for i < len(b) && !strStop[b[i]] {
			i++
		}
		if i >= len(b) {
			break
		}
		c := b[i]
		switch {
		case c == '"':
			return i + 1, nil
		case c == '\\':
			i++
			if i >= len(b) {
				return i, jerrEOF(start, "unterminated string")
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if len(b)-i < 5 {
					if isHex4(b[i+1:]) {
						return i, jerrEOF(start, "unterminated string")
					}
					return i, jerr(i, `invalid \u escape`)
				}
				if !isHex4(b[i+1 : i+5]) {
					return i, jerr(i, `invalid \u escape`)
				}
				i += 4
			default:
				return i, jerr(i, "invalid escape \\%c", b[i])
			}
		default:
			return i, jerr(i, "control character in a string")
		}
	}
	return i, jerrEOF(start, "unterminated string")
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// scanNumber checks a number. One that runs to the end of b may go on in
// the next bytes of the stream (the stream appends a newline at its end,
// so a number that ends the file is complete).
func scanNumber(b []byte, i int) (int, error) {
	start := i
	digits := func() int {
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	more := func() (int, error) { return i, jerrEOF(start, "unexpected end inside a number") }
	if b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return more()
	}
	if b[i] == '0' {
		i++
	} else if digits() == 0 {
		return i, jerr(start, "invalid number")
	}
	if i >= len(b) {
		return more()
	}
	if b[i] == '.' {
		i++
		if digits() == 0 {
			if i >= len(b) {
				return more()
			}
			return i, jerr(start, "invalid number")
		}
	}
	if i >= len(b) {
		return more()
	}
	if b[i] == 'e' || b[i] == 'E' {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			if i >= len(b) {
				return more()
			}
			return i, jerr(start, "invalid number")
		}
		if i >= len(b) {
			return more()
		}
	}
	return i, nil
}

// skipFast returns where the value at b[i] ends, tracking only strings and
// nesting: for stacks, checked in full (by generic) once per distinct
// bytes.
func skipFast(b []byte, i int) (int, error) {
	if i >= len(b) {
		return i, jerrEOF(i, "unexpected end of the record")
	}
	if b[i] != '{' && b[i] != '[' {
		return scanValue(b, i, 1)
	}
	start := i
	depth := 0
	for i < len(b) {
		switch b[i] {
		case '"':
			// Jump to the closing quote: the next quote not escaped.
			j := i + 1
			for {
				q := bytes.IndexByte(b[j:], '"')
				if q < 0 {
					return len(b), jerrEOF(i, "unterminated string")
				}
				j += q
				bs := 0
				for k := j - 1; k > i && b[k] == '\\'; k-- {
					bs++
				}
				if bs%2 == 0 {
					break
				}
				j++
			}
			i = j + 1
			continue
		case '{', '[':
			depth++
			if depth > maxJSONDepth {
				return i, jerr(i, "nesting deeper than %d levels", maxJSONDepth)
			}
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1, nil
			}
		}
		i++
	}
	return i, jerrEOF(start, "unexpected end of the record")
}

func trailing(raw []byte, i int) error {
	if i = skipWS(raw, i); i < len(raw) {
		return jerr(i, "unexpected %q after the record", raw[i])
	}
	return nil
}

// nonObject returns the end of a record that is not an object and a skip,
// or the syntax error that stops it.
func nonObject(b []byte) (int, error) {
	end, err := scanValue(b, 0, 0)
	if err != nil {
		return end, err
	}
	return end, problem(skipNotObject, "found %s", kindOf(b[:end]))
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
	s, err := jsontext.AppendUnquote(nil, raw)
	if err != nil {
		return ""
	}
	return string(s)
}
