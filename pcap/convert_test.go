package pcap

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/internal/gencap"
	"github.com/tracewire/tracewire/internal/testutil"
)

var update = flag.Bool("update", false, "rewrite the golden HAR files in testdata/golden")

// convertFiles converts inputs to a HAR in memory and checks what every
// conversion must satisfy: no parser failed, the HAR reads back.
func convertFiles(t testing.TB, opts Options, inputs ...string) ([]byte, *Summary) {
	t.Helper()
	var b bytes.Buffer
	sum, err := ConvertHAR(context.Background(), inputs, opts, &b)
	if err != nil {
		t.Fatalf("%v: %v", inputs, err)
	}
	for _, n := range sum.Notes {
		if n.Kind == "internal" {
			t.Errorf("%v: %v", inputs, n)
		}
	}
	h, _, err := har.ReadAll(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatalf("%v: the HAR does not read back: %v", inputs, err)
	}
	if len(h.Log.Entries) != sum.Entries {
		t.Errorf("%v: %d entries in the HAR, summary says %d", inputs, len(h.Log.Entries), sum.Entries)
	}
	return b.Bytes(), sum
}

func readHAR(t testing.TB, b []byte) *har.HAR {
	t.Helper()
	h, _, err := har.ReadAll(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func sample(t testing.TB) string {
	return filepath.Join(testutil.RepoRoot(), "testdata", "sample", "tracking.pcapng")
}

// The README's sample: every request the generator wrote comes out, in
// order, with its status and HTTP version, the flow's Community ID and the
// packet comments; its TLS connections decrypt with the keys embedded in
// the file, and the gzip-compressed, chunked Facebook form is decoded.
func TestSample(t *testing.T) {
	want := gencap.TrackingRequests()
	out, sum := convertFiles(t, Options{ListFlows: true}, sample(t))
	h := readHAR(t, out)
	if len(h.Log.Entries) != len(want) {
		t.Fatalf("%d entries, want %d", len(h.Log.Entries), len(want))
	}
	for i, w := range want {
		e := h.Log.Entries[i]
		if e.Request.Method != w.Method || e.Request.URL != w.URL || e.Response.Status != w.Status || e.Request.HTTPVersion != w.HTTPVersion {
			t.Errorf("entry %d: %s %s %s → %d; want %s %s %s → %d", i, e.Request.Method, e.Request.URL, e.Request.HTTPVersion, e.Response.Status,
				w.Method, w.URL, w.HTTPVersion, w.Status)
		}
		if e.CommunityID == "" || !strings.HasPrefix(e.CommunityID, "1:") {
			t.Errorf("entry %d: community id %q", i, e.CommunityID)
		}
	}
	fb := h.Log.Entries[4]
	if fb.Request.PostData == nil || !strings.HasPrefix(fb.Request.PostData.Text, "format=json&") ||
		!strings.Contains(fb.Request.PostData.Text, "advertiser_id="+gencap.SampleAdID) {
		t.Errorf("facebook entry: post data %+v", fb.Request.PostData)
	}
	if !strings.Contains(string(out), gencap.SampleApp) {
		t.Error("the packet comments (process) are not in the HAR")
	}
	var got []string
	for _, f := range sum.Flows {
		got = append(got, fmt.Sprintf("%s %d %s %s %s %v", f.Protocol, f.Requests, f.SNI, f.ALPN, f.TLSVersion, f.Decrypted))
	}
	wantFlows := []string{
		"http/1 2    false",
		"tls→http/1 2 app-measurement.com http/1.1 TLS 1.3 true",
		"tls→http/1 1 graph.facebook.com http/1.1 TLS 1.3 true",
		"tls→http/1 1 app.adjust.com http/1.1 TLS 1.3 true",
		"http/1 1    false",
		"tls→h2 1 region1.google-analytics.com h2 TLS 1.3 true",
	}
	if strings.Join(got, "\n") != strings.Join(wantFlows, "\n") {
		t.Errorf("flows:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantFlows, "\n"))
	}
	writeAndValidate(t, out)
}

func writeAndValidate(t testing.TB, hars ...[]byte) {
	t.Helper()
	var files []string
	dir := t.TempDir()
	for i, b := range hars {
		p := filepath.Join(dir, strconv.Itoa(i)+".har")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}
	testutil.ValidateHAR(t, files...)
}

// generated writes a generator capture into a temp dir.
func generated(t testing.TB, name string, cfg gencap.Config) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gencap.Write(f, cfg); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

// Golden HARs of our own captures (never of corpus files, which would copy
// the corpus into the repository). Update with -update and read the diff.
func TestGolden(t *testing.T) {
	cases := []struct {
		name  string
		input func(t *testing.T) string
	}{
		{"tracking", func(t *testing.T) string { return sample(t) }},
		{"gen-small", func(t *testing.T) string {
			return generated(t, "gen-small.pcap", gencap.Config{Seed: 3, Size: 12 << 10, Concurrent: 4, MaxBody: 1500})
		}},
		{"gen-disorder", func(t *testing.T) string {
			return generated(t, "gen-disorder.pcapng", gencap.Config{Seed: 5, Size: 24 << 10, Format: gencap.PCAPNG, Concurrent: 3, Disorder: 1, MaxBody: 6000})
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			sum, err := ConvertHAR(context.Background(), []string{tc.input(t)}, Options{}, &b, har.Indented())
			if err != nil {
				t.Fatal(err)
			}
			if sum.Entries == 0 {
				t.Error("no entries")
			}
			got := b.Bytes()
			// The input's temp path is not part of the golden file.
			got = bytes.ReplaceAll(got, []byte(filepath.Dir(tc.input(t))), []byte("INPUT"))
			p := filepath.Join(testutil.RepoRoot(), "testdata", "golden", tc.name+".har")
			if *update {
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(p)
			if err != nil {
				t.Fatalf("%v (run go test ./pcap -run TestGolden -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the conversion; run with -update and review the diff", p)
			}
			writeAndValidate(t, got)
		})
	}
}

// The generator's traffic, with reordered and retransmitted segments, comes
// out complete: one entry per request.
func TestGeneratedCounts(t *testing.T) {
	for _, cfg := range []gencap.Config{
		{Seed: 11, Size: 2 << 20, Concurrent: 32},
		{Seed: 12, Size: 1 << 20, Concurrent: 8, Disorder: 0.5, Format: gencap.PCAPNG},
	} {
		p := filepath.Join(t.TempDir(), "g.pcap")
		f, _ := os.Create(p)
		st, err := gencap.Write(f, cfg)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		_, sum := convertFiles(t, Options{}, p)
		if sum.Entries != st.Requests {
			t.Errorf("seed %d: %d entries, the generator wrote %d requests", cfg.Seed, sum.Entries, st.Requests)
		}
		if sum.Conns != st.Conns {
			t.Errorf("seed %d: %d connections, the generator wrote %d", cfg.Seed, sum.Conns, st.Conns)
		}
	}
}

// Same input, same bytes: twice in a row, and whatever the memory budget
// (entries spooled to disk or not), through ConvertHAR and Convert.
func TestDeterministic(t *testing.T) {
	in := generated(t, "det.pcap", gencap.Config{Seed: 21, Size: 1 << 20, Concurrent: 16})
	inputs := []string{in, sample(t)}
	a, _ := convertFiles(t, Options{}, inputs...)
	b, _ := convertFiles(t, Options{}, inputs...)
	if !bytes.Equal(a, b) {
		t.Fatal("two conversions differ")
	}
	c, _ := convertFiles(t, Options{MemoryBudget: 1}, inputs...)
	if !bytes.Equal(a, c) {
		t.Fatal("spooling every entry changes the output")
	}
	d, _ := convertFiles(t, Options{MemoryBudget: 64 << 10}, inputs...)
	if !bytes.Equal(a, d) {
		t.Fatal("spooling some entries changes the output")
	}
	// Convert hands out the same entries, in the same order.
	for _, budget := range []int64{1, 1 << 30} {
		var out []byte
		_, err := Convert(context.Background(), inputs, Options{MemoryBudget: budget}, func(e *har.Entry) error {
			out = har.AppendEntry(out, e)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var want []byte
		for _, e := range readHAR(t, a).Log.Entries {
			want = har.AppendEntry(want, &e)
		}
		if !bytes.Equal(out, want) {
			t.Errorf("Convert with budget %d differs from ConvertHAR", budget)
		}
	}
	// Entries are sorted by request time.
	var last float64
	for i, e := range readHAR(t, a).Log.Entries {
		if e.Timestamp < last {
			t.Fatalf("entry %d at %f comes after %f", i, e.Timestamp, last)
		}
		last = e.Timestamp
	}
}

func TestCancel(t *testing.T) {
	in := generated(t, "c.pcap", gencap.Config{Seed: 1, Size: 4 << 20})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var b bytes.Buffer
	_, err := ConvertHAR(ctx, []string{in}, Options{}, &b)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if !strings.Contains(err.Error(), in) {
		t.Errorf("the error does not name the file: %v", err)
	}
	if b.Len() != 0 {
		t.Errorf("%d bytes written after cancel", b.Len())
	}
}

func TestEmitError(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	_, err := Convert(context.Background(), []string{sample(t)}, Options{}, func(*har.Entry) error {
		n++
		return stop
	})
	if !errors.Is(err, stop) || n != 1 {
		t.Fatalf("err %v after %d entries", err, n)
	}
}

func TestBadInputs(t *testing.T) {
	dir := t.TempDir()
	notCap := filepath.Join(dir, "x.txt")
	os.WriteFile(notCap, []byte("hello, this is not a capture file at all"), 0o644)
	for _, tc := range []struct {
		name   string
		inputs []string
		opts   Options
		named  string // the error must name it
	}{
		{"no inputs", nil, Options{}, "no input"},
		{"missing file", []string{filepath.Join(dir, "nope.pcap")}, Options{}, "nope.pcap"},
		{"not a capture", []string{notCap}, Options{}, "x.txt"},
		{"missing key log", []string{sample(t)}, Options{KeyLogFiles: []string{filepath.Join(dir, "nope.keys")}}, "nope.keys"},
		{"missing RSA key", []string{sample(t)}, Options{RSAKeyFiles: []string{filepath.Join(dir, "nope.pem")}}, "nope.pem"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			_, err := ConvertHAR(context.Background(), tc.inputs, tc.opts, &b)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.named) {
				t.Errorf("error does not name %s: %v", tc.named, err)
			}
			if b.Len() != 0 {
				t.Errorf("%d bytes written", b.Len())
			}
		})
	}
}

// A capture cut in the middle of a packet keeps every entry before the cut
// and says what happened.
func TestTruncatedCapture(t *testing.T) {
	full, err := os.ReadFile(sample(t))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "cut.pcapng")
	// Cut inside the last connection's packets.
	os.WriteFile(p, full[:len(full)-300], 0o644)
	out, sum := convertFiles(t, Options{}, p)
	if sum.Entries < 5 {
		t.Errorf("%d entries from the cut capture", sum.Entries)
	}
	if len(sum.Warnings) == 0 {
		t.Error("no warning about the cut")
	}
	if !bytes.Contains(out, []byte(`"_warnings"`)) {
		t.Error("the HAR has no _warnings")
	}
}

// tsharkCount is a line of corpus/tshark-4.0.17-counts.txt.
type tsharkCount struct {
	file    string
	packets int
	req     int
	args    string
}

func readCounts(t *testing.T) []tsharkCount {
	f, err := os.Open(testutil.Corpus(t, "tshark-4.0.17-counts.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []tsharkCount
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "|")
		if len(fields) < 12 {
			continue // not a count line
		}
		c := tsharkCount{file: fields[0], args: strings.TrimPrefix(fields[11], "args=")}
		var err1, err2 error
		c.packets, err1 = strconv.Atoi(strings.TrimPrefix(fields[1], "pk="))
		c.req, err2 = strconv.Atoi(strings.TrimPrefix(fields[3], "req="))
		if err1 != nil || err2 != nil {
			t.Fatalf("bad line %q", sc.Text())
		}
		out = append(out, c)
	}
	if len(out) < 90 {
		t.Fatalf("only %d lines in the counts file", len(out))
	}
	return out
}

// corpusFiles maps base names to the capture files of the corpus.
func corpusFiles(t *testing.T) map[string][]string {
	root := testutil.Corpus(t)
	m := map[string][]string{}
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			m[d.Name()] = append(m[d.Name()], p)
		}
		return nil
	})
	return m
}

// corpusFile finds a file of the counts list; duplicate names (http.pcap,
// empty.pcap) are told apart by their packet count.
func corpusFile(t *testing.T, files map[string][]string, c tsharkCount) string {
	t.Helper()
	cands := files[c.file]
	if len(cands) == 1 {
		return cands[0]
	}
	for _, p := range cands {
		_, sum := convertFiles(t, Options{}, p)
		if int(sum.Packets) == c.packets {
			return p
		}
	}
	t.Fatalf("%s: no corpus file with %d packets among %v", c.file, c.packets, cands)
	return ""
}

// Where our count differs from tshark's, the count we find and why.
var differsFromTshark = map[string]struct {
	want int
	why  string
}{
	"http_http_09.pcap": {3, "HTTP/0.9 requests (GET, POST and GET on a bare \"METHOD /path\" line), which tshark does not " +
		"recognise; the fourth connection's \"bad method\" line is not a request"},
	"ipv6-http-atomic-frag.pcap": {4, "version-less \"GET /bad.html\" requests over IPv6 atomic fragments, one per connection; tshark shows none"},
	"insecure.pcap": {21, "tshark's 24 include 4 SSDP M-SEARCH requests over UDP (HTTPU), which are not HTTP over TCP; of " +
		"the TCP requests tshark dissects 20 and takes stream 22 for another protocol, we find its GET too"},
	"out-of-order.pcap": {287, "tshark's req column counts frames, and several frames carry two pipelined requests; " +
		"tshark -E aggregator shows the same 287 request URIs we find"},
	"http-ooo.pcap":          {5, "5 requests in reordered segments; tshark 4.0 finds them with -o tcp.reassemble_out_of_order:TRUE, not by default"},
	"http-ooo-fuzzed.pcapng": {5, "as http-ooo.pcap, of which it is a fuzzed copy"},
	"grpc_web.pcapng.gz": {17, "9 gRPC-Web requests over HTTP/1.1 plus 8 h2c streams, which tshark shows only with " +
		"-d tcp.port==57228,http2 (h2req=8 in MANIFEST.md)"},
	"http_261_variant-01-chunk_2pow64_overflow.pcap": {2, "the chunk size overflows, so the request's length is unknown: " +
		"its bytes up to the next request line are its body (marked incomplete), and the request line found there is a second entry"},
	"http_261_variant-04-te_cl_desync.pcap": {2, "Transfer-Encoding and Content-Length disagree: the request smuggled in " +
		"the body is reported as its own entry, as the bytes on the wire show it"},
	"http_261_variant-10-multi_value_te.pcap": {2, "a Transfer-Encoding with several values whose last is not chunked: " +
		"the body runs to the next request line, which is a second entry"},
}

// For every capture tshark sees cleartext HTTP/1 requests in, we find at
// least as many, without port hints (tshark needed -d tcp.port==N,http for
// some). TLS captures with a key log or RSA key in the args belong to the
// TLS tests; wireshark/tls12-dsb.pcapng stays here because tshark needs no
// argument for it (its keys are in Decryption Secrets Blocks), so its count
// needs TLS decryption to pass.
func TestCorpusTsharkCounts(t *testing.T) {
	counts := readCounts(t)
	files := corpusFiles(t)
	want := map[string]tsharkCount{}
	var order []string
	for _, c := range counts {
		if strings.Contains(c.args, "keylog") || strings.Contains(c.args, "rsa_keys") || strings.Contains(c.args, "tls.") {
			continue
		}
		key := c.file + "|" + strconv.Itoa(c.packets)
		if prev, ok := want[key]; !ok || c.req > prev.req {
			if !ok {
				order = append(order, key)
			}
			want[key] = c
		}
	}
	checked := 0
	for _, key := range order {
		c := want[key]
		diff, documented := differsFromTshark[c.file]
		if c.req == 0 && !documented {
			continue
		}
		checked++
		t.Run(c.file, func(t *testing.T) {
			p := corpusFile(t, files, c)
			_, sum := convertFiles(t, Options{}, p)
			switch {
			case documented && sum.Entries != diff.want:
				t.Errorf("%s: %d request entries, want %d (tshark %d: %s)", p, sum.Entries, diff.want, c.req, diff.why)
			case !documented && sum.Entries != c.req:
				t.Errorf("%s: %d request entries, tshark %d (args %q); document why in differsFromTshark", p, sum.Entries, c.req, c.args)
			}
		})
	}
	if checked < 50 {
		t.Errorf("only %d captures checked", checked)
	}
}

// No corpus capture makes a parser fail, and every HAR passes
// har-validator.
func TestCorpusNoPanic(t *testing.T) {
	root := testutil.Corpus(t)
	var hars [][]byte
	var names []string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		name := d.Name()
		if !isCaptureName(name) {
			return nil
		}
		var b bytes.Buffer
		sum, err := ConvertHAR(context.Background(), []string{p}, Options{}, &b)
		if err != nil {
			// Only files that are not captures may fail.
			if !strings.Contains(err.Error(), "not a pcap") {
				t.Errorf("%s: %v", p, err)
			}
			return nil
		}
		for _, n := range sum.Notes {
			if n.Kind == "internal" {
				t.Errorf("%s: %v", p, n)
			}
		}
		hars = append(hars, b.Bytes())
		names = append(names, p)
		return nil
	})
	if len(hars) < 100 {
		t.Errorf("only %d captures converted", len(hars))
	}
	writeAndValidate(t, hars...)
}

func isCaptureName(name string) bool {
	name = strings.TrimSuffix(name, ".gz")
	for _, ext := range []string{".pcap", ".pcapng", ".cap", ".ntar"} {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}

// The key sources of Options reach the TLS parser: key log files, RSA keys
// and the pcapng's Decryption Secrets Blocks; a TLS flow without keys is
// reported once in Summary.TLSErrors and the HAR's _tlsErrors.
func TestKeySources(t *testing.T) {
	w := func(name string) string { return testutil.Corpus(t, "wireshark", name) }
	tests := []struct {
		name      string
		input     string
		opts      Options
		entries   int
		tlsErrors int
	}{
		{"no keys", w("tls13-rfc8446.pcap"), Options{}, 0, 2},
		{"key log file", w("tls13-rfc8446.pcap"), Options{KeyLogFiles: []string{w("tls13-rfc8446.keys")}}, 3, 0},
		{"RSA key", w("rsasnakeoil2.pcap"), Options{RSAKeyFiles: []string{w("rsasnakeoil2.key")}}, 11, 0},
		{"no RSA key", w("rsasnakeoil2.pcap"), Options{}, 0, 2},
		{"secrets in the pcapng", w("tls12-dsb.pcapng"), Options{}, 2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.ListFlows = true
			out, sum := convertFiles(t, tt.opts, tt.input)
			if sum.Entries != tt.entries || len(sum.TLSErrors) != tt.tlsErrors {
				t.Fatalf("%d entries, %d TLS errors; want %d, %d", sum.Entries, len(sum.TLSErrors), tt.entries, tt.tlsErrors)
			}
			h := readHAR(t, out)
			tl, _ := h.Log.Extra["_tlsErrors"].([]any)
			if len(tl) != tt.tlsErrors {
				t.Errorf("_tlsErrors has %d objects", len(tl))
			}
			flows := map[string]FlowInfo{}
			for _, f := range sum.Flows {
				flows[f.CommunityID] = f
			}
			for i, e := range sum.TLSErrors {
				f, ok := flows[e.CommunityID]
				if !ok || f.Protocol != "tls" || f.Decrypted || e.Reason == "" || !e.Time.Equal(f.First) {
					t.Errorf("TLS error %+v, flow %+v", e, f)
				}
				obj, _ := tl[i].(map[string]any)
				if obj["communityId"] != e.CommunityID || obj["server"] != e.Server.String() || obj["reason"] != e.Reason {
					t.Errorf("_tlsErrors[%d] = %v", i, obj)
				}
			}
			if tt.entries > 0 {
				for _, f := range sum.Flows {
					if f.Requests > 0 && (!f.Decrypted || !strings.HasPrefix(f.Protocol, "tls→")) {
						t.Errorf("flow %+v", f)
					}
				}
			}
			writeAndValidate(t, out)
		})
	}
}

func TestProgress(t *testing.T) {
	in := generated(t, "p.pcap", gencap.Config{Seed: 4, Size: 12 << 20, Concurrent: 8, MaxBody: 20000})
	var got []Progress
	opts := Options{Progress: func(p Progress) { got = append(got, p) }}
	sum, err := Convert(context.Background(), []string{in, sample(t)}, opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	var done []Progress
	for i, p := range got {
		if p.Files != 2 || (i > 0 && p.Packets < got[i-1].Packets && p.FileIndex == got[i-1].FileIndex) {
			t.Errorf("report %d: %+v", i, p)
		}
		if p.Done {
			done = append(done, p)
		}
	}
	if len(got) < 3 || len(done) != 2 {
		t.Fatalf("%d reports, %d done", len(got), len(done))
	}
	for i, p := range done {
		f := sum.Files[i]
		if p.FileIndex != i || p.File != f.Path || p.Packets != f.Packets || p.Size == 0 || p.Offset != p.Size {
			t.Errorf("done report %+v for %+v", p, f)
		}
	}
	if done[1].Entries != sum.Entries {
		t.Errorf("last report: %d entries of %d", done[1].Entries, sum.Entries)
	}
}
