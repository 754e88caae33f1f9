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

// TestParseRequestURL checks how request URLs are split: default ports
// dropped, host lowercased, an empty path made "/", a query told from none.
func TestParseRequestURL(t *testing.T) {
	tests := []struct {
		in, url, query string
		hasQuery       bool
		err            bool
	}{
		{in: "https://www.google-analytics.com/collect?v=1&cid=1", url: "https://www.google-analytics.com/collect", query: "v=1&cid=1", hasQuery: true},
		{in: "http://a.example:80/x/y;z?", url: "http://a.example/x/y;z", hasQuery: true},
		{in: "https://a.example:443", url: "https://a.example/"},
		{in: "https://a.example:8443/p%2Fq%41?x#f", url: "https://a.example:8443/p%2Fq%41", query: "x", hasQuery: true},
		{in: "http://A.example/", url: "http://a.example/"},
		{in: "https://[::1]:443/x", url: "https://[::1]/x"},
		{in: "https://a.example?x", url: "https://a.example/", query: "x", hasQuery: true},
		{in: "https://a.example/%zz", err: true},
		{in: "https:///x", err: true},
		{in: "/relative", err: true},
	}
	for _, tt := range tests {
		got, err := ParseRequestURL(tt.in)
		if (err != nil) != tt.err {
			t.Errorf("%q: error %v, want error %v", tt.in, err, tt.err)
			continue
		}
		if err == nil && (got.URL != tt.url || got.Query != tt.query || got.HasQuery != tt.hasQuery) {
			t.Errorf("%q: got URL %q query %q (%v), want %q %q (%v)", tt.in, got.URL, got.Query, got.HasQuery, tt.url, tt.query, tt.hasQuery)
		}
	}
}

func FuzzParseRequestURL(f *testing.F) {
	for _, s := range urlSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ep, err := ParseRequestURL(s)
		if err == nil && ep.URL != ep.Scheme+"://"+ep.Host+ep.Path {
			t.Errorf("%q: URL %q is not scheme://host+path of %+v", s, ep.URL, ep)
		}
	})
}
