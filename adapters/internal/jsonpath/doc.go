// Package jsonpath is the one JSONPath engine of the adapter database: the
// paths of decoding steps and data paths (FORMAT.md, "Paths"). ojg
// (github.com/ohler55/ojg/jp) parses and evaluates them; this package adds
// only what ojg does not do the way adapter files need:
//
//   - the adapter syntax: "$." may be left out and a dotted segment may hold
//     any character but ".", "[" and "]" (toJSONPath rewrites it into
//     ojg's bracketed form);
//   - an all-digits dotted segment selects a list's element, as the same path
//     does in TrackHAR's JavaScript;
//   - a deterministic result order (ojg walks maps in Go's random order),
//     locations as keys and indexes, and their printed form (FormatLoc);
//   - an error rather than a panic for the filters ojg's parser panics on.
package jsonpath
