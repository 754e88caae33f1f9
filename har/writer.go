package har

import (
	"bufio"
	"bytes"
	"errors"
	"io"

	json "github.com/go-json-experiment/json/v1"
)

// AppendEntry appends the JSON encoding of e to dst. The encoding is the
// one Writer writes: compact, fixed field order, schema-valid.
func AppendEntry(dst []byte, e *Entry) []byte {
	en := enc{b: dst}
	en.entry(e)
	return en.b
}

// MarshalEntry returns the JSON encoding of e.
func MarshalEntry(e *Entry) []byte { return AppendEntry(nil, e) }

// Writer writes a HAR file entry by entry, so the entries never have to be
// in memory together. The log's other properties are written before the
// entries, except Comment and Extra, which are written by Close and so may be
// filled in while the entries are written (for notes about the whole run).
type Writer struct {
	w       *bufio.Writer
	log     *Log
	indent  bool
	started bool
	closed  bool
	n       int
	buf     []byte
	ibuf    bytes.Buffer
	err     error

	wroteBrowser, wrotePages bool
}

// WriterOption changes how a Writer writes.
type WriterOption func(*Writer)

// Indented makes the writer pretty-print with two-space indentation, for
// files meant to be read by people (golden files).
func Indented() WriterOption { return func(w *Writer) { w.indent = true } }

// NewWriter returns a Writer that writes log's properties and then the
// entries given to Write. log.Entries is not written; pass the entries to
// Write.
func NewWriter(w io.Writer, log *Log, opts ...WriterOption) *Writer {
	hw := &Writer{w: bufio.NewWriterSize(w, 256<<10), log: log}
	for _, o := range opts {
		o(hw)
	}
	return hw
}

func (w *Writer) header() {
	if w.started {
		return
	}
	w.started = true
	e := enc{}
	f := true
	e.raw(`{"log":{`)
	version := w.log.Version
	if version == "" {
		version = Version
	}
	e.strField(&f, "version", version)
	e.key(&f, "creator")
	e.creator(w.log.Creator, "tracewire")
	w.browserAndPages(&e, &f)
	e.key(&f, "entries")
	e.b = append(e.b, '[')
	w.write(e.b)
}

func (w *Writer) write(b []byte) {
	if w.err != nil {
		return
	}
	if w.indent {
		// Indent works on complete values; header and trailer pieces are
		// written as they are.
		if json.Valid(b) {
			w.ibuf.Reset()
			if err := json.Indent(&w.ibuf, b, "    ", "  "); err == nil {
				b = w.ibuf.Bytes()
			}
		}
	}
	_, w.err = w.w.Write(b)
}

// Write writes one entry.
func (w *Writer) Write(e *Entry) error {
	w.buf = AppendEntry(w.buf[:0], e)
	return w.WriteRaw(w.buf)
}

// WriteRaw writes one entry already encoded by AppendEntry.
func (w *Writer) WriteRaw(entry []byte) error {
	if w.closed {
		return errors.New("har: write after close")
	}
	w.header()
	if w.n > 0 {
		w.write([]byte{','})
	}
	w.write([]byte{'\n'})
	if w.indent {
		w.write([]byte("    "))
	}
	w.write(entry)
	w.n++
	return w.err
}

// Count returns the number of entries written so far.
func (w *Writer) Count() int { return w.n }

// Close ends the entries array, writes the log's Comment and Extra, and
// flushes. It does not close the underlying writer.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	w.header()
	w.closed = true
	e := enc{}
	if w.n > 0 {
		e.raw("\n")
	}
	e.raw("]")
	f := false
	// A browser or pages that came after the entries in the input, and
	// were set on the log only once it was read to the end.
	w.browserAndPages(&e, &f)
	e.optStr(&f, "comment", w.log.Comment)
	e.extra(&f, w.log.Extra, knownLog)
	e.raw("}}\n")
	if w.err == nil {
		_, w.err = w.w.Write(e.b)
	}
	if w.err == nil {
		w.err = w.w.Flush()
	}
	return w.err
}

// Encode writes a whole HAR held in memory.
func Encode(w io.Writer, h *HAR, opts ...WriterOption) error {
	hw := NewWriter(w, &h.Log, opts...)
	for i := range h.Log.Entries {
		if err := hw.Write(&h.Log.Entries[i]); err != nil {
			return err
		}
	}
	return hw.Close()
}

// browserAndPages writes the log's browser and pages once: before the
// entries when the log has them then, else after them at Close.
func (w *Writer) browserAndPages(e *enc, f *bool) {
	if w.log.Browser != nil && !w.wroteBrowser {
		w.wroteBrowser = true
		e.key(f, "browser")
		e.creator(*w.log.Browser, "unknown")
	}
	if len(w.log.Pages) > 0 && !w.wrotePages {
		w.wrotePages = true
		e.key(f, "pages")
		e.b = append(e.b, '[')
		for i := range w.log.Pages {
			if i > 0 {
				e.b = append(e.b, ',')
			}
			e.page(&w.log.Pages[i])
		}
		e.b = append(e.b, ']')
	}
}
