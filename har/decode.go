package har

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Decoding is the json/v2 library's, from the struct tags in types.go.
// What makes it lenient is in one place, here: the functions registered for
// the scalar and struct types of the HAR model. Each reads a value of the
// expected JSON kind the library's way and otherwise does what real
// exporters need, with a Warning where something was lost or guessed:
//
//   - null is the field's default (empty, 0, or -1 for sizes and optional
//     timings, which newEntry presets), without a warning;
//   - a number or boolean where a string belongs is formatted as one;
//   - a number written as a string is read (warning "number written as a
//     string"); any other value of the wrong type leaves the default;
//   - dates are read in the forms of timeLayouts;
//   - an object or array where another kind belongs is skipped;
//   - members the model does not name are kept in the Extra maps (of the
//     log, pages, entries, requests, responses, contents and post data) in
//     the generic form (map[string]any, []any, string, int64 for integers
//     that fit, float64, bool, nil), and written back by the Writer;
//   - duplicate names count with their last value; invalid UTF-8 in strings
//     becomes U+FFFD;
//   - post data's encoding may also be given as "_encoding" (older
//     tracewire versions): a non-empty "encoding" wins, whatever the order.
//
// Warnings of one entry (or log property) come sorted by path.

// decoder holds the options, with the lenient functions bound to it, and
// the warnings of the value being decoded. It is not safe for concurrent
// use; decoders are pooled.
type decoder struct {
	opts    json.Options
	reqOpts json.Options // opts that skip the response, cache and timings
	warns   []Warning
	idx     int    // entry index of the warnings
	prefix  string // path of the value being decoded
	max     int    // warnings kept per value
}

var decoderPool = sync.Pool{New: func() any { return newDecoder() }}

// syntaxOptions are those of every jsontext reader here.
var syntaxOptions = json.JoinOptions(jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))

func newDecoder() *decoder {
	d := &decoder{max: 100}
	lenient := json.JoinUnmarshalers(
		json.UnmarshalFromFunc(d.str),
		json.UnmarshalFromFunc(d.float),
		json.UnmarshalFromFunc(d.int64),
		json.UnmarshalFromFunc(d.int),
		json.UnmarshalFromFunc(d.bool),
		json.UnmarshalFromFunc(d.optBool),
		json.UnmarshalFromFunc(d.time),
		json.UnmarshalFromFunc(d.any),
		json.UnmarshalFromFunc(d.pages),
		object[Creator](d), object[PageTimings](d), object[Entry](d),
		object[Request](d), object[Response](d), object[Cache](d),
		object[Timings](d), object[PostData](d), object[Param](d),
		object[Content](d), object[NameValue](d), object[Cookie](d),
		array[NameValue](d), array[Cookie](d), array[Param](d),
	)
	d.opts = json.JoinOptions(syntaxOptions, json.WithUnmarshalers(lenient))
	skip := func(dec *jsontext.Decoder) error { return dec.SkipValue() }
	d.reqOpts = json.JoinOptions(syntaxOptions, json.WithUnmarshalers(json.JoinUnmarshalers(
		json.UnmarshalFromFunc(func(dec *jsontext.Decoder, _ *Response) error { return skip(dec) }),
		json.UnmarshalFromFunc(func(dec *jsontext.Decoder, _ *Cache) error { return skip(dec) }),
		json.UnmarshalFromFunc(func(dec *jsontext.Decoder, _ *Timings) error { return skip(dec) }),
		lenient,
	)))
	return d
}

// newEntry is an entry with the defaults of absent members.
func newEntry() *Entry {
	e := &Entry{Timings: NoTimings}
	e.Request.HeadersSize, e.Request.BodySize = -1, -1
	e.Response.HeadersSize, e.Response.BodySize = -1, -1
	return e
}

// warn records a warning about the value the decoder is about to read.
func (d *decoder) warn(dec *jsontext.Decoder, format string, a ...any) {
	d.warnAt(dec, false, format, a...)
}

// warnAt records a warning about the value at dec's position: the one
// just read when read is set, else the next one.
func (d *decoder) warnAt(dec *jsontext.Decoder, read bool, format string, a ...any) {
	if len(d.warns) >= d.max {
		return
	}
	p := dec.StackPointer()
	// In an array, the pointer is to the element read last.
	if k, n := dec.StackIndex(dec.StackDepth()); k == '[' && !read {
		if n > 0 {
			p = p.Parent()
		}
		p = p.AppendToken(strconv.FormatInt(n, 10))
	}
	d.warns = append(d.warns, Warning{Entry: d.idx, Path: d.path(p), Msg: fmt.Sprintf(format, a...)})
}

// path turns a JSON pointer ("/request/headers/0/name") into the form of
// Warning paths ("request.headers[0].name"), after the decoder's prefix.
func (d *decoder) path(p jsontext.Pointer) string {
	var sb strings.Builder
	sb.WriteString(d.prefix)
	for tok := range p.Tokens() {
		if _, err := strconv.Atoi(tok); err == nil {
			sb.WriteString("[" + tok + "]")
			continue
		}
		if sb.Len() > 0 {
			sb.WriteByte('.')
		}
		sb.WriteString(tok)
	}
	return sb.String()
}

// decode unmarshals raw into v, collecting warnings for entry idx under
// the path prefix, sorted by path.
func (d *decoder) decode(raw []byte, v any, idx int, prefix string, opts json.Options) error {
	d.idx, d.prefix, d.warns = idx, prefix, d.warns[:0]
	err := json.Unmarshal(raw, v, opts)
	slices.SortStableFunc(d.warns, func(a, b Warning) int {
		return cmp.Or(strings.Compare(a.Path, b.Path), strings.Compare(a.Msg, b.Msg))
	})
	return err
}

// kindName names a JSON kind in warnings.
func kindName(k jsontext.Kind) string {
	switch k {
	case 'n':
		return "null"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case '0':
		return "a number"
	case '[':
		return "an array"
	case '{':
		return "an object"
	}
	return "nothing"
}

// object is the lenient function for a struct type: objects are the
// library's, null keeps the defaults, anything else is skipped.
func object[T any](d *decoder) *json.Unmarshalers {
	return json.UnmarshalFromFunc(func(dec *jsontext.Decoder, _ *T) error {
		return d.kind(dec, '{', "an object")
	})
}

// array is object for lists.
func array[T any](d *decoder) *json.Unmarshalers {
	return json.UnmarshalFromFunc(func(dec *jsontext.Decoder, _ *[]T) error {
		return d.kind(dec, '[', "an array")
	})
}

func (d *decoder) kind(dec *jsontext.Decoder, want jsontext.Kind, what string) error {
	switch k := dec.PeekKind(); k {
	case want:
		return errors.ErrUnsupported // the library's own decoding
	case 'n':
		_, err := dec.ReadToken()
		return err
	default:
		d.warn(dec, "expected %s, found %s", what, kindName(k))
		return dec.SkipValue()
	}
}

func (d *decoder) str(dec *jsontext.Decoder, s *string) error {
	k := dec.PeekKind()
	switch k {
	case '"':
		return errors.ErrUnsupported
	case '{', '[':
		d.warn(dec, "expected a string, found %s", kindName(k))
		*s = ""
		return dec.SkipValue()
	}
	tok, err := dec.ReadToken()
	if err != nil {
		return err
	}
	switch k {
	case 'n':
		*s = ""
	case 't', 'f':
		*s = strconv.FormatBool(tok.Bool())
	case '0':
		*s = formatNumber(tok.String())
	}
	return nil
}

// formatNumber is the text of a JSON number as a string field keeps it:
// integers that fit as they are, others as the shortest decimal.
func formatNumber(lit string) string {
	if n, err := strconv.ParseInt(lit, 10, 64); err == nil {
		return strconv.FormatInt(n, 10)
	}
	f, _ := strconv.ParseFloat(lit, 64)
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// number reads a number, or a number written as a string, for the
// numeric functions; ok is false where the field keeps its default.
func (d *decoder) number(dec *jsontext.Decoder) (lit string, ok bool, err error) {
	k := dec.PeekKind()
	switch k {
	case '{', '[':
		d.warn(dec, "expected a number, found %s", kindName(k))
		return "", false, dec.SkipValue()
	}
	tok, err := dec.ReadToken()
	if err != nil {
		return "", false, err
	}
	switch k {
	case '0':
		return tok.String(), true, nil
	case '"':
		s := strings.TrimSpace(tok.String())
		if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
			d.warnAt(dec, true, "number written as a string")
			return s, true, nil
		}
	case 'n':
		return "", false, nil
	}
	d.warnAt(dec, true, "expected a number, found %s", kindName(k))
	return "", false, nil
}

func (d *decoder) float(dec *jsontext.Decoder, f *float64) error {
	lit, ok, err := d.number(dec)
	if ok {
		if v, perr := strconv.ParseFloat(lit, 64); perr == nil {
			*f = v
		}
	}
	return err
}

func (d *decoder) int64(dec *jsontext.Decoder, n *int64) error {
	lit, ok, err := d.number(dec)
	if ok {
		if v, perr := strconv.ParseInt(lit, 10, 64); perr == nil {
			*n = v
		} else if f, perr := strconv.ParseFloat(lit, 64); perr == nil && f >= math.MinInt64 && f <= math.MaxInt64 {
			*n = int64(f)
		}
	}
	return err
}

func (d *decoder) int(dec *jsontext.Decoder, n *int) error {
	v := int64(*n)
	err := d.int64(dec, &v)
	*n = int(v)
	return err
}

// bool takes true and false; anything else is false, without a warning.
func (d *decoder) bool(dec *jsontext.Decoder, b *bool) error {
	if k := dec.PeekKind(); k == 't' || k == 'f' {
		return errors.ErrUnsupported
	}
	*b = false
	return dec.SkipValue()
}

// optBool is a boolean that may be absent (cookies' httpOnly, secure):
// anything but true or false leaves it nil.
func (d *decoder) optBool(dec *jsontext.Decoder, b **bool) error {
	if k := dec.PeekKind(); k != 't' && k != 'f' {
		*b = nil
		return dec.SkipValue()
	}
	tok, err := dec.ReadToken()
	v := tok.Bool()
	*b = &v
	return err
}

// timeLayouts are the forms of startedDateTime seen in real exports.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
}

func (d *decoder) time(dec *jsontext.Decoder, t *time.Time) error {
	var s string
	k := dec.PeekKind()
	if err := d.str(dec, &s); errors.Is(err, errors.ErrUnsupported) {
		tok, err := dec.ReadToken()
		if err != nil {
			return err
		}
		s = tok.String()
	} else if err != nil {
		return err
	}
	*t = time.Time{}
	if s == "" {
		if k != 'n' {
			d.warnAt(dec, true, "empty date")
		}
		return nil
	}
	if pt, ok := parseTime(s); ok {
		*t = pt
		return nil
	}
	d.warnAt(dec, true, "unreadable date %q", truncate(s, 40))
	return nil
}

func parseTime(s string) (time.Time, bool) {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// any reads a value of no fixed type (Extra members, cache states) in the
// generic form.
func (d *decoder) any(dec *jsontext.Decoder, v *any) error {
	x, err := genericValue(dec)
	*v = x
	return err
}

func genericValue(dec *jsontext.Decoder) (any, error) {
	tok, err := dec.ReadToken()
	if err != nil {
		return nil, err
	}
	switch tok.Kind() {
	case 'n':
		return nil, nil
	case 't', 'f':
		return tok.Bool(), nil
	case '"':
		return tok.String(), nil
	case '0':
		lit := tok.String()
		if n, err := strconv.ParseInt(lit, 10, 64); err == nil {
			return n, nil
		}
		f, _ := strconv.ParseFloat(lit, 64)
		return f, nil
	case '[':
		list := []any{}
		for dec.PeekKind() != ']' {
			x, err := genericValue(dec)
			if err != nil {
				return nil, err
			}
			list = append(list, x)
		}
		_, err := dec.ReadToken()
		return list, err
	case '{':
		m := map[string]any{}
		for dec.PeekKind() != '}' {
			tok, err := dec.ReadToken()
			if err != nil {
				return nil, err
			}
			name := tok.String() // tok is valid only until the next read
			x, err := genericValue(dec)
			if err != nil {
				return nil, err
			}
			m[name] = x
		}
		_, err := dec.ReadToken()
		return m, err
	}
	return nil, fmt.Errorf("unexpected %v", tok.Kind())
}

// pages reads the log's pages; null and non-object elements are dropped.
func (d *decoder) pages(dec *jsontext.Decoder, ps *[]Page) error {
	if err := d.kind(dec, '[', "an array"); !errors.Is(err, errors.ErrUnsupported) {
		return err
	}
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	for dec.PeekKind() != ']' {
		switch k := dec.PeekKind(); k {
		case '{':
			p := Page{PageTimings: PageTimings{OnContentLoad: -1, OnLoad: -1}}
			if err := json.UnmarshalDecode(dec, &p, d.opts); err != nil {
				return err
			}
			*ps = append(*ps, p)
		case 'n':
			if err := dec.SkipValue(); err != nil {
				return err
			}
		default:
			if k != 0 {
				d.warn(dec, "expected an object, found %s", kindName(k))
			}
			if err := dec.SkipValue(); err != nil {
				return err
			}
		}
	}
	_, err := dec.ReadToken()
	return err
}

// normalize applies the rules that concern more than one member.
func (e *Entry) normalize() {
	// Some exporters write IPv6 addresses in brackets.
	e.ServerIPAddress = strings.Trim(e.ServerIPAddress, "[]")
	if pd := e.Request.PostData; pd != nil {
		if v, ok := pd.Extra["_encoding"]; ok {
			if pd.Encoding == "" {
				pd.Encoding, _ = v.(string)
			}
			delete(pd.Extra, "_encoding")
			if len(pd.Extra) == 0 {
				pd.Extra = nil
			}
		}
	}
}

// logProperty stores the log member k (other than entries) in l.
func (d *decoder) logProperty(l *Log, k string, raw []byte) error {
	var v any
	switch k {
	case "version":
		v = &l.Version
	case "creator":
		v = &l.Creator
	case "browser":
		if bytes.Equal(raw, []byte("null")) {
			return nil
		}
		l.Browser = &Creator{}
		v = l.Browser
	case "pages":
		v = &l.Pages
	case "comment":
		v = &l.Comment
	default:
		var x any
		err := d.decode(raw, &x, -1, k, d.opts)
		l.Extra.Set(k, x)
		return err
	}
	return d.decode(raw, v, -1, k, d.opts)
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

// ParseEntry decodes one entry's JSON text as Reader.Entries does; index is
// the entry's index, used in warnings. An entry that is not a JSON object
// is an error.
func ParseEntry(raw []byte, index int) (*Entry, []Warning, error) {
	return parseEntry(raw, index, false)
}

// ParseRequest is ParseEntry for consumers that look only at requests
// (tracker detection): the response, cache, timings and the entry's
// unknown members are skipped, and the Entry's Response is empty (status
// 0, sizes -1).
func ParseRequest(raw []byte, index int) (*Entry, []Warning, error) {
	return parseEntry(raw, index, true)
}

func parseEntry(raw []byte, index int, requestOnly bool) (*Entry, []Warning, error) {
	if jsontext.Value(raw).Kind() != '{' {
		return nil, nil, &EntryError{Index: index, Err: errNotObject}
	}
	d := decoderPool.Get().(*decoder)
	defer decoderPool.Put(d)
	e := newEntry()
	opts := d.opts
	if requestOnly {
		opts = d.reqOpts
	}
	if err := d.decode(raw, e, index, "", opts); err != nil {
		return nil, nil, &EntryError{Index: index, Err: err}
	}
	if requestOnly {
		// What the client sent on a WebSocket is searched like a request;
		// the process and data owners enrichment gave the request name it
		// in the rows of its findings.
		extra := e.Extra
		e.Extra = nil
		for _, k := range []string{"_webSocketMessages", "_process", "_owners"} {
			if v, ok := extra[k]; ok {
				e.Extra.Set(k, v)
			}
		}
	}
	e.normalize()
	return e, slices.Clone(d.warns), nil
}

// PeekRequest returns the request method and URL of an entry's JSON text
// without decoding the rest, for callers that decide from the URL alone
// whether an entry needs decoding. ok is false when they cannot be found
// as strings (ParseEntry then says what is wrong).
func PeekRequest(raw []byte) (method, url string, ok bool) {
	h, ok := peek(raw, false)
	return h.Method, h.URL, ok
}

// Head is what Peek reads of an entry.
type Head struct {
	Method, URL string
	// Time is the entry's _timestamp, else its startedDateTime; zero when
	// neither can be read.
	Time time.Time
}

var peekPool = sync.Pool{New: func() any { return jsontext.NewDecoder(bytes.NewBuffer(nil)) }}

// Peek reads an entry's request method and URL and its time from its JSON
// text, skipping everything else. ok is false when the method and URL
// cannot be found as strings.
func Peek(raw []byte) (h Head, ok bool) { return peek(raw, true) }

// errPeeked ends a walk that found what it looked for.
var errPeeked = errors.New("found")

func peek(raw []byte, withTime bool) (h Head, ok bool) {
	dec := peekPool.Get().(*jsontext.Decoder)
	defer peekPool.Put(dec)
	dec.Reset(bytes.NewBuffer(raw), syntaxOptions)
	var started string
	var stamp float64
	sawStamp, gotMethod, gotURL, sawRequest := false, false, false, false
	// Without a _timestamp anywhere in the text, the walk can end at the
	// request once the startedDateTime is known: most HARs have it first.
	needStamp := withTime && bytes.Contains(raw, []byte(`"_timestamp"`))
	// str reads a string member's value, "" for other kinds.
	str := func() (string, bool, error) {
		if k := dec.PeekKind(); k != '"' {
			return "", false, dec.SkipValue()
		}
		tok, err := dec.ReadToken()
		return tok.String(), err == nil, err
	}
	// timestamp takes the first _timestamp in the text (the request's,
	// in what tracewire writes; the entry's is the same time).
	timestamp := func() error {
		if k := dec.PeekKind(); k != '0' || sawStamp {
			sawStamp = true
			return dec.SkipValue()
		}
		sawStamp = true
		tok, err := dec.ReadToken()
		if err == nil {
			stamp, _ = strconv.ParseFloat(tok.String(), 64)
		}
		return err
	}
	done := func() bool { return gotMethod && gotURL && !needStamp && (!withTime || started != "") }
	err := members(dec, func(name string) error {
		if done() {
			return errPeeked
		}
		switch {
		case name == "request" && !sawRequest && dec.PeekKind() == '{':
			sawRequest = true
			err := members(dec, func(name string) error {
				var err error
				switch {
				case done():
					return errPeeked
				case name == "method" && !gotMethod:
					h.Method, gotMethod, err = str()
				case name == "url" && !gotURL:
					h.URL, gotURL, err = str()
				case name == "_timestamp" && needStamp:
					err = timestamp()
				default:
					err = dec.SkipValue()
				}
				return err
			})
			if err == nil && !withTime {
				return errPeeked
			}
			return err
		case !withTime:
		case name == "response" && needStamp && dec.PeekKind() == '{':
			return members(dec, func(name string) error {
				if name == "_timestamp" {
					return timestamp()
				}
				return dec.SkipValue()
			})
		case name == "_timestamp" && needStamp:
			return timestamp()
		case name == "startedDateTime" && started == "":
			var err error
			started, _, err = str()
			return err
		}
		return dec.SkipValue()
	})
	switch {
	case stamp > 0:
		h.Time = TimeOf(stamp)
	case started != "":
		if t, err := time.Parse(time.RFC3339Nano, started); err == nil {
			h.Time = t.UTC()
		}
	}
	return h, (err == nil || err == errPeeked) && gotMethod && gotURL
}

// members reads the object at dec's position, calling f with each member
// name; f reads the member's value.
func members(dec *jsontext.Decoder, f func(name string) error) error {
	if tok, err := dec.ReadToken(); err != nil {
		return err
	} else if tok.Kind() != '{' {
		return errNotObject
	}
	for dec.PeekKind() != '}' {
		name, err := dec.ReadToken()
		if err != nil {
			return err
		}
		if err := f(name.String()); err != nil {
			return err
		}
	}
	_, err := dec.ReadToken()
	return err
}
