// Package har holds the HAR 1.2 types that every later stage of tracewire
// passes along, a lenient streaming reader and a strict streaming writer.
//
// Reading is lenient because real exports are often not schema-valid
// (missing page ids, null times, null arrays, wrong types): what can be
// understood is kept and each problem becomes a Warning. Entries are read one
// at a time so a HAR of several gigabytes never sits in memory.
// Reader.Entries gives them as an iter.Seq2[*Entry, error], the one form
// in which every stage passes entries on (pcap.Entries, enrich's
// Pipeline, match's Stream). Reading is
// json/v2's (github.com/go-json-experiment/json) from the struct tags of
// types.go; decode.go documents the leniency in one place.
//
// Writing is strict: whatever the Entry holds, the output passes the HAR 1.2
// schema (required fields present, arrays never null, timings >= -1, bodies
// that are not UTF-8 written as base64). Field order is fixed and unknown
// properties are written with sorted keys, so the same entries always give
// the same bytes.
//
// tracewire's own extension properties start with an underscore, as HAR 1.2
// asks: on an entry _communityId, _clientAddress, _serverAddress,
// _tlsServerName, _timestamp (seconds since the epoch, from the capture) and
// _incomplete; on request and response _timestamp. Later
// stages add more (_stacktrace, _owners, _decryption, ...) through the Extra
// maps, which also keep every unknown property of an input file.
package har
