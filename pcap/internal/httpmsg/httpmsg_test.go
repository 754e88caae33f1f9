package httpmsg

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/andybalholm/brotli"
	json "github.com/go-json-experiment/json/v1"
	"github.com/klauspost/compress/gzip"
	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/internal/testutil"
	"github.com/tracewire/tracewire/pcap/internal/stream"
)

var t0 = time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)

func conn() *stream.Conn {
	return &stream.Conn{
		Client:      netip.MustParseAddrPort("10.0.0.1:51234"),
		Server:      netip.MustParseAddrPort("[::ffff:93.184.216.34]:80"),
		CommunityID: "1:abc=",
	}
}

func hdr(kv ...string) []har.NameValue {
	var out []har.NameValue
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, har.NameValue{Name: kv[i], Value: kv[i+1]})
	}
	return out
}

func gzipped(s string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.Bytes()
}

func brotlied(s string) []byte {
	var b bytes.Buffer
	w := brotli.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.Bytes()
}

func req(method, target string, h []har.NameValue, body string) *Message {
	return &Message{
		Method: method, Target: target, Version: "HTTP/1.1", Headers: h, Body: []byte(body),
		HeadersSize: 100, BodySize: int64(len(body)), Start: t0, End: t0.Add(2 * time.Millisecond),
	}
}

func resp(status int, h []har.NameValue, body []byte) *Message {
	return &Message{
		Status: status, Reason: "OK", Version: "HTTP/1.1", Headers: h, Body: body,
		HeadersSize: 80, BodySize: int64(len(body)), Start: t0.Add(10 * time.Millisecond), End: t0.Add(15 * time.Millisecond),
	}
}

func TestBuildEntryURL(t *testing.T) {
	tests := []struct {
		name string
		m    *Message
		tls  bool
		want string
	}{
		{"host header", req("GET", "/a/b?x=1", hdr("Host", "example.com"), ""), false, "http://example.com/a/b?x=1"},
		{"tls", req("GET", "/", hdr("Host", "example.com:8443"), ""), true, "https://example.com:8443/"},
		{"absolute form kept", req("GET", "http://proxy.example/x?y", hdr("Host", "other"), ""), false, "http://proxy.example/x?y"},
		{"no host: server address without default port", req("GET", "/p", nil, ""), false, "http://93.184.216.34/p"},
		{"h2 pseudo headers", &Message{Method: "GET", Target: "/q", Scheme: "https", Authority: "h2.example"}, false, "https://h2.example/q"},
		{"connect", req("CONNECT", "example.com:443", hdr("Host", "example.com:443"), ""), false, "http://example.com:443/"},
		{"asterisk", req("OPTIONS", "*", hdr("Host", "h"), ""), false, "http://h/*"},
		{"path bytes kept", req("GET", "/a%2Fb//c/../d", hdr("Host", "h"), ""), false, "http://h/a%2Fb//c/../d"},
		{"non-UTF-8 path escaped", req("GET", "/caf\xe9", hdr("Host", "h"), ""), false, "http://h/caf%E9"},
		{"http/0.9 empty target", &Message{Method: "GET", Target: "", Version: "HTTP/0.9"}, false, "http://93.184.216.34/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := BuildEntry(conn(), tt.m, nil, tt.tls, DefaultLimits)
			if e.Request.URL != tt.want {
				t.Fatalf("URL = %q, want %q", e.Request.URL, tt.want)
			}
		})
	}
}

func TestServerHostIPv6(t *testing.T) {
	c := conn()
	c.Server = netip.MustParseAddrPort("[2001:db8::1]:8080")
	e := BuildEntry(c, req("GET", "/", nil, ""), nil, false, DefaultLimits)
	if e.Request.URL != "http://[2001:db8::1]:8080/" || e.ServerIPAddress != "2001:db8::1" {
		t.Fatalf("URL %q server %q", e.Request.URL, e.ServerIPAddress)
	}
}

func TestQueryString(t *testing.T) {
	m := req("GET", "/p?a=1&b=hello+world&c=%C3%A9t%C3%A9&&d&e=%zz&f=%41%42#frag", hdr("Host", "h"), "")
	e := BuildEntry(conn(), m, nil, false, DefaultLimits)
	got := fmt.Sprint(e.Request.QueryString)
	want := fmt.Sprint(hdr("a", "1", "b", "hello world", "c", "été", "d", "", "e", "%zz", "f", "AB"))
	if got != want {
		t.Fatalf("query = %s\nwant    %s", got, want)
	}
	e = BuildEntry(conn(), req("GET", "/p", nil, ""), nil, false, DefaultLimits)
	if e.Request.QueryString == nil || len(e.Request.QueryString) != 0 {
		t.Fatalf("no query should give an empty, non-nil list: %#v", e.Request.QueryString)
	}
}

func TestCookies(t *testing.T) {
	m := req("GET", "/", hdr("Host", "h", "Cookie", "a=1; b=x=y;c", "cookie", " d=\"q\" "), "")
	r := resp(200, hdr(
		"Set-Cookie", "id=42; Path=/; Domain=.example.com; Expires=Wed, 09 Jun 2021 10:18:14 GMT; HttpOnly; Secure; SameSite=Lax",
		"set-cookie", "old=1; expires=Thu, 01-Jan-1970 00:00:01 GMT",
		"Set-Cookie", "ma=1; Max-Age=3600; Expires=Wed, 09 Jun 2021 10:18:14 GMT",
		"Set-Cookie", "bad=1; Expires=tomorrow",
	), nil)
	e := BuildEntry(conn(), m, r, false, DefaultLimits)
	var got []string
	for _, c := range e.Request.Cookies {
		got = append(got, c.Name+"="+c.Value)
	}
	if s := strings.Join(got, "|"); s != `a=1|b=x=y|c=|d="q"` {
		t.Errorf("request cookies %s", s)
	}
	rc := e.Response.Cookies
	if len(rc) != 4 {
		t.Fatalf("%d response cookies", len(rc))
	}
	c := rc[0]
	if c.Name != "id" || c.Value != "42" || c.Path != "/" || c.Domain != ".example.com" || c.Expires != "2021-06-09T10:18:14Z" || !*c.HTTPOnly || !*c.Secure || c.Comment != "SameSite=Lax" {
		t.Errorf("cookie 0: %+v", c)
	}
	if rc[1].Expires != "1970-01-01T00:00:01Z" || *rc[1].HTTPOnly || *rc[1].Secure {
		t.Errorf("cookie 1: %+v", rc[1])
	}
	if want := r.Start.Add(time.Hour).UTC().Format(time.RFC3339); rc[2].Expires != want {
		t.Errorf("max-age cookie expires %q, want %q", rc[2].Expires, want)
	}
	if rc[3].Expires != "" || rc[3].Comment != "expires=tomorrow" {
		t.Errorf("bad expires: %+v", rc[3])
	}
}

func TestPostData(t *testing.T) {
	multipartBody := "--XyZ\r\nContent-Disposition: form-data; name=\"field\"\r\n\r\nvalue 1\r\n" +
		"--XyZ\r\nContent-Disposition: form-data; name=\"up\"; filename=\"a.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n\x00\x01\xff\r\n--XyZ--\r\n"
	tests := []struct {
		name       string
		h          []har.NameValue
		body       string
		wantNil    bool
		wantText   string
		wantEnc    string
		wantParams string
		wantMime   string
		comment    string
	}{
		{name: "no body", wantNil: true},
		{name: "urlencoded", h: hdr("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8"), body: "a=1&b=two+words&c=%26",
			wantText: "a=1&b=two+words&c=%26", wantParams: "a=1|b=two words|c=&", wantMime: "application/x-www-form-urlencoded; charset=UTF-8"},
		{name: "json", h: hdr("Content-Type", "application/json"), body: `{"idfa":"x"}`, wantText: `{"idfa":"x"}`, wantMime: "application/json"},
		{name: "binary labelled a form has no params", h: hdr("Content-Type", "application/x-www-form-urlencoded"), body: "\x1f\x8b\x08=\xff&a=b",
			wantText: "\x1f\x8b\x08=\xff&a=b", wantEnc: "base64", wantMime: "application/x-www-form-urlencoded"},
		{name: "binary is base64", h: hdr("Content-Type", "application/octet-stream"), body: "\xff\xfe\x00", wantText: "\xff\xfe\x00", wantEnc: "base64", wantMime: "application/octet-stream"},
		{name: "gzip request body decoded", h: hdr("Content-Type", "application/json", "Content-Encoding", "gzip"), body: string(gzipped(`{"a":1}`)),
			wantText: `{"a":1}`, wantMime: "application/json", comment: `decoded from Content-Encoding "gzip"`},
		{name: "corrupt gzip kept raw", h: hdr("Content-Type", "text/plain", "Content-Encoding", "gzip"), body: "plain text",
			wantText: "plain text", wantMime: "text/plain", comment: "could not undo"},
		{name: "multipart", h: hdr("Content-Type", "multipart/form-data; boundary=XyZ"), body: multipartBody,
			wantText: multipartBody, wantEnc: "base64", wantParams: "field=value 1|up=[a.bin application/octet-stream]", wantMime: "multipart/form-data; boundary=XyZ"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := BuildEntry(conn(), req("POST", "/", append(hdr("Host", "h"), tt.h...), tt.body), nil, false, DefaultLimits)
			p := e.Request.PostData
			if tt.wantNil {
				if p != nil {
					t.Fatalf("postData = %+v, want none", p)
				}
				return
			}
			if p == nil {
				t.Fatal("no postData")
			}
			b, err := p.Body()
			if err != nil || string(b) != tt.wantText {
				t.Errorf("body = %q (%v), want %q", b, err, tt.wantText)
			}
			if p.Encoding != tt.wantEnc || p.MimeType != tt.wantMime {
				t.Errorf("encoding %q mime %q", p.Encoding, p.MimeType)
			}
			var params []string
			for _, q := range p.Params {
				if q.FileName != "" {
					params = append(params, fmt.Sprintf("%s=[%s %s]", q.Name, q.FileName, q.ContentType))
				} else {
					params = append(params, q.Name+"="+q.Value)
				}
			}
			if s := strings.Join(params, "|"); s != tt.wantParams {
				t.Errorf("params %q, want %q", s, tt.wantParams)
			}
			if !strings.Contains(p.Comment, tt.comment) {
				t.Errorf("comment %q does not contain %q", p.Comment, tt.comment)
			}
		})
	}
}

func TestContent(t *testing.T) {
	const text = "<html>hello hello hello hello hello hello hello</html>"
	gz := gzipped(text)
	tests := []struct {
		name      string
		h         []har.NameValue
		body      []byte
		lim       Limits
		truncated bool
		wantText  string
		wantEnc   string
		wantSize  int64
		wantComp  *int64
		comment   string
	}{
		{name: "plain", h: hdr("Content-Type", "text/html"), body: []byte(text), wantText: text, wantSize: int64(len(text))},
		{name: "gzip", h: hdr("Content-Type", "text/html", "Content-Encoding", "gzip"), body: gz, wantText: text, wantSize: int64(len(text)), wantComp: ptr(int64(len(text) - len(gz)))},
		{name: "br", h: hdr("Content-Encoding", "br"), body: brotlied(text), wantText: text, wantSize: int64(len(text)), wantComp: ptr(int64(len(text) - len(brotlied(text))))},
		{name: "unknown coding kept", h: hdr("Content-Encoding", "compress"), body: []byte("\x1f\x9d\x90"), wantText: "\x1f\x9d\x90", wantEnc: "base64", wantSize: 3, comment: "unsupported content encoding"},
		{name: "bomb kept raw", h: hdr("Content-Encoding", "gzip"), body: gz, lim: Limits{MaxDecoded: 10}, wantText: string(gz), wantSize: int64(len(gz)), comment: "exceeds the limit"},
		{name: "cut-off gzip decodes partially", h: hdr("Content-Encoding", "gzip"), body: gz[:len(gz)-8], wantText: text, wantSize: int64(len(text)), comment: "ends early"},
		{name: "binary", body: []byte{0x89, 'P', 'N', 'G', 0xff}, wantText: "\x89PNG\xff", wantEnc: "base64", wantSize: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lim := tt.lim
			if lim == (Limits{}) {
				lim = DefaultLimits
			}
			r := resp(200, tt.h, tt.body)
			r.Truncated = tt.truncated
			e := BuildEntry(conn(), req("GET", "/", hdr("Host", "h"), ""), r, false, lim)
			c := e.Response.Content
			b, err := c.Body()
			if err != nil || string(b) != tt.wantText {
				t.Errorf("content = %q (%v), want %q", b, err, tt.wantText)
			}
			if tt.wantEnc != "" && c.Encoding != tt.wantEnc {
				t.Errorf("encoding %q, want %q", c.Encoding, tt.wantEnc)
			}
			if c.Size != tt.wantSize {
				t.Errorf("size %d, want %d", c.Size, tt.wantSize)
			}
			if (c.Compression == nil) != (tt.wantComp == nil) || c.Compression != nil && *c.Compression != *tt.wantComp {
				t.Errorf("compression %v, want %v", c.Compression, tt.wantComp)
			}
			if !strings.Contains(c.Comment, tt.comment) {
				t.Errorf("comment %q does not contain %q", c.Comment, tt.comment)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestTruncatedBody(t *testing.T) {
	r := resp(200, hdr("Content-Type", "text/plain"), []byte("0123456789"))
	r.Truncated, r.BodyLen, r.BodySize = true, 1000, 1000
	e := BuildEntry(conn(), req("GET", "/", nil, ""), r, false, DefaultLimits)
	if !e.Incomplete || e.Response.Content.Size != 1000 || !strings.Contains(e.Response.Content.Comment, "truncated to the first 10 bytes") {
		t.Fatalf("incomplete %v size %d comment %q", e.Incomplete, e.Response.Content.Size, e.Response.Content.Comment)
	}
}

func TestEntryFields(t *testing.T) {
	q := req("GET", "/x", hdr("Host", "example.com", "X-Odd", "caf\xe9"), "")
	q.Comments = []string{"PID: 1", "PID: 1", "cmd: curl"}
	q.Extra = har.Extra{"_custom": "r"}
	r := resp(302, hdr("Location", "/next", "Content-Length", "0"), nil)
	r.Comments = []string{"cmd: curl", "resp"}
	r.Incomplete = true
	e := BuildEntry(conn(), q, r, false, DefaultLimits)
	checks := []struct {
		name      string
		got, want any
	}{
		{"startedDateTime", e.StartedDateTime, t0},
		{"timestamp", e.Timestamp, har.Seconds(t0)},
		{"request timestamp", e.Request.Timestamp, har.Seconds(t0)},
		{"response timestamp", e.Response.Timestamp, har.Seconds(t0.Add(10 * time.Millisecond))},
		{"send", e.Timings.Send, 2.0},
		{"wait", e.Timings.Wait, 8.0},
		{"receive", e.Timings.Receive, 5.0},
		{"time", e.Time, 15.0},
		{"blocked", e.Timings.Blocked, -1.0},
		{"server", e.ServerIPAddress, "93.184.216.34"},
		{"connection", e.Connection, "51234"},
		{"community id", e.CommunityID, "1:abc="},
		{"incomplete", e.Incomplete, true},
		{"redirect", e.Response.RedirectURL, "/next"},
		{"status", e.Response.Status, 302},
		{"latin-1 header", e.Request.Headers[1].Value, "café"},
		{"header order and case", e.Request.Headers[0].Name, "Host"},
		{"comments", fmt.Sprint(e.Extra["_packetComments"]), "[PID: 1 cmd: curl resp]"},
		{"extra merged", e.Request.Extra["_custom"], "r"},
		{"headersSize", e.Request.HeadersSize, int64(100)},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestNoResponse(t *testing.T) {
	e := BuildEntry(conn(), req("GET", "/", nil, ""), nil, false, DefaultLimits)
	r := e.Response
	if r.Status != 0 || r.StatusText != "" || r.HTTPVersion != "" || r.HeadersSize != -1 || r.BodySize != -1 || e.Incomplete {
		t.Fatalf("response %+v", r)
	}
	if e.Timings.Wait != 0 || e.Timings.Receive != 0 || e.Time != 2 {
		t.Fatalf("timings %+v time %v", e.Timings, e.Time)
	}
}

func TestNeverPanics(t *testing.T) {
	// Degenerate input: nil request, empty conn, zero times.
	e := BuildEntry(nil, nil, &Message{}, false, Limits{})
	if e == nil || e.Request.URL == "" {
		t.Fatal("BuildEntry(nil...) gave no URL")
	}
}

// TestSchema writes entries covering every branch and runs npm's
// har-validator on them.
func TestSchema(t *testing.T) {
	var entries []har.Entry
	add := func(q, r *Message) { entries = append(entries, *BuildEntry(conn(), q, r, false, DefaultLimits)) }
	add(req("GET", "/a b?q=1 2", hdr("Host", "h h", "Cookie", "a=1"), ""), resp(200, hdr("Set-Cookie", "x=1; Expires=Wed, 09 Jun 2021 10:18:14 GMT; Max-Age=10"), []byte("ok")))
	add(req("POST", "/f", hdr("Content-Type", "multipart/form-data; boundary=b"), "--b\r\nContent-Disposition: form-data; name=\"n\"\r\n\r\nv\r\n--b--\r\n"), nil)
	add(&Message{Method: "GET", Target: "", Version: "HTTP/0.9", HeadersSize: -1, BodySize: -1}, &Message{Version: "HTTP/0.9", Body: []byte{0xff}, HeadersSize: 0, BodySize: 1})
	add(req("GET", "/", hdr("Host", "\xff\xfe"), ""), resp(200, hdr("Content-Encoding", "gzip", "Content-Type", "text/plain"), []byte("not gzip")))
	h := har.HAR{Log: har.Log{Entries: entries}}
	var buf bytes.Buffer
	if err := har.Encode(&buf, &h); err != nil {
		t.Fatal(err)
	}
	if !json.Valid(buf.Bytes()) {
		t.Fatal("invalid JSON")
	}
	f := filepath.Join(t.TempDir(), "x.har")
	if err := os.WriteFile(f, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	testutil.ValidateHAR(t, f)
}

func FuzzBuildEntry(f *testing.F) {
	f.Add("GET", "/a?b=c", "Host", "h", "gzip", []byte("x"), 200)
	f.Add("POST", "http://x/y", "Content-Type", "multipart/form-data; boundary=z", "", []byte("--z\r\n\r\n"), 0)
	f.Fuzz(func(t *testing.T, method, target, hname, hvalue, ce string, body []byte, status int) {
		q := &Message{Method: method, Target: target, Headers: hdr(hname, hvalue, "Content-Encoding", ce, "Set-Cookie", hvalue, "Cookie", hvalue), Body: body}
		r := &Message{Status: status, Headers: q.Headers, Body: body, Start: t0}
		e := BuildEntry(conn(), q, r, false, Limits{MaxDecoded: 1 << 16})
		// The entry is written as JSON that the HAR reader takes back.
		back, _, err := har.ParseEntry(har.MarshalEntry(e), 0)
		if err != nil {
			t.Fatalf("entry written as JSON the reader rejects: %v", err)
		}
		// (The writer percent-encodes white space and control characters
		// in URLs, and replaces invalid UTF-8.)
		plain := utf8.ValidString(e.Request.URL) && !strings.ContainsFunc(e.Request.URL, func(r rune) bool { return r <= ' ' || r == 0x7f })
		if plain && back.Request.URL != e.Request.URL || back.Response.Status != e.Response.Status {
			t.Fatalf("read back URL %q status %d, built %q %d", back.Request.URL, back.Response.Status, e.Request.URL, e.Response.Status)
		}
	})
}

func BenchmarkBuildEntry(b *testing.B) {
	body := gzipped(strings.Repeat(`{"event":"page_view","user":"abc"},`, 300))
	q := req("POST", "/collect?v=1&tid=UA-1&cid=555&t=pageview", hdr("Host", "www.google-analytics.com", "User-Agent", "Mozilla/5.0", "Cookie", "a=1; b=2", "Content-Type", "application/x-www-form-urlencoded"), "v=1&tid=UA-1&cid=555&t=pageview&dp=%2Fhome")
	r := resp(200, hdr("Content-Type", "application/json", "Content-Encoding", "gzip", "Set-Cookie", "id=1; Path=/; HttpOnly"), body)
	b.ReportAllocs()
	for b.Loop() {
		BuildEntry(conn(), q, r, false, DefaultLimits)
	}
}

// TestUnescape: form and query values are decoded leniently, a malformed
// escape kept as sent.
func TestUnescape(t *testing.T) {
	for in, want := range map[string]string{
		"plain": "plain", "a+b": "a b", "%41%62": "Ab", "%4": "%4", "%zz": "%zz",
		"%e4%": "\xe4%", "100%": "100%", "%+1": "% 1", "%-1x": "%-1x", "a%2Bb": "a+b",
	} {
		if got := unescape(in); got != want {
			t.Errorf("unescape(%q) = %q, want %q", in, got, want)
		}
	}
}
