package tracewire

import (
	"testing"
	"time"

	"github.com/tracewire/tracewire/enrich"
)

func TestParseWindow(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want enrich.Window
		err  string
	}{
		{"5s,2s", enrich.Window{Before: 5 * time.Second, After: 2 * time.Second}, ""},
		{"1.5, 0", enrich.Window{Before: 1500 * time.Millisecond}, ""},
		{"1m,500ms", enrich.Window{Before: time.Minute, After: 500 * time.Millisecond}, ""},
		{"5s", enrich.Window{}, `"5s": want BEFORE,AFTER, e.g. 5s,2s`},
		{"-1,2", enrich.Window{}, `"-1,2": durations must not be negative`},
		{"x,2", enrich.Window{}, `"x,2": want seconds (e.g. -1.5) or a duration (e.g. 5h, 300ms), not "x"`},
		{"1,2e10", enrich.Window{}, `"1,2e10": "2e10" is out of range (at most 1e9 seconds either way)`},
		{"1,2,3", enrich.Window{}, `"1,2,3": want seconds (e.g. -1.5) or a duration (e.g. 5h, 300ms), not "2,3"`},
	} {
		got, err := ParseWindow(tc.in)
		if got != tc.want || (err == nil) != (tc.err == "") || err != nil && err.Error() != tc.err {
			t.Errorf("ParseWindow(%q) = %v, %v; want %v, %q", tc.in, got, err, tc.want, tc.err)
		}
	}
	if d, err := ParseSeconds("-1m30s"); d != -90*time.Second || err != nil {
		t.Errorf("ParseSeconds(-1m30s) = %v, %v", d, err)
	}
}
