package adapters

import (
	"bytes"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/tracewire/tracewire/adapters/decode"
	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/internal/decompress"
)

// Request is a HAR request prepared for adapters: its URL split up, its
// body decoded, headers and cookies as maps.
type Request struct {
	Method string
	URL    string
	// Scheme is lowercase, without "://".
	Scheme string
	// Host is the lowercase host name with the port when it is not the
	// scheme's default.
	Host string
	// Path is the URL's path as sent (percent-escapes kept), without query.
	Path string
	// Query is the raw query, without "?"; HasQuery tells "?" from no "?".
	Query    string
	HasQuery bool
	// EndpointURL is Scheme://Host+Path, what endpoint URLs match.
	EndpointURL string
	// Headers are the request's headers as in the HAR.
	Headers []har.NameValue
	// Cookies are the cookies of the HAR's cookie list and of Cookie
	// headers.
	Cookies []har.NameValue
	// Body is the request body with its Content-Encoding undone (when that
	// fails, the body as sent) and the HAR's base64 removed. It may share
	// memory with the HAR entry's postData text: do not modify it.
	Body []byte
	// ContentType is the Content-Type header, or else postData.mimeType.
	ContentType string
	// BodyError says why the body could not be decoded, if it could not.
	BodyError string
}

// RequestURL is a request URL split up as adapters see it.
type RequestURL struct {
	// Scheme is lowercase, without "://".
	Scheme string
	// Host is the lowercase host name with the port when it is not the
	// scheme's default.
	Host string
	// Path is the URL's path as sent (percent-escapes kept), without query.
	Path string
	// Query is the raw query, without "?"; HasQuery tells "?" from no "?".
	Query    string
	HasQuery bool
	// URL is Scheme://Host+Path, what endpoint URLs match.
	URL string
}

// ParseRequestURL splits an absolute request URL with net/url. NewRequest
// fails exactly when it does. (An allocation-free parser for the common
// URL shapes bought about 5% of detect's CPU on the tiled 50,337-entry HAR,
// under the 10% a shortcut must buy, and was removed.)
func ParseRequestURL(rawURL string) (RequestURL, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return RequestURL{}, fmt.Errorf("request URL: %w", err)
	}
	if u.Scheme == "" || u.Host == "" {
		return RequestURL{}, fmt.Errorf("request URL %q: not absolute", truncate(rawURL, 200))
	}
	ep := RequestURL{Scheme: strings.ToLower(u.Scheme)}
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if p := u.Port(); p != "" && !(ep.Scheme == "https" && p == "443") && !(ep.Scheme == "http" && p == "80") {
		host += ":" + p
	}
	ep.Host = host
	ep.Path = u.EscapedPath()
	if ep.Path == "" {
		ep.Path = "/"
	}
	ep.Query = u.RawQuery
	ep.HasQuery = u.ForceQuery || u.RawQuery != ""
	ep.URL = ep.Scheme + "://" + ep.Host + ep.Path
	return ep, nil
}

// NewRequest prepares a HAR request. It fails only when the URL cannot be
// parsed.
func NewRequest(hr *har.Request) (*Request, error) {
	ep, err := ParseRequestURL(hr.URL)
	if err != nil {
		return nil, err
	}
	r := &Request{
		Method:      hr.Method,
		URL:         hr.URL,
		Scheme:      ep.Scheme,
		Host:        ep.Host,
		Path:        ep.Path,
		Query:       ep.Query,
		HasQuery:    ep.HasQuery,
		EndpointURL: ep.URL,
		Headers:     hr.Headers,
	}

	for _, h := range hr.Headers {
		if strings.EqualFold(h.Name, "cookie") {
			r.Cookies = append(r.Cookies, parseCookieHeader(h.Value)...)
		}
	}
	for _, c := range hr.Cookies {
		r.Cookies = append(r.Cookies, har.NameValue{Name: c.Name, Value: c.Value})
	}
	r.ContentType, _ = har.Header(hr.Headers, "content-type")
	if pd := hr.PostData; pd != nil {
		if r.ContentType == "" {
			r.ContentType = pd.MimeType
		}
		var b []byte
		if !strings.EqualFold(pd.Encoding, "base64") {
			b = []byte(pd.Text)
		} else if b, err = pd.Body(); err != nil {
			r.BodyError = "postData: " + err.Error()
			b = []byte(pd.Text)
		}
		if len(b) == 0 && len(pd.Params) > 0 {
			b = paramsBody(pd.Params)
		}
		if ce, ok := har.Header(hr.Headers, "content-encoding"); ok && len(b) > 0 && decompress.Supported(ce) {
			if d, err := decompress.Decode(ce, b, decode.MaxDecodedSize); err == nil {
				b = d
			} else if looksEncoded(b) {
				r.BodyError = "content-encoding: " + err.Error()
			}
		}
		r.Body = b
	}
	return r, nil
}

// looksEncoded tells a body that should have decoded (gzip, zstd or zlib
// magic) from one an exporter already decoded but kept the header for.
func looksEncoded(b []byte) bool {
	return len(b) >= 2 && (b[0] == 0x1f && b[1] == 0x8b || b[0] == 0x78 && (uint16(b[0])<<8|uint16(b[1]))%31 == 0) ||
		len(b) >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd
}

func paramsBody(ps []har.Param) []byte {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(p.Name))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(p.Value))
	}
	return []byte(b.String())
}

func parseCookieHeader(v string) []har.NameValue {
	var out []har.NameValue
	for part := range strings.SplitSeq(v, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, val, _ := strings.Cut(part, "=")
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		val = strings.TrimSpace(val)
		if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
			val = val[1 : len(val)-1]
		}
		out = append(out, har.NameValue{Name: name, Value: val})
	}
	return out
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Test reports whether the request meets the condition.
func (c *Condition) Test(r *Request) bool {
	if c.Method != "" && !strings.EqualFold(c.Method, r.Method) {
		return false
	}
	if c.HasBody != nil && *c.HasBody != (len(r.Body) > 0) {
		return false
	}
	if c.BodyStartsWith != "" && !bytes.HasPrefix(r.Body, []byte(c.BodyStartsWith)) {
		return false
	}
	if c.BodyContains != "" && !bytes.Contains(r.Body, []byte(c.BodyContains)) {
		return false
	}
	if c.BodyMatches != "" {
		re := c.bodyRegexp()
		if re == nil || !re.Match(r.Body) {
			return false
		}
	}
	if c.ContentType != "" && !strings.Contains(strings.ToLower(r.ContentType), strings.ToLower(c.ContentType)) {
		return false
	}
	if c.HasQuery != nil && *c.HasQuery != r.HasQuery {
		return false
	}
	if c.QueryHas != "" {
		if _, ok := decode.ParseQueryString(r.Query)[c.QueryHas]; !ok {
			return false
		}
	}
	if c.HeaderHas != "" {
		if _, ok := har.Header(r.Headers, c.HeaderHas); !ok {
			return false
		}
	}
	if c.Not != nil && c.Not.Test(r) {
		return false
	}
	if len(c.AnyOf) > 0 {
		ok := false
		for i := range c.AnyOf {
			if c.AnyOf[i].Test(r) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	for i := range c.AllOf {
		if !c.AllOf[i].Test(r) {
			return false
		}
	}
	return true
}

func (c *Condition) bodyRegexp() *regexp.Regexp {
	if c.bodyRe != nil {
		return c.bodyRe
	}
	// A condition built in code rather than loaded: compile it here, and
	// leave c untouched so concurrent use stays safe.
	re, err := regexp.Compile(c.BodyMatches)
	if err != nil {
		return nil
	}
	return re
}

// EndpointLiterals returns texts that every endpoint URL some adapter
// matches must contain, for a prefilter in front of Candidates: the exact
// endpoint URLs (trailing slash removed) and, for each regular expression,
// the longest literal all its matches contain ("" when there is none).
func (db *DB) EndpointLiterals() (exact, literals []string) {
	for k := range db.exact {
		exact = append(exact, k)
	}
	sort.Strings(exact)
	for _, r := range db.regexes {
		literals = append(literals, r.e.lit)
	}
	return exact, literals
}
