// Package decode holds the decoding functions of the adapter database
// (FORMAT.md, "Decoding functions") and the value model they produce:
// nil, bool, string (text, or raw bytes after a binary decoding), int64,
// float64, json.Number (integers beyond int64), []any and map[string]any.
// Stringify and IsEmpty turn a found value into the text a finding
// reports, as TrackHAR does, so the two tools' findings compare.
//
// Libraries do the reading; what is written here is what they do not do:
//
//   - ParseJSON reads with json/v2's jsontext. Trackers also send
//     JavaScript object literals (unquoted or single-quoted keys, trailing
//     commas, comments, hex numbers, NaN); a small pre-pass rewrites those
//     into JSON, because the JSON5 readers are not among our dependencies
//     and HuJSON accepts neither unquoted keys nor single quotes.
//   - ParseQueryString gives the nested objects and lists of PHP and Node's
//     qs (a[b][c]=1, a[]=1), which TrackHAR's paths are written for;
//     net/url.ParseQuery has flat lists only.
//   - DecodeProtobuf decodes without a schema, by CyberChef's heuristic
//     (a length-delimited field is a message when its bytes parse as one),
//     over protowire; protobuf's own packages need a message descriptor.
//   - DecodeBase64 accepts both alphabets, with or without padding, in one
//     text, then decodes with encoding/base64.
//
// The multipart, percent, hex and decompression decoders are the standard
// library's (and internal/decompress).
package decode
