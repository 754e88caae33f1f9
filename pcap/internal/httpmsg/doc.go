// Package httpmsg turns parsed HTTP messages (from HTTP/1, HTTP/2 or
// HTTP/3) into HAR entries: URL and query string, cookies, post data and
// form params, content decoding with limits, sizes and timings. HTTP/2
// and HTTP/3 map their decoded header fields onto a Message with the same
// RequestFields and ResponseFields.
//
// What BuildEntry writes, where HAR leaves room:
//
//   - url: the absolute-form target as sent; otherwise scheme (HTTP/2
//     :scheme, else TLS or not) + host (:authority, Host, else the server's
//     address without the default port) + the target's bytes as sent.
//     Bytes that are not UTF-8 are percent-encoded so none is lost.
//   - Header names and values that are not UTF-8 are decoded as
//     ISO-8859-1, so every byte survives the JSON encoding.
//   - content.size is the decoded size and content.compression the bytes
//     the Content-Encoding saved (HAR 1.2: size - compression is the
//     encoded size), set only when the body was decoded completely.
//   - A body that cannot be decoded (unknown coding, corrupt data, over
//     Limits.MaxDecoded) is kept as sent (base64 when not UTF-8) and the
//     content's comment says why; encoded data cut off by the end of the
//     capture or a gap yields the bytes decoded before the cut, with a
//     comment. postData is decoded the same way and its comment names the
//     Content-Encoding that was undone.
//   - A request without response gets status 0, statusText "",
//     httpVersion "", headersSize and bodySize -1 and a response comment.
//   - Timings: send is the request's first to last byte, wait its last
//     byte to the response's first, receive the response's first to last;
//     blocked, dns, connect and ssl are -1.
//   - Extensions: entry "_packetComments" (the pcapng comments of the
//     packets that carried the exchange, de-duplicated, in order),
//     request/response "_trailers", and whatever Message.Extra holds.
package httpmsg
