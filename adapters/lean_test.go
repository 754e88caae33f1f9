package adapters_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tracewire/tracewire/adapters"
	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/internal/testutil"
)

// TestDecodeLeanSameFindings runs every adapter over every request of the
// adapter cases and of the corpus's HAR files, with Decode and with
// DecodeLean, and requires the same step records and the same values at
// the same places for every data path: DecodeLean may only leave out what
// no data path reads.
func TestDecodeLeanSameFindings(t *testing.T) {
	db, err := adapters.Default()
	if err != nil {
		t.Fatal(err)
	}
	var reqs []*adapters.Request
	var names []string
	for name, f := range loadAdapterCases(t) {
		for _, c := range f.Cases {
			e, err := c.Request.entry()
			if err != nil {
				t.Fatalf("%s %s: %v", name, c.Name, err)
			}
			r, err := adapters.NewRequest(&e.Request)
			if err != nil {
				continue
			}
			reqs = append(reqs, r)
			names = append(names, name+": "+c.Name)
		}
	}
	cases := len(reqs)
	dir := filepath.Join(testutil.RepoRoot(), "..", "shared", "corpus", "har", "reporthar")
	if _, err := os.Stat(dir); err != nil {
		t.Logf("the corpus's HAR files are absent (%v): adapter cases only", err)
	} else {
		files, _ := filepath.Glob(filepath.Join(dir, "*.har"))
		for _, fn := range files {
			fh, err := os.Open(fn)
			if err != nil {
				t.Fatal(err)
			}
			hr := har.NewReader(fh)
			for i := 0; ; i++ {
				e, err := hr.Next()
				if err != nil {
					break
				}
				if r, err := adapters.NewRequest(&e.Request); err == nil {
					reqs = append(reqs, r)
					names = append(names, fmt.Sprintf("%s entry %d", filepath.Base(fn), i))
				}
			}
			fh.Close()
		}
	}
	compared := 0
	for i, r := range reqs {
		for _, a := range db.Adapters {
			full, lean := a.Decode(r), db.DecodeLean(a, r)
			if fmt.Sprint(full.Steps) != fmt.Sprint(lean.Steps) {
				t.Errorf("%s, %s: steps\n lean %v\n full %v", names[i], a.ID(), lean.Steps, full.Steps)
				continue
			}
			for _, pp := range a.ContainedDataPaths {
				for _, dp := range pp.Paths {
					want := describe(dp.Find(full.Res[dp.Context]))
					got := describe(dp.Find(lean.Res[dp.Context]))
					if got != want {
						t.Errorf("%s, %s, %s %s:\n lean %s\n full %s", names[i], a.ID(), dp.Context, dp.Path, got, want)
					}
					if want != "" {
						compared++
					}
				}
			}
		}
	}
	t.Logf("%d requests (%d adapter cases) × %d adapters; %d data paths with values compared", len(reqs), cases, len(db.Adapters), compared)
	if compared == 0 {
		t.Fatal("no data path found anything: nothing was compared")
	}
}

func describe(ms []adapters.Match) string {
	var b strings.Builder
	for _, m := range ms {
		fmt.Fprintf(&b, "%s=%#v;", adapters.FormatLoc(m.Loc), m.Value)
	}
	return b.String()
}
