package adapters

import (
	"testing"
)

var urlSeeds = []string{
	"https://www.google-analytics.com/collect?v=1&cid=1",
	"http://a.example:80/x/y;z?",
	"https://a.example:443",
	"https://a.example:8443/p%2Fq%41?x#f",
	"http://A.example/",
	"https://a.example:/x",
	"https://user@a.example/",
	"https://[::1]:443/x",
	"https://a.example/ä?ö",
	"https://a.example/a b",
	"https://a.example/%zz",
	"https://a.example/%4",
	"https://a.example?x",
	"https://a.example/x?\x7f",
	"https://a.example/x?y#",
	"https://a.b:1:2/",
	"https://:443/",
	"https:///x",
	"http://1.2.3.4:0080/x(y)*'!",
	"https://a.example//x/../y/~z",
}

// TestParsePlainURL checks the allocation-free path against net/url.
func TestParsePlainURL(t *testing.T) {
	plain := map[string]bool{
		"https://www.google-analytics.com/collect?v=1&cid=1": true,
		"http://a.example:80/x/y;z?":                         true,
		"https://a.example:443":                              true,
		"https://a.example?x":                                true,
		"http://1.2.3.4:0080/x(y)*'!":                        true,
		"https://a.example//x/../y/~z":                       true,
	}
	for _, s := range urlSeeds {
		if got := checkPlainURL(t, s); got != plain[s] {
			t.Errorf("%q: plain path %v, want %v", s, got, plain[s])
		}
	}
}

func FuzzParsePlainURL(f *testing.F) {
	for _, s := range urlSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkPlainURL(t, s) })
}

// checkPlainURL reports whether s took the plain path, failing when that
// path's result differs from net/url's.
func checkPlainURL(t *testing.T, s string) bool {
	t.Helper()
	got, ok := parsePlainURL(s)
	if !ok {
		return false
	}
	want, err := parseURL(s)
	if err != nil {
		t.Errorf("%q: plain path accepted what net/url rejects: %v", s, err)
		return true
	}
	if got != want {
		t.Errorf("%q:\n got %+v\nwant %+v", s, got, want)
	}
	return true
}
