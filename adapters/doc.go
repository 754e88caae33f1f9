// Package adapters is tracewire's tracker adapter database: declarative
// YAML files (one per tracking company, embedded from data/) that say which
// requests go to a tracker, how to decode them, and where in the decoded
// request each kind of personal data sits. It loads and checks the files
// (and their precompiled form, gendb.bin), finds the adapters of a request,
// and runs an adapter's decoding steps over it.
//
// The file format is documented in FORMAT.md beside this file. Adapters are
// data, not code: adding a tracker means adding a file. The decoding
// functions are in the decode package, the paths (JSONPath over ojg) in
// internal/jsonpath. The match package applies the database to HAR entries
// and produces findings.
package adapters
