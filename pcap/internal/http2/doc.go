// Package http2 parses HTTP/2 (h2 after TLS, h2c by prior knowledge or
// upgrade) from the reassembled bytes of a connection and turns each stream
// into a HAR entry through httpmsg.BuildEntry.
//
// Frames are read with golang.org/x/net/http2's Framer and header blocks
// decoded with its hpack package, one decoder per direction, but the parser
// is deliberately more tolerant than an HTTP/2 endpoint, because a capture
// is evidence of what was sent, not a peer to protect:
//
//   - Header blocks are decoded by the parser itself (not ReadMetaHeaders),
//     so header names in upper case, unknown or repeated pseudo-headers and
//     pseudo-headers in the wrong place are kept as headers instead of
//     failing the stream.
//   - The Framer reads with AllowIllegalReads; a frame it still rejects
//     (bad padding, DATA on stream 0, ...) is skipped with a note. Frames
//     longer than the peer's SETTINGS_MAX_FRAME_SIZE are read anyway, up to
//     the largest length the frame header can express.
//   - A frame header that cannot belong to a well-formed HTTP/2 stream
//     (SETTINGS on a stream, PING that is not 8 bytes, ...) means the
//     parser lost the framing: the connection stops being parsed with a
//     note, and the streams seen so far are emitted as incomplete.
//
// A direction that begins with neither the client preface nor a SETTINGS
// frame (both sides start with one) was captured mid-connection. The
// parser then looks for a frame boundary, trying the starts of packets
// first: a plausible header (a known type with only its flags, a length
// of at most 16 KiB, stream 0 exactly where the type needs it) followed by
// another one; then any offset, followed by two more. A boundary that
// proves wrong within a few frames is abandoned. The same happens after a
// gap in a direction. In both cases, and after a header block
// hpack.Decoder rejects, the HPACK dynamic table of that direction is
// unknown: its blocks then go through looseDecoder, which leaves out the
// fields that refer to entries from before (marking their entries
// incomplete) and decodes everything else correctly. Streams whose request
// headers were never seen (they began before the capture) produce no entry
// and are counted in a note.
//
// Each stream becomes one entry when both sides ended it, when it was
// reset (the entry is marked incomplete unless the response was complete
// and the code was NO_ERROR, and carries _rstStream with the error code's
// name), or at the end of the connection (incomplete). A PUSH_PROMISE
// becomes the request of the promised stream, whose entry carries
// _pushed: true. Bodies are kept up to Limits.MaxBody per message and at
// most maxOpenStreams streams are tracked per connection; finished streams
// are freed at once.
//
// A WebSocket over HTTP/2 (RFC 8441) is a stream whose request is an
// extended CONNECT (":method" CONNECT, ":protocol" websocket) that the
// server answered with a 2xx. From that answer on, the stream's DATA
// frames of each direction are fed to the WebSocket decoder
// (pcap/internal/websocket), whatever their boundaries, with the
// permessage-deflate the answer negotiated; DATA the client sent before
// the answer comes first. The entry is the handshake (its times are those
// of the headers) with the messages as "_webSocketMessages", written when
// the stream ends, is reset or the capture ends. The server's
// SETTINGS_ENABLE_CONNECT_PROTOCOL is not required, as the capture may
// have begun after it. Lost bytes in a direction end the decoding of that
// direction's messages on every open WebSocket stream, since which stream
// lost DATA is unknown.
package http2
