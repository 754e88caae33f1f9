package pcap

import (
	"context"
	"crypto/tls"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tracewire/tracewire/pcap/internal/tls/tlsgen"
)

// tlsCaptures writes the same HTTP/1.1 traffic as two captures, inside
// TLS (with its key log) and in clear.
func tlsCaptures(t testing.TB, version uint16, suites []uint16, n int) (tlsPath, keylog, clearPath string) {
	t.Helper()
	certs, err := tlsgen.TestCerts()
	if err != nil {
		t.Fatal(err)
	}
	cc := &tls.Config{InsecureSkipVerify: true, ServerName: "example.test", MinVersion: version, MaxVersion: version, CipherSuites: suites}
	sc := &tls.Config{Certificates: []tls.Certificate{certs.RSA}, MinVersion: version, MaxVersion: version, CipherSuites: suites}
	ex := tlsgen.HTTPExchange(n)
	s, err := tlsgen.Record(cc, sc, ex, true)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tlsPath, keylog, clearPath = filepath.Join(dir, "tls.pcap"), filepath.Join(dir, "tls.keys"), filepath.Join(dir, "clear.pcap")
	if err := tlsgen.WritePcap(tlsPath, s.Wires); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keylog, s.KeyLog, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := tlsgen.WritePcap(clearPath, tlsgen.Clear(ex)); err != nil {
		t.Fatal(err)
	}
	return tlsPath, keylog, clearPath
}

// TestTLSGenerated converts traffic recorded from Go's crypto/tls and the
// same traffic in clear: the entries must be the same but for the scheme
// and the timings; without the key log the TLS capture gives no entry and
// one TLS error.
func TestTLSGenerated(t *testing.T) {
	for _, tc := range []struct {
		name    string
		version uint16
		suites  []uint16
	}{
		{"tls13", tls.VersionTLS13, nil},
		{"tls12-chacha20", tls.VersionTLS12, []uint16{tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256}},
		{"tls12-aes-cbc-sha", tls.VersionTLS12, []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tlsPath, keylog, clearPath := tlsCaptures(t, tc.version, tc.suites, 20)
			tout, tsum := convertFiles(t, Options{KeyLogFiles: []string{keylog}, ListFlows: true}, tlsPath)
			cout, _ := convertFiles(t, Options{}, clearPath)
			writeAndValidate(t, tout)
			th, ch := readHAR(t, tout), readHAR(t, cout)
			if len(th.Log.Entries) != 20 || len(ch.Log.Entries) != 20 {
				t.Fatalf("%d entries from TLS, %d in clear, want 20", len(th.Log.Entries), len(ch.Log.Entries))
			}
			for i := range th.Log.Entries {
				te, ce := &th.Log.Entries[i], &ch.Log.Entries[i]
				if te.Request.URL != strings.Replace(ce.Request.URL, "http://", "https://", 1) || te.Response.Status != ce.Response.Status ||
					te.Response.Content.Size != ce.Response.Content.Size || te.Response.Content.Text != ce.Response.Content.Text {
					t.Errorf("entry %d: %s %d %d, in clear %s %d %d", i, te.Request.URL, te.Response.Status, te.Response.Content.Size, ce.Request.URL, ce.Response.Status, ce.Response.Content.Size)
				}
			}
			if len(tsum.Flows) != 1 || !tsum.Flows[0].Decrypted || tsum.Flows[0].SNI != "example.test" || tsum.Flows[0].Protocol != "tls→http/1" {
				t.Errorf("flows %+v", tsum.Flows)
			}
			nout, nsum := convertFiles(t, Options{}, tlsPath)
			if n := len(readHAR(t, nout).Log.Entries); n != 0 || len(nsum.TLSErrors) != 1 || !strings.Contains(nsum.TLSErrors[0].Reason, "no key for client random") {
				t.Errorf("without keys: %d entries, TLS errors %+v", n, nsum.TLSErrors)
			}
			writeAndValidate(t, nout)
		})
	}
}

// BenchmarkConvertTLS converts the same HTTP/1.1 traffic (64 exchanges,
// 4.2 MB) captured inside TLS and in clear, and reports the ratio of the
// times: what decryption adds to a conversion.
func BenchmarkConvertTLS(b *testing.B) {
	for _, tc := range []struct {
		name    string
		version uint16
		suites  []uint16
	}{
		{"tls13-aes128gcm", tls.VersionTLS13, nil},
		{"tls12-chacha20", tls.VersionTLS12, []uint16{tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256}},
		{"tls12-aes128cbc-sha", tls.VersionTLS12, []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			tlsPath, keylog, clearPath := tlsCaptures(b, tc.version, tc.suites, 64)
			conv := func(path string, opts Options) int {
				sum, err := ConvertHAR(context.Background(), []string{path}, opts, io.Discard)
				if err != nil {
					b.Fatal(err)
				}
				return sum.Entries
			}
			b.ResetTimer()
			var tTLS, tClear time.Duration
			for range b.N {
				start := time.Now()
				n := conv(tlsPath, Options{KeyLogFiles: []string{keylog}})
				tTLS += time.Since(start)
				start = time.Now()
				m := conv(clearPath, Options{})
				tClear += time.Since(start)
				if n != 64 || m != 64 {
					b.Fatalf("%d entries from TLS, %d in clear, want 64", n, m)
				}
			}
			b.ReportMetric(float64(tTLS.Nanoseconds())/float64(b.N), "tls-ns/op")
			b.ReportMetric(float64(tClear.Nanoseconds())/float64(b.N), "clear-ns/op")
			b.ReportMetric(float64(tTLS)/float64(tClear), "tls/clear")
		})
	}
}
