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
			return 0, fmt.Errorf("%q is out of range (at most 1e9 seconds either way)", s)
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		// time's message ("time: unknown unit ...") says neither what is
		// wanted nor that seconds are.
		return 0, fmt.Errorf("want seconds (e.g. -1.5) or a duration (e.g. 5h, 300ms), not %q", s)
	}
	return d, nil
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
