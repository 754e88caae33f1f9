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

// BenchmarkParseRequestURL gives the figure parsePlainURL's doc cites: the
// plain path against net/url on a long Google Analytics 4 URL.
func BenchmarkParseRequestURL(b *testing.B) {
	const u = "https://www.google-analytics.com/g/collect?v=2&tid=G-ABCDEF1234&gtm=45je4b20v9101234567za200&_p=1712345678901&gcd=13l3l3l3l1&npa=0&dma=0&cid=1234567890.1712345678&ul=en-us&sr=1920x1080&uaa=x86&uab=64&uafvl=Chromium%3B122.0.6261.94%7CNot(A%3ABrand%3B24.0.0.0%7CGoogle%2520Chrome%3B122.0.6261.94&uamb=0&uam=&uap=Windows&uapv=15.0.0&uaw=0&are=1&frm=0&pscdl=noapi&_s=1&sid=1712345678&sct=1&seg=0&dl=https%3A%2F%2Fwww.example.com%2F&dt=Example&en=page_view&_fv=1&_ss=1&tfd=1234"
	b.Run("plain", func(b *testing.B) {
		for b.Loop() {
			parsePlainURL(u)
		}
	})
	b.Run("net/url", func(b *testing.B) {
		for b.Loop() {
			parseURL(u)
		}
	})
}
