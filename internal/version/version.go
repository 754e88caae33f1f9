// Package version holds tracewire's version, written into every output so a
// result can be traced to the code that made it.
package version

// Version of tracewire. Same input and same version give byte-identical
// output.
const Version = "0.1.0-dev"

// Name is the creator name written into HAR files and reports.
const Name = "tracewire"
