// Package websocket decodes the frames of a WebSocket connection (RFC 6455)
// into messages, in the form Chrome's HAR export writes as
// "_webSocketMessages": the bytes after an HTTP/1.1 upgrade (http1), or
// the DATA of an HTTP/2 extended CONNECT stream (RFC 8441, http2).
//
// Decisions worth knowing (they are what the tests check):
//
//   - Client frames are unmasked; fragments (continuation frames) are
//     joined into one message whose time is that of its first frame.
//     Control frames (close, ping, pong) are kept as messages of their own,
//     also when they arrive between the fragments of a data message.
//   - permessage-deflate (RFC 7692) is inflated when the handshake's
//     response negotiated it, with one context per direction that is kept
//     across messages unless "client_no_context_takeover" or
//     "server_no_context_takeover" says otherwise. Inflated data is capped
//     (Config.MaxMessage); a message that cannot be inflated is kept as
//     sent (base64) and marked.
//   - Memory is bounded: a message keeps at most Config.MaxMessage bytes
//     (the rest is counted and the message marked "_truncated"), and a
//     connection keeps at most Config.MaxMessages messages (the rest are
//     counted in a warning).
//   - A gap in a direction ends the decoding of that direction: frames
//     after it cannot be found reliably. A warning says so; nothing is
//     guessed.
//   - Text messages (opcode 1) keep their data as text; all other
//     messages (binary, close, ping, pong) carry it base64-encoded, so the
//     bytes are kept exactly.
//
// The frame reader is written here: gopacket has no WebSocket layer, and
// WebSocket libraries (gorilla/websocket, coder/websocket) speak on a live
// connection as one endpoint, where this reads both recorded directions,
// with gaps, a byte stream at a time. Inflating is compress/flate's.
package websocket
