package http2

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/internal/testutil"
	"github.com/tracewire/tracewire/pcap/internal/httpmsg"
)

// TestEntries goes through the real httpmsg.BuildEntry: URLs from the
// pseudo-headers, content decoding, the HTTP/2 extensions, and HARs that
// har-validator accepts.
func TestEntries(t *testing.T) {
	gen := generatedSession(t, false)
	crafted, _ := craftedSession()
	var files []string
	write := func(name string, es []*har.Entry) {
		p := filepath.Join(t.TempDir(), name+".har")
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		w := har.NewWriter(f, &har.Log{Creator: har.Creator{Name: "test", Version: "0"}})
		for _, e := range es {
			if err := w.Write(e); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		f.Close()
		files = append(files, p)
	}

	c := testConn()
	c.CommunityID = "1:test"
	s := runInto(c, &sink{}, Config{}, gen)
	byURL := map[string]*har.Entry{}
	for _, e := range s.entries {
		byURL[e.Request.Method+" "+e.Request.URL] = e
	}
	e := byURL["GET http://example.test/hello?x=1&y=two"]
	if e == nil {
		t.Fatalf("no entry for /hello: %v", keys(byURL))
	}
	if e.Request.HTTPVersion != "HTTP/2" || e.Response.HTTPVersion != "HTTP/2" || e.CommunityID != "1:test" ||
		len(e.Request.QueryString) != 2 || len(e.Request.Cookies) != 1 || e.Request.Cookies[0].Value != "42" {
		t.Errorf("/hello entry: %+v", e.Request)
	}
	if e.StartedDateTime.IsZero() || e.Timestamp == 0 {
		t.Errorf("/hello: no start time")
	}
	if e := byURL["GET http://example.test/gzip"]; e == nil || e.Response.Content.Text != "<p>compressed</p>" || e.Response.Content.MimeType != "text/html" {
		t.Errorf("/gzip: content %+v", e.Response.Content)
	}
	if e := byURL["POST http://example.test/submit"]; e == nil || e.Request.PostData == nil || len(e.Request.PostData.Params) != 2 {
		t.Errorf("/submit: postData %+v", e.Request.PostData)
	}
	if e := byURL["POST http://example.test/grpc.Service/Method"]; e == nil ||
		e.Response.Content.MimeType != "application/grpc" || e.Response.Content.Encoding != "base64" ||
		e.Request.PostData == nil || e.Request.PostData.MimeType != "application/grpc" {
		t.Errorf("gRPC entry: %+v", e)
	}
	if e := byURL["GET http://example.test/slow"]; e == nil || e.Extra["_rstStream"] != "CANCEL" || !e.Incomplete {
		t.Errorf("/slow: %+v", e)
	}
	write("generated", s.entries)

	c = testConn()
	s = runInto(c, &sink{}, Config{TLS: true}, crafted.chunks)
	byURL = map[string]*har.Entry{}
	for _, e := range s.entries {
		byURL[e.Request.Method+" "+e.Request.URL] = e
	}
	if e := byURL["GET https://example.com/style.css"]; e == nil || e.Extra["_pushed"] != true || e.Response.Content.Text != "body{}" {
		t.Errorf("pushed entry: %+v (have %v)", e, keys(byURL))
	}
	if e := byURL["GET https://example.com/index.html?q=1"]; e == nil || len(e.Request.Cookies) != 2 {
		t.Errorf("crafted /index.html: %+v", e)
	}
	write("crafted", s.entries)

	// Bodies beyond Limits.MaxBody are cut, counted and marked.
	s = runInto(testConn(), &sink{}, Config{Limits: httpmsg.Limits{MaxBody: 1000}}, gen)
	found := false
	for _, e := range s.entries {
		if e.Request.URL != "http://example.test/c/3" {
			continue
		}
		found = true
		ct := e.Response.Content
		if len(ct.Text) != 1000 || ct.Size != 40000 || e.Response.BodySize != 40000 || !e.Incomplete || !strings.Contains(ct.Comment, "truncated") {
			t.Errorf("truncated body: %d bytes kept, size %d, bodySize %d, incomplete %v, comment %q", len(ct.Text), ct.Size, e.Response.BodySize, e.Incomplete, ct.Comment)
		}
	}
	if !found {
		t.Errorf("no entry for /c/3")
	}
	write("truncated", s.entries)

	testutil.ValidateHAR(t, files...)
}

func keys(m map[string]*har.Entry) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
