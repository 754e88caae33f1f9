package har

import (
	"math"
	"math/bits"
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	json "github.com/go-json-experiment/json/v1"
)

// The encoder below is written by hand rather than with encoding/json so
// that the output is strict (required fields always there, arrays never
// null), its field order fixed, and encoding fast: conversion writes every
// entry of a capture through it.
//
// Why this shortcut stays (issue 11's rule: at least 10% of a figure a user
// sees): a json/v2 encoder of the same struct tags wrote 20-21 MB/s where
// this one writes 48-87 MB/s (2,000 corpus entries, BENCHMARKS.md "JSON
// layer"), and entry encoding is about half the CPU time of `tracewire
// convert`. TestRoundTrip and the har-validator oracle tests check its
// output.

// timeLayout keeps the capture's nanoseconds; the HAR schema accepts any
// number of fractional digits.
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// epoch is written for times that are unknown, so the output stays valid.
var epoch = time.Unix(0, 0).UTC()

type enc struct {
	b []byte
}

func (e *enc) raw(s string) { e.b = append(e.b, s...) }

func (e *enc) str(s string) { e.b = appendString(e.b, s) }

func (e *enc) key(first *bool, k string) {
	if !*first {
		e.b = append(e.b, ',')
	}
	*first = false
	e.b = appendString(e.b, k)
	e.b = append(e.b, ':')
}

func (e *enc) strField(first *bool, k, v string) {
	e.key(first, k)
	e.str(v)
}

func (e *enc) optStr(first *bool, k, v string) {
	if v != "" {
		e.strField(first, k, v)
	}
}

func (e *enc) intField(first *bool, k string, v int64) {
	e.key(first, k)
	e.b = strconv.AppendInt(e.b, v, 10)
}

func (e *enc) numField(first *bool, k string, v float64) {
	e.key(first, k)
	e.num(v)
}

func (e *enc) num(v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		v = 0
	}
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		e.b = strconv.AppendInt(e.b, int64(v), 10)
		return
	}
	e.b = strconv.AppendFloat(e.b, v, 'f', -1, 64)
}

func (e *enc) timeField(first *bool, k string, t time.Time) {
	if t.IsZero() {
		t = epoch
	}
	e.key(first, k)
	e.b = append(e.b, '"')
	e.b = t.AppendFormat(e.b, timeLayout)
	e.b = append(e.b, '"')
}

// timing writes a timing that must be >= -1 (HAR) for optional phases and
// >= 0 for send, wait and receive.
func (e *enc) timing(first *bool, k string, v float64, min float64) {
	if math.IsNaN(v) || v < min {
		v = min
	}
	e.numField(first, k, v)
}

// extra writes the properties of x in sorted key order, skipping names the
// typed fields already wrote.
func (e *enc) extra(first *bool, x Extra, known map[string]bool) {
	if len(x) == 0 {
		return
	}
	keys := make([]string, 0, len(x))
	for k := range x {
		if !known[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		e.key(first, k)
		e.any(x[k])
	}
}

// any writes a value of unknown type. encoding/json sorts map keys, so the
// result is deterministic.
func (e *enc) any(v any) {
	switch t := v.(type) {
	case nil:
		e.raw("null")
	case string:
		e.str(t)
	case bool:
		e.b = strconv.AppendBool(e.b, t)
	case int64:
		e.b = strconv.AppendInt(e.b, t, 10)
	case int:
		e.b = strconv.AppendInt(e.b, int64(t), 10)
	case float64:
		e.num(t)
	case json.RawMessage:
		if json.Valid(t) {
			e.b = append(e.b, t...)
		} else {
			e.raw("null")
		}
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		e.b = append(e.b, '{')
		for i, k := range keys {
			if i > 0 {
				e.b = append(e.b, ',')
			}
			e.str(k)
			e.b = append(e.b, ':')
			e.any(t[k])
		}
		e.b = append(e.b, '}')
	case []any:
		e.b = append(e.b, '[')
		for i, x := range t {
			if i > 0 {
				e.b = append(e.b, ',')
			}
			e.any(x)
		}
		e.b = append(e.b, ']')
	default:
		b, err := json.Marshal(t)
		if err != nil {
			e.raw("null")
			return
		}
		e.b = append(e.b, b...)
	}
}

var (
	knownLog      = names("version", "creator", "browser", "pages", "entries", "comment")
	knownEntry    = names("pageref", "startedDateTime", "time", "request", "response", "cache", "timings", "serverIPAddress", "connection", "comment", "_communityId", "_clientAddress", "_serverAddress", "_tlsServerName", "_timestamp", "_incomplete")
	knownRequest  = names("method", "url", "httpVersion", "cookies", "headers", "queryString", "postData", "headersSize", "bodySize", "comment", "_timestamp")
	knownResponse = names("status", "statusText", "httpVersion", "cookies", "headers", "content", "redirectURL", "headersSize", "bodySize", "comment", "_timestamp")
	knownContent  = names("size", "compression", "mimeType", "text", "encoding", "comment")
	knownPostData = names("mimeType", "params", "text", "encoding", "comment")
	knownPage     = names("startedDateTime", "id", "title", "pageTimings", "comment")
)

func names(n ...string) map[string]bool {
	m := make(map[string]bool, len(n))
	for _, s := range n {
		m[s] = true
	}
	return m
}

func (e *enc) creator(c Creator, fallback string) {
	f := true
	e.b = append(e.b, '{')
	name := c.Name
	if name == "" {
		name = fallback
	}
	e.strField(&f, "name", name)
	e.strField(&f, "version", c.Version)
	e.optStr(&f, "comment", c.Comment)
	e.b = append(e.b, '}')
}

func (e *enc) page(p *Page) {
	f := true
	e.b = append(e.b, '{')
	e.timeField(&f, "startedDateTime", p.StartedDateTime)
	e.strField(&f, "id", p.ID)
	e.strField(&f, "title", p.Title)
	e.key(&f, "pageTimings")
	g := true
	e.b = append(e.b, '{')
	e.timing(&g, "onContentLoad", p.PageTimings.OnContentLoad, -1)
	e.timing(&g, "onLoad", p.PageTimings.OnLoad, -1)
	e.optStr(&g, "comment", p.PageTimings.Comment)
	e.b = append(e.b, '}')
	e.optStr(&f, "comment", p.Comment)
	e.extra(&f, p.Extra, knownPage)
	e.b = append(e.b, '}')
}

func (e *enc) entry(x *Entry) {
	f := true
	e.b = append(e.b, '{')
	e.optStr(&f, "pageref", x.Pageref)
	e.timeField(&f, "startedDateTime", x.StartedDateTime)
	e.timing(&f, "time", x.Time, 0)
	e.key(&f, "request")
	e.request(&x.Request)
	e.key(&f, "response")
	e.response(&x.Response)
	e.key(&f, "cache")
	e.cache(&x.Cache)
	e.key(&f, "timings")
	e.timings(&x.Timings)
	if validIP(x.ServerIPAddress) {
		e.strField(&f, "serverIPAddress", x.ServerIPAddress)
	}
	e.optStr(&f, "connection", x.Connection)
	e.optStr(&f, "comment", x.Comment)
	e.optStr(&f, "_communityId", x.CommunityID)
	e.optStr(&f, "_clientAddress", x.ClientAddress)
	e.optStr(&f, "_serverAddress", x.ServerAddress)
	e.optStr(&f, "_tlsServerName", x.TLSServerName)
	if x.Timestamp != 0 {
		e.numField(&f, "_timestamp", x.Timestamp)
	}
	if x.Incomplete {
		e.key(&f, "_incomplete")
		e.raw("true")
	}
	e.extra(&f, x.Extra, knownEntry)
	e.b = append(e.b, '}')
}

func (e *enc) request(r *Request) {
	f := true
	e.b = append(e.b, '{')
	e.strField(&f, "method", r.Method)
	e.strField(&f, "url", safeURL(r.URL))
	e.strField(&f, "httpVersion", r.HTTPVersion)
	e.key(&f, "cookies")
	e.cookies(r.Cookies)
	e.key(&f, "headers")
	e.nameValues(r.Headers)
	e.key(&f, "queryString")
	e.nameValues(r.QueryString)
	if r.PostData != nil {
		e.key(&f, "postData")
		e.postData(r.PostData)
	}
	e.intField(&f, "headersSize", sizeOrUnknown(r.HeadersSize))
	e.intField(&f, "bodySize", sizeOrUnknown(r.BodySize))
	e.optStr(&f, "comment", r.Comment)
	if r.Timestamp != 0 {
		e.numField(&f, "_timestamp", r.Timestamp)
	}
	e.extra(&f, r.Extra, knownRequest)
	e.b = append(e.b, '}')
}

func (e *enc) response(r *Response) {
	f := true
	e.b = append(e.b, '{')
	e.intField(&f, "status", int64(r.Status))
	e.strField(&f, "statusText", r.StatusText)
	e.strField(&f, "httpVersion", r.HTTPVersion)
	e.key(&f, "cookies")
	e.cookies(r.Cookies)
	e.key(&f, "headers")
	e.nameValues(r.Headers)
	e.key(&f, "content")
	e.content(&r.Content)
	e.strField(&f, "redirectURL", r.RedirectURL)
	e.intField(&f, "headersSize", sizeOrUnknown(r.HeadersSize))
	e.intField(&f, "bodySize", sizeOrUnknown(r.BodySize))
	e.optStr(&f, "comment", r.Comment)
	if r.Timestamp != 0 {
		e.numField(&f, "_timestamp", r.Timestamp)
	}
	e.extra(&f, r.Extra, knownResponse)
	e.b = append(e.b, '}')
}

func (e *enc) content(c *Content) {
	f := true
	e.b = append(e.b, '{')
	e.intField(&f, "size", max(c.Size, 0))
	if c.Compression != nil {
		e.intField(&f, "compression", *c.Compression)
	}
	e.strField(&f, "mimeType", c.MimeType)
	text, encoding := c.Text, c.Encoding
	if encoding == "" && !utf8.ValidString(text) {
		text, encoding = bodyText([]byte(text))
	}
	if text != "" {
		e.strField(&f, "text", text)
	}
	e.optStr(&f, "encoding", encoding)
	e.optStr(&f, "comment", c.Comment)
	e.extra(&f, c.Extra, knownContent)
	e.b = append(e.b, '}')
}

func (e *enc) postData(p *PostData) {
	f := true
	e.b = append(e.b, '{')
	e.strField(&f, "mimeType", p.MimeType)
	if len(p.Params) > 0 {
		e.key(&f, "params")
		e.b = append(e.b, '[')
		for i := range p.Params {
			if i > 0 {
				e.b = append(e.b, ',')
			}
			q := &p.Params[i]
			g := true
			e.b = append(e.b, '{')
			e.strField(&g, "name", q.Name)
			e.strField(&g, "value", q.Value)
			e.optStr(&g, "fileName", q.FileName)
			e.optStr(&g, "contentType", q.ContentType)
			e.optStr(&g, "comment", q.Comment)
			e.b = append(e.b, '}')
		}
		e.b = append(e.b, ']')
	}
	text, encoding := p.Text, p.Encoding
	if encoding == "" && !utf8.ValidString(text) {
		text, encoding = bodyText([]byte(text))
	}
	e.strField(&f, "text", text)
	e.optStr(&f, "encoding", encoding)
	e.optStr(&f, "comment", p.Comment)
	e.extra(&f, p.Extra, knownPostData)
	e.b = append(e.b, '}')
}

func (e *enc) cookies(cs []Cookie) {
	e.b = append(e.b, '[')
	for i := range cs {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		c := &cs[i]
		f := true
		e.b = append(e.b, '{')
		e.strField(&f, "name", c.Name)
		e.strField(&f, "value", c.Value)
		e.optStr(&f, "path", c.Path)
		e.optStr(&f, "domain", c.Domain)
		e.optStr(&f, "expires", c.Expires)
		if c.HTTPOnly != nil {
			e.key(&f, "httpOnly")
			e.b = strconv.AppendBool(e.b, *c.HTTPOnly)
		}
		if c.Secure != nil {
			e.key(&f, "secure")
			e.b = strconv.AppendBool(e.b, *c.Secure)
		}
		e.optStr(&f, "comment", c.Comment)
		e.b = append(e.b, '}')
	}
	e.b = append(e.b, ']')
}

func (e *enc) nameValues(nv []NameValue) {
	e.b = append(e.b, '[')
	for i := range nv {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		f := true
		e.b = append(e.b, '{')
		e.strField(&f, "name", nv[i].Name)
		e.strField(&f, "value", nv[i].Value)
		e.optStr(&f, "comment", nv[i].Comment)
		e.b = append(e.b, '}')
	}
	e.b = append(e.b, ']')
}

func (e *enc) cache(c *Cache) {
	f := true
	e.b = append(e.b, '{')
	// A cache object that the schema would reject is kept under an
	// underscore name rather than dropped.
	for _, x := range []struct {
		name string
		v    any
	}{{"beforeRequest", c.BeforeRequest}, {"afterRequest", c.AfterRequest}} {
		if x.v == nil {
			continue
		}
		if validCacheState(x.v) {
			e.key(&f, x.name)
		} else {
			e.key(&f, "_"+x.name)
		}
		e.any(x.v)
	}
	e.optStr(&f, "comment", c.Comment)
	e.b = append(e.b, '}')
}

func (e *enc) timings(t *Timings) {
	f := true
	e.b = append(e.b, '{')
	e.timing(&f, "blocked", t.Blocked, -1)
	e.timing(&f, "dns", t.DNS, -1)
	e.timing(&f, "connect", t.Connect, -1)
	e.timing(&f, "send", t.Send, 0)
	e.timing(&f, "wait", t.Wait, 0)
	e.timing(&f, "receive", t.Receive, 0)
	e.timing(&f, "ssl", t.SSL, -1)
	e.optStr(&f, "comment", t.Comment)
	e.b = append(e.b, '}')
}

var dateRE = regexp.MustCompile(`^(\d{4})(-)?(\d\d)(-)?(\d\d)(T)?(\d\d)(:)?(\d\d)(:)?(\d\d)(\.\d+)?(Z|([+-])(\d\d)(:)?(\d\d))?`)

// validCacheState checks a beforeRequest/afterRequest object against the
// HAR schema.
func validCacheState(v any) bool {
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	last, ok1 := m["lastAccess"].(string)
	_, ok2 := m["eTag"].(string)
	_, ok3 := m["hitCount"].(int64)
	if !ok1 || !ok2 || !ok3 || !dateRE.MatchString(last) {
		return false
	}
	if x, ok := m["expires"]; ok {
		s, ok := x.(string)
		if !ok || !dateRE.MatchString(s) {
			return false
		}
	}
	if x, ok := m["comment"]; ok {
		if _, ok := x.(string); !ok {
			return false
		}
	}
	return true
}

func sizeOrUnknown(n int64) int64 {
	if n < -1 {
		return -1
	}
	return n
}

// safeURL makes sure the URL has no white space or control characters, which
// the schema's "uri" format rejects; they are percent-encoded, which keeps
// the URL's meaning.
func safeURL(u string) string {
	clean := true
	for i := 0; i < len(u); i++ {
		if c := u[i]; c <= ' ' || c == 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return u
	}
	var sb strings.Builder
	for i := 0; i < len(u); i++ {
		c := u[i]
		if c <= ' ' || c == 0x7f {
			sb.WriteByte('%')
			sb.WriteByte(upperHex[c>>4])
			sb.WriteByte(upperHex[c&15])
			continue
		}
		sb.WriteByte(c)
	}
	return sb.String()
}

const upperHex = "0123456789ABCDEF"

// validIP reports whether s is an address the schema's ipv4/ipv6 formats
// accept; a zone suffix is not.
func validIP(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && a.Zone() == ""
}

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD, as
// encoding/json does; HTML characters are not escaped, to keep bodies
// readable. Conversion spends much of its time here (bodies are most of a
// HAR), so runs of plain ASCII are skipped eight bytes at a time.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		// Skip to the next byte that needs care, eight bytes at a time.
		for i+8 <= len(s) {
			m := specialBytes(load8(s, i))
			if m == 0 {
				i += 8
				continue
			}
			i += bits.TrailingZeros64(m) / 8
			break
		}
		if i >= len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigit[c>>4], hexDigit[c&15])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		// U+2028 and U+2029 break JavaScript consumers of the JSON.
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigit[r&15])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// load8 reads the eight bytes of s at i as a little-endian word; the
// compiler turns it into one load.
func load8(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// specialBytes returns a mask with the high bit set in (at least) the first
// byte of x, in memory order, that a JSON string cannot hold as it is: a
// control character, quote, backslash, or a byte of a multi-byte UTF-8
// sequence (checked by the caller). Subtracting borrows only into higher
// bytes, so bytes after the first flagged one may be flagged wrongly, but
// never one before it: the lowest set bit is exact.
func specialBytes(x uint64) uint64 {
	q := x ^ (ones * '"')
	bs := x ^ (ones * '\\')
	return ((x - ones*0x20) | (q - ones) | (bs - ones) | x) & highs
}

const hexDigit = "0123456789abcdef"
