package version

import "testing"

func TestFull(t *testing.T) {
	for _, tc := range []struct {
		rev      string
		modified bool
		module   string
		want     string
	}{
		{"0123456789abcdef0123456789abcdef01234567", false, "(devel)", Base + " (revision 0123456789abcdef0123456789abcdef01234567)"},
		{"0123456789abcdef0123456789abcdef01234567", true, "", Base + " (revision 0123456789abcdef0123456789abcdef01234567, modified)"},
		{"", false, "v1.2.3", Base + " (module v1.2.3)"},
		{"", true, "(devel)", Base + " (revision unknown)"},
		{"", false, "", Base + " (revision unknown)"},
	} {
		if got := Full(tc.rev, tc.modified, tc.module); got != tc.want {
			t.Errorf("Full(%q, %v, %q) = %q, want %q", tc.rev, tc.modified, tc.module, got, tc.want)
		}
	}
}

// TestVersionInTests: test binaries have no VCS information, so outputs
// made in tests (golden files) name the same build everywhere.
func TestVersionInTests(t *testing.T) {
	if Revision != "" || Version != Base+" (revision unknown)" {
		t.Errorf("Version %q, Revision %q: a test binary should have no VCS information", Version, Revision)
	}
}
