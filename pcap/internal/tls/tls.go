package tls

import (
	"github.com/tracewire/tracewire/pcap/internal/stream"
)

// Config configures a parser.
type Config struct {
	Keys *Keys
	// Inner makes the parser for the decrypted bytes; the connection's ALPN
	// and SNI are set on the Conn before it is called.
	Inner stream.Factory
}

// New returns a parser for one TLS connection. It sets c.Protocol to
// "tls", records SNI, ALPN, version and cipher suite on c, hands the
// decrypted application data to a parser made with cfg.Inner, and reports
// what it cannot decrypt as notes of kind "tls", at most one per kind of
// problem. It never emits entries of its own.
func New(c *stream.Conn, sink stream.Sink, cfg Config) stream.Parser {
	return newParser(c, sink, cfg)
}

// LooksLikeClientHello reports whether b starts with a TLS handshake record
// holding a ClientHello: content type 22, version 3.0 to 3.4, a record
// length a ClientHello can have, handshake type 1 and a message length that
// fits; or with an SSL 2.0-format ClientHello offering SSL 3.0 or later,
// which old clients sent. A b shorter than that is judged on the bytes it
// has, so a first segment cut early still counts; HTTP never starts with
// 0x16 or a byte above 0x7f.
func LooksLikeClientHello(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	if b[0]&0x80 != 0 {
		return looksLikeSSLv2Hello(b)
	}
	if b[0] != recHandshake {
		return false
	}
	if len(b) > 1 && b[1] != 3 {
		return false
	}
	if len(b) > 2 && b[2] > 4 {
		return false
	}
	if len(b) > 4 {
		n := int(b[3])<<8 | int(b[4])
		if n < 4 || n > maxRecord {
			return false
		}
	}
	if len(b) > 5 && b[5] != hsClientHello {
		return false
	}
	if len(b) > 8 {
		// A ClientHello has at least version, random, three empty vectors.
		n := int(b[6])<<16 | int(b[7])<<8 | int(b[8])
		if n < 2+32+1+2+1 {
			return false
		}
	}
	return true
}

// looksLikeSSLv2Hello checks a 2-byte SSL 2.0 record header, message type
// 1 and a version of 3.0 to 3.4.
func looksLikeSSLv2Hello(b []byte) bool {
	if len(b) > 1 {
		// Type, version and three lengths, then at least one cipher spec
		// and a 16-byte challenge.
		if n := int(b[0]&0x7f)<<8 | int(b[1]); n < 9+3+16 {
			return false
		}
	}
	if len(b) > 2 && b[2] != hsClientHello {
		return false
	}
	if len(b) > 3 && b[3] != 3 {
		return false
	}
	if len(b) > 4 && b[4] > 4 {
		return false
	}
	return true
}
