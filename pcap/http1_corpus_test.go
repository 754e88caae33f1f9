package pcap

// Corpus checks of the HTTP/1 parser through Convert: request counts on
// every zeek HTTP capture, decoded bodies against tshark, and the cases
// tshark gets wrong or does not see (HTTP/0.9, odd ports, smuggling).

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/internal/testutil"
)

// convertEntries converts one capture and returns its entries and summary.
func convertEntries(t *testing.T, rel ...string) ([]*har.Entry, *Summary) {
	t.Helper()
	p := testutil.Corpus(t, rel...)
	var es []*har.Entry
	sum, err := Convert(context.Background(), []string{p}, Options{ListFlows: true}, func(e *har.Entry) error {
		es = append(es, e)
		return nil
	})
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	for _, n := range sum.Notes {
		if n.Kind == "internal" {
			t.Errorf("%s: %v", p, n)
		}
	}
	return es, sum
}

// zeekHTTP lists every cleartext HTTP/1 capture of corpus/zeek with the
// number of entries we find. Where it differs from tshark's count
// (corpus/tshark-4.0.17-counts.txt, default arguments), why says why.
var zeekHTTP = []struct {
	file   string
	want   int
	tshark int
	why    string
}{
	{"http-qinq-0.pcap", 1, 1, ""},
	{"http-vlan-0.pcap", 1, 1, ""},
	{"http_100-continue.pcap", 1, 1, ""},
	{"http_261_variant-01-chunk_2pow64_overflow.pcap", 2, 1, "the chunk size overflows 64 bits: the POST is kept, incomplete, and the request line after it is a second request (smuggling made visible)"},
	{"http_261_variant-04-te_cl_desync.pcap", 2, 1, "Transfer-Encoding wins over Content-Length (RFC 9112 §6.3), so the bytes after the empty chunked body are a second request"},
	{"http_261_variant-10-multi_value_te.pcap", 2, 1, "\"chunked, identity\": identity is no coding, chunked is final, so a second request follows the empty body"},
	{"http_byteranges.pcap", 1, 1, ""},
	{"http_content-length-in-request-body.pcap", 2, 2, ""},
	{"http_cooper-grill-dvwa.pcapng", 3, 3, ""},
	{"http_docker-http-upgrade.pcap", 6, 6, ""},
	{"http_get-gzip.pcap", 1, 1, ""},
	{"http_get-without-fins.pcap", 1, 1, ""},
	{"http_get.pcap", 1, 1, ""},
	{"http_http-non-printable-characters.pcap", 4, 4, ""},
	{"http_http-post-large.pcap", 2, 2, ""},
	{"http_http-single-conn-22.pcap", 1, 0, "HTTP on port 22: tshark needs -d tcp.port==22,http"},
	{"http_http_09.pcap", 3, 0, "HTTP/0.9 simple requests, which tshark does not parse; the 2 other connections send \"T /zeek.html\" and \"T \", not HTTP methods"},
	{"http_interleaved-http-entity.pcap", 1, 1, ""},
	{"http_m57-long-49583-80.pcap", 3, 3, ""},
	{"http_methods.pcap", 27, 27, ""},
	{"http_missing-zlib-header.pcap", 2, 2, ""},
	{"http_multipart-form-data.pcap", 1, 1, ""},
	{"http_multipart.pcap", 1, 1, ""},
	{"http_pipelined-requests.pcap", 5, 5, ""},
	{"http_post.pcap", 1, 1, ""},
	{"http_proxy.pcap", 1, 1, ""},
	{"http_version-mismatch.pcap", 2, 2, ""},
	{"http_websocket.pcap", 1, 1, ""},
	{"http_x-gzip.pcap", 1, 1, ""},
	{"http_zeek-image-post-1080-8000-x.pcap", 1, 0, "HTTP on port 8000: tshark needs -d tcp.port==8000,http"},
	{"http_zero-length-bodies-with-drops.pcap", 7, 7, ""},
	{"ipv6-http-atomic-frag.pcap", 4, 0, "HTTP/0.9 requests in IPv6 atomic fragments"},
	{"nflog-http.pcap", 1, 1, ""},
	{"tcp-http-with-padding.pcap", 1, 0, "HTTP on port 27272: tshark needs -d tcp.port==27272,http"},
	{"tunnels_vxlan-encapsulated-http.pcap", 1, 1, ""},
}

// TestHTTP1ZeekCounts checks the number of entries of every zeek HTTP
// capture, exactly, so a change in parsing shows; the table says why it
// differs from tshark where it does.
func TestHTTP1ZeekCounts(t *testing.T) {
	counts := map[string]int{}
	for _, c := range readCounts(t) {
		if c.args == "" {
			counts[c.file] = max(counts[c.file], c.req)
		}
	}
	dir := testutil.Corpus(t, "zeek")
	listed := map[string]bool{}
	for _, z := range zeekHTTP {
		listed[z.file] = true
		t.Run(z.file, func(t *testing.T) {
			if got := counts[z.file]; got != z.tshark {
				t.Fatalf("the counts file says tshark finds %d, the table %d", got, z.tshark)
			}
			if z.want != z.tshark && z.why == "" {
				t.Fatal("a count that differs from tshark's needs a reason")
			}
			es, _ := convertEntries(t, "zeek", z.file)
			if len(es) != z.want {
				t.Errorf("%d entries, want %d (tshark %d)", len(es), z.want, z.tshark)
				for _, e := range es {
					t.Logf("  %s %s -> %d", e.Request.Method, e.Request.URL, e.Response.Status)
				}
			}
		})
	}
	// Every zeek capture tshark sees HTTP in is in the table.
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if counts[e.Name()] > 0 && !listed[e.Name()] {
			t.Errorf("%s: tshark finds %d requests but it is not in zeekHTTP", e.Name(), counts[e.Name()])
		}
	}
}

// Requests on ports that are not HTTP's are found by content.
func TestHTTP1OddPorts(t *testing.T) {
	for _, c := range []struct {
		file string
		port uint16
		url  string
	}{
		{"http_http-single-conn-22.pcap", 22, "http://192.168.0.1:22/"},
		{"http_zeek-image-post-1080-8000-x.pcap", 8000, "http://localhost:8000/"},
		{"tcp-http-with-padding.pcap", 27272, "http://217.207.159.63:27272/"},
	} {
		t.Run(c.file, func(t *testing.T) {
			es, sum := convertEntries(t, "zeek", c.file)
			if len(es) != 1 || es[0].Request.URL != c.url {
				t.Fatalf("entries %v, want one for %s", urls(es), c.url)
			}
			found := false
			for _, f := range sum.Flows {
				if f.Server.Port() == c.port && f.Requests == 1 && strings.HasSuffix(f.Protocol, "http/1") {
					found = true
				}
			}
			if !found {
				t.Errorf("no http/1 flow to port %d in %+v", c.port, sum.Flows)
			}
		})
	}
}

func urls(es []*har.Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Request.Method+" "+e.Request.URL)
	}
	return out
}

func TestHTTP1Version09(t *testing.T) {
	es, _ := convertEntries(t, "zeek", "http_http_09.pcap")
	want := []struct{ method, url, body string }{
		{"GET", "http://127.0.0.1/zeek.html", "<html>\n  The Zeek Network Security Monitor\n</html>\n"},
		{"POST", "http://127.0.0.1/zeek.html", "bad method\n"},
		{"GET", "http://127.0.0.1/", "missing uri\n"},
	}
	if len(es) != len(want) {
		t.Fatalf("entries %v", urls(es))
	}
	for i, w := range want {
		e := es[i]
		body, _ := e.Response.Content.Body()
		if e.Request.Method != w.method || e.Request.URL != w.url || e.Request.HTTPVersion != "HTTP/0.9" || string(body) != w.body || e.Response.Status != 200 {
			t.Errorf("entry %d: %s %s %s -> %d %q; want %s %s HTTP/0.9 -> 200 %q", i, e.Request.Method, e.Request.URL, e.Request.HTTPVersion, e.Response.Status, body, w.method, w.url, w.body)
		}
	}
}

// Smuggling attempts: every request on the wire is an entry, and the
// framing problem is said.
func TestHTTP1Smuggling(t *testing.T) {
	for _, c := range []struct {
		file, second, warning string
		firstIncomplete       bool
	}{
		{"http_261_variant-01-chunk_2pow64_overflow.pcap", "http://target/smuggled-chunk-2pow64", "chunk size too large", true},
		{"http_261_variant-04-te_cl_desync.pcap", "http://target/smuggled-te-cl", "Transfer-Encoding wins", false},
		{"http_261_variant-10-multi_value_te.pcap", "http://target/smuggled-multi-te", "", false},
	} {
		t.Run(c.file, func(t *testing.T) {
			es, _ := convertEntries(t, "zeek", c.file)
			if len(es) != 2 || es[0].Request.Method != "POST" || es[1].Request.URL != c.second {
				t.Fatalf("entries %v", urls(es))
			}
			if es[0].Incomplete != c.firstIncomplete {
				t.Errorf("POST incomplete = %v", es[0].Incomplete)
			}
			if w := fmt.Sprint(es[0].Request.Extra["_warnings"]); !strings.Contains(w, c.warning) {
				t.Errorf("POST _warnings %s, want %q", w, c.warning)
			}
		})
	}
}

// Upgrades: the handshake is an entry.
func TestHTTP1WebSocket(t *testing.T) {
	for _, f := range [][]string{{"zeek", "http_websocket.pcap"}, {"wireshark", "websocket.pcapng.gz"}, {"zeek", "http_docker-http-upgrade.pcap"}} {
		t.Run(f[1], func(t *testing.T) {
			es, _ := convertEntries(t, f...)
			n := 0
			for _, e := range es {
				if e.Response.Status == 101 {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%d entries with status 101 in %v", n, urls(es))
			}
		})
	}
}

// Pipelined requests pair with their responses in order.
func TestHTTP1Pipelined(t *testing.T) {
	es, _ := convertEntries(t, "zeek", "http_pipelined-requests.pcap")
	want := []struct {
		path string
		size int64
	}{
		{"/style/enhanced.css", 2675}, {"/script/urchin.js", 21421}, {"/images/template/screen/bullet_utility.png", 94},
		{"/images/template/screen/key-point-top.png", 2349}, {"/projects/calendar/images/header-sunbird.png", 27579},
	}
	if len(es) != len(want) {
		t.Fatalf("entries %v", urls(es))
	}
	for i, w := range want {
		if es[i].Request.URL != "http://www.mozilla.org"+w.path || es[i].Response.Status != 200 || es[i].Response.Content.Size != w.size {
			t.Errorf("entry %d: %s -> %d (%d bytes), want %s (%d bytes)", i, es[i].Request.URL, es[i].Response.Status, es[i].Response.Content.Size, w.path, w.size)
		}
	}
}

// A capture with lost segments: responses pair with the requests they
// answer, and the one whose request was lost is dropped with a note.
func TestHTTP1Drops(t *testing.T) {
	es, sum := convertEntries(t, "zeek", "http_zero-length-bodies-with-drops.pcap")
	wantStatus := []int{302, 200, 302, 200, 200, 200, 200}
	var got []int
	for _, e := range es {
		got = append(got, e.Response.Status)
	}
	if !slices.Equal(got, wantStatus) {
		t.Errorf("statuses %v, want %v", got, wantStatus)
	}
	n := 0
	for _, note := range sum.Notes {
		if strings.Contains(note.Reason, "(frame 35) without a request") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("no note for the response at frame 35, whose request was lost: %v", sum.Notes)
	}
}

// Decoded bodies equal what tshark exports (--export-objects http gives
// the de-chunked, decompressed bodies as files) and what it shows as
// http.file_data. The test needs tshark (CI installs it) and skips without.
func TestHTTP1BodiesMatchTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("skipping: tshark is not installed (apt-get install tshark)")
	}
	for _, f := range [][]string{
		{"zeek", "http_get-gzip.pcap"},
		{"zeek", "http_x-gzip.pcap"},
		{"zeek", "http_missing-zlib-header.pcap"},
		{"zeek", "http_100-continue.pcap"},
		{"zeek", "http_pipelined-requests.pcap"},
		{"zeek", "http_post.pcap"},
		{"zeek", "http_multipart.pcap"},
		{"wireshark", "http-brotli.pcapng"},
		{"pcap2har", "fhs.pcap"},
		{"pcap2har", "fhs_ncomp.pcap"},
		{"pcap2har", "http.pcap"},
	} {
		t.Run(f[1], func(t *testing.T) {
			p := testutil.Corpus(t, f...)
			es, _ := convertEntries(t, f...)
			ours := map[string]bool{}
			var texts []string
			for _, e := range es {
				b, err := e.Response.Content.Body()
				if err != nil {
					t.Fatal(err)
				}
				if e.Response.Content.Comment != "" {
					t.Errorf("%s: content comment %q", e.Request.URL, e.Response.Content.Comment)
				}
				ours[hash(b)] = true
				texts = append(texts, fileData(b))
				if pd := e.Request.PostData; pd != nil {
					b, _ := pd.Body()
					ours[hash(b)] = true
				}
			}

			// Export objects: every file tshark writes is one of our bodies.
			dir := t.TempDir()
			out, err := exec.Command(tshark, "-n", "-r", p, "-q", "--export-objects", "http,"+dir).CombinedOutput()
			if err != nil {
				t.Fatalf("tshark: %v: %s", err, out)
			}
			files, _ := os.ReadDir(dir)
			if len(files) == 0 {
				t.Fatal("tshark exported nothing")
			}
			for _, fi := range files {
				b, err := os.ReadFile(filepath.Join(dir, fi.Name()))
				if err != nil {
					t.Fatal(err)
				}
				if !ours[hash(b)] {
					t.Errorf("tshark's %s (%d bytes) is not among our decoded bodies", fi.Name(), len(b))
				}
			}

			// http.file_data, as tshark prints it, for text bodies.
			out, err = exec.Command(tshark, "-n", "-r", p, "-Y", "http.response", "-T", "fields", "-e", "http.file_data").Output()
			if err != nil {
				t.Fatalf("tshark: %v", err)
			}
			for _, line := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
				if line == "" || strings.ContainsRune(line, '\uFFFD') || !isASCII(line) {
					continue // binary: compared through export objects
				}
				if !slices.Contains(texts, line) {
					t.Errorf("tshark's file_data %.80q... is not among our bodies", line)
				}
			}
		})
	}
}

func hash(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// fileData escapes a body as tshark 4.0 prints http.file_data: \n, \r and
// \t escaped, other bytes as they are, and nothing after a NUL byte.
func fileData(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	r := strings.NewReplacer("\n", `\n`, "\r", `\r`, "\t", `\t`)
	return r.Replace(string(b))
}

// The HAR of every zeek HTTP capture passes har-validator.
func TestHTTP1ZeekSchema(t *testing.T) {
	testutil.NodeModules(t, "har-validator")
	dir := t.TempDir()
	var files []string
	for _, z := range zeekHTTP {
		var b bytes.Buffer
		if _, err := ConvertHAR(context.Background(), []string{testutil.Corpus(t, "zeek", z.file)}, Options{}, &b); err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(dir, z.file+".har")
		if err := os.WriteFile(f, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	testutil.ValidateHAR(t, files...)
}
