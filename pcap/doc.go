// Package pcap turns packet captures into HAR: it reads pcap and pcapng
// files (gzipped too, every section and interface, mixed link types),
// reassembles TCP, decrypts TLS with key logs (files or pcapng Decryption
// Secrets Blocks) and RSA keys, and parses HTTP/1.x and HTTP/2 into HAR
// entries that carry each flow's Community ID and the capture's timestamps.
// UDP flows are followed too: QUIC connections are decrypted with the same
// key logs and their HTTP/3 parsed into entries; every other flow (DNS,
// other UDP, TCP without HTTP) is listed and named in the warnings, so no
// traffic goes unmentioned.
//
// Protocols are recognised by content, never by port: a TLS ClientHello,
// the HTTP/2 connection preface, an HTTP/1 request or status line, or a
// lawful-interception handover (ETSI X3 PDUs, whose packets are reassembled
// as flows of their own). Inside TLS the same recognition runs on the
// decrypted bytes unless ALPN names the protocol.
//
// Everything streams: flows are freed when they close or go idle (in
// capture time), and entries are sorted by request time through a bounded
// external merge, so a capture larger than memory can be converted and the
// same input always gives the same bytes. Convert hands out entries;
// ConvertHAR writes a HAR file; both return a Summary of flows, TLS
// connections that could not be decrypted, notes about single flows and
// warnings about the inputs.
package pcap
