package har_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/internal/testutil"
)

func sampleEntry() *har.Entry {
	e := &har.Entry{
		StartedDateTime: time.Date(2025, 12, 12, 8, 34, 0, 123456789, time.UTC),
		Time:            12.5,
		Request: har.Request{
			Method: "POST", URL: "http://example.com/a b?x=1", HTTPVersion: "HTTP/1.1",
			Headers:     []har.NameValue{{Name: "Host", Value: "example.com"}, {Name: "X-Case", Value: "Ä"}},
			QueryString: []har.NameValue{{Name: "x", Value: "1"}},
			HeadersSize: 40, BodySize: 4, Timestamp: 1765528440.123456,
		},
		Response:        har.Response{Status: 200, StatusText: "OK", HTTPVersion: "HTTP/1.1", HeadersSize: -1, BodySize: 3},
		Timings:         har.NoTimings,
		ServerIPAddress: "192.0.2.1", Connection: "51234",
		CommunityID: "1:abc=", Timestamp: 1765528440.123456, Incomplete: true,
	}
	e.Request.PostData = &har.PostData{MimeType: "application/octet-stream"}
	e.Request.PostData.SetBody([]byte{0xff, 0x00, 0x01, 0x02})
	e.Response.Content.SetBody([]byte("hé\n"))
	e.Extra.Set("_stacktrace", map[string]any{"b": 1, "a": []any{"x"}})
	return e
}

func TestRoundTrip(t *testing.T) {
	e := sampleEntry()
	var buf bytes.Buffer
	w := har.NewWriter(&buf, &har.Log{Creator: har.Creator{Name: "tracewire", Version: "test"}})
	if err := w.Write(e); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{`"url":"http://example.com/a%20b?x=1"`, `"encoding":"base64"`, `"text":"/wABAg=="`, `"_stacktrace":{"a":["x"],"b":1}`, `"_incomplete":true`, `"startedDateTime":"2025-12-12T08:34:00.123456789Z"`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
	h, warns, err := har.ReadAll(strings.NewReader(out))
	if err != nil || len(warns) > 0 {
		t.Fatalf("read back: %v %v", err, warns)
	}
	got := &h.Log.Entries[0]
	body, _ := got.Request.PostData.Body()
	if !bytes.Equal(body, []byte{0xff, 0, 1, 2}) {
		t.Errorf("post body %x", body)
	}
	if got.CommunityID != e.CommunityID || got.Timestamp != e.Timestamp || !got.Incomplete || !got.StartedDateTime.Equal(e.StartedDateTime) {
		t.Errorf("extensions lost: %+v", got)
	}
	// Writing what was read gives the same bytes.
	var again bytes.Buffer
	if err := har.Encode(&again, h); err != nil {
		t.Fatal(err)
	}
	if again.String() != out {
		t.Errorf("not byte-identical after a round trip:\n%s\n%s", out, again.String())
	}
}

func TestLenientReading(t *testing.T) {
	tests := []struct {
		name, in  string
		entries   int
		warnings  int
		wantError bool
	}{
		{"null arrays and times", `{"log":{"version":"1.2","creator":{"name":"x","version":"1"},"entries":[{"startedDateTime":"2020-01-01T00:00:00Z","time":null,"request":{"method":"GET","url":"http://a/","httpVersion":"HTTP/1.1","headers":null,"cookies":null,"queryString":null,"headersSize":-1,"bodySize":-1},"response":null,"cache":{},"timings":{"send":0,"wait":0,"receive":0}}]}}`, 1, 0, false},
		{"number as string", `{"log":{"entries":[{"time":"12.5"}]}}`, 1, 1, false},
		{"entries null", `{"log":{"entries":null}}`, 0, 1, false},
		{"no entries", `{"log":{"version":"1.2"}}`, 0, 1, false},
		{"entries after pages", `{"log":{"pages":[{"id":"p"}],"entries":[{},{}],"comment":"c"}}`, 2, 0, false},
		{"bom", "\xef\xbb\xbf" + `{"log":{"entries":[{}]}}`, 1, 0, false},
		{"non-object entry", `{"log":{"entries":[1,{}]}}`, 1, 1, false},
		{"truncated", `{"log":{"entries":[{"time":1},{"ti`, 1, 0, true},
		{"not json", `<html>`, 0, 0, true},
		{"empty", ``, 0, 0, true},
		{"deep", `{"log":{"entries":[` + strings.Repeat("[", 100000), 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := har.NewReader(strings.NewReader(tt.in))
			n := 0
			var err error
			for _, e := range r.Entries() {
				if err = e; err != nil {
					break
				}
				n++
			}
			if (err != nil) != tt.wantError {
				t.Fatalf("error = %v, want error %v", err, tt.wantError)
			}
			var se *har.SyntaxError
			if err != nil && !errors.As(err, &se) {
				t.Errorf("error %v is not a SyntaxError with an offset", err)
			}
			if n != tt.entries {
				t.Errorf("entries = %d, want %d", n, tt.entries)
			}
			if len(r.Warnings()) != tt.warnings {
				t.Errorf("warnings = %v, want %d", r.Warnings(), tt.warnings)
			}
		})
	}
}

// TestCorpusHARs reads every HAR of the corpus (including those that fail
// the schema), writes it again, and checks the output with har-validator.
func TestCorpusHARs(t *testing.T) {
	dir := testutil.Corpus(t, "har")
	var files []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".har") {
			files = append(files, p)
		}
		return nil
	})
	if len(files) < 29 {
		t.Fatalf("found %d corpus HARs, want at least 29", len(files))
	}
	out := t.TempDir()
	var written []string
	for i, f := range files {
		in, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		r := har.NewReader(in)
		dst := filepath.Join(out, filepath.Base(filepath.Dir(f))+"-"+filepath.Base(f))
		o, _ := os.Create(dst)
		w := har.NewWriter(o, r.Log())
		n := 0
		for e, err := range r.Entries() {
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			w.Write(e)
			n++
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		o.Close()
		in.Close()
		if n == 0 {
			t.Errorf("%s: no entries", f)
		}
		written = append(written, dst)
		_ = i
	}
	testutil.ValidateHAR(t, written...)
}

// Warnings come in path order whatever the order Go's maps are walked in,
// so the same input always reports the same way.
func TestWarningsDeterministic(t *testing.T) {
	in := `{"log":{"entries":[{"time":"x","request":{"method":1,"url":[],"headersSize":"a","bodySize":{}},"response":{"status":"s","statusText":[],"content":{"size":"q"}},"timings":{"send":"n","wait":"m"}}]}}`
	var first []string
	for run := 0; run < 20; run++ {
		r := har.NewReader(strings.NewReader(in))
		for _, err := range r.Entries() {
			if err != nil {
				t.Fatal(err)
			}
			break
		}
		var got []string
		for _, w := range r.Warnings() {
			got = append(got, w.String())
		}
		if run == 0 {
			first = got
			if len(got) < 8 {
				t.Fatalf("only %d warnings: %v", len(got), got)
			}
			continue
		}
		if strings.Join(got, "\n") != strings.Join(first, "\n") {
			t.Fatalf("run %d gave\n%s\nrun 0 gave\n%s", run, strings.Join(got, "\n"), strings.Join(first, "\n"))
		}
	}
}
