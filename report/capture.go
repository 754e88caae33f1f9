package report

import (
	"fmt"
	"io"

	"github.com/tracewire/tracewire/pcap"
)

// WriteCaptureWarnings writes what a user of a conversion should know
// (its warnings, the TLS connections not decrypted, internal errors to
// report) as the commands print it; nothing for a nil sum. inFlows is
// set in the flows listing, whose table already says why a connection
// was not decrypted.
func WriteCaptureWarnings(w io.Writer, sum *pcap.Summary, inFlows bool) {
	if sum == nil {
		return
	}
	for _, x := range sum.Warnings {
		fmt.Fprintln(w, "tracewire: warning:", x)
	}
	if n := len(sum.TLSErrors); n > 0 {
		hint := " (see _tlsErrors in the HAR, or tracewire flows)"
		if inFlows {
			hint = " (the table's decrypted column says why)"
		}
		fmt.Fprintf(w, "tracewire: warning: %d TLS connection(s) could not be decrypted%s\n", n, hint)
	}
	for _, n := range sum.Notes {
		if n.Kind == "internal" {
			fmt.Fprintln(w, "error: please report this bug:", n)
		}
	}
}
