package adapters

import (
	"slices"
	"sort"
	"strings"
	"testing"
)

// The tests here compare shortcuts taken for speed with the general code
// they stand for.

// candidatesNaive is DB.candidates trying every endpoint regex.
func candidatesNaive(db *DB, endpointURL string) []*Adapter {
	trimmed := strings.TrimSuffix(endpointURL, "/")
	var out []*Adapter
	out = append(out, db.exact[trimmed]...)
	for _, r := range db.regexes {
		if r.e.re.MatchString(endpointURL) || (trimmed != endpointURL && r.e.re.MatchString(trimmed)) {
			out = append(out, r.adapter)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return db.order[out[i]] < db.order[out[j]] })
	return slices.Compact(out)
}

// candidateURLs are URLs near the endpoints: each exact endpoint, and texts
// made from the literals and the regexes' own text.
func candidateURLs(db *DB) []string {
	var urls []string
	for k := range db.exact {
		urls = append(urls, k, k+"/", strings.Replace(k, "https://", "http://", 1), k+"x")
	}
	for _, r := range db.regexes {
		lits := requiredLiterals(r.e.Regex)
		urls = append(urls, strings.Join(lits, ""), strings.Join(lits, "/1/"), strings.Join(lits, "/v12.3/")+"/",
			strings.NewReplacer(`\.`, ".", `\d+`, "12", `\d`, "7", "(", "", ")", "", "?", "", "^", "", "$", "", ".+", "ab", "[^/]+", "x", `\`, "").Replace(r.e.Regex))
	}
	return urls
}

func FuzzCandidates(f *testing.F) {
	db, err := Default()
	if err != nil {
		f.Fatal(err)
	}
	for _, u := range candidateURLs(db) {
		f.Add(u)
	}
	f.Fuzz(func(t *testing.T, u string) {
		if got, want := db.candidates(u), candidatesNaive(db, u); !slices.Equal(got, want) {
			t.Fatalf("%q: candidates %v, trying every regex %v", u, ids(got), ids(want))
		}
	})
}

func TestCandidatesSameAsNaive(t *testing.T) {
	db, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	hits := 0
	for _, u := range candidateURLs(db) {
		got, want := db.candidates(u), candidatesNaive(db, u)
		if !slices.Equal(got, want) {
			t.Errorf("%q: candidates %v, trying every regex %v", u, ids(got), ids(want))
		}
		hits += len(want)
	}
	if hits < len(db.exact)+len(db.regexes)/2 {
		t.Errorf("only %d candidates for the URLs made from the endpoints", hits)
	}
}

func ids(as []*Adapter) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.ID())
	}
	return out
}

func TestRequiredLiterals(t *testing.T) {
	for _, tc := range []struct {
		expr     string
		longest  string
		atLeast3 []string
	}{
		{`^https://app\.adjust\.com/(session|event)$`, "https://app.adjust.com/", []string{"https://app.adjust.com/"}},
		{`^https://[a-z]+\.ab/x(?i)Case`, "https://", []string{"https://", ".ab/x"}},
		{`https://ab.c/[0-9]+/track`, "https://ab", []string{"https://ab", "/track"}}, // "." is any byte
		{`a|b`, "", nil},
		{`(`, "", nil},
		{`^ab$`, "ab", nil},
	} {
		if got := requiredLiteral(tc.expr); got != tc.longest {
			t.Errorf("requiredLiteral(%q) = %q, want %q", tc.expr, got, tc.longest)
		}
		if got := requiredLiterals(tc.expr); !slices.Equal(got, tc.atLeast3) {
			t.Errorf("requiredLiterals(%q) = %q, want %q", tc.expr, got, tc.atLeast3)
		}
	}
}
