package ahocorasick

import (
	"slices"
	"strings"
	"testing"
)

// FuzzContains checks Contains, and Mark, against Scan, which reports
// every match.
func FuzzContains(f *testing.F) {
	f.Add("google-analytics.com/collect\x00facebook.com/tr\x00ads", "www.google-analytics.com/g/collect?x")
	f.Add("abc\x00bcd\x00c", "xxabxbcxx")
	f.Add("aa\x00aab", "aaab")
	f.Fuzz(func(t *testing.T, pats, hay string) {
		var ps [][]byte
		for _, p := range strings.Split(pats, "\x00") {
			if p != "" {
				ps = append(ps, []byte(p))
			}
		}
		if len(ps) == 0 {
			return
		}
		a := New(ps)
		want := false
		wantFound := make([]bool, len(ps))
		a.Scan([]byte(hay), false, func(p, _ int) { want, wantFound[p] = true, true })
		if got := a.Contains(hay); got != want {
			t.Errorf("patterns %q in %q: Contains %v, Scan %v", ps, hay, got, want)
		}
		found := make([]bool, len(ps))
		a.Mark(hay, found)
		if !slices.Equal(found, wantFound) {
			t.Errorf("patterns %q in %q: Mark %v, Scan %v", ps, hay, found, wantFound)
		}
	})
}
