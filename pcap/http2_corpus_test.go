package pcap

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/internal/testutil"
)

// h2Request is an expected HTTP/2 (or HTTP/1.1, for gRPC-Web) request. The
// method, URL and the count per file come from tshark 4.0.17:
//
//	tshark -r F [-o tls.keylog_file:K] [-d tcp.port==N,http2] \
//	  -Y 'http2.headers.method || http.request' -T fields \
//	  -e http2.headers.method -e http2.headers.authority -e http2.headers.path \
//	  -e http.request.method -e http.request.uri
//
// (one line per packet; a packet with several HEADERS frames lists them
// comma-separated, which is why tshark's h2req column counts fewer).
type h2Request struct {
	method, url, version string
	n                    int // how many times it appears
}

func TestHTTP2Corpus(t *testing.T) {
	tests := []struct {
		file   []string
		keylog []string
		want   []h2Request
		check  func(t *testing.T, es []*har.Entry)
	}{
		{
			// MANIFEST: one GET https://tls3.cryptohack.org/ → 200 with the
			// flag as its 34-byte body; the flow's Community ID.
			file: []string{"tls-extra", "dsb-tls3.cryptohack.org.pcapng"},
			want: []h2Request{{"GET", "https://tls3.cryptohack.org/", "HTTP/2", 1}},
			check: func(t *testing.T, es []*har.Entry) {
				e := es[0]
				wantStatus(t, e, 200)
				if got := body(t, &e.Response.Content); string(got) != "Flag: crypto{export_SSLKEYLOGFILE}" {
					t.Errorf("body %q", got)
				}
				if e.CommunityID != "1:PkwxzkDMtlJQNoZAUvHhxrAYeYA=" {
					t.Errorf("Community ID %s", e.CommunityID)
				}
			},
		},
		{
			// tshark: "[Reassembled body length: 76091]", content-type
			// image/png, over 5 DATA frames plus an empty one ending the
			// stream.
			file:   []string{"wireshark", "http2-data-reassembly.pcap"},
			keylog: []string{"wireshark", "http2-data-reassembly.keys"},
			want:   []h2Request{{"GET", "https://172.16.5.10:8443/wireshark.png", "HTTP/2", 1}},
			check: func(t *testing.T, es []*har.Entry) {
				e := es[0]
				wantStatus(t, e, 200)
				b := body(t, &e.Response.Content)
				if len(b) != 76091 || e.Response.BodySize != 76091 || e.Response.Content.Size != 76091 {
					t.Errorf("body %d bytes, bodySize %d, content size %d; tshark reassembles 76091", len(b), e.Response.BodySize, e.Response.Content.Size)
				}
				if !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) || e.Response.Content.MimeType != "image/png" || e.Response.Content.Encoding != "base64" {
					t.Errorf("not a base64 PNG: %s %s %q", e.Response.Content.MimeType, e.Response.Content.Encoding, b[:min(8, len(b))])
				}
			},
		},
		{
			// tshark: "Content-encoded entity body (br): 52 bytes -> 66
			// bytes" and the line of text.
			file: []string{"wireshark", "http2-brotli.pcapng"},
			want: []h2Request{{"GET", "https://192.168.122.33/test.txt", "HTTP/2", 1}},
			check: func(t *testing.T, es []*har.Entry) {
				e := es[0]
				wantStatus(t, e, 200)
				if got := body(t, &e.Response.Content); string(got) != "This is a test file for testing brotli decompression in Wireshark\n" {
					t.Errorf("body %q", got)
				}
				if e.Response.BodySize != 52 || e.Response.Content.Size != 66 {
					t.Errorf("bodySize %d content size %d, tshark: 52 -> 66", e.Response.BodySize, e.Response.Content.Size)
				}
			},
		},
		{
			// The TCP h2 request, and the same page over QUIC (HTTP/3,
			// checked by TestQUICCorpus). tshark: "Content-encoded entity
			// body (br): 10108 bytes -> 109425 bytes".
			file: []string{"wireshark", "quic-with-secrets.pcapng"},
			want: []h2Request{{"GET", "https://cloudflare-quic.com/", "HTTP/2", 1}, {"GET", "https://cloudflare-quic.com/", "HTTP/3", 1}},
			check: func(t *testing.T, es []*har.Entry) {
				e := es[0]
				if e.Request.HTTPVersion != "HTTP/2" {
					e = es[1]
				}
				wantStatus(t, e, 200)
				b := body(t, &e.Response.Content)
				if len(b) != 109425 || e.Response.BodySize != 10108 || !strings.HasPrefix(string(b), "<!DOCTYPE html>") {
					t.Errorf("body %d bytes (bodySize %d), tshark: 10108 -> 109425", len(b), e.Response.BodySize)
				}
			},
		},
		{
			// h2c by prior knowledge, draft 14 (nghttp2 0.5.2). What
			// differs from RFC 7540 does not show in this capture: the
			// preface, the 9-byte frame header and the HPACK coding are
			// those of the RFC (draft 14 already had them; HPACK draft 09's
			// reference set is not used by these blocks), so the parser
			// needs nothing special. The capture ends before five of the
			// six responses. tshark: content-length 22617 for the first.
			file: []string{"wireshark", "packet-h2-14_headers.pcapng"},
			want: []h2Request{
				{"GET", "http://localhost:3000/doc/manual/html/index.html", "HTTP/2", 1},
				{"GET", "http://localhost:3000/doc/manual/html/_static/css/theme.css", "HTTP/2", 1},
				{"GET", "http://localhost:3000/doc/manual/html/_static/jquery.js", "HTTP/2", 1},
				{"GET", "http://localhost:3000/doc/manual/html/_static/underscore.js", "HTTP/2", 1},
				{"GET", "http://localhost:3000/doc/manual/html/_static/doctools.js", "HTTP/2", 1},
				{"GET", "http://localhost:3000/doc/manual/html/_static/js/theme.js", "HTTP/2", 1},
			},
			check: func(t *testing.T, es []*har.Entry) {
				for _, e := range es {
					if strings.HasSuffix(e.Request.URL, "/index.html") {
						wantStatus(t, e, 200)
						if e.Response.BodySize != 22617 || e.Incomplete {
							t.Errorf("index.html: bodySize %d incomplete %v", e.Response.BodySize, e.Incomplete)
						}
					} else if e.Response.Status != 0 || !e.Incomplete {
						t.Errorf("%s: status %d incomplete %v; the capture has no response", e.Request.URL, e.Response.Status, e.Incomplete)
					}
				}
			},
		},
		{
			file: []string{"wireshark", "grpc_person_search_json_with_image.pcapng.gz"},
			want: []h2Request{{"POST", "http://localhost:50052/tutorial.PersonSearchService/Search", "HTTP/2", 1}},
			check: func(t *testing.T, es []*har.Entry) {
				e := es[0]
				wantStatus(t, e, 200)
				wantGRPC(t, e, "application/grpc", "application/grpc")
				if v, _ := har.Header(e.Response.Headers, "grpc-status"); v != "" {
					// grpc-status is a trailer, not a header.
					t.Errorf("grpc-status among the headers")
				}
			},
		},
		{
			// The streaming call's response is not in the capture; the
			// unary call is answered.
			file: []string{"wireshark", "grpc_stream_reassembly_sample.pcapng.gz"},
			want: []h2Request{
				{"POST", "http://192.168.65.10:50051/streamtest.StreamTest/StreamCall", "HTTP/2", 1},
				{"POST", "http://foo.test.google.fr/TestService/Unary", "HTTP/2", 1},
			},
			check: func(t *testing.T, es []*har.Entry) {
				for _, e := range es {
					if strings.HasSuffix(e.Request.URL, "/Unary") {
						wantStatus(t, e, 200)
						wantGRPC(t, e, "", "application/grpc+proto")
						continue
					}
					if e.Response.Status != 0 || !e.Incomplete {
						t.Errorf("StreamCall: status %d incomplete %v", e.Response.Status, e.Incomplete)
					}
					// tshark -e http2.length over the stream's DATA frames
					// (none padded): 7×16384 + 16073 + 14.
					if e.Request.BodySize != 130775 || e.Request.PostData == nil {
						t.Errorf("StreamCall: request body of %d bytes", e.Request.BodySize)
					}
				}
			},
		},
		{
			// gRPC-Web over HTTP/1.1 (port 57226, tshark req=9) and h2c
			// (port 57228, tshark h2req=8), in binary and text encodings.
			file: []string{"wireshark", "grpc_web.pcapng.gz"},
			want: []h2Request{
				{"GET", "http://localhost:57226/dist/main.js", "HTTP/1.1", 1},
				{"POST", "http://localhost:57226/greet.Greeter/SayHello", "HTTP/1.1", 6},
				{"POST", "http://localhost:57226/greet.Greeter/SayHellos", "HTTP/1.1", 2},
				{"POST", "http://localhost:57228/greet.Greeter/SayHello", "HTTP/2", 6},
				{"POST", "http://localhost:57228/greet.Greeter/SayHellos", "HTTP/2", 2},
			},
			check: func(t *testing.T, es []*har.Entry) {
				mimes := map[string]int{}
				for _, e := range es {
					if !strings.Contains(e.Request.URL, "/greet.Greeter/") {
						continue
					}
					ct := e.Response.Content
					mimes[e.Request.HTTPVersion+" "+ct.MimeType]++
					b := body(t, &ct)
					switch ct.MimeType {
					case "application/grpc-web-text":
						// Base64 on the wire: kept as that text.
						if ct.Encoding != "" || !validBase64Frames(ct.Text) {
							t.Errorf("%s: grpc-web-text body %.40q encoding %q", e.Request.URL, ct.Text, ct.Encoding)
						}
					case "application/grpc-web", "application/grpc-web+proto":
						if len(b) < 5 || (b[0] != 0 && b[0] != 0x80) {
							t.Errorf("%s: not a gRPC-Web frame: %q", e.Request.URL, b[:min(5, len(b))])
						}
					default:
						t.Errorf("%s: response mimeType %q", e.Request.URL, ct.MimeType)
					}
					if e.Request.PostData == nil || !strings.HasPrefix(e.Request.PostData.MimeType, "application/grpc-web") {
						t.Errorf("%s: request postData %+v", e.Request.URL, e.Request.PostData)
					}
				}
				for _, v := range []string{"HTTP/1.1", "HTTP/2"} {
					if mimes[v+" application/grpc-web"] == 0 || mimes[v+" application/grpc-web-text"] == 0 {
						t.Errorf("%s: both encodings expected: %v", v, mimes)
					}
				}
			},
		},
	}
	var hars []string
	dir := t.TempDir()
	for _, tt := range tests {
		name := tt.file[len(tt.file)-1]
		t.Run(name, func(t *testing.T) {
			in := testutil.Corpus(t, tt.file...)
			var opts Options
			if tt.keylog != nil {
				opts.KeyLogFiles = []string{testutil.Corpus(t, tt.keylog...)}
			}
			var es []*har.Entry
			if _, err := Convert(context.Background(), []string{in}, opts, func(e *har.Entry) error {
				es = append(es, e)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			got := map[string]int{}
			for _, e := range es {
				got[e.Request.Method+" "+e.Request.URL+" "+e.Request.HTTPVersion]++
			}
			want := map[string]int{}
			for _, w := range tt.want {
				want[w.method+" "+w.url+" "+w.version] += w.n
			}
			for k, n := range want {
				if got[k] != n {
					t.Errorf("%s: %d entries, want %d", k, got[k], n)
				}
			}
			for k, n := range got {
				if want[k] == 0 {
					t.Errorf("unexpected %d× %s", n, k)
				}
			}
			if t.Failed() {
				t.FailNow()
			}
			tt.check(t, es)

			out := filepath.Join(dir, name+".har")
			f, err := os.Create(out)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := ConvertHAR(context.Background(), []string{in}, opts, f); err != nil {
				t.Fatal(err)
			}
			hars = append(hars, out)
		})
	}
	testutil.ValidateHAR(t, hars...)
}

func wantStatus(t *testing.T, e *har.Entry, status int) {
	t.Helper()
	if e.Response.Status != status || e.Response.HTTPVersion != "HTTP/2" {
		t.Errorf("%s: response %d %s, want %d HTTP/2", e.Request.URL, e.Response.Status, e.Response.HTTPVersion, status)
	}
}

func body(t *testing.T, c *har.Content) []byte {
	t.Helper()
	b, err := c.Body()
	if err != nil {
		t.Errorf("content: %v", err)
	}
	return b
}

// wantGRPC checks that gRPC bodies stay as sent, in base64 when binary,
// with their own mimeType ("" skips the request's).
func wantGRPC(t *testing.T, e *har.Entry, reqMime, respMime string) {
	t.Helper()
	if reqMime != "" && (e.Request.PostData == nil || e.Request.PostData.MimeType != reqMime) {
		t.Errorf("request postData %+v, want mimeType %s", e.Request.PostData, reqMime)
	}
	ct := e.Response.Content
	if ct.MimeType != respMime {
		t.Errorf("response mimeType %q, want %q", ct.MimeType, respMime)
	}
	b := body(t, &ct)
	if len(b) < 5 || b[0] > 1 {
		t.Errorf("response body is not gRPC length-prefixed messages: %q", b[:min(5, len(b))])
	}
	if v, _ := har.Header(e.Response.Headers, "content-type"); !strings.HasPrefix(v, "application/grpc") {
		t.Errorf("content-type %q", v)
	}
}

// validBase64Frames reports whether s is the concatenation of padded
// base64 chunks, as gRPC-Web text sends each frame.
func validBase64Frames(s string) bool {
	if s == "" {
		return false
	}
	for _, part := range strings.SplitAfter(s, "=") {
		part = strings.TrimLeft(part, "=")
		if part == "" {
			continue
		}
		if _, err := base64.StdEncoding.DecodeString(part + strings.Repeat("=", (4-len(part)%4)%4)); err != nil {
			return false
		}
	}
	return !slices.Contains([]byte(s), '\n')
}
