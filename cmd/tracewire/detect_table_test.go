package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	json "github.com/go-json-experiment/json/v1"
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

// TestDetectGerman checks that detect's own strings follow --lang de
// (issue 10, German reports are German): the table's header, the list of
// senders, "nothing found" and the line on undecoded requests.
func TestDetectGerman(t *testing.T) {
	root := testutil.RepoRoot()
	noFindings := filepath.Join(t.TempDir(), "none.har")
	if err := os.WriteFile(noFindings, []byte(`{"log":{"version":"1.2","creator":{"name":"t","version":"1"},"entries":[
{"startedDateTime":"2024-01-02T03:04:05Z","request":{"method":"GET","url":"https://example.org/","headers":[]},"response":{"status":200}}]}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	// One beacon to a tracking company that no adapter decodes (Amobee is
	// in the host directory, without adapters: its ad.turn.com parameters
	// are not publicly documented; Chartbeat, used before, has one now).
	undecoded := filepath.Join(t.TempDir(), "undecoded.har")
	if err := os.WriteFile(undecoded, []byte(`{"log":{"version":"1.2","creator":{"name":"t","version":"1"},"entries":[
{"startedDateTime":"2024-01-02T03:04:05Z","request":{"method":"GET","url":"https://ad.turn.com/server/pixel.htm?fpi=12345&sp=y","headers":[]},"response":{"status":200}}]}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		in      string
		want    []string
		english []string
	}{
		// An experiment folder: the table, then who sent each request.
		{filepath.Join(root, "testdata", "experiment"),
			[]string{" Host ", " Daten ", " Wert ", " Fundstelle ", "Anfrageinhalt", "Gesendet von (der Stacktrace jeder Anfrage mit Funden", "#4 com.example.app (pid 4242, Thread 4250)"},
			[]string{" host ", " data ", " value ", " where ", "Request body", "Sent by", "thread"}},
		// The sample capture: the table.
		{filepath.Join(root, "testdata", "sample", "tracking.pcapng"),
			[]string{" Host "},
			[]string{" value "}},
		{undecoded,
			[]string{"1 Anfrage an ein Tracking-Unternehmen wurde nicht dekodiert"},
			[]string{"not decoded"}},
		{noFindings,
			[]string{"Keine Übertragungen personenbezogener Daten gefunden."},
			[]string{"No transmissions"}},
		// Entries left out: the table says it is not the whole input.
		{brokenHAR(t, t.TempDir()),
			[]string{"Nicht alles wurde analysiert: 2 Warnungen"},
			[]string{"Not everything"}},
	} {
		out, _, err := runCLI(t, nil, "detect", tc.in, "--lang", "de")
		if err != nil && exitStatus(err) != exitIncomplete {
			t.Fatalf("%s: %v", tc.in, err)
		}
		for _, s := range tc.want {
			if !strings.Contains(out, s) {
				t.Errorf("%s: --lang de lacks %q:\n%s", filepath.Base(tc.in), s, out)
			}
		}
		for _, s := range tc.english {
			if strings.Contains(out, s) {
				t.Errorf("%s: --lang de has the English %q:\n%s", filepath.Base(tc.in), s, out)
			}
		}
	}
	// --wide's extra columns too.
	out, _, err := runCLI(t, nil, "detect", filepath.Join(root, "testdata", "golden", "tracking.har"), "--lang", "de", "--wide")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{" Tracker ", " gefunden durch "} {
		if !strings.Contains(out, s) {
			t.Errorf("--wide --lang de lacks %q:\n%.500s", s, out)
		}
	}
}
