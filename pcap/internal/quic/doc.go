// Package quic follows QUIC connections in the datagrams of a UDP flow and
// decrypts them: version 1 (RFC 9000, 9001), version 2 (RFC 9369) and the
// IETF drafts 23 to 34 that browsers spoke before version 1.
//
//   - Initial packets are decrypted with keys derived from the
//     Destination Connection ID of the client's first Initial (or of the
//     Initial after a Retry), so the ClientHello's server name and ALPN
//     offer are known without any key.
//   - Handshake, 0-RTT and 1-RTT packets are decrypted with the TLS 1.3
//     secrets of the key logs or the capture's Decryption Secrets Blocks
//     (CLIENT/SERVER_HANDSHAKE_TRAFFIC_SECRET, CLIENT/SERVER_TRAFFIC_SECRET_0,
//     CLIENT_EARLY_TRAFFIC_SECRET), looked up by the ClientHello's random
//     through pcap/internal/tls; the cipher suite comes from the
//     ServerHello, or is found by trial when that was lost.
//   - Header protection is removed, packet numbers reconstructed per
//     packet number space, coalesced packets split, key updates followed
//     (the next phase's keys are tried when the key phase bit flips; the
//     previous phase's for packets reordered across it).
//   - CRYPTO and STREAM frames are put back in order by offset, with
//     retransmissions and overlaps given once; streams go to an App (the
//     HTTP/3 parser) per sender, with RESET_STREAM and FIN.
//   - Connection IDs are followed within the flow: those of both Initial
//     headers, the Retry's, and NEW_CONNECTION_ID frames, so short-header
//     packets find their connection (several connections may share the
//     5-tuple one after another).
//
// Packets that arrive before their keys wait (bounded) for the handshake
// messages that bring them. Packets that cannot be decrypted are never
// guessed at: they are counted by encryption level and reported in a note
// of kind "tls" (nothing decrypted: no secrets for the client random, the
// ClientHello not in the capture) or "quic" (some packets only).
//
// Cryptography is Go's (crypto/aes, crypto/cipher, crypto/hkdf) and
// golang.org/x/crypto (chacha20, chacha20poly1305); only the QUIC framing
// is written here. No QUIC library is used at run time: quic-go is an
// endpoint that validates and answers, while a capture must be read
// passively, from both sides at once, with losses, and without failing on
// what an endpoint would reject.
package quic
