package httpmsg

import (
	"net/netip"
	"strconv"
	"time"

	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/pcap/internal/stream"
)

// Limits bound what one message may cost in memory.
type Limits struct {
	// MaxBody is the number of body bytes (after transfer decoding) kept
	// per message; the rest is counted but dropped and the message marked
	// Truncated.
	MaxBody int64
	// MaxDecoded caps the size of a body after content decoding, against
	// decompression bombs.
	MaxDecoded int64
}

// DefaultLimits keep up to 64 MiB of a body and decode up to 256 MiB.
var DefaultLimits = Limits{MaxBody: 64 << 20, MaxDecoded: 256 << 20}

// Message is one HTTP request or response as parsed from the wire.
type Message struct {
	// Request line (requests only). Target is as sent: origin form
	// ("/a?b"), absolute form ("http://h/a") or authority form.
	Method string
	Target string
	// Scheme and Authority come from HTTP/2 pseudo-headers, or are filled
	// in for HTTP/1 from the Host header and the connection (TLS or not).
	Scheme    string
	Authority string
	// Status line (responses only).
	Status int
	Reason string
	// Version is "HTTP/0.9", "HTTP/1.0", "HTTP/1.1" or "HTTP/2".
	Version string
	// Headers in wire order and original case. HTTP/2 pseudo-headers are
	// not included.
	Headers []har.NameValue
	// Trailers (chunked or HTTP/2).
	Trailers []har.NameValue
	// Body after transfer decoding (de-chunked), before content decoding.
	Body []byte
	// BodyLen is the length of the body after transfer decoding, counting
	// the bytes beyond Limits.MaxBody that were dropped; 0 means len(Body).
	BodyLen int64
	// HeadersSize and BodySize count bytes as on the wire (-1 unknown).
	HeadersSize int64
	BodySize    int64
	// Start and End are the capture times of the first and last byte.
	Start, End time.Time
	// Incomplete marks a message that crossed a gap or was cut off.
	Incomplete bool
	// Truncated marks a body longer than Limits.MaxBody.
	Truncated bool
	// Comments of the packets that carried the message (pcapng).
	Comments []string
	// Extra properties for the HAR request or response (e.g. _pushed,
	// _reset for HTTP/2).
	Extra har.Extra
}

// fullBodyLen is the transfer-decoded length of the body, dropped bytes
// included.
func (m *Message) fullBodyLen() int64 {
	n := max(m.BodyLen, int64(len(m.Body)))
	if m.Truncated && n == int64(len(m.Body)) && m.BodySize > n {
		// A parser that does not fill BodyLen: the wire size is the best
		// estimate.
		n = m.BodySize
	}
	return n
}

// BuildEntry makes the HAR entry of a request and its response. resp may be
// nil (no response seen): the entry then has status 0, as browsers export
// it. tls says whether the connection was encrypted (for the URL scheme).
//
// BuildEntry never fails: what cannot be decoded is kept as sent and a
// comment says why.
func BuildEntry(c *stream.Conn, req, resp *Message, tls bool, lim Limits) *har.Entry {
	if req == nil {
		req = &Message{HeadersSize: -1, BodySize: -1}
	}
	if c == nil {
		c = &stream.Conn{}
	}
	if lim.MaxDecoded <= 0 {
		lim.MaxDecoded = DefaultLimits.MaxDecoded
	}
	e := &har.Entry{
		StartedDateTime: req.Start,
		CommunityID:     c.CommunityID,
		Timestamp:       seconds(req.Start),
		Incomplete:      req.Incomplete || req.Truncated,
		Timings:         har.NoTimings,
	}
	if a := c.Server.Addr(); a.IsValid() {
		e.ServerIPAddress = a.Unmap().WithZone("").String()
	}
	if c.Client.IsValid() {
		e.Connection = strconv.Itoa(int(c.Client.Port()))
		e.ClientAddress = addrPort(c.Client)
	}
	if c.Server.IsValid() {
		e.ServerAddress = addrPort(c.Server)
	}
	e.TLSServerName = c.SNI
	e.Request = buildRequest(c, req, tls, lim)
	if resp != nil {
		e.Response = buildResponse(resp, lim)
		e.Incomplete = e.Incomplete || resp.Incomplete || resp.Truncated
	} else {
		e.Response = har.Response{
			HeadersSize: -1,
			BodySize:    -1,
			Comment:     "no response in the capture",
		}
	}
	e.Timings.Send = ms(req.Start, req.End)
	if resp != nil {
		e.Timings.Wait = ms(req.End, resp.Start)
		e.Timings.Receive = ms(resp.Start, resp.End)
	}
	e.Time = e.Timings.Send + e.Timings.Wait + e.Timings.Receive

	var comments []string
	seen := map[string]bool{}
	for _, m := range []*Message{req, resp} {
		if m == nil {
			continue
		}
		for _, s := range m.Comments {
			if !seen[s] {
				seen[s] = true
				comments = append(comments, s)
			}
		}
	}
	if len(comments) > 0 {
		e.Extra.Set("_packetComments", comments)
	}
	return e
}

// ms is the duration from a to b in milliseconds, 0 when unknown or
// negative (pipelined responses can start before the request ends).
func ms(a, b time.Time) float64 {
	if a.IsZero() || b.IsZero() || b.Before(a) {
		return 0
	}
	return float64(b.Sub(a).Nanoseconds()) / 1e6
}

func seconds(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return har.Seconds(t)
}

func mergeExtra(dst *har.Extra, src har.Extra) {
	for k, v := range src {
		dst.Set(k, v)
	}
}

func buildRequest(c *stream.Conn, m *Message, tls bool, lim Limits) har.Request {
	r := har.Request{
		Method:      textOf(m.Method),
		URL:         requestURL(c, m, tls),
		HTTPVersion: m.Version,
		Headers:     headers(m.Headers),
		HeadersSize: m.HeadersSize,
		BodySize:    m.BodySize,
		Timestamp:   seconds(m.Start),
	}
	r.QueryString = queryString(r.URL)
	r.Cookies = requestCookies(r.Headers)
	if r.Cookies == nil {
		r.Cookies = []har.Cookie{}
	}
	if len(m.Trailers) > 0 {
		r.Extra.Set("_trailers", trailers(m.Trailers))
	}
	r.PostData = postData(m, r.Headers, lim)
	mergeExtra(&r.Extra, m.Extra)
	return r
}

func buildResponse(m *Message, lim Limits) har.Response {
	r := har.Response{
		Status:      m.Status,
		StatusText:  textOf(m.Reason),
		HTTPVersion: m.Version,
		Headers:     headers(m.Headers),
		HeadersSize: m.HeadersSize,
		BodySize:    m.BodySize,
		Timestamp:   seconds(m.Start),
	}
	r.Cookies = responseCookies(r.Headers, m.Start)
	r.RedirectURL, _ = har.Header(r.Headers, "Location")
	r.Content = content(m, r.Headers, lim)
	if len(m.Trailers) > 0 {
		r.Extra.Set("_trailers", trailers(m.Trailers))
	}
	mergeExtra(&r.Extra, m.Extra)
	return r
}

// headers copies the headers, decoding names and values that are not
// UTF-8 as ISO-8859-1 (RFC 9110 §5.5's historical charset) so that every
// byte survives the JSON encoding.
func headers(hs []har.NameValue) []har.NameValue {
	out := make([]har.NameValue, len(hs))
	for i, h := range hs {
		out[i] = har.NameValue{Name: textOf(h.Name), Value: textOf(h.Value), Comment: h.Comment}
	}
	return out
}

// trailers in the generic form of Extra values (a list of name/value
// objects, like headers).
func trailers(hs []har.NameValue) []any {
	out := make([]any, len(hs))
	for i, h := range hs {
		out[i] = map[string]any{"name": textOf(h.Name), "value": textOf(h.Value)}
	}
	return out
}

// addrPort writes an endpoint as Wireshark shows it: an IPv4-mapped address
// as IPv4, no zone, IPv6 in brackets.
func addrPort(a netip.AddrPort) string {
	return netip.AddrPortFrom(a.Addr().Unmap().WithZone(""), a.Port()).String()
}
