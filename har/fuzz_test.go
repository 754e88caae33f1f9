package har_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/tracewire/tracewire/har"
)

// FuzzReader checks that no input makes the reader panic, and that whatever
// it reads is written back as JSON the reader accepts again.
func FuzzReader(f *testing.F) {
	f.Add([]byte(`{"log":{"version":"1.2","creator":{"name":"x","version":"1"},"entries":[{"startedDateTime":"2020-01-01T00:00:00Z","time":1,"request":{"method":"GET","url":"http://a/","httpVersion":"HTTP/1.1","headers":[{"name":"a","value":"b"}],"cookies":[],"queryString":[],"headersSize":-1,"bodySize":-1},"response":{"status":200,"content":{"size":1,"text":"x"}},"cache":{},"timings":{"send":0,"wait":0,"receive":0}}]}}`))
	f.Add([]byte(`{"log":{"entries":[{"time":"1"},null,[],{"request":{"postData":{"text":"\u00ff","encoding":"base64"}}}],"comment":1}}`))
	f.Add([]byte("\xef\xbb\xbf{\"log\":{\"entries\":[{\"_x\":{\"y\":[1,2,{\"z\":null}]}}]}}"))
	f.Add([]byte(`{"a":1,"log":{"pages":[{"id":1,"pageTimings":{"onLoad":"x"}}],"entries":[{}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := har.NewReader(bytes.NewReader(data))
		var buf bytes.Buffer
		w := har.NewWriter(&buf, r.Log())
		n := 0
		for e, err := range r.Entries() {
			if err != nil {
				var se *har.SyntaxError
				if !errors.As(err, &se) {
					t.Fatalf("error without position: %v", err)
				}
				break
			}
			if err := w.Write(e); err != nil {
				t.Fatal(err)
			}
			n++
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		h, _, err := har.ReadAll(&buf)
		if err != nil {
			t.Fatalf("reading our own output: %v\n%s", err, buf.String())
		}
		if len(h.Log.Entries) != n {
			t.Fatalf("wrote %d entries, read back %d", n, len(h.Log.Entries))
		}
	})
}
