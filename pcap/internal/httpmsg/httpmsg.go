// Package httpmsg turns parsed HTTP messages (from HTTP/1 or HTTP/2) into
// HAR entries: URL and query string, cookies, post data and form params,
// content decoding with limits, sizes and timings.
package httpmsg

import (
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

// BuildEntry makes the HAR entry of a request and its response. resp may be
// nil (no response seen): the entry then has status 0, as browsers export
// it. tls says whether the connection was encrypted (for the URL scheme).
func BuildEntry(c *stream.Conn, req, resp *Message, tls bool, lim Limits) *har.Entry {
	panic("not yet written")
}
