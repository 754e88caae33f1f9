// Package http2 parses HTTP/2 (h2 after TLS, h2c by prior knowledge or
// upgrade) from the reassembled bytes of a connection.
package http2

import (
	"time"

	"github.com/tracewire/tracewire/pcap/internal/httpmsg"
	"github.com/tracewire/tracewire/pcap/internal/stream"
)

// Config configures a parser.
type Config struct {
	// TLS says the bytes were decrypted from TLS (h2 rather than h2c).
	TLS    bool
	Limits httpmsg.Limits
	// Upgraded is the HTTP/1.1 request that was upgraded with "Upgrade:
	// h2c"; it becomes stream 1 and the client's connection preface comes
	// next. Nil for prior knowledge and TLS.
	Upgraded *httpmsg.Message
}

// New returns a parser for one connection.
func New(c *stream.Conn, sink stream.Sink, cfg Config) stream.Parser {
	return nop{}
}

// IsPreface reports whether b starts with the client connection preface
// ("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), or with as much of it as b holds.
func IsPreface(b []byte) bool { return false }

type nop struct{}

func (nop) Feed(*stream.Chunk)              {}
func (nop) End(time.Time, stream.EndReason) {}
