package har

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"iter"
	"maps"
	"slices"

	"github.com/go-json-experiment/json/jsontext"
)

// DefaultMaxEntrySize bounds the size of one entry's JSON text, so that a
// broken or hostile file cannot make the reader hold gigabytes for one entry.
const DefaultMaxEntrySize = 512 << 20

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

// Reader reads a HAR file one entry at a time: a jsontext.Decoder walks the
// log's members and cuts the entries array into entries (ReadValue), so
// a HAR of any size streams; the log's other members are decoded on the
// way.
type Reader struct {
	src  *limitReader
	dec  *jsontext.Decoder
	d    *decoder
	free chan []byte // NextBatch's buffers, released

	log   Log
	state int // 0 before entries, 1 inside entries, 2 after
	// head is the log as it stood when the entries began (see Head).
	head    Log
	hasHead bool
	// sawEntries is set when the log has an entries member.
	sawEntries bool
	index      int
	warnings   []Warning
	// MaxEntrySize overrides DefaultMaxEntrySize when > 0.
	MaxEntrySize int
	err          error
}

// limitReader ends the input when the entry being read would grow past
// the Reader's limit, so the decoder's buffer stays bounded.
type limitReader struct {
	r     io.Reader
	n     int64 // bytes read
	limit int64 // no reading beyond this offset
}

var errTooLarge = errors.New("entry too large")

func (l *limitReader) Read(p []byte) (int, error) {
	if room := l.limit - l.n; room <= 0 {
		return 0, errTooLarge
	} else if int64(len(p)) > room {
		p = p[:room]
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	return n, err
}

// NewReader returns a Reader for the HAR in r.
func NewReader(r io.Reader) *Reader {
	// A UTF-8 byte order mark is common in exports from Windows tools.
	br := bufio.NewReaderSize(r, 64<<10)
	if b, _ := br.Peek(3); bytes.Equal(b, []byte{0xef, 0xbb, 0xbf}) {
		br.Discard(3)
	}
	lr := &limitReader{r: br, limit: DefaultMaxEntrySize}
	return &Reader{src: lr, dec: jsontext.NewDecoder(lr, syntaxOptions), d: newDecoder(), free: make(chan []byte, 16)}
}

// Log returns the log's properties other than the entries. Properties that
// come after the entries in the file are there only once Entries has ended.
func (r *Reader) Log() *Log { return &r.log }

// Head returns the log's properties that come before its entries in the
// file, as they stood when the entries began. Unlike Log it does not change
// while entries are read, so a writer on another goroutine can put it
// before the entries it writes: what it holds depends on the file alone,
// not on how far the reader has read ahead. Properties after the entries
// are in Log once the reading has ended.
func (r *Reader) Head() *Log {
	if !r.hasHead {
		return &r.log
	}
	return &r.head
}

func (r *Reader) keepHead() {
	r.head = r.log
	r.head.Pages = slices.Clone(r.log.Pages)
	if b := r.log.Browser; b != nil {
		c := *b
		r.head.Browser = &c
	}
	r.head.Extra = maps.Clone(r.log.Extra)
	r.hasHead = true
}

// Warnings returns the problems worked around so far.
func (r *Reader) Warnings() []Warning { return r.warnings }

func (r *Reader) warn(ws ...Warning) {
	// A hostile file could produce a warning per byte; a few thousand say
	// enough.
	for _, w := range ws {
		if len(r.warnings) < 10000 {
			r.warnings = append(r.warnings, w)
		}
	}
}

// Entries returns the entries one by one, each with a nil error, then at
// most one error, which ends them: a *SyntaxError, or the input's read
// error (entries before it stay valid). Entries that are not objects are
// left out with a Skipped warning, so an entry's place in the sequence is
// its index in the HAR only while none was left out. The Reader is read
// once: iterating again continues where the last iteration stopped.
//
// This is the one way entries are passed between the stages (pcap.Entries,
// enrich.Pipeline, match.Matcher.Stream); NextBatch is the matcher's
// shortcut for a HAR's text.
func (r *Reader) Entries() iter.Seq2[*Entry, error] {
	return func(yield func(*Entry, error) bool) {
		for {
			raw, idx, err := r.nextValue()
			if err == io.EOF {
				return
			}
			if err != nil {
				yield(nil, err)
				return
			}
			e, ws, err := parseEntry(raw, idx, false)
			if errors.Is(err, errNotObject) {
				// Always recorded: every entry left out must be named.
				r.warnings = append(r.warnings, Warning{Entry: idx, Msg: "entry is not an object; skipped", Skipped: true})
				continue
			}
			if err != nil {
				r.err = &SyntaxError{Offset: r.dec.InputOffset(), Msg: err.Error()}
				yield(nil, r.err)
				return
			}
			r.warn(ws...)
			if !yield(e, nil) {
				return
			}
		}
	}
}

// RawBatch is the JSON text of consecutive entries as NextBatch read them.
// The texts stay valid until Release.
type RawBatch struct {
	// First is the index of the first entry in the HAR's entries.
	First int
	Texts [][]byte
	bufs  [][]byte
	free  chan []byte
}

// batchBuf is the size of the buffers NextBatch copies entries into.
const batchBuf = 256 << 10

// Release gives the batch's buffers back to the Reader for reuse. The
// texts must not be used afterwards.
func (b *RawBatch) Release() {
	for _, buf := range b.bufs {
		select {
		case b.free <- buf[:0]:
		default: // enough spare buffers
		}
	}
	b.bufs, b.Texts = nil, nil
}

// NextBatch returns the texts of up to n next entries (at least one), or
// io.EOF after the last entry, copied into buffers that Release recycles.
// Entries before a SyntaxError come in a batch; the error comes with the
// next call.
func (r *Reader) NextBatch(n int) (*RawBatch, error) {
	b := &RawBatch{First: r.index, free: r.free}
	var buf []byte
	for len(b.Texts) < n {
		raw, _, err := r.nextValue()
		if err != nil {
			if len(b.Texts) > 0 {
				break
			}
			return nil, err
		}
		if len(raw) > cap(buf)-len(buf) {
			if len(raw) <= batchBuf {
				select {
				case buf = <-r.free:
				default:
					buf = make([]byte, 0, batchBuf)
				}
			} else {
				buf = make([]byte, 0, len(raw))
			}
			b.bufs = append(b.bufs, buf)
		}
		start := len(buf)
		buf = append(buf, raw...)
		b.Texts = append(b.Texts, buf[start:len(buf):len(buf)])
	}
	return b, nil
}

// nextValue returns the next entry's text, valid until the next read.
func (r *Reader) nextValue() (jsontext.Value, int, error) {
	if r.err != nil {
		return nil, 0, r.err
	}
	raw, err := r.readEntry()
	if err != nil {
		r.err = r.syntax(err)
		return nil, 0, r.err
	}
	idx := r.index
	r.index++
	return raw, idx, nil
}

func (r *Reader) readEntry() (jsontext.Value, error) {
	if r.state == 0 {
		if err := r.findEntries(); err != nil {
			return nil, err
		}
	}
	if r.state == 1 {
		if r.dec.PeekKind() == ']' {
			if _, err := r.dec.ReadToken(); err != nil {
				return nil, err
			}
			r.state = 2
			if err := r.finish(); err != nil {
				return nil, err
			}
			return nil, io.EOF
		}
		r.src.limit = r.dec.InputOffset() + int64(r.maxEntrySize())
		return r.dec.ReadValue()
	}
	return nil, io.EOF
}

// syntax turns the decoder's errors into SyntaxErrors (io.EOF stays).
func (r *Reader) syntax(err error) error {
	var se *SyntaxError
	var je *jsontext.SyntacticError
	switch {
	case err == io.EOF || errors.As(err, &se):
		return err
	case errors.Is(err, errTooLarge):
		return &SyntaxError{Offset: r.dec.InputOffset(), Msg: fmt.Sprintf("value larger than %d bytes", r.maxEntrySize())}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &SyntaxError{Offset: r.dec.InputOffset(), Msg: "unexpected end of file"}
	case errors.As(err, &je):
		return &SyntaxError{Offset: je.ByteOffset, Msg: je.Err.Error()}
	}
	return err
}

func (r *Reader) maxEntrySize() int {
	if r.MaxEntrySize > 0 {
		return r.MaxEntrySize
	}
	return DefaultMaxEntrySize
}

func (r *Reader) errorf(format string, a ...any) error {
	return &SyntaxError{Offset: r.dec.InputOffset(), Msg: fmt.Sprintf(format, a...)}
}

// errEntries stops the walk of the log at its entries array.
var errEntries = errors.New("entries found")

// findEntries reads up to the first entry, keeping the log's other
// properties on the way.
func (r *Reader) findEntries() error {
	switch k := r.dec.PeekKind(); k {
	case '{':
	case 0:
		if _, err := r.dec.ReadToken(); err != io.EOF {
			return err
		}
		return r.errorf("empty file")
	default:
		return r.errorf("not a HAR: starts with %s", kindName(k))
	}
	sawLog := false
	err := members(r.dec, func(name string) error {
		if name != "log" || sawLog {
			return r.dec.SkipValue()
		}
		sawLog = true
		if k := r.dec.PeekKind(); k != '{' {
			return r.errorf("log is not an object (found %s)", kindName(k))
		}
		if _, err := r.dec.ReadToken(); err != nil {
			return err
		}
		if err := r.logMembers(); err != nil {
			return err
		}
		// A log without entries.
		r.state = 2
		r.keepHead()
		if !r.sawEntries {
			r.warn(Warning{Entry: -1, Path: "entries", Msg: "missing"})
		}
		return nil
	})
	switch {
	case err == errEntries:
		r.state = 1
		return nil
	case err != nil:
		return err
	case !sawLog:
		return r.errorf(`no "log" object`)
	}
	return nil
}

// logMembers reads the log's members up to the entries array (errEntries)
// or through the log's end.
func (r *Reader) logMembers() error {
	for r.dec.PeekKind() != '}' {
		name, err := r.dec.ReadToken()
		if err != nil {
			return err
		}
		k := name.String()
		if k == "entries" && r.state == 0 {
			r.sawEntries = true
			switch r.dec.PeekKind() {
			case 'n':
				r.warn(Warning{Entry: -1, Path: "entries", Msg: "null"})
				if err := r.dec.SkipValue(); err != nil {
					return err
				}
				continue
			case '[':
				if _, err := r.dec.ReadToken(); err != nil {
					return err
				}
				r.keepHead()
				return errEntries
			default:
				return r.errorf("log.entries is not an array (found %s)", kindName(r.dec.PeekKind()))
			}
		}
		raw, err := r.dec.ReadValue()
		if err != nil {
			return err
		}
		if err := r.d.logProperty(&r.log, k, raw); err != nil {
			return err
		}
		r.warn(r.d.warns...)
	}
	_, err := r.dec.ReadToken()
	return err
}

// finish reads the log's members after the entries and the rest of the
// top-level object; whatever follows it is ignored, as browsers ignore it.
func (r *Reader) finish() error {
	if err := r.logMembers(); err != nil {
		return err
	}
	for r.dec.PeekKind() != '}' {
		if _, err := r.dec.ReadToken(); err != nil {
			return err
		}
		if err := r.dec.SkipValue(); err != nil {
			return err
		}
	}
	_, err := r.dec.ReadToken()
	return err
}

// ReadAll reads a whole HAR into memory. Use it only for files known to be
// small; Reader streams.
func ReadAll(rd io.Reader) (*HAR, []Warning, error) {
	r := NewReader(rd)
	var entries []Entry
	for e, err := range r.Entries() {
		if err != nil {
			return nil, r.Warnings(), err
		}
		entries = append(entries, *e)
	}
	h := &HAR{Log: r.log}
	h.Log.Entries = entries
	return h, r.Warnings(), nil
}
