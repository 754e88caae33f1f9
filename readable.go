package tracewire

import (
	"fmt"
	"path/filepath"

	"github.com/tracewire/tracewire/pcap"
)

// CaptureReadError returns an error for the first capture of sum that
// nothing could be read from: no packet, and a warning about the file (a
// capture truncated inside its first record, say). Such a capture must not
// pass for one in which nothing was found. A capture that is complete and
// holds no packets is not an error.
func CaptureReadError(sum *pcap.Summary) error {
	if sum == nil {
		return nil
	}
	for _, f := range sum.Files {
		if f.Packets > 0 {
			continue
		}
		for _, w := range sum.Warnings {
			if w.File == f.Path || w.File == filepath.Base(f.Path) {
				return fmt.Errorf("%s: no packet could be read (%s)", f.Path, w.Message)
			}
		}
	}
	return nil
}
