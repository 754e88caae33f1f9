// Package tls decrypts TLS connections from captured bytes, in pure Go:
// SSL 3.0 to TLS 1.2 with master secrets from NSS key logs (CLIENT_RANDOM,
// PMS_CLIENT_RANDOM, RSA lines), from an RSA server private key, or from
// the session an abbreviated handshake resumes; TLS 1.3 and its drafts
// with the key log's traffic secrets, including 0-RTT data and KeyUpdate.
//
// The parser sits between TCP reassembly and the HTTP parsers: it splits
// each direction into records (spanning segments or several per segment),
// follows the handshake in the clear and, once keys are known, in the
// encrypted records, and hands the application data, record by record and
// stamped with the time, frame and comments of the packet that carried
// the record's first byte, to an inner parser made after the handshake
// (when the ALPN is known). After a gap a direction is searched for the
// next record, which is accepted only when it authenticates.
//
// Record ciphers: AES-GCM, ChaCha20-Poly1305, AES-CBC and 3DES/DES-CBC
// with HMAC (or SSL 3.0's MAC), encrypt-then-MAC, RC4, NULL and the 40-bit
// export DES and RC4 suites; also renegotiation, TLS compression (DEFLATE)
// and SSL 2.0-format ClientHellos. Not supported: AES-CCM, Camellia, SEED,
// IDEA, ARIA and RC2, which the standard library and golang.org/x/crypto
// do not have.
//
// A connection it cannot decrypt yields no entries, only a stream.Note of
// kind "tls" saying why (no key for the client random, unsupported cipher
// suite, records that do not authenticate, a gap it could not get past).
// Memory per connection is bounded whatever the input.
package tls
