package enrich

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Trace files are read record by record with json/v2: a jsontext.Decoder
// streams the file (one JSON array of records, or JSON values one after
// another: concatenated, one per line or pretty-printed), and each record
// is unmarshalled into its format's record struct.
//
// Leniency. Trace files come from scripts and loggers that do not always
// write the types they document, and a record with a field of the wrong
// type is still worth reading. So the fields of record structs are of the
// lenient types below, which accept any JSON value and say what they got
// (their UnmarshalJSONFrom methods never fail on well-formed JSON): a
// number that is a string, a string that is a number, null, an object
// where a string was expected... Each reader then decides, with the kind
// it got, whether the record is used, used in part, or skipped with a
// reason (ReadStats). Unknown members are ignored, duplicate names take the
// last value, and strings are not checked for valid UTF-8, as the writers
// do not guarantee it. Only a file that is not JSON at all is an error.

// decodeOptions are the options of every trace reader (see above).
var decodeOptions = []jsontext.Options{
	jsontext.AllowDuplicateNames(true),
	jsontext.AllowInvalidUTF8(true),
}

// recordOptions are decodeOptions for json.Unmarshal.
var recordOptions = json.JoinOptions(decodeOptions...)

// jval is any JSON value, kept as its bytes.
type jval struct {
	kind jsontext.Kind // 0 when absent
	raw  []byte
}

func (v *jval) UnmarshalJSONFrom(d *jsontext.Decoder) error {
	raw, err := d.ReadValue()
	if err != nil {
		return err
	}
	v.kind = raw.Kind()
	v.raw = append(v.raw[:0], raw...)
	return nil
}

// jstr is a JSON string, unquoted; other kinds only say which they were.
type jstr struct {
	kind jsontext.Kind // 0 when absent
	b    []byte
}

func (s *jstr) UnmarshalJSONFrom(d *jsontext.Decoder) error {
	raw, err := d.ReadValue()
	if err != nil {
		return err
	}
	s.kind = raw.Kind()
	s.b = s.b[:0]
	if s.kind == '"' {
		if bytes.IndexByte(raw, '\\') < 0 {
			s.b = append(s.b, raw[1:len(raw)-1]...)
		} else if s.b, err = jsontext.AppendUnquote(s.b, raw); err != nil {
			return err
		}
	}
	return nil
}

func (s *jstr) ok() bool       { return s.kind == '"' }
func (s *jstr) String() string { return string(s.b) }

// jobj is a member expected to be an object: v holds its members when
// kind is '{'.
type jobj[T any] struct {
	kind jsontext.Kind // 0 when absent
	v    T
}

func (o *jobj[T]) UnmarshalJSONFrom(d *jsontext.Decoder) error {
	if o.kind = d.PeekKind(); o.kind != '{' {
		return d.SkipValue()
	}
	return json.UnmarshalDecode(d, &o.v)
}

// jnum is a JSON value expected to be a number: float is its value and
// whole says whether it is a whole number in the int64 range (1234,
// 1234.0, 1.234e3), then in int. raw keeps the bytes for messages.
type jnum struct {
	jval
	float float64
	int   int64
	num   bool // a number in float64's range
	whole bool
}

func (n *jnum) UnmarshalJSONFrom(d *jsontext.Decoder) error {
	if err := n.jval.UnmarshalJSONFrom(d); err != nil {
		return err
	}
	*n = jnum{jval: n.jval} // a duplicate name's value replaces the first
	if n.kind != '0' {
		return nil
	}
	f, err := strconv.ParseFloat(string(n.raw), 64)
	n.float, n.num = f, err == nil // ±Inf is an error, and JSON has no NaN
	if i, err := strconv.ParseInt(string(n.raw), 10, 64); err == nil {
		n.int, n.whole = i, true
	} else if n.num && f == math.Trunc(f) && f < 1<<63 && f >= -(1<<63) {
		n.int, n.whole = int64(f), true
	}
	return nil
}

// kindName names a JSON kind for messages; 0 is a value that is absent.
func kindName(k jsontext.Kind) string {
	switch k {
	case 0:
		return "nothing"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	case '0':
		return "a number"
	}
	return fmt.Sprintf("%q", byte(k))
}

// generic decodes a raw value into the generic form HAR extra fields hold
// (map[string]any, []any, string, float64, bool, nil); whole numbers that
// fit become int64 so they are written back as they came, numbers beyond
// float64 stay the text they were. A name given twice in an object keeps
// its last value, as Python's json does (PiRogue's tools write these
// files), whatever the types of the two values.
func generic(raw []byte) (any, error) {
	var v any
	err := json.Unmarshal(raw, &v, json.WithUnmarshalers(genericNumbers), jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
	return v, err
}

var genericNumbers = json.UnmarshalFromFunc(func(d *jsontext.Decoder, v *any) error {
	if d.PeekKind() != '0' {
		// json/v2 decodes a repeated name into the value already there,
		// which fails when the types differ ({"a":0,"a":""}); start anew.
		*v = nil
		return errors.ErrUnsupported
	}
	raw, err := d.ReadValue()
	if err != nil {
		return err
	}
	if n, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
		*v = n
	} else if f, err := strconv.ParseFloat(string(raw), 64); err == nil {
		*v = f
	} else {
		*v = string(raw)
	}
	return nil
})

// recordProblem is a record that cannot be used, with why.
type recordProblem struct {
	reason, detail string
}

func (p *recordProblem) Error() string { return p.reason + ": " + p.detail }

func problem(reason, format string, a ...any) error {
	return &recordProblem{reason, fmt.Sprintf(format, a...)}
}

// jsonRecordFunc decodes one record from d (whose next value is an object;
// off is the file offset where it starts). A *recordProblem skips the
// record; other errors stop the reading.
type jsonRecordFunc func(rec int, off int64, d *jsontext.Decoder) error

// readJSONRecords calls parse on each record of r: the elements of one JSON
// array, or JSON values one after another. Records that are not objects
// are skipped. A file that ends inside a record stops the reading without
// an error: stats.Truncated says where. Other syntax errors are returned
// as *InputError.
func readJSONRecords(r io.Reader, stats *ReadStats, parse jsonRecordFunc) error {
	h := newDigester(r)
	defer h.stop()
	br := bufio.NewReaderSize(h, 1<<20)
	// A UTF-8 byte order mark is common in files written on Windows.
	var bom int64
	b, err := br.Peek(3)
	if err != nil && err != io.EOF {
		return fmt.Errorf("%s: %w", stats.File, err)
	}
	if bytes.Equal(b, []byte{0xef, 0xbb, 0xbf}) {
		br.Discard(3)
		bom = 3
	}
	d := jsontext.NewDecoder(br, decodeOptions...)
	n := 0
	fail := func(err error) error {
		var se *jsontext.SyntacticError
		switch {
		case errors.Is(err, io.ErrUnexpectedEOF):
			off := d.InputOffset() + bom
			stats.Truncated = fmt.Sprintf("%s ends inside record %d (at byte %d); the %d records before it were used", stats.File, n, off, n)
			return nil
		case errors.As(err, &se):
			return &InputError{File: stats.File, Record: n, Offset: se.ByteOffset + bom, Msg: "invalid JSON: " + se.Err.Error()}
		case errors.As(err, new(*InputError)):
			return err
		}
		return fmt.Errorf("%s: %w", stats.File, err)
	}
	array := d.PeekKind() == '['
	if array {
		if _, err := d.ReadToken(); err != nil {
			return fail(err)
		}
	}
	for {
		k := d.PeekKind()
		if array && k == ']' {
			if _, err := d.ReadToken(); err != nil {
				return fail(err)
			}
			if d.PeekKind() != 0 {
				return &InputError{File: stats.File, Record: n, Offset: d.InputOffset() + bom, Msg: "unexpected data after the closing ']'"}
			}
			break
		}
		if k == 0 {
			// The end of the stream, or an error the next read reports.
			_, err := d.ReadToken()
			if err == io.EOF && !array {
				break
			}
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			if err := fail(err); err != nil || stats.Truncated != "" {
				return err
			}
			break
		}
		off := d.InputOffset() + bom + leading(d.UnreadBuffer())
		var err error
		if k != '{' {
			var raw jsontext.Value
			if raw, err = d.ReadValue(); err == nil {
				err = problem(skipNotObject, "found %s", kindName(raw.Kind()))
			}
		} else {
			err = parse(n, off, d)
		}
		if err == nil {
			stats.Used++
		} else if rp, ok := errors.AsType[*recordProblem](err); ok {
			stats.count(&stats.skipped, rp.reason, n, off, rp.detail)
		} else if err := fail(err); err != nil || stats.Truncated != "" {
			return err
		}
		stats.Records++
		n++
	}
	stats.SHA256 = h.sum()
	stats.finish()
	return nil
}

// leading counts the white space and the comma before the next value in
// b, the decoder's unread bytes.
func leading(b []byte) int64 {
	i := 0
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\r', '\n', ',':
			i++
			continue
		}
		break
	}
	return int64(i)
}

// str interns a lenient string field: 0 (the empty string) when it is
// absent or not a string.
func (in *interner) str(s *jstr) uint32 {
	if !s.ok() {
		return 0
	}
	return in.id(s.b)
}
