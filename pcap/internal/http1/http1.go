// Package http1 parses HTTP/0.9, 1.0 and 1.1 from the reassembled bytes of
// a connection, recognised by content rather than port.
package http1

import (
	"time"

	"github.com/tracewire/tracewire/pcap/internal/httpmsg"
	"github.com/tracewire/tracewire/pcap/internal/stream"
)

// Config configures a parser.
type Config struct {
	// TLS says the bytes were decrypted from TLS (for the URL scheme).
	TLS    bool
	Limits httpmsg.Limits
	// Upgrade is called when a response switches protocols (101 after an
	// Upgrade request, e.g. "h2c" or "websocket"). The bytes after the
	// switch go to the parser it returns, or are dropped when it returns
	// nil. For h2c the upgrading request is given so it becomes stream 1.
	Upgrade func(protocol string, req *httpmsg.Message) stream.Parser
}

// New returns a parser for one connection.
func New(c *stream.Conn, sink stream.Sink, cfg Config) stream.Parser {
	return nop{}
}

// LooksLikeRequest reports whether b starts like an HTTP/1 request line
// (enough bytes to say so; false when unsure).
func LooksLikeRequest(b []byte) bool { return false }

// LooksLikeResponse reports whether b starts like an HTTP/1 status line.
func LooksLikeResponse(b []byte) bool { return false }

type nop struct{}

func (nop) Feed(*stream.Chunk)              {}
func (nop) End(time.Time, stream.EndReason) {}
