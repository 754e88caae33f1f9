// Package http1 parses HTTP/0.9, 1.0 and 1.1 from the reassembled bytes of
// a connection, recognised by content rather than port.
//
// The parser is an incremental state machine per direction: chunks of
// both directions arrive interleaved in capture order, requests queue and
// pair with responses in order (keep-alive and pipelining), and an entry is
// handed to the sink as soon as an exchange is complete.
//
// Decisions worth knowing (they are what the tests check):
//
//   - Framing follows RFC 9112 §6: Transfer-Encoding wins over
//     Content-Length, and chunked counts only as the final coding
//     ("identity" is ignored). A request whose length cannot be determined
//     (Transfer-Encoding without final chunked, an invalid Content-Length,
//     an invalid or overflowing chunk size) keeps the bytes up to the next
//     request line as its body and is marked incomplete, with a warning in
//     the request's "_warnings"; the request line found next becomes its
//     own entry. So a smuggled request is neither lost nor invented: it is
//     reported as the bytes on the wire show it. Responses with such
//     framing run to the next status line the same way; responses without
//     any length run to the end of the connection.
//   - 1xx responses other than 101 are interim: they are not paired (the
//     entry's response gets "_interim" listing them). HEAD, 204, 304 and
//     1xx responses have no body.
//   - 101 Switching Protocols calls Config.Upgrade with the protocol named
//     in the response's Upgrade header (lower case, e.g. "websocket",
//     "h2c"); the bytes after the switch, of both directions, go to the
//     parser it returns, or are dropped when it returns nil or there is no
//     hook. The handshake is an entry, except for h2c when a parser was
//     returned: the HTTP/2 parser turns the upgraded request into stream 1.
//     A 2xx response to CONNECT does the same with protocol "connect" (the
//     tunnel's bytes, e.g. TLS, go to the returned parser).
//   - HTTP/0.9 simple requests ("GET /path") are recognised where a message
//     must start; the response is the raw bytes to the end of the
//     connection (status 200 with a comment, unless the server answered
//     with a status line). Request lines without a version that are
//     followed by header lines (malformed 1.x clients) are parsed as
//     requests with httpVersion "".
//   - A response whose request is not in the capture (a capture that starts
//     mid-connection) is parsed, to keep the framing, and dropped with a
//     note: no request is invented. A response that began before the
//     oldest waiting request did cannot be its answer, so it is dropped the
//     same way.
//   - Gaps: a gap of known size inside a body of known length is counted
//     and parsing goes on (the entry is marked incomplete); any other gap
//     ends the message in progress, which is kept and marked incomplete,
//     and parsing resumes at the next request or status line. A direction
//     whose first bytes are not a message start (a capture that began
//     mid-body) is scanned the same way.
//   - A response lost in a gap does not shift the others: after a gap in
//     the responses, if a request later than the oldest one waiting began
//     before the next response did, the client (which waits for each
//     response, unless the connection has shown pipelining) had received
//     the responses to the requests before it, so those were lost: they
//     are written without a response, incomplete, with a warning, and the
//     response pairs with its own request.
//   - Direction: the first message found decides which side is the client;
//     when requests come from the side taken as the server, Conn.Swap is
//     called.
package http1
