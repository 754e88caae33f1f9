package har_test

import (
	"bytes"
	"testing"

	"github.com/tracewire/tracewire/har"
)

func TestPeek(t *testing.T) {
	for _, tc := range []struct {
		raw         string
		method, url string
		ok          bool
		time        float64
	}{
		{`{"startedDateTime":"2023-04-07T13:04:57.078662+00:00","request":{"method":"GET","url":"http://a/"}}`, "GET", "http://a/", true, 1680872697.078662},
		{`{"request":{"url":"http://a/\u0041","postData":{"text":"{\"startedDateTime\":\"2001-01-01T00:00:00Z\"}"},"method":"POST"}, "startedDateTime" : "2023-04-07T13:04:57Z"}`, "POST", "http://a/A", true, 1680872697},
		{`{"_timestamp": 1700000000.25, "startedDateTime":"2023-04-07T13:04:57Z"}`, "", "", false, 1700000000.25},
		// The first _timestamp in the text counts, as tracewire writes the
		// request's before the entry's.
		{`{"request":{"method":"GET","url":"u","_timestamp":5},"response":{"_timestamp":6},"_timestamp":7}`, "GET", "u", true, 5},
		{`{"response":{"_timestamp":6},"request":{"method":"GET","url":"u"},"_timestamp":7}`, "GET", "u", true, 6},
		{`{"startedDateTime":null,"request":{"method":1,"url":"u"}}`, "", "u", false, 0},
		{`{"request":{"method":"GET","url":"u"},"startedDateTime":"2023-04-07T13:04:5`, "GET", "u", false, 0},
		{`{"request":"x"}`, "", "", false, 0},
		{`[]`, "", "", false, 0},
		{`{}`, "", "", false, 0},
	} {
		h, ok := har.Peek([]byte(tc.raw))
		var g float64
		if !h.Time.IsZero() {
			g = float64(h.Time.UnixNano()) / 1e9
		}
		if d := g - tc.time; d > 1e-5 || d < -1e-5 || ok != tc.ok || h.Method != tc.method || h.URL != tc.url {
			t.Errorf("Peek(%s) = %+v %v (time %v), want %q %q %v %v", tc.raw, h, ok, g, tc.method, tc.url, tc.ok, tc.time)
		}
		// PeekRequest reads only up to the request: it finds at least
		// what Peek finds.
		m, u, ok := har.PeekRequest([]byte(tc.raw))
		if tc.ok && (!ok || m != tc.method || u != tc.url) {
			t.Errorf("PeekRequest(%s) = %q %q %v", tc.raw, m, u, ok)
		}
	}
}

// FuzzPeek: peeking never panics, finds a time only from a member that is
// there, and agrees with ParseRequest on the method and URL.
func FuzzPeek(f *testing.F) {
	f.Add([]byte(`{"startedDateTime":"2023-04-07T13:04:57.078662+00:00","request":{"method":"GET","url":"http://a/"}}`))
	f.Add([]byte(`{"_timestamp": 1700000000.25}`))
	f.Add([]byte(`{"a":"\"startedDateTime\": \"2001-01-01T00:00:00Z\""}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		h, ok := har.Peek(raw)
		if !h.Time.IsZero() && !bytes.Contains(raw, []byte(`"startedDateTime"`)) && !bytes.Contains(raw, []byte(`"_timestamp"`)) {
			t.Fatalf("a time from nothing: %q", raw)
		}
		if !ok {
			return
		}
		e, _, err := har.ParseRequest(raw, 0)
		if err == nil && (e.Request.Method != h.Method || e.Request.URL != h.URL) {
			// A member given twice: Peek takes the first, decoding the last.
			if bytes.Count(raw, []byte(`"method"`)) < 2 && bytes.Count(raw, []byte(`"url"`)) < 2 && bytes.Count(raw, []byte(`"request"`)) < 2 {
				t.Fatalf("Peek %q %q, ParseRequest %q %q: %q", h.Method, h.URL, e.Request.Method, e.Request.URL, raw)
			}
		}
	})
}
