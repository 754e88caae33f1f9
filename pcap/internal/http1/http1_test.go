package http1

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/pcap/internal/httpmsg"
	"github.com/tracewire/tracewire/pcap/internal/stream"
)

const (
	C = stream.ClientToServer
	S = stream.ServerToClient
)

// step is data of one direction; skip is the gap before it.
type step struct {
	dir  stream.Dir
	data string
	skip int
}

func cs(data string) step { return step{dir: C, data: data} }
func sc(data string) step { return step{dir: S, data: data} }

type sink struct {
	entries []*har.Entry
	notes   []stream.Note
}

func (s *sink) Entry(_ *stream.Conn, e *har.Entry) { s.entries = append(s.entries, e) }
func (s *sink) Note(n stream.Note)                 { s.notes = append(s.notes, n) }

var t0 = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

func newConn() *stream.Conn {
	return &stream.Conn{
		Client:      netip.MustParseAddrPort("192.0.2.1:40000"),
		Server:      netip.MustParseAddrPort("198.51.100.2:80"),
		CommunityID: "1:test",
	}
}

// recorder is a stream.Parser that records what it is fed (the parser an
// Upgrade hook returns).
type recorder struct {
	data  [2]bytes.Buffer
	ended bool
}

func (r *recorder) Feed(c *stream.Chunk)            { r.data[c.Dir].Write(c.Data) }
func (r *recorder) End(time.Time, stream.EndReason) { r.ended = true }

type upgradeCall struct {
	proto  string
	target string
}

type harness struct {
	// orig is the client address before any swap: steps say which side
	// sends by the original labels, as reassembly knows them.
	orig  netip.AddrPort
	conn  *stream.Conn
	sink  sink
	p     stream.Parser
	calls []upgradeCall
	rec   *recorder
	frame uint64
}

func newHarness(cfg Config, tunnel bool) *harness {
	h := &harness{conn: newConn()}
	h.orig = h.conn.Client
	cfg.Upgrade = func(proto string, req *httpmsg.Message) stream.Parser {
		t := "<nil>"
		if req != nil {
			t = req.Target
		}
		h.calls = append(h.calls, upgradeCall{proto, t})
		if !tunnel {
			return nil
		}
		h.rec = &recorder{}
		return h.rec
	}
	h.p = New(h.conn, &h.sink, cfg)
	return h
}

func (h *harness) feed(dir stream.Dir, data []byte, skip int) {
	h.frame++
	// Like the TCP layer: the direction follows the connection's client,
	// which a parser may have swapped.
	if h.conn.Client != h.orig {
		dir = dir.Reverse()
	}
	cp := bytes.Clone(data)
	h.p.Feed(&stream.Chunk{Dir: dir, Data: cp, Time: t0.Add(time.Duration(h.frame) * time.Millisecond), Frame: h.frame, Skip: skip,
		Comments: []string{fmt.Sprintf("dir %d", dir)}})
	// The parser must not keep Data.
	for i := range cp {
		cp[i] = 'X'
	}
}

// run feeds the steps, each split into pieces of at most split bytes (0:
// whole), and ends the connection.
func (h *harness) run(steps []step, split int, why stream.EndReason) {
	for _, s := range steps {
		d := []byte(s.data)
		skip := s.skip
		if split <= 0 || len(d) == 0 {
			h.feed(s.dir, d, skip)
			continue
		}
		for len(d) > 0 {
			n := min(split, len(d))
			h.feed(s.dir, d[:n], skip)
			skip = 0
			d = d[n:]
		}
	}
	h.p.End(t0.Add(time.Hour), why)
}

// summary describes an entry in one line, for comparisons.
func summary(e *har.Entry) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s", e.Request.Method, e.Request.URL, e.Request.HTTPVersion)
	if pd := e.Request.PostData; pd != nil {
		body, _ := pd.Body()
		fmt.Fprintf(&b, " body=%q", body)
	}
	fmt.Fprintf(&b, " -> %d", e.Response.Status)
	if e.Response.Status != 0 {
		body, _ := e.Response.Content.Body()
		fmt.Fprintf(&b, " %q", body)
	}
	if e.Incomplete {
		b.WriteString(" incomplete")
	}
	return b.String()
}

func summaries(es []*har.Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, summary(e))
	}
	return out
}

func gz(s string) string {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}

func zl(s string) string {
	var b bytes.Buffer
	w := zlib.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}

func rawDeflate(s string) string {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, 5)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}

func br(s string) string {
	var b bytes.Buffer
	w := brotli.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}

func zs(s string) string {
	w, _ := zstd.NewWriter(nil)
	defer w.Close()
	return string(w.EncodeAll([]byte(s), nil))
}

func resp(extra, body string) string {
	return fmt.Sprintf("HTTP/1.1 200 OK\r\n%sContent-Length: %d\r\n\r\n%s", extra, len(body), body)
}

const page = "<html>tracking pixel tracking pixel tracking pixel</html>"

type parserCase struct {
	name  string
	steps []step
	want  []string
	// noSplit: the case depends on chunk boundaries (gaps).
	noSplit bool
	why     stream.EndReason
}

var parserCases = []parserCase{
	{
		name:  "simple get",
		steps: []step{cs("GET /a?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n"), sc(resp("", "hello"))},
		want:  []string{`GET http://example.com/a?x=1 HTTP/1.1 -> 200 "hello"`},
	},
	{
		name: "keep-alive and pipelining",
		steps: []step{
			cs("GET /1 HTTP/1.1\r\nHost: h\r\n\r\nPOST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabcGET /3 HTTP/1.1\r\nHost: h\r\n\r\n"),
			sc(resp("", "one") + resp("", "two") + "HTTP/1.1 404 Not Found\r\nContent-Length: 5\r\n\r\nthree"),
		},
		want: []string{
			`GET http://h/1 HTTP/1.1 -> 200 "one"`,
			`POST http://h/2 HTTP/1.1 body="abc" -> 200 "two"`,
			`GET http://h/3 HTTP/1.1 -> 404 "three"`,
		},
	},
	{
		name: "interleaved keep-alive",
		steps: []step{
			cs("GET /1 HTTP/1.1\r\nHost: h\r\n\r\n"), sc(resp("", "one")),
			cs("GET /2 HTTP/1.1\r\nHost: h\r\n\r\n"), sc(resp("", "two")),
		},
		want: []string{`GET http://h/1 HTTP/1.1 -> 200 "one"`, `GET http://h/2 HTTP/1.1 -> 200 "two"`},
	},
	{
		name: "chunked with extensions and trailers",
		steps: []step{
			cs("GET / HTTP/1.1\r\nHost: h\r\n\r\n"),
			sc("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: yes\r\n\r\n"),
			cs("GET /next HTTP/1.1\r\nHost: h\r\n\r\n"), sc(resp("", "n")),
		},
		want: []string{`GET http://h/ HTTP/1.1 -> 200 "hello, world"`, `GET http://h/next HTTP/1.1 -> 200 "n"`},
	},
	{
		name: "chunk size 2^64 overflow (zeek 261 variant-01)",
		steps: []step{
			cs("POST / HTTP/1.1\r\nHost: target\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n\r\nGET /smuggled-chunk-2pow64 HTTP/1.1\r\nHost: target\r\n\r\n"),
		},
		want: []string{
			`POST http://target/ HTTP/1.1 body="10000000000000000\r\n\r\n" -> 0 incomplete`,
			`GET http://target/smuggled-chunk-2pow64 HTTP/1.1 -> 0`,
		},
	},
	{
		name: "TE and CL desync (zeek 261 variant-04): chunked wins",
		steps: []step{
			cs("POST / HTTP/1.1\r\nHost: target\r\nTransfer-Encoding: chunked\r\nContent-Length: 50\r\n\r\n0\r\n\r\nGET /smuggled-te-cl HTTP/1.1\r\nHost: target\r\n\r\n"),
			sc(resp("", "a") + resp("", "b")),
		},
		want: []string{
			`POST http://target/ HTTP/1.1 -> 200 "a"`,
			`GET http://target/smuggled-te-cl HTTP/1.1 -> 200 "b"`,
		},
	},
	{
		name: "multi-value TE (zeek 261 variant-10): identity ignored",
		steps: []step{
			cs("POST / HTTP/1.1\r\nHost: target\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\nGET /smuggled-multi-te HTTP/1.1\r\nHost: target\r\n\r\n"),
		},
		want: []string{`POST http://target/ HTTP/1.1 -> 0`, `GET http://target/smuggled-multi-te HTTP/1.1 -> 0`},
	},
	{
		name: "TE without final chunked in a request: body up to the next request line",
		steps: []step{
			cs("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\nsome bytes\r\nmore\r\nGET /next HTTP/1.1\r\nHost: h\r\n\r\n"),
		},
		want: []string{`POST http://h/ HTTP/1.1 body="some bytes\r\nmore\r\n" -> 0 incomplete`, `GET http://h/next HTTP/1.1 -> 0`},
	},
	{
		name: "100-continue",
		steps: []step{
			cs("POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"),
			sc("HTTP/1.1 100 Continue\r\n\r\n"),
			cs("12345"),
			sc(resp("", "done")),
		},
		want: []string{`POST http://h/up HTTP/1.1 body="12345" -> 200 "done"`},
	},
	{
		name: "HEAD, 204 and 304 have no body",
		steps: []step{
			cs("HEAD /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\nGET /c HTTP/1.1\r\nHost: h\r\n\r\nGET /d HTTP/1.1\r\nHost: h\r\n\r\n"),
			sc("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" +
				"HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n" +
				"HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n" +
				resp("", "body")),
		},
		want: []string{
			`HEAD http://h/a HTTP/1.1 -> 200 ""`,
			`GET http://h/b HTTP/1.1 -> 204 ""`,
			`GET http://h/c HTTP/1.1 -> 304 ""`,
			`GET http://h/d HTTP/1.1 -> 200 "body"`,
		},
	},
	{
		name:  "close-delimited HTTP/1.0 response",
		steps: []step{cs("GET /old HTTP/1.0\r\n\r\n"), sc("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nline 1\r\nHTTP/1.1 200 not a status line here\r\n")},
		want:  []string{`GET http://198.51.100.2/old HTTP/1.0 -> 200 "line 1\r\nHTTP/1.1 200 not a status line here\r\n"`},
	},
	{
		name:  "close-delimited body cut by the end of the capture",
		steps: []step{cs("GET / HTTP/1.1\r\nHost: h\r\n\r\n"), sc("HTTP/1.1 200 OK\r\n\r\npartial")},
		why:   stream.EndCapture,
		want:  []string{`GET http://h/ HTTP/1.1 -> 200 "partial" incomplete`},
	},
	{
		name:  "HTTP/0.9",
		steps: []step{cs("GET /zeek.html\n"), sc("<html>\n  The Zeek Network Security Monitor\n</html>\n")},
		want:  []string{`GET http://198.51.100.2/zeek.html HTTP/0.9 -> 200 "<html>\n  The Zeek Network Security Monitor\n</html>\n"`},
	},
	{
		name:  "HTTP/0.9 request answered with a status line",
		steps: []step{cs("GET /x\r\n"), sc("HTTP/1.0 400 Bad Request\r\nContent-Length: 2\r\n\r\nno")},
		want:  []string{`GET http://198.51.100.2/x HTTP/0.9 -> 400 "no"`},
	},
	{
		name: "version-less request lines with headers (zeek http_methods)",
		steps: []step{
			cs("OPTIONS\r\nHost: www.google.com\r\n\r\n"), sc("HTTP/1.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n"),
			cs("GET /HTTP/1.1\r\nHost: www.google.com\r\n\r\n"), sc("HTTP/1.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n"),
			cs("GET / HTTP/1.\r\nHost: www.google.com\r\n\r\n"), sc("HTTP/1.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n"),
		},
		want: []string{
			`OPTIONS http://www.google.com/  -> 400 ""`,
			`GET http://www.google.com/HTTP/1.1  -> 400 ""`,
			`GET http://www.google.com/ HTTP/1. -> 400 ""`,
		},
	},
	{
		name: "absolute-URI proxy request",
		steps: []step{
			cs("GET http://www.example.org/path?q=1 HTTP/1.1\r\nHost: www.example.org\r\nProxy-Connection: keep-alive\r\n\r\n"),
			sc(resp("", "proxied")),
		},
		want: []string{`GET http://www.example.org/path?q=1 HTTP/1.1 -> 200 "proxied"`},
	},
	{
		name:  "request without response",
		steps: []step{cs("POST /beacon HTTP/1.1\r\nHost: t.example\r\nContent-Length: 4\r\n\r\nid=1")},
		want:  []string{`POST http://t.example/beacon HTTP/1.1 body="id=1" -> 0`},
	},
	{
		name:  "request cut off",
		steps: []step{cs("POST /beacon HTTP/1.1\r\nHost: t.example\r\nContent-Length: 40\r\n\r\nid=1")},
		why:   stream.EndCapture,
		want:  []string{`POST http://t.example/beacon HTTP/1.1 body="id=1" -> 0 incomplete`},
	},
	{
		name:  "request line without line end at the end",
		steps: []step{cs("GET /last HTTP/1.1")},
		want:  []string{`GET http://198.51.100.2/last HTTP/1.1 -> 0 incomplete`},
	},
	{
		name: "bare LF and obs-fold",
		steps: []step{
			cs("GET /lf HTTP/1.1\nHost: h\nX-Folded: a\n  b\n\n"),
			sc("HTTP/1.1 200 OK\nContent-Length: 2\n\nok"),
		},
		want: []string{`GET http://h/lf HTTP/1.1 -> 200 "ok"`},
	},
	{
		name: "stray CRLF between requests",
		steps: []step{
			cs("POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nx\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n"),
			sc(resp("", "1") + resp("", "2")),
		},
		want: []string{`POST http://h/a HTTP/1.1 body="x" -> 200 "1"`, `GET http://h/b HTTP/1.1 -> 200 "2"`},
	},
	{
		name: "capture starts mid-body: resynchronise on both sides",
		steps: []step{
			{dir: C, data: "ody of an earlier request\r\nGET /found HTTP/1.1\r\nHost: h\r\n\r\n", skip: -1},
			{dir: S, data: "tail of an earlier response...HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", skip: -1},
		},
		want: []string{`GET http://h/found HTTP/1.1 -> 200 "ok"`},
	},
	{
		name: "response whose request is not in the capture is dropped",
		steps: []step{
			{dir: S, data: resp("", "orphan"), skip: -1},
			cs("GET /later HTTP/1.1\r\nHost: h\r\n\r\n"),
			sc(resp("", "mine")),
		},
		want: []string{`GET http://h/later HTTP/1.1 -> 200 "mine"`},
	},
	{
		name: "directions guessed wrong: swapped",
		steps: []step{
			{dir: S, data: "GET /swapped HTTP/1.1\r\nHost: h\r\n\r\n", skip: -1},
			{dir: C, data: resp("", "yes"), skip: -1},
		},
		want: []string{`GET http://h/swapped HTTP/1.1 -> 200 "yes"`},
	},
	{
		name: "gap of known size inside a body: framing kept",
		steps: []step{
			cs("GET /big HTTP/1.1\r\nHost: h\r\n\r\n"),
			sc("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123"),
			{dir: S, data: "789", skip: 3},
			cs("GET /next HTTP/1.1\r\nHost: h\r\n\r\n"),
			sc(resp("", "after")),
		},
		noSplit: true,
		want:    []string{`GET http://h/big HTTP/1.1 -> 200 "0123789" incomplete`, `GET http://h/next HTTP/1.1 -> 200 "after"`},
	},
	{
		name: "gap in headers: message kept, resynchronised",
		steps: []step{
			cs("GET /one HTTP/1.1\r\nHost: h\r\nX-A: 1"),
			{dir: C, data: "ers\r\n\r\nGET /two HTTP/1.1\r\nHost: h\r\n\r\n", skip: -1},
			sc(resp("", "1") + resp("", "2")),
		},
		noSplit: true,
		want:    []string{`GET http://h/one HTTP/1.1 -> 200 "1" incomplete`, `GET http://h/two HTTP/1.1 -> 200 "2"`},
	},
	{
		name: "gap larger than the body: resynchronised",
		steps: []step{
			cs("GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n"),
			sc("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01"),
			{dir: S, data: "xyzHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nB", skip: 100},
		},
		noSplit: true,
		want:    []string{`GET http://h/a HTTP/1.1 -> 200 "01" incomplete`, `GET http://h/b HTTP/1.1 -> 200 "B"`},
	},
	{
		name: "unknown methods and WebDAV",
		steps: []step{
			cs("PROPFIND /dav HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\nCCM_POST /ccm HTTP/1.1\r\nHost: h\r\n\r\nFOO-BAR /x HTTP/1.1\r\nHost: h\r\n\r\n"),
			sc("HTTP/1.1 207 Multi-Status\r\nContent-Length: 0\r\n\r\n" + resp("", "") + resp("", "")),
		},
		want: []string{`PROPFIND http://h/dav HTTP/1.1 -> 207 ""`, `CCM_POST http://h/ccm HTTP/1.1 -> 200 ""`, `FOO-BAR http://h/x HTTP/1.1 -> 200 ""`},
	},
	{
		name: "response before the end of its request's headers in capture order",
		steps: []step{
			cs("GET /slow HTTP/1.1\r\nHost: h\r\n"),
			sc(resp("", "early")),
			cs("\r\n"),
		},
		want: []string{`GET http://h/slow HTTP/1.1 -> 200 "early"`},
	},
	{
		name: "content codings decoded",
		steps: []step{
			cs("GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\nGET /3 HTTP/1.1\r\nHost: h\r\n\r\nGET /4 HTTP/1.1\r\nHost: h\r\n\r\nGET /5 HTTP/1.1\r\nHost: h\r\n\r\nGET /6 HTTP/1.1\r\nHost: h\r\n\r\nGET /7 HTTP/1.1\r\nHost: h\r\n\r\n"),
			sc(resp("Content-Encoding: gzip\r\n", gz(page)) + resp("Content-Encoding: x-gzip\r\n", gz(page)) +
				resp("Content-Encoding: deflate\r\n", zl(page)) + resp("Content-Encoding: deflate\r\n", rawDeflate(page)) +
				resp("Content-Encoding: br\r\n", br(page)) + resp("Content-Encoding: zstd\r\n", zs(page)) +
				"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(gz(page), 7)),
		},
		want: []string{
			`GET http://h/1 HTTP/1.1 -> 200 "` + page + `"`, `GET http://h/2 HTTP/1.1 -> 200 "` + page + `"`,
			`GET http://h/3 HTTP/1.1 -> 200 "` + page + `"`, `GET http://h/4 HTTP/1.1 -> 200 "` + page + `"`,
			`GET http://h/5 HTTP/1.1 -> 200 "` + page + `"`, `GET http://h/6 HTTP/1.1 -> 200 "` + page + `"`,
			`GET http://h/7 HTTP/1.1 -> 200 "` + page + `"`,
		},
	},
}

// chunked encodes s in chunks of n bytes.
func chunked(s string, n int) string {
	var b strings.Builder
	for len(s) > 0 {
		k := min(n, len(s))
		fmt.Fprintf(&b, "%x\r\n%s\r\n", k, s[:k])
		s = s[k:]
	}
	b.WriteString("0\r\n\r\n")
	return b.String()
}

func TestParser(t *testing.T) {
	for _, tt := range parserCases {
		splits := []int{0, 1, 2, 3, 7, 64}
		if tt.noSplit {
			splits = []int{0}
		}
		for _, split := range splits {
			t.Run(fmt.Sprintf("%s/split=%d", tt.name, split), func(t *testing.T) {
				h := newHarness(Config{}, false)
				why := tt.why
				h.run(tt.steps, split, why)
				got := summaries(h.sink.entries)
				if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
					t.Fatalf("entries:\n%s\nwant:\n%s\nnotes: %v", strings.Join(got, "\n"), strings.Join(tt.want, "\n"), h.sink.notes)
				}
				if h.conn.Requests != len(tt.want) {
					t.Errorf("Conn.Requests = %d, want %d", h.conn.Requests, len(tt.want))
				}
				if len(tt.want) > 0 && h.conn.Protocol != "http/1" {
					t.Errorf("Conn.Protocol = %q", h.conn.Protocol)
				}
			})
		}
	}
}

// TestSplitEverywhere feeds a few cases split into two chunks at every byte
// boundary of every step.
func TestSplitEverywhere(t *testing.T) {
	for _, tt := range parserCases {
		if tt.noSplit || len(tt.steps) > 4 {
			continue
		}
		for si, s := range tt.steps {
			for cut := 1; cut < len(s.data); cut++ {
				var steps []step
				steps = append(steps, tt.steps[:si]...)
				steps = append(steps, step{dir: s.dir, data: s.data[:cut], skip: s.skip}, step{dir: s.dir, data: s.data[cut:]})
				steps = append(steps, tt.steps[si+1:]...)
				h := newHarness(Config{}, false)
				h.run(steps, 0, tt.why)
				got := strings.Join(summaries(h.sink.entries), "\n")
				if got != strings.Join(tt.want, "\n") {
					t.Fatalf("%s: step %d cut at %d:\n%s\nwant:\n%s", tt.name, si, cut, got, strings.Join(tt.want, "\n"))
				}
			}
		}
	}
}

func TestEntryDetails(t *testing.T) {
	h := newHarness(Config{}, false)
	h.run([]step{
		cs("POST /form?a=1 HTTP/1.1\r\nHost: example.com\r\nCookie: sid=42\r\nContent-Type: application/x-www-form-urlencoded\r\nX-Odd: caf\xe9\r\nContent-Length: 14\r\n\r\nidfa=abc&x=%4"),
		cs("1"),
		sc("HTTP/1.1 200 OK\r\nSet-Cookie: u=1; Path=/; HttpOnly\r\nContent-Length: 2\r\n\r\nok"),
	}, 0, stream.EndFIN)
	if len(h.sink.entries) != 1 {
		t.Fatalf("%d entries", len(h.sink.entries))
	}
	e := h.sink.entries[0]
	checks := []struct {
		name      string
		got, want any
	}{
		{"started", e.StartedDateTime, t0.Add(time.Millisecond)},
		{"send", e.Timings.Send, 1.0},
		{"wait", e.Timings.Wait, 1.0},
		{"request headersSize", e.Request.HeadersSize, int64(len("POST /form?a=1 HTTP/1.1\r\nHost: example.com\r\nCookie: sid=42\r\nContent-Type: application/x-www-form-urlencoded\r\nX-Odd: caf\xe9\r\nContent-Length: 14\r\n\r\n"))},
		{"request bodySize", e.Request.BodySize, int64(14)},
		{"response headersSize", e.Response.HeadersSize, int64(len("HTTP/1.1 200 OK\r\nSet-Cookie: u=1; Path=/; HttpOnly\r\nContent-Length: 2\r\n\r\n"))},
		{"param", fmt.Sprint(e.Request.PostData.Params), "[{idfa abc   } {x A   }]"},
		{"cookie", e.Request.Cookies[0].Value, "42"},
		{"set-cookie", *e.Response.Cookies[0].HTTPOnly, true},
		{"latin-1 header", e.Request.Headers[3].Value, "café"},
		{"server", e.ServerIPAddress, "198.51.100.2"},
		{"connection", e.Connection, "40000"},
		{"community id", e.CommunityID, "1:test"},
		{"comments", fmt.Sprint(e.Extra["_packetComments"]), "[dir 0 dir 1]"},
		{"version", e.Response.HTTPVersion, "HTTP/1.1"},
		{"status text", e.Response.StatusText, "OK"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestInterimAndWarnings(t *testing.T) {
	h := newHarness(Config{}, false)
	h.run([]step{
		cs("POST / HTTP/1.1\r\nHost: target\r\nTransfer-Encoding: chunked\r\nContent-Length: 50\r\nExpect: 100-continue\r\n\r\n"),
		sc("HTTP/1.1 100 Continue\r\n\r\n"),
		cs("0\r\n\r\n"),
		sc(resp("", "")),
	}, 0, stream.EndFIN)
	e := h.sink.entries[0]
	if got := fmt.Sprint(e.Response.Extra["_interim"]); got != "[100 Continue]" {
		t.Errorf("_interim = %s", got)
	}
	if got := fmt.Sprint(e.Request.Extra["_warnings"]); !strings.Contains(got, "Transfer-Encoding wins") {
		t.Errorf("_warnings = %s", got)
	}
}

func TestUpgrade(t *testing.T) {
	ws := []step{
		cs("GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: x\r\n\r\n"),
		sc("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x02hi"),
		cs("\x81\x82abcdXY"),
		sc("\x81\x03bye"),
	}
	// The client sends frames before the 101 is in the capture.
	early := []step{
		cs("GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x82abcdXY"),
		sc("HTTP/1.1 101 Switching Protocols\r\nUpgrade: WebSocket\r\n\r\n\x81\x02hi\x81\x03bye"),
	}
	h2c := []step{
		cs("GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n"),
		sc("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00"),
		cs("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
	}
	refused := []step{
		cs("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: h2c\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n"),
		sc(resp("", "no") + resp("", "two")),
	}
	connect := []step{
		cs("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"),
		sc("HTTP/1.1 200 Connection established\r\n\r\n"),
		cs("\x16\x03\x01\x00\x05hello"),
		sc("\x16\x03\x03\x00\x02hi"),
	}
	tests := []struct {
		name     string
		steps    []step
		tunnel   bool
		want     []string
		calls    string
		wantData [2]string
	}{
		{"websocket", ws, true, []string{`GET http://h/chat HTTP/1.1 -> 101 ""`}, "[{websocket /chat}]", [2]string{"\x81\x82abcdXY", "\x81\x02hi\x81\x03bye"}},
		{"websocket dropped", ws, false, []string{`GET http://h/chat HTTP/1.1 -> 101 ""`}, "[{websocket /chat}]", [2]string{}},
		{"websocket early client frames", early, true, []string{`GET http://h/chat HTTP/1.1 -> 101 ""`}, "[{websocket /chat}]", [2]string{"\x81\x82abcdXY", "\x81\x02hi\x81\x03bye"}},
		{"h2c: the HTTP/2 parser takes the request", h2c, true, nil, "[{h2c /}]", [2]string{"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "\x00\x00\x00\x04\x00\x00\x00\x00\x00"}},
		{"h2c without parser: the handshake is an entry", h2c, false, []string{`GET http://h/ HTTP/1.1 -> 101 ""`}, "[{h2c /}]", [2]string{}},
		{"upgrade refused", refused, true, []string{`GET http://h/ HTTP/1.1 -> 200 "no"`, `GET http://h/2 HTTP/1.1 -> 200 "two"`}, "[]", [2]string{}},
		{"connect", connect, true, []string{`CONNECT http://example.com:443/ HTTP/1.1 -> 200 ""`}, "[{connect example.com:443}]", [2]string{"\x16\x03\x01\x00\x05hello", "\x16\x03\x03\x00\x02hi"}},
	}
	for _, tt := range tests {
		for _, split := range []int{0, 1, 5} {
			t.Run(fmt.Sprintf("%s/split=%d", tt.name, split), func(t *testing.T) {
				h := newHarness(Config{}, tt.tunnel)
				h.run(tt.steps, split, stream.EndFIN)
				if got := summaries(h.sink.entries); strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
					t.Errorf("entries %q, want %q", got, tt.want)
				}
				if got := fmt.Sprint(h.calls); got != tt.calls && !(got == "[]" && tt.calls == "[]") {
					t.Errorf("upgrade calls %s, want %s", got, tt.calls)
				}
				var got [2]string
				if h.rec != nil {
					got = [2]string{h.rec.data[0].String(), h.rec.data[1].String()}
					if !h.rec.ended {
						t.Error("tunnel parser not ended")
					}
				}
				if got != tt.wantData {
					t.Errorf("tunnel got %q, want %q", got, tt.wantData)
				}
			})
		}
	}
}

func TestLimits(t *testing.T) {
	big := strings.Repeat("A", 5000)
	h := newHarness(Config{Limits: httpmsg.Limits{MaxBody: 100, MaxDecoded: 1000}}, false)
	h.run([]step{
		cs("GET /big HTTP/1.1\r\nHost: h\r\n\r\nGET /bomb HTTP/1.1\r\nHost: h\r\n\r\n"),
		sc(resp("", big) + resp("Content-Encoding: gzip\r\n", gz(big))),
	}, 0, stream.EndFIN)
	if len(h.sink.entries) != 2 {
		t.Fatalf("%d entries", len(h.sink.entries))
	}
	c := h.sink.entries[0].Response.Content
	if len(c.Text) != 100 || c.Size != 5000 || !h.sink.entries[0].Incomplete || h.sink.entries[0].Response.BodySize != 5000 {
		t.Errorf("truncated body: text %d size %d bodySize %d incomplete %v", len(c.Text), c.Size, h.sink.entries[0].Response.BodySize, h.sink.entries[0].Incomplete)
	}
	c = h.sink.entries[1].Response.Content
	if !strings.Contains(c.Comment, "exceeds the limit") {
		t.Errorf("bomb comment %q", c.Comment)
	}
}

func TestHeaderTooLarge(t *testing.T) {
	h := newHarness(Config{}, false)
	huge := "X-Big: " + strings.Repeat("b", maxHeaderBytes) + "\r\n"
	h.run([]step{
		cs("GET /a HTTP/1.1\r\nHost: h\r\n" + huge + "\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n"),
	}, 4096, stream.EndFIN)
	got := summaries(h.sink.entries)
	want := []string{`GET http://h/a HTTP/1.1 -> 0 incomplete`, `GET http://h/b HTTP/1.1 -> 0`}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got %q", got)
	}
	if len(h.sink.notes) == 0 {
		t.Error("no note about the header section")
	}
}

func TestOrphanNote(t *testing.T) {
	h := newHarness(Config{}, false)
	h.run([]step{{dir: S, data: resp("", "x"), skip: -1}}, 0, stream.EndFIN)
	if len(h.sink.entries) != 0 || len(h.sink.notes) != 1 || !strings.Contains(h.sink.notes[0].Reason, "without a request") {
		t.Fatalf("entries %d notes %v", len(h.sink.entries), h.sink.notes)
	}
}

func TestNotHTTP(t *testing.T) {
	h := newHarness(Config{}, false)
	h.run([]step{cs("SSH-2.0-OpenSSH_9.6\r\n"), sc("SSH-2.0-OpenSSH_9.6\r\n\x00\x00\x01\x02binary")}, 0, stream.EndFIN)
	if len(h.sink.entries) != 0 || h.conn.Protocol != "" {
		t.Fatalf("entries %d protocol %q", len(h.sink.entries), h.conn.Protocol)
	}
}

func TestLooksLike(t *testing.T) {
	tests := []struct {
		in        string
		req, resp bool
	}{
		{"GET / HTTP/1.1\r\n", true, false},
		{"GET /very/long/path/without/end", true, false},
		{"POST /x", true, false},
		{"PROPFIND /dav HTTP/1.1\r\n", true, false},
		{"FOO /x HTTP/1.1\r\n", true, false},
		{"FOO /x", false, false},
		{"GET /zeek.html\n", true, false},
		{"OPTIONS\r\nHost: h", true, false},
		{"\r\nGET / HTTP/1.1\r\n", true, false},
		{"GE", false, false},
		{"GET", false, false},
		{"HTTP/1.1 200 OK\r\n", false, true},
		{"HTTP/1.0 404", false, true},
		{"HTTP/1.1 2", false, true},
		{"HTTP/1.1", false, false},
		{"HTTP/2.0 200", false, false},
		{"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", false, false},
		{"SSH-2.0-OpenSSH_9.6\r\n", false, false},
		{"EHLO mail.example.com\r\n", false, false},
		{"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", true, false},
		{"GET /\x00\x01", false, false},
		{"", false, false},
	}
	for _, tt := range tests {
		if got := LooksLikeRequest([]byte(tt.in)); got != tt.req {
			t.Errorf("LooksLikeRequest(%q) = %v", tt.in, got)
		}
		if got := LooksLikeResponse([]byte(tt.in)); got != tt.resp {
			t.Errorf("LooksLikeResponse(%q) = %v", tt.in, got)
		}
	}
}

func FuzzParser(f *testing.F) {
	for _, c := range parserCases {
		var b bytes.Buffer
		for _, s := range c.steps {
			b.WriteByte(byte(s.dir))
			b.WriteString(s.data)
			b.WriteByte(0xff)
		}
		f.Add(b.Bytes(), uint8(3))
	}
	f.Fuzz(func(t *testing.T, in []byte, split uint8) {
		// The input is a sequence of steps: a direction byte, data up to
		// 0xff; split sets the chunk size and occasional gaps.
		h := newHarness(Config{Limits: httpmsg.Limits{MaxBody: 1 << 12, MaxDecoded: 1 << 14}}, split%2 == 0)
		var steps []step
		for len(in) > 0 {
			dir := stream.Dir(in[0] & 1)
			in = in[1:]
			end := bytes.IndexByte(in, 0xff)
			if end < 0 {
				end = len(in)
			}
			skip := 0
			if split%5 == 1 && len(steps)%3 == 2 {
				skip = int(split) - 3
			}
			steps = append(steps, step{dir: dir, data: string(in[:end]), skip: skip})
			in = in[min(end+1, len(in)):]
		}
		h.run(steps, int(split%17), stream.EndReason(split%3))
		for _, e := range h.sink.entries {
			har.MarshalEntry(e)
		}
		p := h.p.(*parser)
		for _, hf := range p.h {
			if hf.heldBytes > maxHeld+len(in)+1<<16 || len(hf.line) > maxHeaderBytes+1<<16 {
				t.Fatalf("unbounded buffers: held %d line %d", hf.heldBytes, len(hf.line))
			}
		}
	})
}

func BenchmarkParser(b *testing.B) {
	body := strings.Repeat("x", 2000)
	var cli, srv strings.Builder
	for i := range 100 {
		fmt.Fprintf(&cli, "GET /collect?v=1&tid=UA-%d&cid=555 HTTP/1.1\r\nHost: www.google-analytics.com\r\nUser-Agent: Mozilla/5.0\r\nAccept: */*\r\nCookie: a=1; b=2\r\n\r\n", i)
		srv.WriteString(resp("Content-Type: text/plain\r\nCache-Control: no-cache\r\n", body))
	}
	c, s := []byte(cli.String()), []byte(srv.String())
	b.SetBytes(int64(len(c) + len(s)))
	b.ReportAllocs()
	for b.Loop() {
		conn := newConn()
		var sk sink
		p := New(conn, &sk, Config{})
		for off := 0; off < max(len(c), len(s)); off += 1448 {
			if off < len(c) {
				p.Feed(&stream.Chunk{Dir: C, Data: c[off:min(off+1448, len(c))], Time: t0})
			}
			if off < len(s) {
				p.Feed(&stream.Chunk{Dir: S, Data: s[off:min(off+1448, len(s))], Time: t0})
			}
		}
		p.End(t0, stream.EndFIN)
		if len(sk.entries) != 100 {
			b.Fatalf("%d entries", len(sk.entries))
		}
	}
}
