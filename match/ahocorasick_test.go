package match

import (
	"strings"
	"testing"
)

// FuzzACContains checks acAutomaton.contains, the endpoint prefilter's
// scan, against scan, which reports every match.
func FuzzACContains(f *testing.F) {
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
		a := newAC(ps)
		want := false
		a.scan([]byte(hay), false, func(int, int) { want = true })
		if got := a.contains(hay); got != want {
			t.Errorf("patterns %q in %q: contains %v, scan %v", ps, hay, got, want)
		}
	})
}
