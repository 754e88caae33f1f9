package tracewire

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tracewire/tracewire/enrich"
)

// ParseSeconds reads a time offset as seconds ("1.5", "-30") or as a Go
// duration ("-1m30s"), as Input.TimeShift and
// Options.ProvenanceTimeShift are given on the command line.
func ParseSeconds(s string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if f > 1e9 || f < -1e9 {
			return 0, fmt.Errorf("out of range")
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	return time.ParseDuration(s)
}

// ParseWindow reads a pairing window as "BEFORE,AFTER", each as
// ParseSeconds reads it and not negative.
func ParseWindow(s string) (enrich.Window, error) {
	a, b, ok := strings.Cut(s, ",")
	if !ok {
		return enrich.Window{}, fmt.Errorf("%q: want BEFORE,AFTER, e.g. 5s,2s", s)
	}
	before, err := ParseSeconds(strings.TrimSpace(a))
	if err != nil {
		return enrich.Window{}, fmt.Errorf("%q: %w", s, err)
	}
	after, err := ParseSeconds(strings.TrimSpace(b))
	if err != nil {
		return enrich.Window{}, fmt.Errorf("%q: %w", s, err)
	}
	if before < 0 || after < 0 {
		return enrich.Window{}, fmt.Errorf("%q: durations must not be negative", s)
	}
	return enrich.Window{Before: before, After: after}, nil
}
