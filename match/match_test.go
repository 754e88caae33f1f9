package match_test

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tracewire/tracewire/adapters"
	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/match"
)

// Planted indicator values (made up for the tests).
var planted = []match.Indicator{
	{Property: "advertisingId", Value: "6a1c2f6e-0d5c-4f3b-9a7e-0123456789ab"},
	{Property: "email", Value: " Jane.Doe+test@Example.org"},
	{Property: "phoneNumber", Value: "+49 170 1234567"},
	{Property: "name", Value: "Zoë O'Brien/Ltd"},
	{Property: "userId", Value: "never-sent-value-123"},
}

func hexsum(h []byte) string { return hex.EncodeToString(h) }

func sha(s string) string { x := sha256.Sum256([]byte(s)); return hexsum(x[:]) }

// plantedEntries are requests to a host no adapter knows, each carrying one
// or more indicators in one encoding; want lists "property/encoding/context".
func plantedEntries() ([]har.Entry, [][]string) {
	aid := planted[0].Value
	email := planted[1].Value
	normEmail := "jane.doe+test@example.org"
	emailB64 := base64.StdEncoding.EncodeToString(append([]byte{0xff}, []byte("x"+normEmail+"!")...)) // misaligned inside longer data
	md5aid := md5.Sum([]byte(aid))
	mk := func(method, u string, headers []har.NameValue, body string) har.Entry {
		e := har.Entry{Request: har.Request{Method: method, URL: u, Headers: headers}}
		if body != "" {
			e.Request.PostData = &har.PostData{MimeType: "application/json", Text: body}
		}
		return e
	}
	entries := []har.Entry{
		mk("GET", "https://collect.example.net/v1/"+strings.ToUpper(aid)+"?aid="+aid, nil, ""),
		mk("GET", "https://collect.example.net/p?e="+url.QueryEscape(email)+"&n="+url.PathEscape(planted[3].Value), nil, ""),
		mk("POST", "https://collect.example.net/b", nil, `{"blob":"`+emailB64+`"}`),
		mk("GET", "https://collect.example.net/h", []har.NameValue{{Name: "X-Device", Value: hex.EncodeToString([]byte(aid))}, {Name: "Cookie", Value: "u=" + hexsum(md5aid[:])}}, ""),
		mk("POST", "https://graph.example.net/events", nil, `{"data":[{"user_data":{"em":["`+sha(normEmail)+`"],"ph":["`+sha("491701234567")+`"]}}]}`),
		mk("POST", "https://collect.example.net/j", nil, `{"name":"Zo\u00eb O'Brien\/Ltd"}`),
		mk("GET", "https://collect.example.net/nothing?q=nothing-here", nil, ""),
	}
	want := [][]string{
		{"advertisingId/plain/path", "advertisingId/plain/query"},
		{"email/url/query", "name/url/query"},
		{"email/base64/body"},
		{"advertisingId/hex/header", "advertisingId/md5/cookie"},
		{"email/sha256/body", "phoneNumber/sha256/body"},
		{"name/json/body"},
		nil,
	}
	return entries, want
}

func TestPlantedIndicators(t *testing.T) {
	m, err := match.New(match.Options{Indicators: planted})
	if err != nil {
		t.Fatal(err)
	}
	entries, want := plantedEntries()
	for i := range entries {
		res := m.Entry(i, &entries[i])
		got := map[string]bool{}
		for _, f := range res.Findings {
			if f.Source != match.SourceIndicator || f.Indicator == nil {
				t.Errorf("entry %d: unexpected finding %+v", i, f)
				continue
			}
			if f.Property == "userId" {
				t.Errorf("entry %d: absent indicator reported: %+v", i, f)
			}
			got[f.Property+"/"+f.Indicator.Encoding+"/"+f.Context] = true
		}
		for _, w := range want[i] {
			if !got[w] {
				t.Errorf("entry %d (%s): %s not found; got %v", i, entries[i].Request.URL, w, got)
			}
		}
		if len(want[i]) == 0 && len(got) > 0 {
			t.Errorf("entry %d: findings in a request without indicators: %v", i, got)
		}
	}
}

func TestIndicatorFindingDetails(t *testing.T) {
	m, err := match.New(match.Options{Indicators: planted[:1]})
	if err != nil {
		t.Fatal(err)
	}
	e := har.Entry{Request: har.Request{Method: "GET", URL: "https://collect.example.net/x?a=1&aid=" + planted[0].Value}}
	res := m.Entry(3, &e)
	if len(res.Findings) != 1 {
		t.Fatalf("findings %+v", res.Findings)
	}
	f := res.Findings[0]
	if f.Path != "aid" || f.Indicator.Offset != 0 || f.Indicator.Value != planted[0].Value || f.Value != planted[0].Value || f.Entry.Index != 3 {
		t.Errorf("finding %+v / %+v", f, f.Indicator)
	}
}

// TestIndicatorsOnlyWhereNoAdapter checks the default (indicators only in
// entries no adapter handled), --indicators-everywhere, and that merging
// drops an indicator finding an adapter finding already reports.
func TestIndicatorsOnlyWhereNoAdapter(t *testing.T) {
	db := exampleDB(t)
	e := har.Entry{Request: har.Request{Method: "GET", URL: "https://t.example.com/c?aid=6a1c2f6e-0d5c-4f3b-9a7e-0123456789ab&other=6a1c2f6e-0d5c-4f3b-9a7e-0123456789ab"}}
	for _, everywhere := range []bool{false, true} {
		m, err := match.New(match.Options{DB: db, Indicators: planted[:1], IndicatorsEverywhere: everywhere})
		if err != nil {
			t.Fatal(err)
		}
		res := m.Entry(0, &e)
		var got []string
		for _, f := range res.Findings {
			got = append(got, f.Source+":"+f.Path)
		}
		want := "adapter:aid"
		if everywhere {
			want = "adapter:aid indicator:other"
		}
		if strings.Join(got, " ") != want {
			t.Errorf("everywhere=%v: got %v, want %s", everywhere, got, want)
		}
	}
}

func exampleDB(t *testing.T) *adapters.DB {
	t.Helper()
	f, err := adapters.ParseFile("example.yaml", []byte(`
tracker: {slug: example, name: Example Ltd.}
adapters:
- slug: collect
  name: Collect
  endpointUrls: [https://t.example.com/c]
  decodingSteps: [{function: parseQueryString, input: query, output: res.query}]
  containedDataPaths:
    advertisingId: {context: query, path: aid, reasoning: test}
`))
	if err != nil {
		t.Fatal(err)
	}
	db, err := adapters.NewDB(f)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// TestTrackHARIndicators compares indicator matching with TrackHAR's on
// the planted requests: everything TrackHAR finds, tracewire finds too.
func TestTrackHARIndicators(t *testing.T) {
	entries, _ := plantedEntries()
	dir := t.TempDir()
	file := filepath.Join(dir, "planted.har")
	fh, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := har.Encode(fh, &har.HAR{Log: har.Log{Creator: har.Creator{Name: "test", Version: "1"}, Entries: entries}}); err != nil {
		t.Fatal(err)
	}
	fh.Close()
	indFile := filepath.Join(dir, "indicators.json")
	var b strings.Builder
	b.WriteString("{")
	for i, in := range planted {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "%q:%q", in.Property, in.Value)
	}
	b.WriteString("}")
	if err := os.WriteFile(indFile, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	theirs := runTrackHAR(t, indFile, file)
	if len(theirs) == 0 {
		t.Fatal("TrackHAR found no planted indicator; the test would prove nothing")
	}
	m, err := match.New(match.Options{Indicators: planted})
	if err != nil {
		t.Fatal(err)
	}
	compareWithTrackHAR(t, theirs, map[string][]match.Finding{file: ourFindings(t, m, file)})
}

// trackerDomains are the registrable domains of every tracker endpoint in
// the database (exact URLs, and domain names in regular expressions).
func trackerDomains(db *adapters.DB) map[string]bool {
	out := map[string]bool{}
	dom := regexp.MustCompile(`[a-z0-9-]+(\\?\.[a-z0-9-]+)+`)
	anyTLD := regexp.MustCompile(`([a-z0-9-]+)\\\.\.\+`)
	for _, a := range db.Adapters {
		for _, e := range a.EndpointURLs {
			s := e.URL
			if e.Regex != "" {
				s = e.Regex
			}
			for _, d := range dom.FindAllString(s, -1) {
				out[registrable(strings.ReplaceAll(d, `\.`, "."))] = true
			}
			// "www\.google\..+": any top-level domain.
			for _, m := range anyTLD.FindAllStringSubmatch(s, -1) {
				out[m[1]+".*"] = true
			}
		}
	}
	return out
}

func registrable(host string) string {
	host = strings.ToLower(host)
	if h, _, ok := strings.Cut(host, ":"); ok {
		host = h
	}
	parts := strings.Split(host, ".")
	if len(parts) <= 2 {
		return host
	}
	return strings.Join(parts[len(parts)-2:], ".")
}

// TestNoFalsePositives: the corpus's requests to hosts that are not
// trackers' yield no adapter finding, and an indicator that is in no
// request is never reported, even with indicators searched everywhere.
func TestNoFalsePositives(t *testing.T) {
	files := corpusHARs(t)
	db, err := adapters.Default()
	if err != nil {
		t.Fatal(err)
	}
	domains := trackerDomains(db)
	// A few adapters match by path shape on any host (Adobe Analytics on
	// the CNAME hosts sites point at Adobe): their findings count as on a
	// tracker host only where the host directory names the adapter's own
	// company for that host.
	dir, err := adapters.Hosts()
	if err != nil {
		t.Fatal(err)
	}
	absent := []match.Indicator{
		{Property: "advertisingId", Value: "0b7e1c55-3a0f-4e8e-9c1d-5f2a6b9e7d41"},
		{Property: "email", Value: "nobody.here@tracewire.invalid"},
		{Property: "phoneNumber", Value: "+49 151 98765432"},
	}
	m, err := match.New(match.Options{Indicators: absent, IndicatorsEverywhere: true})
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, file := range files {
		fh, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		r := har.NewReader(fh)
		err = m.StreamHAR(context.Background(), r, 2, func(res *match.Result) error {
			u, err := url.Parse(res.Entry.URL)
			tracker := err != nil || domains[registrable(u.Host)] || domains[strings.Split(registrable(u.Host), ".")[0]+".*"]
			for _, f := range res.Findings {
				if f.Source == match.SourceIndicator {
					t.Errorf("%s entry %d: absent indicator reported: %+v", filepath.Base(file), res.Entry.Index, f)
				} else if c := dir.Lookup(u.Host); !tracker && (c == nil || c.Slug == "" || !strings.HasPrefix(res.Adapter, c.Slug+"/")) {
					t.Errorf("%s entry %d: adapter finding on non-tracker host %s: %s=%q", filepath.Base(file), res.Entry.Index, u.Host, f.Property, f.Value)
				}
			}
			if !tracker {
				checked++
			}
			return nil
		})
		fh.Close()
		if err != nil && !errors.Is(err, io.EOF) {
			var se *har.SyntaxError
			if !errors.As(err, &se) {
				t.Errorf("%s: %v", file, err)
			}
		}
	}
	if checked < 500 {
		t.Errorf("only %d non-tracker requests checked", checked)
	}
	t.Logf("%d non-tracker requests, %d tracker domains", checked, len(domains))
}
