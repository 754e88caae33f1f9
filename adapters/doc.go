// Package adapters is tracewire's tracker adapter database: declarative
// YAML files (one per tracking company, embedded from data/) that say which
// requests go to a tracker, how to decode them, and where in the decoded
// request each kind of personal data sits. It also holds the decoding
// functions and the small state machine that runs an adapter's decoding
// steps over a request.
//
// The file format is documented in FORMAT.md beside this file. Adapters are
// data, not code: adding a tracker means adding a file. The match package
// applies the database to HAR entries and produces findings.
package adapters
