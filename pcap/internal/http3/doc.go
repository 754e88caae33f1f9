// Package http3 parses HTTP/3 (RFC 9114) from the streams of a decrypted
// QUIC connection (pcap/internal/quic) and turns each request stream into a
// HAR entry through httpmsg.BuildEntry, so bodies are content-decoded as
// for HTTP/1 and HTTP/2.
//
// Frames are read as stream bytes arrive, in any chunking (FrameReader):
// DATA is appended to the message body up to Limits.MaxBody, HEADERS is
// kept whole (up to 1 MiB) and decoded with QPACK, unknown and reserved
// frame types are skipped. The control stream's SETTINGS give the QPACK
// table limits; the encoder streams fill one dynamic table per direction.
//
// QPACK field sections that use only the static table are decoded by
// github.com/quic-go/qpack. That package has no dynamic table (quic-go's
// encoder never inserts), while browsers and Cronet do, so the table, the
// encoder stream instructions and field lines that refer to it are
// decoded here (qpack.go), with qpack's static table and hpack's Huffman
// code. A section that refers to insertions not yet seen in capture order
// waits for them; at the end of the connection it is decoded as far as
// possible and its entry marked incomplete.
//
// Each request stream becomes one entry with httpVersion "HTTP/3", the UDP
// flow's Community ID and "_streamId" (the QUIC stream ID), when both sides
// ended it or reset it. Reset streams are kept with "_rstStream" (the
// HTTP/3 error code's name) and marked incomplete unless the response was
// complete; streams cut by a gap in the capture or open at its end are
// marked incomplete. Server push is noted, not parsed.
package http3
