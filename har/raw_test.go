package har

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
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
			_, _, _ = PeekRequest(raw)
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
	}
	for _, tt := range tests {
		m, u, ok := PeekRequest([]byte(tt.raw))
		if ok != tt.ok || (ok && (m != tt.method || u != tt.url)) {
			t.Errorf("PeekRequest(%s) = %q, %q, %v", tt.raw, m, u, ok)
		}
	}
}
