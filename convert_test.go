package tracewire

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tracewire/tracewire/pcap"
)

func TestHARName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"a/b/x.pcap", "x.har"}, {"x.pcapng.gz", "x.har"}, {"-", "stdin.har"}, {"noext", "noext.har"}, {".pcap", "capture.har"},
	} {
		if got := HARName(tc.in); got != tc.want {
			t.Errorf("HARName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// ConvertEach writes a HAR per capture, the same bytes ConvertFile
// writes for it alone, and refuses two captures of one name.
func TestConvertEach(t *testing.T) {
	ctx := context.Background()
	capture := filepath.Join("testdata", "sample", "tracking.pcapng")
	dir := filepath.Join(t.TempDir(), "out")
	if err := CheckConvertDir(dir, []string{capture}, capture); err != nil {
		t.Fatalf("CheckConvertDir(missing dir): %v", err)
	}
	var sums []*pcap.Summary
	if err := ConvertEach(ctx, dir, []string{capture}, []string{capture}, pcap.Options{}, nil, func(s *pcap.Summary) { sums = append(sums, s) }); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "tracking.har"))
	if err != nil || len(sums) != 1 {
		t.Fatalf("%d summaries, %v", len(sums), err)
	}
	var want strings.Builder
	if _, err := ConvertFile(ctx, "-", &want, []string{capture}, pcap.Options{}); err != nil {
		t.Fatal(err)
	}
	if string(got) != want.String() {
		t.Error("ConvertEach and ConvertFile wrote different HARs")
	}
	if err := ConvertEach(ctx, dir, []string{capture, capture}, []string{capture, "b/tracking.pcap"}, pcap.Options{}, nil, func(*pcap.Summary) {}); err == nil || !strings.Contains(err.Error(), "would both be written to") {
		t.Errorf("two inputs of one name: %v", err)
	}
	// The HAR of an input must not replace an input.
	if err := CheckConvertDir(dir, []string{capture}, capture, filepath.Join(dir, "tracking.har")); err == nil {
		t.Error("CheckConvertDir: an output that is an input let through")
	}
}
