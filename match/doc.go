// Package match finds which personal data HAR entries transmitted: it picks
// the adapter (package adapters) that handles an entry, runs its decoding
// steps, reads the values its data paths point to, and searches the entry
// for indicators (values known to belong to the test device or user) in
// plain, URL-encoded, base64, hex, JSON-escaped and hashed forms.
//
// A Matcher is immutable and safe for concurrent use; Entry handles one
// entry, Stream a sequence of entries (iter.Seq2[*har.Entry, error]) with a
// worker pool and ordered output, StreamHAR a HAR's text the same way,
// parsing only the requests an adapter or indicator may concern.
package match
