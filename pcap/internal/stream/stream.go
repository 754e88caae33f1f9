// Package stream is the contract between TCP reassembly and the protocol
// parsers (HTTP/1, TLS, HTTP/2): reassembly hands each connection's bytes,
// in order and per direction, to a Parser; parsers hand HAR entries and
// notes about the flow to a Sink.
//
// Everything happens on one goroutine per capture, so none of these types
// need locking.
package stream

import (
	"net/netip"
	"time"

	"github.com/tracewire/tracewire/har"
)

// Dir is the direction of data in a connection.
type Dir uint8

const (
	// ClientToServer is data sent by the side that opened the connection.
	ClientToServer Dir = 0
	// ServerToClient is data sent by the other side.
	ServerToClient Dir = 1
)

// Reverse returns the other direction.
func (d Dir) Reverse() Dir { return 1 - d }

func (d Dir) String() string {
	if d == ClientToServer {
		return "client→server"
	}
	return "server→client"
}

// Conn describes a TCP connection and collects what the parsers learn of it
// (for `tracewire flows` and the HAR log's notes).
type Conn struct {
	// Index numbers connections in the order their first packet appears in
	// the capture; it breaks ties when ordering entries, so the output does
	// not depend on map order.
	Index uint64
	// Client opened the connection (sent the SYN). When the capture starts
	// mid-connection this is a guess that a parser may correct with Swap.
	Client netip.AddrPort
	Server netip.AddrPort
	// CommunityID of the flow (v1, seed from the options).
	CommunityID string
	// First and Last are the capture times of the first and last packet.
	First, Last time.Time
	// Bytes counts payload bytes per direction.
	Bytes [2]int64
	// Protocol is what the parsers recognised: "http/1", "h2", "h2c",
	// "tls", "tls→http/1", "tls→h2", or "" when unknown.
	Protocol string
	// SNI and ALPN of a TLS connection.
	SNI  string
	ALPN string
	// TLSVersion and CipherSuite as negotiated, e.g. "TLS 1.3",
	// "TLS_AES_128_GCM_SHA256".
	TLSVersion  string
	CipherSuite string
	// Decrypted reports whether application data could be decrypted.
	Decrypted bool
	// Requests counts the entries emitted for the connection.
	Requests int
	// Gaps counts the holes in the reassembled streams.
	Gaps int
	// UDP marks a UDP flow (QUIC); Client is then the side that sent the
	// first Initial packet, or the first datagram.
	UDP bool
}

// Swap exchanges client and server, for a parser that found the connection
// was seen from the wrong side (a capture that starts mid-connection).
func (c *Conn) Swap() {
	c.Client, c.Server = c.Server, c.Client
	c.Bytes[0], c.Bytes[1] = c.Bytes[1], c.Bytes[0]
}

// Chunk is a run of in-order bytes of one direction, normally the payload
// of one packet.
type Chunk struct {
	Dir Dir
	// Data is only valid during the call to Feed; a parser that keeps it
	// must copy it.
	Data []byte
	// Time is the capture time of the packet that carried Data[0].
	Time time.Time
	// Skip is the number of bytes lost before Data (a gap in the capture),
	// or -1 when the amount is unknown; 0 when Data follows the previous
	// chunk of the same direction.
	Skip int
	// Frame is the number (1-based) of the packet that carried Data[0] in
	// its capture file, for messages that say where.
	Frame uint64
	// Comments are the comments of that packet in a pcapng file (for
	// example the process information ptcpdump writes).
	Comments []string
}

// EndReason says why a connection ended.
type EndReason uint8

const (
	EndFIN     EndReason = iota // both sides closed (FIN or RST)
	EndIdle                     // no packet for longer than the idle timeout
	EndCapture                  // the capture ended first
)

// Parser consumes a connection's bytes. Feed receives the chunks of both
// directions in capture order; End is called once at the end.
type Parser interface {
	Feed(c *Chunk)
	End(at time.Time, why EndReason)
}

// Factory makes the parser for a new connection; the TLS parser uses one
// to make the parser of the decrypted bytes.
type Factory func(c *Conn, sink Sink) Parser

// Note is something a user should know about a flow: a TLS connection we
// could not decrypt, a parse error, data lost in a gap.
type Note struct {
	Conn *Conn
	Time time.Time
	// Kind groups notes: "tls" (could not decrypt), "http" (could not
	// parse), "gap".
	Kind   string
	Reason string
	// Cause, in a "tls" note, says in a word why nothing (or not all)
	// was decrypted: "key" (no secrets for the connection), "key13" (some
	// of a TLS 1.3 connection's secrets missing), "suite" (cipher suite or
	// compression not supported), "handshake" (not in the capture),
	// "decrypt" (decryption failed: wrong key?), "early" (0-RTT data),
	// "gap", "framing", "limit", "damaged" (data lost or malformed).
	Cause string
}

// Sink receives what the parsers find.
type Sink interface {
	// Entry is given every HTTP exchange found. The entry and everything it
	// points to belong to the sink from then on.
	Entry(c *Conn, e *har.Entry)
	Note(n Note)
}

// Holder is implemented by parsers that hold bytes of a connection
// (messages not yet complete, bytes kept while sniffing): Held says how
// many, for the reassembler's memory budget.
type Holder interface {
	Held() int
}
