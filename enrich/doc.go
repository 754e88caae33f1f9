// Package enrich attaches what was recorded outside the network to the HAR
// entries of a capture: which process and which code path sent a request
// (socket stack traces from the device, ptcpdump's per-packet process
// information), the plaintext of bodies an app encrypted itself (PiRogue's
// aes_info.json), and whose data a backend sent (a runtime provenance log).
//
// Each source is one Enricher, built from its trace file by that source's
// reader:
//
//   - ReadPiRogueSocketTrace: PiRogue's socket_trace.json (Frida hooks on
//     libc's send/recv family), attached as request._stacktrace and
//     response._stacktrace with the field names of PiRogue's pcapng-utils;
//   - ReadEBPFEvents: socket events in the JSON Lines format of
//     docs/ebpf-socket-events.md, for any eBPF collector, attached the same
//     way;
//   - Ptcpdump: the process information ptcpdump writes into pcapng packet
//     comments (entry _packetComments), attached as entry _process;
//   - ReadAESInfo: PiRogue's aes_info.json, replacing encrypted bodies by
//     their plaintext and keeping the original in _decryption;
//   - ReadProvenance: a provenance log of sink events, attached as entry
//     _owners and _provenance; every owner ID is also an Indicator for the
//     matching stage.
//
// Socket operations are correlated with entries through the Community ID of
// the flow and the direction (sends pair with requests, receives with
// responses), inside a time window around the entry's capture timestamp.
// Pairing is one to one and order-preserving over each flow and direction
// (the assignment that pairs the most entries, then the one closest in time
// overall), except that HTTP/2 streams carried by one frame share one
// operation. That needs every entry's timestamp before any is enriched, so
// a Pipeline with such an enricher (a Planner) ranges over its entries twice; the
// first pass keeps only 24 bytes per entry whose flow has trace records,
// and over a HAR file it only skims the few fields it needs.
//
// Memory is proportional to the trace records: readers keep compact
// records, intern repeated strings and stacks, and the entries stream.
// Malformed trace files give an *InputError saying which file, record and
// byte, or a counted skip in ReadStats; nothing panics.
//
// Every trace format is read by json/v2 (records.go): a jsontext.Decoder
// cuts the records and each is unmarshalled into its record struct. The
// one hand-written part is parseFast (pirogue_fast.go), which reads a
// PiRogue record of the usual shape from the bytes the decoder cut; why it
// stays is said there.
package enrich
