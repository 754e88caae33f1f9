// Package pcap turns packet captures into HAR: it reads pcap and pcapng
// files (gzipped too, every section and interface, mixed link types),
// reassembles TCP, decrypts TLS with key logs (files or pcapng Decryption
// Secrets Blocks), and parses HTTP/1.x and HTTP/2 into HAR entries that
// carry each flow's Community ID and the capture's timestamps.
//
// Everything streams: flows are freed when they close or go idle, and
// entries are sorted through a spool so a capture larger than memory can be
// converted.
package pcap
