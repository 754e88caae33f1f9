package http2

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/pcap/internal/httpmsg"
	"github.com/tracewire/tracewire/pcap/internal/stream"
)

// session runs net/http's HTTP/2 server and client (h2c, prior knowledge)
// over an in-memory pipe and returns both directions' bytes as chunks.
func session(t testing.TB, h http.Handler, client func(cc *http.ClientConn)) []rec {
	t.Helper()
	cs, ss := net.Pipe()
	r := &recorder{}
	var h2c http.Protocols
	h2c.SetUnencryptedHTTP2(true)
	srv := &http.Server{Handler: h, Protocols: &h2c}
	ln := &oneListener{c: &recConn{Conn: ss, dir: s2c, rec: r}, closed: make(chan struct{})}
	served := make(chan struct{})
	go func() {
		defer close(served)
		srv.Serve(ln)
	}()
	dialed := false
	tr := &http.Transport{Protocols: &h2c, DialContext: func(context.Context, string, string) (net.Conn, error) {
		if dialed {
			return nil, fmt.Errorf("second dial")
		}
		dialed = true
		return &recConn{Conn: cs, dir: c2s, rec: r}, nil
	}}
	cc, err := tr.NewClientConn(context.Background(), "http", "example.test:80")
	if err != nil {
		t.Fatal(err)
	}
	client(cc)
	cc.Close()
	srv.Close()
	<-served
	return r.get()
}

// oneListener accepts one connection.
type oneListener struct {
	c      net.Conn
	once   sync.Once
	closed chan struct{}
	done   bool
}

func (l *oneListener) Accept() (net.Conn, error) {
	if !l.done {
		l.done = true
		return l.c, nil
	}
	<-l.closed
	return nil, net.ErrClosed
}

func (l *oneListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *oneListener) Addr() net.Addr { return l.c.LocalAddr() }

func do(t testing.TB, cc *http.ClientConn, method, url string, body io.Reader, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	resp, err := cc.RoundTrip(req)
	if err != nil {
		t.Errorf("%s %s: %v", method, url, err)
		return nil, nil
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Errorf("%s %s: reading body: %v", method, url, err)
	}
	resp.Body.Close()
	return resp, b
}

// pattern is a body that differs per n and per offset, so mixed-up DATA
// frames would show.
func pattern(n, size int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "[%d:%d]", n, i)
	}
	return b.Bytes()[:size]
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func handler(t testing.TB) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Seen-Query", r.URL.RawQuery)
		io.WriteString(w, "hello, world\n")
	})
	mux.HandleFunc("/submit", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"got":%d}`, len(b))
	})
	mux.HandleFunc("/c/", func(w http.ResponseWriter, r *http.Request) {
		var n int
		fmt.Sscanf(r.URL.Path, "/c/%d", &n)
		w.Header().Set("Content-Type", "application/octet-stream")
		// Several writes with flushes so the streams' DATA interleave.
		b := pattern(n, 40000)
		for i := 0; i < len(b); i += 8000 {
			w.Write(b[i : i+8000])
			w.(http.Flusher).Flush()
		}
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		w.Write(pattern(-1, 1<<20+123))
	})
	mux.HandleFunc("/trailers", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-Checksum")
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "body before trailers")
		w.Header().Set("X-Checksum", "c0ffee")
	})
	mux.HandleFunc("/gzip", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(gz([]byte("<p>compressed</p>")))
	})
	mux.HandleFunc("/grpc.Service/Method", func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/grpc")
		w.Header().Set("Grpc-Encoding", "gzip")
		w.Header().Set("Trailer", "Grpc-Status")
		msg := gz([]byte("\x0a\x03abc"))
		w.Write(append([]byte{1, 0, 0, 0, byte(len(msg))}, msg...))
		w.Header().Set("Grpc-Status", "0")
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "first part")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		select {
		case slowDone <- struct{}{}:
		default:
		}
	})
	return mux
}

// slowDone receives when the /slow handler's request was cancelled.
var slowDone = make(chan struct{}, 1)

// generatedSession is one connection with the requests of the test; big
// adds a 1 MiB response.
func generatedSession(t testing.TB, big bool) []rec {
	return session(t, handler(t), func(cc *http.ClientConn) {
		do(t, cc, "GET", "http://example.test/hello?x=1&y=two", nil, "X-Custom", "Foo", "Cookie", "sid=42")
		do(t, cc, "POST", "http://example.test/submit", strings.NewReader("a=1&b=2"), "Content-Type", "application/x-www-form-urlencoded")
		var wg sync.WaitGroup
		for i := 0; i < 6; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, b := do(t, cc, "GET", fmt.Sprintf("http://example.test/c/%d", i), nil)
				if !bytes.Equal(b, pattern(i, 40000)) {
					t.Errorf("client got a wrong body for /c/%d", i)
				}
			}()
		}
		wg.Wait()
		if big {
			do(t, cc, "GET", "http://example.test/big", nil)
		}
		do(t, cc, "GET", "http://example.test/trailers", nil)
		do(t, cc, "GET", "http://example.test/gzip", nil, "Accept-Encoding", "gzip")
		grpcReq := append([]byte{0, 0, 0, 0, 5}, "\x0a\x03xyz"...)
		do(t, cc, "POST", "http://example.test/grpc.Service/Method", bytes.NewReader(grpcReq), "Content-Type", "application/grpc", "TE", "trailers")

		// The client gives up on /slow after its first bytes: RST_STREAM.
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://example.test/slow", nil)
		resp, err := cc.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 10)
		io.ReadFull(resp.Body, buf)
		cancel()
		resp.Body.Close()
		// Wait until the server has the RST_STREAM (the handler's context
		// ends), so the recording holds it however the goroutines run.
		select {
		case <-slowDone:
		case <-time.After(10 * time.Second):
			t.Error("the server never saw /slow cancelled")
		}
		do(t, cc, "GET", "http://example.test/hello?after=reset", nil)
	})
}

func TestGenerated(t *testing.T) {
	chunks := generatedSession(t, true)
	check := func(t *testing.T, chunks []rec) map[string]exchange {
		t.Helper()
		s := &sink{}
		recordMessages(t, s)
		c := testConn()
		runInto(c, s, Config{}, chunks)
		for _, n := range s.notes {
			t.Errorf("unexpected note: %s", n.Reason)
		}
		if c.Protocol != "h2c" {
			t.Errorf("Protocol %q, want h2c", c.Protocol)
		}
		if c.Requests != 14 || len(s.ex) != 14 {
			t.Fatalf("%d entries (Conn.Requests %d), want 14", len(s.ex), c.Requests)
		}
		got := map[string]exchange{}
		for _, x := range s.ex {
			got[x.req.Method+" "+x.req.Target] = x
		}
		return got
	}
	got := check(t, chunks)

	x := got["GET /hello?x=1&y=two"]
	if x.req == nil || x.resp == nil {
		t.Fatalf("no GET /hello?x=1&y=two: %v", got)
	}
	if x.req.Scheme != "http" || x.req.Authority != "example.test" || x.req.Version != "HTTP/2" {
		t.Errorf("request line: %+v", x.req)
	}
	for _, want := range nv("x-custom", "Foo", "cookie", "sid=42") {
		if v, _ := har.Header(x.req.Headers, want.Name); v != want.Value {
			t.Errorf("request header %s = %q, want %q", want.Name, v, want.Value)
		}
	}
	for _, h := range x.req.Headers {
		if strings.HasPrefix(h.Name, ":") {
			t.Errorf("pseudo-header %s kept as a header", h.Name)
		}
	}
	if x.resp.Status != 200 || string(x.resp.Body) != "hello, world\n" || x.resp.BodySize != 13 {
		t.Errorf("response: %d %q %d", x.resp.Status, x.resp.Body, x.resp.BodySize)
	}
	if v, _ := har.Header(x.resp.Headers, "x-seen-query"); v != "x=1&y=two" {
		t.Errorf("x-seen-query = %q", v)
	}
	if x.req.HeadersSize <= 0 || x.resp.HeadersSize <= 0 {
		t.Errorf("header sizes %d %d", x.req.HeadersSize, x.resp.HeadersSize)
	}
	if x.req.Start.IsZero() || x.req.Start.After(x.req.End) || x.resp.Start.Before(x.req.Start) || x.resp.End.Before(x.resp.Start) {
		t.Errorf("times: request %v–%v, response %v–%v", x.req.Start, x.req.End, x.resp.Start, x.resp.End)
	}

	x = got["POST /submit"]
	if x.req == nil || string(x.req.Body) != "a=1&b=2" || x.req.BodySize != 7 || string(x.resp.Body) != `{"got":7}` {
		t.Errorf("POST /submit: %+v %+v", x.req, x.resp)
	}

	var starts []time.Time
	for i := 0; i < 6; i++ {
		x := got[fmt.Sprintf("GET /c/%d", i)]
		if x.resp == nil || !bytes.Equal(x.resp.Body, pattern(i, 40000)) || x.resp.BodySize != 40000 {
			t.Errorf("/c/%d: wrong body", i)
			continue
		}
		starts = append(starts, x.req.Start)
	}
	if distinct(starts) < 2 {
		t.Errorf("concurrent streams share one start time: %v", starts)
	}

	x = got["GET /big"]
	if x.resp == nil || !bytes.Equal(x.resp.Body, pattern(-1, 1<<20+123)) || x.resp.BodySize != 1<<20+123 || x.resp.Truncated {
		t.Errorf("/big: body of %d bytes", len(x.resp.Body))
	}

	x = got["GET /trailers"]
	if x.resp == nil || string(x.resp.Body) != "body before trailers" {
		t.Errorf("/trailers: %+v", x.resp)
	} else if v, _ := har.Header(x.resp.Trailers, "x-checksum"); v != "c0ffee" {
		t.Errorf("/trailers: trailers %v", x.resp.Trailers)
	}

	x = got["GET /gzip"]
	if x.resp == nil || !bytes.Equal(x.resp.Body, gz([]byte("<p>compressed</p>"))) {
		t.Errorf("/gzip: body %q", x.resp.Body)
	}

	x = got["POST /grpc.Service/Method"]
	if x.resp == nil || x.resp.Body[0] != 1 {
		t.Errorf("grpc: %+v", x.resp)
	} else {
		if v, _ := har.Header(x.resp.Trailers, "grpc-status"); v != "0" {
			t.Errorf("grpc trailers %v", x.resp.Trailers)
		}
		if !strings.Contains(x.entry.Comment, "grpc-encoding gzip") {
			t.Errorf("grpc comment %q", x.entry.Comment)
		}
	}

	x = got["GET /slow"]
	if x.req == nil || x.entry.Extra["_rstStream"] != "CANCEL" || !x.entry.Incomplete || x.resp == nil || !strings.HasPrefix(string(x.resp.Body), "first part") {
		t.Errorf("/slow: extra %v incomplete %v resp %+v", x.entry.Extra, x.entry.Incomplete, x.resp)
	}
	for k, x := range got {
		if k != "GET /slow" && (x.entry.Incomplete || x.entry.Extra != nil) {
			t.Errorf("%s: incomplete %v extra %v", k, x.entry.Incomplete, x.entry.Extra)
		}
	}

	// The same bytes in other chunkings give the same messages. The big
	// body makes a split at every byte too slow, so split the small
	// exchanges at every byte and the rest at a stride.
	want := got
	same := func(t *testing.T, chunks []rec) {
		t.Helper()
		got := check(t, chunks)
		for k, w := range want {
			g := got[k]
			if !equalMsg(g.req, w.req) || !equalMsg(g.resp, w.resp) || g.entry.Incomplete != w.entry.Incomplete {
				t.Errorf("%s differs", k)
			}
		}
	}
	t.Run("bytes-of-first-exchanges", func(t *testing.T) {
		head := chunks[:12]
		same(t, append(bytewise(head), chunks[12:]...))
	})
	for _, d := range []stream.Dir{c2s, s2c} {
		n := dirLen(chunks, d)
		for off := 1; off < n; off += 1 + off/8 {
			same(t, splitAt(chunks, d, off))
			if t.Failed() {
				t.Fatalf("failed when %s is split at byte %d", d, off)
			}
		}
	}
}

func equalMsg(a, b *httpmsg.Message) bool {
	if a == nil || b == nil {
		return a == b
	}
	return reflect.DeepEqual(a, b)
}

func distinct(ts []time.Time) int {
	m := map[time.Time]bool{}
	for _, t := range ts {
		m[t] = true
	}
	return len(m)
}

// TestMidConnection cuts the capture at many points of the generated
// session, as when capturing starts on a connection already open: no
// preface, possibly in the middle of a frame, HPACK state unknown. What is
// reported must be true (every request and header decoded was sent), and
// the requests sent after the cut must all be found.
func TestMidConnection(t *testing.T) {
	chunks := generatedSession(t, false)
	s := &sink{}
	recordMessages(t, s)
	runInto(testConn(), s, Config{}, chunks)
	sent := map[string]*httpmsg.Message{}
	for _, x := range s.ex {
		sent[x.req.Target] = x.req
	}
	for cut := 1; cut < len(chunks); cut++ {
		for _, inside := range []int{0, 1, 7} {
			part := append([]rec(nil), chunks[cut:]...)
			if inside >= len(part[0].data) {
				continue
			}
			part[0].data = part[0].data[inside:]
			s := &sink{}
			recordMessages(t, s)
			runInto(testConn(), s, Config{}, part)
			found := map[string]bool{}
			for _, x := range s.ex {
				w := sent[x.req.Target]
				if w == nil {
					t.Errorf("cut %d+%d: request %q was never sent", cut, inside, x.req.Target)
					continue
				}
				found[x.req.Target] = true
				if x.req.Method != w.Method {
					t.Errorf("cut %d+%d: %s: method %q, sent %q", cut, inside, x.req.Target, x.req.Method, w.Method)
				}
				for _, h := range x.req.Headers {
					if v, ok := har.Header(w.Headers, h.Name); !ok || v != h.Value {
						t.Errorf("cut %d+%d: %s: header %s: %q was never sent", cut, inside, x.req.Target, h.Name, h.Value)
					}
				}
				if x.resp != nil && x.resp.Status != 0 && sent[x.req.Target] != nil {
					if len(x.req.Headers) < len(w.Headers) && !x.entry.Incomplete {
						t.Errorf("cut %d+%d: %s lacks headers but is not marked incomplete", cut, inside, x.req.Target)
					}
				}
			}
			// Requests that began after the cut (skipping one chunk of
			// margin for a frame cut in two).
			if cut+1 < len(chunks) {
				after := chunks[cut+1].t
				for target, w := range sent {
					if !w.Start.Before(after) && !found[target] {
						t.Errorf("cut %d+%d: request %s sent after the cut not found", cut, inside, target)
					}
				}
			}
			if t.Failed() {
				for _, n := range s.notes {
					t.Log(n.Reason)
				}
				for _, x := range s.ex {
					t.Logf("%q %q", x.req.Method, x.req.Target)
				}
				t.FailNow()
			}
		}
	}
}

// TestGaps loses each chunk of the generated session in turn (the next
// chunk of that direction says how many bytes were skipped). Everything
// reported must be true: requests and headers that were sent, bodies equal
// to the sent ones unless the entry is marked incomplete; and every
// request whose headers were not in the lost chunk is found.
func TestGaps(t *testing.T) {
	chunks := generatedSession(t, false)
	s := &sink{}
	recordMessages(t, s)
	runInto(testConn(), s, Config{}, chunks)
	sent := map[string]exchange{}
	for _, x := range s.ex {
		sent[x.req.Target] = x
	}
	for lost := 1; lost < len(chunks); lost++ {
		var part []rec
		skip := 0
		for i, c := range chunks {
			switch {
			case i == lost:
				skip = len(c.data)
				continue
			case skip > 0 && c.dir == chunks[lost].dir:
				c.skip, skip = skip, 0
			}
			part = append(part, c)
		}
		s := &sink{}
		recordMessages(t, s)
		runInto(testConn(), s, Config{}, part)
		found := map[string]bool{}
		for _, x := range s.ex {
			w, ok := sent[x.req.Target]
			if !ok || x.req.Method != w.req.Method {
				t.Errorf("lost %d: request %q %q was never sent", lost, x.req.Method, x.req.Target)
				continue
			}
			found[x.req.Target] = true
			for _, h := range x.req.Headers {
				if v, ok := har.Header(w.req.Headers, h.Name); !ok || v != h.Value {
					t.Errorf("lost %d: %s: header %s: %q was never sent", lost, x.req.Target, h.Name, h.Value)
				}
			}
			if x.entry.Incomplete {
				continue
			}
			if !bytes.Equal(x.req.Body, w.req.Body) || (x.resp == nil) != (w.resp == nil) || (x.resp != nil && !bytes.Equal(x.resp.Body, w.resp.Body)) {
				t.Errorf("lost %d: %s: complete entry with a body that was not sent", lost, x.req.Target)
			}
		}
		for target, w := range sent {
			if !found[target] && (w.req.Start.Before(chunks[lost].t) || w.req.Start.After(chunks[lost].t)) {
				t.Errorf("lost %d (%s, %d bytes): request %s not found", lost, chunks[lost].dir, len(chunks[lost].data), target)
			}
		}
		if t.Failed() {
			for _, n := range s.notes {
				t.Log(n.Reason)
			}
			t.FailNow()
		}
	}
}

// TestUpgrade runs an h2c upgrade: an HTTP/1.1 request with "Upgrade:
// h2c", the 101 response, then HTTP/2 with the response on stream 1. The
// parser gets the bytes after the switch and the upgrading request, as the
// HTTP/1 parser hands them over.
func TestUpgrade(t *testing.T) {
	cs, ss := net.Pipe()
	r := &recorder{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		br := bufio.NewReader(ss)
		req, err := http.ReadRequest(br)
		if err != nil {
			t.Error(err)
			return
		}
		settings, _ := base64.RawURLEncoding.DecodeString(req.Header.Get("HTTP2-Settings"))
		io.WriteString(ss, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n")
		// What the server sends and receives from now on is HTTP/2.
		conn := &bufConn{Conn: &recConn{Conn: ss, dir: s2c, rec: r}, r: br}
		// net/http's server has no h2c upgrade; x/net's deprecated one
		// does.
		//lint:ignore SA1019 the only server that implements the h2c upgrade
		(&http2.Server{}).ServeConn(conn, &http2.ServeConnOpts{Handler: handler(t), UpgradeRequest: req, Settings: settings})
	}()
	io.WriteString(cs, "GET /hello?up=1 HTTP/1.1\r\nHost: example.test\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n")
	br := bufio.NewReader(cs)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	// A minimal client: preface, SETTINGS, then read until stream 1 ends.
	cw := &recConn{Conn: cs, dir: c2s, rec: r}
	fr := http2.NewFramer(cw, br)
	io.WriteString(cw, preface)
	fr.WriteSettings()
	for ended := false; !ended; {
		f, err := fr.ReadFrame()
		if err != nil {
			t.Fatal(err)
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				fr.WriteSettingsAck()
			}
		case *http2.DataFrame:
			ended = f.StreamID == 1 && f.StreamEnded()
		case *http2.HeadersFrame:
			ended = f.StreamID == 1 && f.StreamEnded()
		}
	}
	fr.WriteGoAway(1, http2.ErrCodeNo, nil)
	cs.Close()
	<-done

	up := &httpmsg.Message{Method: "GET", Target: "/hello?up=1", Version: "HTTP/1.1", Authority: "example.test",
		Headers:     nv("Host", "example.test", "Connection", "Upgrade, HTTP2-Settings", "Upgrade", "h2c", "HTTP2-Settings", "AAMAAABkAAQCAAAAAAIAAAAA"),
		HeadersSize: 137, BodySize: 0, Start: t0.Add(-time.Second), End: t0.Add(-time.Second)}
	s := &sink{}
	recordMessages(t, s)
	c := testConn()
	runInto(c, s, Config{Upgraded: up}, r.get())
	if len(s.ex) != 1 {
		t.Fatalf("%d entries, want 1; notes %v", len(s.ex), s.notes)
	}
	x := s.ex[0]
	if x.req.Target != "/hello?up=1" || x.req.Version != "HTTP/1.1" || x.resp == nil || x.resp.Status != 200 ||
		string(x.resp.Body) != "hello, world\n" || x.resp.Version != "HTTP/2" || x.entry.Incomplete {
		t.Errorf("upgraded exchange: %+v %+v incomplete %v", x.req, x.resp, x.entry.Incomplete)
	}
	if v, _ := har.Header(x.resp.Headers, "x-seen-query"); v != "up=1" {
		t.Errorf("the server did not answer the upgrading request: %v", x.resp.Headers)
	}
	for _, n := range s.notes {
		t.Errorf("unexpected note: %s", n.Reason)
	}
}

// bufConn reads through a bufio.Reader that may hold bytes already read.
type bufConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufConn) Read(b []byte) (int, error) { return c.r.Read(b) }
