// Package decompress undoes HTTP content encodings (gzip, x-gzip, deflate
// as zlib or raw, br, zstd, and chains of them) with a cap on the output
// size against decompression bombs. Used by pcap for response bodies and by
// the adapters' decoding functions.
//
// Decode never panics and never loses data silently: when a body cannot be
// decoded completely it returns what could be decoded together with an
// error saying why, and the caller decides whether to keep the partial
// output or the raw bytes.
package decompress
