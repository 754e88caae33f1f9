// Package match finds which personal data HAR entries transmitted: it picks
// the adapter (package adapters) that handles an entry, runs its decoding
// steps, reads the values its data paths point to, and searches the entry
// for indicators (values known to belong to the test device or user) in
// plain, URL-encoded, base64, hex, JSON-escaped and hashed forms.
//
// A Matcher is immutable and safe for concurrent use; Entry handles one
// entry, Stream a whole HAR with a worker pool and ordered output.
package match
