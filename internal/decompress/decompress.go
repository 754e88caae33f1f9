// Package decompress undoes HTTP content encodings (gzip, x-gzip, deflate
// as zlib or raw, br, zstd, and chains of them) with a cap on the output
// size against decompression bombs. Used by pcap for response bodies and by
// the adapters' decoding functions.
package decompress
