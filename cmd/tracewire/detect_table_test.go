package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/olekukonko/tablewriter/pkg/twwidth"

	"github.com/tracewire/tracewire/internal/testutil"
)

// tableNumbers are the request numbers in the first column of a table.
func tableNumbers(table string) []int {
	var out []int
	for _, m := range regexp.MustCompile(`(?m)^│ +(\d+) +│`).FindAllStringSubmatch(table, -1) {
		n, _ := strconv.Atoi(m[1])
		if len(out) == 0 || out[len(out)-1] != n {
			out = append(out, n)
		}
	}
	return out
}

// TestDetectTable checks detect's table (issue 17): it fits 120 columns,
// names the host, numbers requests from 1 where the JSON's index counts
// from 0, and --wide gives the tracker and the adapter uncut.
func TestDetectTable(t *testing.T) {
	for _, in := range []string{
		filepath.Join(testutil.RepoRoot(), "testdata", "golden", "tracking.har"),
		testutil.Corpus(t, "har", "reporthar", "android_first-run.har"),
	} {
		t.Run(filepath.Base(in), func(t *testing.T) {
			table, _, err := runCLI(t, nil, "detect", in)
			if err != nil {
				t.Fatal(err)
			}
			for i, l := range strings.Split(strings.TrimSuffix(table, "\n"), "\n") {
				if w := twwidth.Width(l); w > 120 {
					t.Errorf("line %d is %d columns wide:\n%s", i+1, w, l)
				}
			}
			if !regexp.MustCompile(`│ # +│`).MatchString(table) || !strings.Contains(table, " host ") || strings.Contains(table, "found by") {
				t.Errorf("header: want #, host, data, value, where:\n%.400s", table)
			}

			out, _, err := runCLI(t, nil, "detect", in, "--format", "json")
			if err != nil {
				t.Fatal(err)
			}
			var doc struct {
				Findings []struct {
					Entry struct {
						Index int
						URL   string
					}
					Tracker struct{ Slug string }
					Adapter string
				}
			}
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatal(err)
			}
			var want []int
			for _, f := range doc.Findings {
				if n := f.Entry.Index + 1; len(want) == 0 || want[len(want)-1] != n {
					want = append(want, n)
				}
			}
			if got := tableNumbers(table); len(want) == 0 || !slices.Equal(got, want) {
				t.Errorf("request numbers %v, want the JSON's indexes + 1: %v", got, want)
			}

			wide, _, err := runCLI(t, nil, "detect", in, "--wide")
			if err != nil {
				t.Fatal(err)
			}
			if got := tableNumbers(wide); !slices.Equal(got, want) {
				t.Errorf("--wide: request numbers %v, want %v", got, want)
			}
			f := doc.Findings[0]
			for _, s := range []string{" tracker ", " found by ", "│ " + f.Tracker.Slug + " ", "│ " + f.Adapter + " "} {
				if !strings.Contains(wide, s) {
					t.Errorf("--wide lacks %q:\n%.600s", s, wide)
				}
			}
		})
	}
}

// TestDetectUnknownIndicator checks that an --indicator property no
// finding can have is a usage error listing the known ones, before any
// output.
func TestDetectUnknownIndicator(t *testing.T) {
	in := filepath.Join(testutil.RepoRoot(), "testdata", "golden", "tracking.har")
	o := filepath.Join(t.TempDir(), "out.json")
	for _, args := range [][]string{
		{"detect", in, "--indicator", "mail=jane@example.org"},
		{"detect", in, "--indicator", "mail=jane@example.org", "--format", "json", "-o", o},
	} {
		out, _, err := runCLI(t, nil, args...)
		if exitStatus(err) != 2 || err == nil {
			t.Fatalf("%v: exit %d (%v), want 2", args, exitStatus(err), err)
		}
		for _, s := range []string{`unknown property "mail"`, "advertisingId", "email", "osVersion"} {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("%v: the error %q lacks %q", args, err, s)
			}
		}
		if out != "" {
			t.Errorf("%v: output %q", args, out)
		}
	}
	if _, err := os.Stat(o); !os.IsNotExist(err) {
		t.Errorf("-o %s was written (%v)", o, err)
	}
}
