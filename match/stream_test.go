package match_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/tracewire/tracewire/adapters"
	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/internal/testutil"
	"github.com/tracewire/tracewire/match"
)

// TestStreamSameAsEntry checks StreamHAR's shortcuts (entries cut from the
// file unparsed, the URL peeked, the endpoint prefilter, requests parsed
// without their response) against the plain way, Stream: every entry
// parsed in full and given to Matcher.Entry. Over the corpus HARs and the HARs made
// from the corpus captures, with and without indicators, both must find the
// same, and stop at the same error.
func TestStreamSameAsEntry(t *testing.T) {
	files := append(corpusHARs(t), convertedCaptures(t)...)
	plain, err := match.New(match.Options{})
	if err != nil {
		t.Fatal(err)
	}
	withInd, err := match.New(match.Options{Indicators: planted, IndicatorsEverywhere: true})
	if err != nil {
		t.Fatal(err)
	}
	adapterEntries := 0
	for _, file := range files {
		for mi, m := range []*match.Matcher{plain, withInd} {
			want, wantErr := entryByEntry(t, m, file)
			fh, err := os.Open(file)
			if err != nil {
				t.Fatal(err)
			}
			var got []*match.Result
			gotErr := m.StreamHAR(context.Background(), har.NewReader(fh), 2, func(r *match.Result) error {
				got = append(got, r)
				return nil
			})
			fh.Close()
			name := filepath.Base(file)
			if (gotErr == nil) != (wantErr == nil) || gotErr != nil && gotErr.Error() != wantErr.Error() {
				t.Errorf("%s matcher %d: Stream error %v, Next error %v", name, mi, gotErr, wantErr)
			}
			if len(got) != len(want) {
				t.Errorf("%s matcher %d: Stream gave %d results, Next %d", name, mi, len(got), len(want))
				continue
			}
			for i, w := range want {
				g := got[i]
				if g.Entry.Index != w.Entry.Index || g.Entry.URL != w.Entry.URL || g.Entry.Method != w.Entry.Method {
					t.Errorf("%s matcher %d result %d: entry %+v, want %+v", name, mi, i, g.Entry, w.Entry)
					continue
				}
				if w.Adapter != "" {
					adapterEntries++
				}
				if g.Adapter != w.Adapter || !reflect.DeepEqual(g.Findings, w.Findings) || !reflect.DeepEqual(g.Steps, w.Steps) {
					t.Errorf("%s matcher %d entry %d: Stream found\n%+v\nNext+Entry found\n%+v", name, mi, w.Entry.Index, g, w)
				}
			}
		}
	}
	if adapterEntries < 100 {
		t.Errorf("only %d entries went to an adapter: the comparison says little", adapterEntries)
	}
}

// entryByEntry matches every entry of file, parsed in full by
// Reader.Entries.
func entryByEntry(t *testing.T, m *match.Matcher, file string) ([]*match.Result, error) {
	t.Helper()
	fh, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var out []*match.Result
	err = m.Stream(context.Background(), har.NewReader(fh).Entries(), 1, func(res *match.Result) error {
		if res.Adapter == "" && len(res.Findings) == 0 {
			// StreamHAR does not parse such an entry: only its reference.
			res = &match.Result{Entry: match.EntryRef{Index: res.Entry.Index, Method: res.Entry.Method, URL: res.Entry.URL}}
		}
		out = append(out, res)
		return nil
	})
	return out, err
}

// TestEndpointFilter checks that the prefilter in front of DB.Candidates
// never drops a request some adapter's endpoint matches, over the adapter
// test cases' URLs, every exact endpoint URL in several spellings, and the
// corpus HARs' URLs; and that it does drop most of the corpus.
func TestEndpointFilter(t *testing.T) {
	m, err := match.New(match.Options{})
	if err != nil {
		t.Fatal(err)
	}
	db := m.DB()
	var urls []string
	cases, _ := filepath.Glob(filepath.Join(testutil.RepoRoot(), "adapters", "testdata", "adaptercases", "*", "*.yaml"))
	urlLine := regexp.MustCompile(`(?m)^\s+url:\s*'?([^'\s]+)'?\s*$`)
	for _, c := range cases {
		b, err := os.ReadFile(c)
		if err != nil {
			t.Fatal(err)
		}
		for _, mt := range urlLine.FindAllSubmatch(b, -1) {
			urls = append(urls, string(mt[1]))
		}
	}
	exact, _ := db.EndpointLiterals()
	for _, e := range exact {
		other := strings.Replace(strings.Replace(e, "https://", "HTTP://", 1), "http://", "https://", 1)
		urls = append(urls, e, e+"/", e+"?x=1", other, strings.Replace(e, "://", "://user@", 1))
		if scheme, rest, ok := strings.Cut(e, "://"); ok {
			host, path, _ := strings.Cut(rest, "/")
			urls = append(urls, scheme+"://"+strings.ToUpper(host)+":443/"+path, scheme+"://"+host+":80/"+path)
		}
	}
	nCases := len(urls)
	for _, file := range corpusHARs(t) {
		fh, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		r := har.NewReader(fh)
		for {
			b, err := r.NextBatch(64)
			if err != nil {
				break
			}
			for _, raw := range b.Texts {
				if _, u, ok := har.PeekRequest(raw); ok {
					urls = append(urls, u)
				}
			}
			b.Release()
		}
		fh.Close()
	}
	matched, dropped := 0, 0
	for i, s := range urls {
		u, err := adapters.ParseRequestURL(s)
		if err != nil {
			continue
		}
		has := len(db.Candidates(u.URL)) > 0
		may := m.MayMatch(&u)
		if has && !may {
			t.Errorf("%q: the prefilter drops it, but Candidates has %d adapters", s, len(db.Candidates(u.URL)))
		}
		if has && i < nCases {
			matched++
		}
		if !may && i >= nCases {
			dropped++
		}
	}
	if matched < 100 {
		t.Errorf("only %d of the test URLs go to an adapter", matched)
	}
	if corpus := len(urls) - nCases; dropped < corpus/2 {
		t.Errorf("the prefilter drops only %d of %d corpus URLs", dropped, corpus)
	}
	t.Logf("%d adapter URLs, %d corpus URLs of which %d dropped", matched, len(urls)-nCases, dropped)
}

// TestStreamResultsOwnTheirText streams a HAR many read blocks long, so
// that the Reader recycles its blocks while results are held, and checks
// every result's method and URL (and a tracker entry's findings) at the
// end: nothing a Result holds may point into a block.
func TestStreamResultsOwnTheirText(t *testing.T) {
	m, err := match.New(match.Options{})
	if err != nil {
		t.Fatal(err)
	}
	const n = 40000
	var b strings.Builder
	b.WriteString(`{"log":{"version":"1.2","creator":{"name":"t","version":"1"},"entries":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		u := fmt.Sprintf("https://www.example.com/page/%d?q=%d", i, i)
		if i%100 == 0 {
			u = fmt.Sprintf("https://www.google-analytics.com/collect?v=1&cid=%d.%d&tid=UA-1-1", i, i)
		}
		fmt.Fprintf(&b, `{"startedDateTime":"2024-01-01T00:00:00Z","time":1,"request":{"method":"%s","url":%q,"httpVersion":"HTTP/1.1","cookies":[],"headers":[{"name":"X-Pad","value":"%s"}],"queryString":[],"headersSize":-1,"bodySize":0},"response":{"status":200,"statusText":"","httpVersion":"","cookies":[],"headers":[],"content":{"size":0,"mimeType":""},"redirectURL":"","headersSize":-1,"bodySize":0},"cache":{},"timings":{"send":0,"wait":0,"receive":0}}`,
			[]string{"GET", "POST", "PATCH"}[i%3], u, strings.Repeat("p", 300))
	}
	b.WriteString(`]}}`)
	var got []*match.Result
	if err := m.StreamHAR(context.Background(), har.NewReader(strings.NewReader(b.String())), 2, func(r *match.Result) error {
		got = append(got, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("%d results, want %d", len(got), n)
	}
	tracked := 0
	for i, r := range got {
		u := fmt.Sprintf("https://www.example.com/page/%d?q=%d", i, i)
		if i%100 == 0 {
			u = fmt.Sprintf("https://www.google-analytics.com/collect?v=1&cid=%d.%d&tid=UA-1-1", i, i)
		}
		if r.Entry.Index != i || r.Entry.URL != u || r.Entry.Method != []string{"GET", "POST", "PATCH"}[i%3] {
			t.Fatalf("result %d: %+v, want URL %s", i, r.Entry, u)
		}
		for _, f := range r.Findings {
			if f.Entry.URL != u {
				t.Fatalf("result %d: finding for %s", i, f.Entry.URL)
			}
			if f.Property == "userId" || strings.Contains(f.Value, ".") {
				if want := fmt.Sprintf("%d.%d", i, i); f.Value != want {
					t.Fatalf("result %d: %s = %q, want %q", i, f.Property, f.Value, want)
				}
				tracked++
			}
		}
	}
	if tracked < n/100 {
		t.Errorf("only %d findings of the client ID: the check says little", tracked)
	}
}
