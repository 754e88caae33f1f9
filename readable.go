package tracewire

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/tracewire/tracewire/pcap"
)

// CaptureReadError returns an error for the first capture of sum that
// nothing could be read from: no packet (a capture truncated inside its
// first record, say, or a complete one that holds none), or only packets
// of link types that are not supported. Such a capture must not pass for
// one in which nothing was found.
func CaptureReadError(sum *pcap.Summary) error {
	if sum == nil {
		return nil
	}
	for _, f := range sum.Files {
		if f.Packets > 0 && f.UnsupportedLink < f.Packets {
			continue
		}
		for _, w := range sum.Warnings {
			if w.File == f.Path || w.File == filepath.Base(f.Path) {
				return fmt.Errorf("%s: no packet could be read (%s)", f.Path, w.Message)
			}
		}
		if f.Packets == 0 {
			return fmt.Errorf("%s holds no packets: nothing to analyse", f.Path)
		}
	}
	return nil
}

// ErrIncomplete says that a run finished without analysing everything:
// entries were left out as malformed, or a capture was cut short or
// damaged and read up to there. The warnings name what was left out, and
// the output holds the rest. The command line exits with status 1 for it.
var ErrIncomplete = errors.New("not everything could be analysed")

// Incomplete is ErrIncomplete when a left entries out or did not read its
// capture to the end, nil otherwise.
func Incomplete(a *Analysis) error {
	if len(a.SkippedEntries) > 0 || a.Capture != nil && a.Capture.Truncated {
		return ErrIncomplete
	}
	return nil
}

// CaptureIncomplete is ErrIncomplete when a capture of sum could not be
// read to its end (cut short or damaged: its warnings say where), nil
// otherwise.
func CaptureIncomplete(sum *pcap.Summary) error {
	if sum == nil {
		return nil
	}
	for _, w := range sum.Warnings {
		if w.Truncated {
			return ErrIncomplete
		}
	}
	return nil
}
