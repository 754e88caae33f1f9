package har

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/ohler55/ojg/oj"
)

const rawTestHAR = `{"log":{"version":"1.2","creator":{"name":"t","version":"1"},"entries":[
 {"startedDateTime":"2024-01-02T03:04:05.678Z","time":1,"_initiator":{"stack":"x\"}"},
  "request":{"method":"POST","url":"https://t.example/a?b=1","httpVersion":"HTTP/1.1","cookies":[{"name":"c","value":"d"}],
   "headers":[{"name":"Content-Type","value":"application/json"}],"queryString":[{"name":"b","value":"1"}],
   "postData":{"mimeType":"application/json","text":"{\"ifa\":\"6a1c\\\\\"}"},"headersSize":-1,"bodySize":15},
  "response":{"status":200,"statusText":"OK","httpVersion":"HTTP/1.1","cookies":[],"headers":[],
   "content":{"size":5,"mimeType":"text/plain","text":"a \"}] b"},"redirectURL":"","headersSize":-1,"bodySize":5},
  "cache":{},"timings":{"send":0,"wait":1,"receive":0},"_timestamp":1704164645.678},
 7,
 {"request":{"method":"GET","url":"https://x.example/"},"response":{"status":204}}
]}}`

func TestNextRawRequestOnly(t *testing.T) {
	full, _, err := ReadAll(strings.NewReader(rawTestHAR))
	if err != nil {
		t.Fatal(err)
	}
	r := NewReader(strings.NewReader(rawTestHAR))
	r.RequestOnly = true
	var got []*Entry
	var idxs []int
	for {
		raw, idx, err := r.NextRaw()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var buf []byte
		if cut := withoutResponse(raw, &buf); bytes.Contains(cut, []byte(`"response"`)) || bytes.Contains(cut, []byte("_initiator")) {
			t.Errorf("entry %d still has its response or extensions: %s", idx, cut)
		}
		e, _, err := ParseRequest(raw, idx)
		if err != nil {
			if idx != 1 {
				t.Errorf("entry %d: %v", idx, err)
			}
			continue
		}
		got = append(got, e)
		idxs = append(idxs, idx)
	}
	if !reflect.DeepEqual(idxs, []int{0, 2}) {
		t.Fatalf("indexes %v", idxs)
	}
	for i, e := range got {
		want := full.Log.Entries[i]
		if !reflect.DeepEqual(e.Request, want.Request) || !e.StartedDateTime.Equal(want.StartedDateTime) || e.Timestamp != want.Timestamp {
			t.Errorf("entry %d differs:\n got %+v\nwant %+v", idxs[i], e.Request, want.Request)
		}
		if e.Response.Status != 0 {
			t.Errorf("entry %d: response kept", idxs[i])
		}
	}
	// Next with RequestOnly gives the same requests.
	r2 := NewReader(strings.NewReader(rawTestHAR))
	r2.RequestOnly = true
	e, err := r2.Next()
	if err != nil || !reflect.DeepEqual(e.Request, full.Log.Entries[0].Request) {
		t.Errorf("Next with RequestOnly: %v %+v", err, e)
	}
}

func TestWithoutResponseMalformed(t *testing.T) {
	var buf []byte
	for _, in := range []string{`[1]`, `{"a":}`, `{"a":"x`, `{"request":{}`, `{`, `{"a" 1}`, `{}`} {
		out := withoutResponse([]byte(in), &buf)
		if in != "{}" && string(out) != in {
			t.Errorf("withoutResponse(%q) = %q, want the input back", in, out)
		}
	}
	if out := withoutResponse([]byte(`{ "response" : {"a":"}"} , "request":{"u":"\\\"}"} }`), &buf); string(out) != `{"request":{"u":"\\\"}"}}` {
		t.Errorf("got %s", out)
	}
}

func FuzzRequestOnly(f *testing.F) {
	f.Add([]byte(rawTestHAR))
	f.Add([]byte(`{"log":{"entries":[{"response":{"a":"\\\""},"request":{}}]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := NewReader(bytes.NewReader(b))
		r.RequestOnly = true
		r.MaxEntrySize = 1 << 20
		for i := 0; i < 1000; i++ {
			raw, idx, err := r.NextRaw()
			if err != nil {
				return
			}
			_, _, _ = ParseEntry(raw, idx)
			_, _, _ = ParseRequest(raw, idx)
			m, u, ok := PeekRequest(raw)
			sm, su, sok := PeekRequestShared(raw)
			if m != sm || u != su || ok != sok {
				t.Fatalf("%q: PeekRequest %q %q %v, PeekRequestShared %q %q %v", raw, m, u, ok, sm, su, sok)
			}
		}
	})
}

func TestPeekRequest(t *testing.T) {
	tests := []struct {
		raw, method, url string
		ok               bool
	}{
		{`{"a":{"url":"x"},"request":{"headers":[{"name":"url","value":"no"}],"method":"GET","url":"https://a.example/p?q=\u0031"}}`, "GET", "https://a.example/p?q=1", true},
		{`{"request":{"method":"POST","url":"https://b.example/"},"response":{}}`, "POST", "https://b.example/", true},
		{`{"request":{"method":"GET"}}`, "", "", false},
		{`{"request":{"method":"GET","url":5}}`, "", "", false},
		{`[1]`, "", "", false},
		{`{"request":{"url":"","method":"PATCH"}}`, "PATCH", "", true},
	}
	for _, tt := range tests {
		for _, peek := range []func([]byte) (string, string, bool){PeekRequest, PeekRequestShared} {
			m, u, ok := peek([]byte(tt.raw))
			if ok != tt.ok || (ok && (m != tt.method || u != tt.url)) {
				t.Errorf("PeekRequest(%s) = %q, %q, %v", tt.raw, m, u, ok)
			}
		}
	}
}

// plainJSONSeeds are entries for the comparison of parseRequestOnly with
// withoutResponse and ojg: numbers at ojg's limits, escapes, surrogates,
// invalid UTF-8, control characters, duplicate keys, odd spacing.
var plainJSONSeeds = []string{
	`{"request":{"method":"GET","url":"https://a.example/","headers":[{"name":"a","value":"b"}],"headersSize":-1,"bodySize":0},"response":{"x":1},"time":18.944978713989258}`,
	`{"time":1e0,"_timestamp":5E-0,"request":{"a":[0,-0,0.5,-0.0,1.5e3,1E+3,2e-7,123456789012345678,-123456789012345678,1.12345678901234567,0.0e1,1e999,-1e-999,1.25e+022,9e-3]}}`,
	`{"request":{"a":1234567890123456789}}`,
	`{"request":{"a":1.123456789012345678}}`,
	`{"request":{"a":0e1}}`,
	`{"request":{"a":01}}`,
	`{"request":{"a":1e1000}}`,
	`{"request":{"a":[1.,.5,-,1e,1e+]}}`,
	`{"request":{"s":"\"\\\/\b\f\n\r\t\u0041\u00e9\ud83d\ude00\ud800 x","k\"ey":"v","\u0075rl":1,"raw":"é` + "\xff\xfe" + `"}}`,
	`{"request":{"ctl":"a` + "\x01" + `b"}}`,
	`{"request":{"a":1,"a":2},"request":{"b":[]},"comment":"x","pageref":null,"_incomplete":true,"_communityId":false}`,
	`{ "request" : { "a" : [ 1 , { } , [ ] , "x" ] } , "response" : {"a":"}"} }  trailing`,
	`{"request":{"a":tru},"x":1}`,
	`{"request":{"a":"\u00"}}`,
	`{"request":{"a":"\x"}}`,
	`{"request":{"a":1]}`,
	`{"startedDateTime":"2024-01-02T03:04:05Z","request":{"postData":{"text":"{\"a\":\"b\\\\\",\"c\":[1,2]}"}}}`,
	`{}`,
	`[]`,
	`{"request":{"a":` + strings.Repeat("[", 600) + strings.Repeat("]", 600) + `}}`,
}

// TestParseRequestOnly checks the fast parse against withoutResponse and
// ojg on the seeds, and that it takes the seeds it should.
func TestParseRequestOnly(t *testing.T) {
	fast := 0
	for _, s := range plainJSONSeeds {
		if checkParseRequestOnly(t, []byte(s)) {
			fast++
		}
	}
	if fast != 7 {
		t.Errorf("%d seeds took the fast path, want 7", fast)
	}
	// The corpus-like test HAR's entries all take it.
	r := NewReader(strings.NewReader(rawTestHAR))
	for {
		raw, idx, err := r.NextRaw()
		if err != nil {
			break
		}
		if !checkParseRequestOnly(t, raw) && idx != 1 {
			t.Errorf("entry %d did not take the fast path", idx)
		}
	}
}

func FuzzParseRequestOnly(f *testing.F) {
	for _, s := range plainJSONSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkParseRequestOnly(t, b) })
}

// checkParseRequestOnly reports whether raw took the fast path, failing
// when its result differs from what withoutResponse and ojg give.
func checkParseRequestOnly(t *testing.T, raw []byte) bool {
	t.Helper()
	raw, scribble := ownCopy(raw)
	got, ok := parseRequestOnly(raw)
	if !ok {
		return false
	}
	raw = scribble()
	var buf []byte
	cut := withoutResponse(raw, &buf)
	var p oj.Parser
	want, err := func() (v any, err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		return p.Parse(cut)
	}()
	if err != nil {
		t.Errorf("%q: fast path accepted what ojg rejects (%v)", raw, err)
		return true
	}
	if !reflect.DeepEqual(any(got), want) {
		t.Errorf("%q:\n got %#v\nwant %#v", raw, got, want)
	}
	return true
}

// ownCopy returns a copy of raw to parse and a function that overwrites
// that copy and the pooled scratch buffers (as the Reader's recycled
// blocks and the next entries are) and returns raw: what was parsed before
// must not change, so must not point into either.
func ownCopy(raw []byte) ([]byte, func() []byte) {
	c := append([]byte(nil), raw...)
	return c, func() []byte {
		for i := range c {
			c[i] = '"'
		}
		for range 4 {
			decodeRequest([]byte(`{"request":{"url":"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\""}}`))
		}
		return raw
	}
}

// requestSeeds are entries shaped like HAR, for the comparison of
// decodeRequest with conv: every member ParseRequest keeps, of the
// expected types and of others, given twice, null.
var requestSeeds = []string{
	`{"startedDateTime":"2024-01-02T03:04:05.678+01:00","time":1.5,"request":{"method":"POST","url":"https://a.example/p?q=1","httpVersion":"HTTP/2","cookies":[{"name":"a","value":"b","path":"/","domain":"a.example","expires":"x","httpOnly":true,"secure":false,"comment":"c","other":[1]},null],"headers":[{"name":"Content-Type","value":"application/json","comment":"h","x":{}},null],"queryString":[{"name":"q","value":"1"}],"postData":{"mimeType":"application/json","text":"{\"a\":1}","encoding":"","comment":"p","params":[{"name":"n","value":"v","fileName":"f","contentType":"t","comment":"c","z":0},null],"_extra":{"k":[true]}},"headersSize":120,"bodySize":-1,"comment":"r","_timestamp":1704164645.678,"_extra":"x"},"response":{"status":200},"pageref":"p1","serverIPAddress":"[::1]","connection":"443","comment":"e","_timestamp":1704164645,"_communityId":"1:abc","_incomplete":true,"_initiator":{"type":"script"}}`,
	`{"request":{"method":null,"url":null,"cookies":null,"headers":null,"queryString":[],"postData":null,"headersSize":null,"bodySize":1.9,"_timestamp":null},"startedDateTime":null,"time":null,"_incomplete":null,"pageref":null}`,
	`{"request":{"method":"GET"},"request":{"url":"https://b.example/"},"time":1,"time":2}`,
	`{"request":{"postData":{"text":"a"},"postData":null}}`,
	`{"request":{"postData":{"encoding":"base64","_encoding":"x","text":"YQ=="}}}`,
	`{"request":{"postData":{"params":null,"encoding":"base64","encoding":"","text":"YQ=="}}}`,
	`{"request":{"headersSize":"12"}}`,
	`{"request":{"headersSize":1e300,"bodySize":-1e300}}`,
	`{"request":{"method":5}}`,
	`{"request":"x"}`,
	`{"request":{"headers":{"name":"a"}}}`,
	`{"request":{"headers":[1]}}`,
	`{"request":{"cookies":[{"httpOnly":"yes"}]}}`,
	`{"request":{"cookies":[{"httpOnly":true,"httpOnly":null}]}}`,
	`{"startedDateTime":""}`,
	`{"startedDateTime":"yesterday"}`,
	`{"startedDateTime":"2024-01-02 03:04:05.6Z"}`,
	`{"startedDateTime":"2024-01-02T03:04:05.6"}`,
	`{"time":"1"}`,
	`{"_incomplete":1}`,
	`{"request":{"h\u0065aders":[]}}`,
	`{"serverIPAddress":"[10.0.0.1]","connection":null}`,
	// nameValue's shape, exactly and nearly.
	`{"request":{"headers":[{"name":"a","value":"b"},{"name":"a\"\u00e9","value":""},{"name":"x","value":"y","comment":"c"},{"name":"n","value":"v" },{"name":"q","value":5}],"queryString":[{"name":"","value":"\\"},{"value":"v","name":"n"},{"name":"a","value":"b"}]}}`,
}

// TestDecodeRequest checks the typed fast path against the generic one on
// the seeds and on the test HAR, and that it takes the seeds it should.
func TestDecodeRequest(t *testing.T) {
	fast := 0
	for _, s := range append(requestSeeds, plainJSONSeeds...) {
		if checkDecodeRequest(t, []byte(s)) {
			fast++
		}
	}
	if fast < 15 {
		t.Errorf("only %d seeds took the fast path", fast)
	}
	r := NewReader(strings.NewReader(rawTestHAR))
	for {
		raw, idx, err := r.NextRaw()
		if err != nil {
			break
		}
		if !checkDecodeRequest(t, raw) && idx != 1 {
			t.Errorf("entry %d did not take the fast path", idx)
		}
	}
}

func FuzzDecodeRequest(f *testing.F) {
	for _, s := range append(requestSeeds, plainJSONSeeds...) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkDecodeRequest(t, b) })
}

// checkDecodeRequest reports whether raw took the typed path, failing when
// its entry differs from what conv makes of parseRequestOnly's result, or
// when conv would have warned.
func checkDecodeRequest(t *testing.T, raw []byte) bool {
	t.Helper()
	raw, scribble := ownCopy(raw)
	got := decodeRequest(raw)
	if got == nil {
		return false
	}
	raw = scribble()
	m, ok := parseRequestOnly(raw)
	if !ok {
		t.Errorf("%q: typed path accepted what the generic one does not", raw)
		return true
	}
	var warnings []string
	c := conv{idx: 0, warn: func(_ int, path, msg string) { warnings = append(warnings, path+": "+msg) }}
	want := c.entry(m)
	if len(warnings) > 0 {
		t.Errorf("%q: typed path accepted what conv warns about: %q", raw, warnings)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%q:\n got %+v\nwant %+v", raw, got, want)
	}
	return true
}

// TestMethodString checks the methods methodString knows against
// jsonString.
func TestMethodString(t *testing.T) {
	for _, v := range []string{`"GET"`, `"POST"`, `"OPTIONS"`, `"HEAD"`, `"PUT"`, `"PATCH"`, `"get"`, `"G\u0045T"`, `""`, `5`} {
		m, ok := methodString([]byte(v))
		wm, wok := jsonString([]byte(v))
		if m != wm || ok != wok {
			t.Errorf("%s: %q %v, jsonString %q %v", v, m, ok, wm, wok)
		}
	}
}

// FuzzSkipValue compares skipValue (the vector scan for objects and lists)
// with skipValueBytes, the loop it stands in for.
func FuzzSkipValue(f *testing.F) {
	for _, s := range append(requestSeeds, plainJSONSeeds...) {
		f.Add([]byte(s))
	}
	f.Add([]byte(`{"a":"\\\"",[}]"\` + strings.Repeat(`{"k":["v\"",1]},`, 20) + `}`))
	f.Add([]byte(`[` + strings.Repeat(`[`, 600) + strings.Repeat(`]`, 601)))
	f.Fuzz(func(t *testing.T, b []byte) {
		for i := 0; i < len(b) && i < 8; i++ {
			if got, want := skipValue(b, i), skipValueBytes(b, i); got != want {
				t.Fatalf("%q from %d: %d, byte loop %d", b, i, got, want)
			}
		}
	})
}

// FuzzNextSpecial compares nextSpecial with a byte loop.
func FuzzNextSpecial(f *testing.F) {
	f.Add([]byte("abcdefgh\"ijk"), true)
	f.Add([]byte("abcdefgh ! # \x1f"), false)
	f.Add([]byte("\xa2\xa2\xa2\xa2\xa2\xa2\xa2\xa2\\"), true)
	f.Fuzz(func(t *testing.T, s []byte, quotes bool) {
		want := len(s)
		for i, c := range s {
			if c < 0x20 || c == '\\' || quotes && c == '"' {
				want = i
				break
			}
		}
		if got := nextSpecial(s, 0, quotes); got != want {
			t.Errorf("%q, quotes %v: %d, want %d", s, quotes, got, want)
		}
	})
}
