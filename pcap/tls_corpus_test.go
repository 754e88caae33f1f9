package pcap

// TLS decryption over the corpus, end to end: each capture with its keys
// (key log files, the capture's own Decryption Secrets Blocks, RSA keys)
// through ConvertHAR, checked against tshark's counts
// (corpus/tshark-4.0.17-counts.txt) and the expectations of
// corpus/MANIFEST.md, and every HAR through har-validator.

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/internal/testutil"
)

// tlsWant is one expected entry: a URL suffix, the status (0: no
// response) and a substring of the decoded response body.
type tlsWant struct {
	url    string
	status int
	body   string
}

func TestTLSCorpus(t *testing.T) {
	for _, tc := range []struct {
		name    string
		file    []string
		keylogs [][]string
		rsaKeys [][]string
		want    []tlsWant
		// count is the number of entries when want does not list them all.
		count int
		// tlsErrors are substrings of the reasons of Summary.TLSErrors.
		tlsErrors []string
		// tlsErrorCount when more than listed.
		tlsErrorCount int
		// method of every entry when not GET.
		method string
		// respBytes is the size of the first response on the wire
		// (headers and chunked body), as corpus/MANIFEST.md gives it.
		respBytes int64
		why       string
	}{
		{
			name: "tls13-rfc8446", file: []string{"wireshark", "tls13-rfc8446.pcap"},
			keylogs: [][]string{{"wireshark", "tls13-rfc8446.keys"}},
			want: []tlsWant{
				{"/first", 200, "Request for /first, version TLSv1.3, Early data: no\n"},
				{"/early", 200, "Request for /early, version TLSv1.3, Early data: yes\n"},
				{"/second", 200, "Request for /second, version TLSv1.3, Early data: yes\n"},
			},
		},
		{
			name: "tls13-rfc8446-noearly", file: []string{"wireshark", "tls13-rfc8446.pcap"},
			keylogs: [][]string{{"wireshark", "tls13-rfc8446-noearly.keys"}},
			want: []tlsWant{
				{"/first", 200, "Request for /first, version TLSv1.3, Early data: no\n"},
				{"/second", 200, "Request for /second, version TLSv1.3, Early data: yes\n"},
			},
			tlsErrors: []string{"0-RTT early data at frame 8 not decrypted: no CLIENT_EARLY_TRAFFIC_SECRET"},
		},
		{
			name: "tls12-dsb", file: []string{"wireshark", "tls12-dsb.pcapng"},
			want:   []tlsWant{{"https://example.com/", 200, ""}, {"https://example.net/", 200, ""}},
			method: "HEAD", why: "HEAD requests: the gzip responses (Content-Length 606) have no body",
		},
		{name: "tls12-chacha20poly1305", file: []string{"wireshark", "tls12-chacha20poly1305.pcap"},
			keylogs: [][]string{{"wireshark", "tls12-chacha20poly1305.keys"}}, count: 7},
		{name: "tls13-20-chacha20poly1305", file: []string{"wireshark", "tls13-20-chacha20poly1305.pcap"},
			keylogs: [][]string{{"wireshark", "tls13-20-chacha20poly1305.keys"}}, count: 2},
		{name: "dhe1", file: []string{"wireshark", "dhe1.pcapng.gz"}, keylogs: [][]string{{"wireshark", "dhe1_keylog.dat"}},
			want: []tlsWant{{"/test", 0, ""}}, why: "the capture has no response"},
		{name: "zeek-tls12-decryption", file: []string{"zeek", "tls_tls12-decryption.pcap"},
			keylogs: [][]string{{"zeek", "tls_tls12-decryption.keylog.txt"}}, count: 1},
		{name: "rsasnakeoil2", file: []string{"wireshark", "rsasnakeoil2.pcap"},
			rsaKeys: [][]string{{"wireshark", "rsasnakeoil2.key"}}, count: 11},
		{name: "baidu", file: []string{"tls-extra", "test301-baidu-tls12-dsb.pcapng"},
			want: []tlsWant{{"/s?wd=ccc", 200, ""}}, respBytes: 857814},
		// wireshark/tls-over-tls.pcapng.gz: the decrypted stream is an X3
		// handover of packets, whose cleartext GET is checked by
		// TestX3InTLSCorpus (x3_test.go).
		{name: "dsb-dump", file: []string{"tls-extra", "dsb-dump.pcapng"}, count: 60,
			tlsErrors: []string{"unsupported cipher suite 0x0041", "unsupported cipher suite 0x0096", "unsupported cipher suite 0x0007",
				"no key for client random 4575c2fa383b34ff9c5aa53c27a31188a5cbd9976dd1cbee23124aba078bc2f1"},
			tlsErrorCount: 13,
			why: "tshark decrypts 70: we lack Camellia (6 connections), SEED (3) and IDEA (1); " +
				"neither has the key of the RC4-MD5 one nor decrypts the RC2 and RC4 export ones"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := Options{ListFlows: true}
			for _, k := range tc.keylogs {
				opts.KeyLogFiles = append(opts.KeyLogFiles, testutil.Corpus(t, k...))
			}
			for _, k := range tc.rsaKeys {
				opts.RSAKeyFiles = append(opts.RSAKeyFiles, testutil.Corpus(t, k...))
			}
			out, sum := convertFiles(t, opts, testutil.Corpus(t, tc.file...))
			writeAndValidate(t, out)
			h := readHAR(t, out)
			es := h.Log.Entries
			want := tc.count
			if tc.want != nil {
				want = len(tc.want)
			}
			if len(es) != want {
				t.Errorf("%d entries, want %d (%s); URLs %q", len(es), want, tc.why, entryURLs(es))
			}
			for i, w := range tc.want {
				if i >= len(es) {
					break
				}
				checkTLSEntry(t, &es[i], w)
			}
			if tc.respBytes > 0 && len(es) > 0 {
				if r := es[0].Response; int64(r.HeadersSize+r.BodySize) != tc.respBytes {
					t.Errorf("response of %d + %d bytes, want %d in all", r.HeadersSize, r.BodySize, tc.respBytes)
				}
			}
			method := "GET"
			if tc.method != "" {
				method = tc.method
			}
			for _, e := range es {
				if !strings.HasPrefix(e.Request.URL, "https://") {
					t.Errorf("URL %q is not https", e.Request.URL)
				}
				if e.Request.Method != method {
					t.Errorf("%s: method %s, want %s", e.Request.URL, e.Request.Method, method)
				}
			}
			var reasons []string
			for _, e := range sum.TLSErrors {
				reasons = append(reasons, e.Reason)
			}
			if n := max(tc.tlsErrorCount, len(tc.tlsErrors)); len(sum.TLSErrors) != n {
				t.Errorf("%d TLS errors, want %d: %q", len(sum.TLSErrors), n, reasons)
			}
			for _, w := range tc.tlsErrors {
				if !strings.Contains(strings.Join(reasons, "\n"), w) {
					t.Errorf("no TLS error with %q in %q", w, reasons)
				}
			}
			decrypted := 0
			for _, f := range sum.Flows {
				if f.Decrypted {
					decrypted++
					if !strings.HasPrefix(f.Protocol, "tls") || f.TLSVersion == "" || f.CipherSuite == "" {
						t.Errorf("decrypted flow %d: protocol %q version %q suite %q", f.Index, f.Protocol, f.TLSVersion, f.CipherSuite)
					}
				}
			}
			if want > 0 && decrypted == 0 {
				t.Errorf("no flow marked decrypted")
			}
		})
	}
}

func checkTLSEntry(t *testing.T, e *har.Entry, w tlsWant) {
	t.Helper()
	if !strings.HasSuffix(e.Request.URL, w.url) && !strings.HasPrefix(e.Request.URL, w.url) {
		t.Errorf("URL %q, want …%s", e.Request.URL, w.url)
	}
	if w.status == 0 {
		return
	}
	if e.Response.Status != w.status {
		t.Errorf("%s: status %d, want %d", e.Request.URL, e.Response.Status, w.status)
	}
	if w.body != "" {
		b, err := e.Response.Content.Body()
		if err != nil {
			t.Errorf("%s: body: %v", e.Request.URL, err)
		}
		if !bytes.Contains(b, []byte(w.body)) {
			t.Errorf("%s: body %q does not contain %q", e.Request.URL, head(b, 200), w.body)
		}
	}
}

func entryURLs(es []har.Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, fmt.Sprintf("%s %s → %d", e.Request.Method, e.Request.URL, e.Response.Status))
	}
	return out
}

func head(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
