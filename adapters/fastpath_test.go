package adapters

import (
	"fmt"
	"math"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/tracewire/tracewire/har"
)

// The tests here compare shortcuts taken for speed with the general code
// they stand for.

func FuzzContainsFold(f *testing.F) {
	for _, s := range [][2]string{
		{"application/JSON; charset=utf-8", "json"},
		{"text/plain", "TEXT/"},
		{"x", ""},
		{"", "x"},
		{"a\u017ftext", "STEXT"}, // ſ lowercases to itself, not to s
		{"\u212a", "k"},          // the Kelvin sign lowercases to k
		{"ÄPPLICATION", "äpp"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, s, sub string) {
		if got, want := containsFold(s, sub), strings.Contains(strings.ToLower(s), strings.ToLower(sub)); got != want {
			t.Fatalf("containsFold(%q, %q) = %v, want %v", s, sub, got, want)
		}
	})
}

func TestBodyString(t *testing.T) {
	for _, pd := range []*har.PostData{
		{MimeType: "application/json", Text: `{"a":1}`},
		{Text: "YWJj", Encoding: "base64"},
		{Text: "YWJj", Encoding: "BASE64"},
		{Text: ""},
		{Params: []har.Param{{Name: "a", Value: "b c"}}},
	} {
		r, err := NewRequest(&har.Request{Method: "POST", URL: "https://a.example/", PostData: pd})
		if err != nil {
			t.Fatal(err)
		}
		if got := r.bodyString(); got != string(r.Body) {
			t.Errorf("%+v: bodyString %q, Body %q", pd, got, r.Body)
		}
		st := InitialState(r)
		if b, _ := st["body"].(string); b != string(r.Body) {
			t.Errorf("%+v: state body %q, Body %q", pd, b, r.Body)
		}
	}
}

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

// restrict is what parseJSONProj keeps of a value ParseJSON gave: the
// reference for FuzzParseJSONProj.
func restrict(v any, proj *jsonProj) any {
	if proj == keepAll {
		return v
	}
	switch t := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, c := range t {
			if p := proj.member(k); p != skipAll {
				out[k] = restrict(c, p)
			}
		}
		return out
	case []any:
		out := make([]any, len(t))
		if p := proj.element(); p != skipAll {
			for i, c := range t {
				out[i] = restrict(c, p)
			}
		}
		return out
	}
	return v
}

// projPaths are data paths from which FuzzParseJSONProj builds
// projections (reading from res.body, where the parse writes).
var projPaths = [][]string{
	{"a.b", "a.c.*.d"},
	{"*.x", "y"},
	{"a[0].b", "list.*"},
	{"..id"},
	{"events.*.app.version", "events.*.device.osName", "notifier.version", "events.*.metaData.*.brand"},
	{"a.1.b", "a.*.c"},
	{"$"},
	{},
	{"q[?(@.x == 1)].y", "z"},
}

func projFor(t testing.TB, paths []string) *jsonProj {
	a := &Adapter{
		DecodingSteps: []Step{{Function: "parseJson", Input: "body", Output: "res.body"}},
	}
	for i, p := range paths {
		a.ContainedDataPaths = append(a.ContainedDataPaths, PropertyPaths{Property: "p" + strconv.Itoa(i), Paths: []*DataPath{{Context: "body", Path: p}}})
	}
	cc := newCompiler()
	if err := a.DecodingSteps[0].compile(cc); err != nil {
		t.Fatal(err)
	}
	for _, pp := range a.ContainedDataPaths {
		var err error
		if pp.Paths[0].path, err = cc.path(pp.Paths[0].Path); err != nil {
			t.Fatal(err)
		}
	}
	if p := a.leanProj(0); p != nil {
		return p
	}
	return keepAll
}

func FuzzParseJSONProj(f *testing.F) {
	for _, s := range []string{
		`{"a":{"b":1,"c":[{"d":2,"e":3},{"d":"x"}]},"z":[1,,2],"events":[{"app":{"version":"1"},"threads":[{"x":1}]}]}`,
		`{a:'b',/*c*/ c:[0x1F,-Infinity,NaN], 'd':"\x41\u00e9\ud83d\ude00", e: undefined,}`,
		`[{"x":1,"y":[1,2]},{"x":{"deep":[{}]}}]`,
		`{"a":[{"b":1},{"b":2}],"a":{"1":{"b":3}}}`,
		`{"list":"bad \x4", "a": 1}`, `{"a":"\u12"}`, `{"a":[1,2,{"b":"unterminated`, `{"q":[{"x":1,"y":2}],"z":0}`,
		`{"a":{"b":1e999,"c":-0x,"d":1.2.3}}`, `{"a":{"b":.5,"c":+1,"id":"x"}}`,
	} {
		for i := range projPaths {
			f.Add(s, uint8(i))
		}
	}
	projs := make([]*jsonProj, len(projPaths))
	for i, ps := range projPaths {
		projs[i] = projFor(f, ps)
	}
	f.Fuzz(func(t *testing.T, s string, which uint8) {
		proj := projs[int(which)%len(projs)]
		full, ferr := ParseJSON(s)
		got, err := parseJSONProj(s, proj)
		if fmt.Sprint(err) != fmt.Sprint(ferr) {
			t.Fatalf("%q: error %v, ParseJSON's %v", s, err, ferr)
		}
		if err != nil {
			return
		}
		if want := restrict(full, proj); fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", want) {
			t.Fatalf("%q (paths %q):\n got %#v\nwant %#v", s, projPaths[int(which)%len(projs)], got, want)
		}
	})
}

func TestLeanProjections(t *testing.T) {
	for i, want := range []string{
		`{a:{b:*,c:{*:{d:*}}}}`,
		`{y:*,*:{x:*}}`,
		`{a:*,list:{*:*}}`,
		`*`,
		`{events:{*:{app:{version:*},device:{osName:*},metaData:{*:{brand:*}}}},notifier:{version:*}}`,
		`{a:{1:{b:*,c:*},*:{c:*}}}`,
		`*`,
		`{}`,
		`*`,
	} {
		if got := projFor(t, projPaths[i]).String(); got != want {
			t.Errorf("%q: %s, want %s", projPaths[i], got, want)
		}
	}
}

// String shows a projection as {key:…,*:…}, * for everything.
func (j *jsonProj) String() string {
	switch j {
	case keepAll:
		return "*"
	case skipAll:
		return "-"
	}
	var parts []string
	for k, c := range j.named {
		parts = append(parts, k+":"+c.String())
	}
	sort.Strings(parts)
	if j.wild != nil {
		parts = append(parts, "*:"+j.wild.String())
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// FuzzSkip checks jsonParser.skip's inline test against skipSpace alone.
func FuzzSkip(f *testing.F) {
	for _, s := range []string{" \t{", "/* c */1", "// x\n2", "\u00a0a", "\x7f", "/a", "\u2028]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for i := 0; i <= len(s) && i < 64; i++ {
			a, b := jsonParser{s: s, i: i}, jsonParser{s: s, i: i}
			a.skip()
			b.skipSpace()
			if a.i != b.i {
				t.Fatalf("%q from %d: skip stops at %d, skipSpace at %d", s, i, a.i, b.i)
			}
		}
	})
}

// FuzzIsEmpty compares IsEmpty's shortcuts with the general path, for
// strings and numbers.
func FuzzIsEmpty(f *testing.F) {
	for _, s := range []string{"", " NULL ", "N/A", "un\u212Anown", "00000000-0000-0000-0000-000000000000", "[Object Object]", `""`, "abc", "\tnan\n"} {
		f.Add(s, int64(0), 0.0)
	}
	f.Add("x", int64(-5), math.Inf(-1))
	f.Add("x", int64(7), math.NaN())
	f.Fuzz(func(t *testing.T, s string, n int64, x float64) {
		for _, v := range []any{s, n, x, int(n), n%2 == 0} {
			if got, want := IsEmpty(v), isEmpty(v); got != want {
				t.Errorf("%#v: %v, general path %v", v, got, want)
			}
		}
	})
}

// FuzzPathUnescape compares pathUnescape with url.PathUnescape.
func FuzzPathUnescape(f *testing.F) {
	for _, s := range []string{"a%20b", "%", "%4", "%4g", "%C3%A9+x", "100%", "%%41", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := pathUnescape(s)
		want, err := url.PathUnescape(s)
		if ok != (err == nil) || ok && got != want {
			t.Errorf("%q: %q %v, url.PathUnescape %q %v", s, got, ok, want, err)
		}
	})
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
