package pcap

// End-to-end truth for QUIC and HTTP/3: a real HTTP/3 server and client
// (quic-go) talk on loopback; a net.PacketConn wrapper records every
// datagram into a pcapng (no root needed), drops a few of them for real
// (so QUIC retransmits) and writes a few out of order; the client's TLS
// key log decrypts the capture. Every request and response must come out
// exact.

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	stdtls "crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	quicgo "github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"

	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/pcap/internal/stream"
	"github.com/tracewire/tracewire/pcap/internal/tls/tlsgen"
)

// datagram is one recorded UDP datagram.
type datagram struct {
	t        time.Time
	src, dst *net.UDPAddr
	data     []byte
}

type recorder struct {
	mu  sync.Mutex
	all []datagram
}

// recConn records what it sends; every dropEvery-th datagram (from the
// third on) is dropped before it reaches the network or the record.
type recConn struct {
	net.PacketConn
	rec       *recorder
	n         int
	dropEvery int
	dropped   int
}

func (c *recConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	c.rec.mu.Lock()
	c.n++
	if c.dropEvery > 0 && c.n >= 3 && c.n%c.dropEvery == 0 {
		c.dropped++
		c.rec.mu.Unlock()
		return len(p), nil
	}
	c.rec.all = append(c.rec.all, datagram{t: time.Now(), src: c.LocalAddr().(*net.UDPAddr), dst: addr.(*net.UDPAddr), data: bytes.Clone(p)})
	c.rec.mu.Unlock()
	return c.PacketConn.WriteTo(p, addr)
}

// writePcapng writes the datagrams as raw IPv4 packets, swapping a few
// neighbours so the capture is out of order.
func (r *recorder) writePcapng(t testing.TB, path string) {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := pcapgo.NewNgWriter(f, layers.LinkTypeRaw)
	if err != nil {
		t.Fatal(err)
	}
	// Reordered as a network can: a 1-RTT datagram overtaken by a later
	// one of the same sender (one that answers the other side cannot come
	// first).
	all := append([]datagram(nil), r.all...)
	for i := 5; i+2 < len(all); i += 13 {
		if all[i].data[0]&0x80 != 0 {
			continue
		}
		for j := i + 1; j < i+3; j++ {
			if all[j].src.Port == all[i].src.Port && all[j].data[0]&0x80 == 0 {
				all[i], all[j] = all[j], all[i]
				break
			}
		}
	}
	for _, d := range all {
		pkt := make([]byte, 28, 28+len(d.data))
		pkt[0] = 0x45
		binary.BigEndian.PutUint16(pkt[2:], uint16(28+len(d.data)))
		pkt[8], pkt[9] = 64, 17
		copy(pkt[12:16], d.src.IP.To4())
		copy(pkt[16:20], d.dst.IP.To4())
		binary.BigEndian.PutUint16(pkt[20:], uint16(d.src.Port))
		binary.BigEndian.PutUint16(pkt[22:], uint16(d.dst.Port))
		binary.BigEndian.PutUint16(pkt[24:], uint16(8+len(d.data)))
		pkt = append(pkt, d.data...)
		ci := gopacket.CaptureInfo{Timestamp: d.t, CaptureLength: len(pkt), Length: len(pkt)}
		if err := w.WritePacket(ci, pkt); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
}

func selfSigned(t testing.TB) (stdtls.Certificate, *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "h3.test"},
		DNSNames: []string{"h3.test"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return stdtls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

// payload returns n deterministic printable bytes.
func payload(seed string, n int) []byte {
	var out []byte
	for i := 0; len(out) < n; i++ {
		s := sha256.Sum256([]byte(seed + strconv.Itoa(i)))
		for _, c := range s {
			out = append(out, 'a'+c%26)
		}
	}
	return out[:n]
}

type e2eExchange struct {
	method, path string
	reqBody      []byte
	status       int
	respBody     []byte
	gzip         bool
}

func TestQUICEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping the QUIC loopback test in -short mode")
	}
	exchanges := []e2eExchange{
		{method: "GET", path: "/small?user=alice%40example.com", status: 200, respBody: []byte("hello")},
		{method: "POST", path: "/upload", reqBody: payload("up", 200_000), status: 201, respBody: []byte("stored")},
		{method: "GET", path: "/big", status: 200, respBody: payload("big", 600_000)},
		{method: "GET", path: "/gzip", status: 200, respBody: []byte(`{"advertisingId":"6f1c2a3e-0000"}`), gzip: true},
		{method: "PUT", path: "/missing", reqBody: []byte(`{"a":1}`), status: 404, respBody: []byte("no")},
	}
	for i := range 8 {
		exchanges = append(exchanges, e2eExchange{method: "GET", path: fmt.Sprintf("/par/%d", i), status: 200, respBody: payload(strconv.Itoa(i), 3000*i+1)})
	}
	for _, retry := range []bool{false, true} {
		t.Run(fmt.Sprintf("retry=%v", retry), func(t *testing.T) {
			capPath, klPath, dropped := recordExchanges(t, exchanges, 5, true, 13, 17, retry)
			if dropped == 0 {
				t.Fatal("nothing was dropped")
			}
			checkExchanges(t, exchanges, capPath, klPath, dropped)
		})
	}
}

// checkExchanges converts the capture and compares every entry with its
// exchange.
func checkExchanges(t *testing.T, exchanges []e2eExchange, capPath, klPath string, dropped int) {
	byPath := pathIndex(exchanges)

	out, sum := convertFiles(t, Options{KeyLogFiles: []string{klPath}, ListFlows: true}, capPath)
	writeAndValidate(t, out)
	h := readHAR(t, out)
	t.Logf("%d datagrams dropped; %d entries", dropped, len(h.Log.Entries))
	if len(h.Log.Entries) != len(exchanges) {
		t.Errorf("%d entries, want %d: %q", len(h.Log.Entries), len(exchanges), entryURLs(h.Log.Entries))
	}
	for _, n := range sum.Notes {
		t.Errorf("note: %v", n)
	}
	if len(sum.TLSErrors) > 0 {
		t.Errorf("TLS errors: %+v", sum.TLSErrors)
	}
	seen := map[string]bool{}
	for i := range h.Log.Entries {
		e := &h.Log.Entries[i]
		path := strings.TrimPrefix(e.Request.URL, "https://h3.test")
		x := byPath[strings.Split(path, "?")[0]]
		if x == nil || path != x.path || seen[path] {
			t.Errorf("unexpected entry %s", e.Request.URL)
			continue
		}
		seen[path] = true
		checkE2E(t, e, x)
	}
}

func pathIndex(exchanges []e2eExchange) map[string]*e2eExchange {
	byPath := map[string]*e2eExchange{}
	for i := range exchanges {
		byPath[strings.Split(exchanges[i].path, "?")[0]] = &exchanges[i]
	}
	return byPath
}

// handler answers each exchange's request with its response, after
// checking the request body.
func handler(byPath map[string]*e2eExchange) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x := byPath[r.URL.Path]
		if x == nil {
			http.Error(w, "unknown", 500)
			return
		}
		if got, _ := io.ReadAll(r.Body); !bytes.Equal(got, x.reqBody) {
			http.Error(w, "body differs", 500)
			return
		}
		w.Header().Set("X-Reply", r.URL.Path)
		b := x.respBody
		if x.gzip {
			var z bytes.Buffer
			gw := gzip.NewWriter(&z)
			gw.Write(b)
			gw.Close()
			b = z.Bytes()
			w.Header().Set("Content-Encoding", "gzip")
		}
		w.WriteHeader(x.status)
		w.Write(b)
	})
}

// recordExchanges runs the exchanges between a real client and server on
// loopback, the first sequential ones one after the other and the rest at
// once, and writes what went over the wire as a capture with the client's
// key log: HTTP/3 over QUIC (h3, dropping every dropC-th datagram of the
// client and dropS-th of the server) or HTTP/2 over TLS over TCP.
//
// With retry the QUIC server validates the client's address with a Retry
// packet first.
func recordExchanges(tb testing.TB, exchanges []e2eExchange, sequential int, h3 bool, dropC, dropS int, retry bool) (capPath, klPath string, dropped int) {
	tb.Helper()
	byPath := pathIndex(exchanges)
	cert, pool := selfSigned(tb)
	var keylog bytes.Buffer
	var klMu sync.Mutex
	clientTLS := &stdtls.Config{RootCAs: pool, ServerName: "h3.test", KeyLogWriter: lockedWriter{&klMu, &keylog}}
	dir := tb.TempDir()
	var client *http.Client
	var finish func()
	if h3 {
		tb.Setenv("QUIC_GO_DISABLE_RECEIVE_BUFFER_WARNING", "true")
		rec := &recorder{}
		sconn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			tb.Skipf("no UDP on loopback: %v", err)
		}
		srv := &http3.Server{
			TLSConfig: http3.ConfigureTLSConfig(&stdtls.Config{Certificates: []stdtls.Certificate{cert}}),
			Handler:   handler(byPath),
		}
		sc := &recConn{PacketConn: sconn, rec: rec, dropEvery: dropS}
		str := &quicgo.Transport{Conn: sc}
		if retry {
			str.VerifySourceAddress = func(net.Addr) bool { return true }
		}
		ln, err := str.ListenEarly(srv.TLSConfig, &quicgo.Config{})
		if err != nil {
			tb.Fatal(err)
		}
		go srv.ServeListener(ln)
		cconn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			tb.Fatal(err)
		}
		cc := &recConn{PacketConn: cconn, rec: rec, dropEvery: dropC}
		tr := &quicgo.Transport{Conn: cc}
		rt := &http3.Transport{
			TLSClientConfig: clientTLS,
			Dial: func(ctx context.Context, _ string, tc *stdtls.Config, qc *quicgo.Config) (*quicgo.Conn, error) {
				return tr.DialEarly(ctx, sconn.LocalAddr(), tc, qc)
			},
		}
		client = &http.Client{Transport: rt, Timeout: 20 * time.Second}
		capPath = filepath.Join(dir, "h3.pcapng")
		finish = func() {
			rt.Close()
			tr.Close()
			srv.Close()
			str.Close()
			time.Sleep(50 * time.Millisecond)
			rec.mu.Lock()
			defer rec.mu.Unlock()
			dropped = sc.dropped + cc.dropped
			rec.writePcapng(tb, capPath)
		}
	} else {
		var rec tlsgen.Recorder
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			tb.Skipf("no TCP on loopback: %v", err)
		}
		srv := &http.Server{Handler: handler(byPath), TLSConfig: &stdtls.Config{Certificates: []stdtls.Certificate{cert}}}
		go srv.ServeTLS(recListener{ln, &rec}, "", "")
		rt := &http.Transport{
			TLSClientConfig: clientTLS, ForceAttemptHTTP2: true, MaxConnsPerHost: 1,
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				c, err := (&net.Dialer{}).DialContext(ctx, network, ln.Addr().String())
				if err != nil {
					return nil, err
				}
				return rec.Conn(c, stream.ClientToServer), nil
			},
		}
		client = &http.Client{Transport: rt, Timeout: 20 * time.Second}
		capPath = filepath.Join(dir, "h2.pcap")
		finish = func() {
			rt.CloseIdleConnections()
			srv.Close()
			if err := tlsgen.WritePcap(capPath, rec.Wires()); err != nil {
				tb.Fatal(err)
			}
		}
	}
	ctx := context.Background()
	do := func(x *e2eExchange) error {
		req, err := http.NewRequestWithContext(ctx, x.method, "https://h3.test"+x.path, bytes.NewReader(x.reqBody))
		if err != nil {
			return err
		}
		if x.reqBody == nil {
			req.Body = nil
		}
		req.Header.Set("X-Test", x.path)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != x.status || !bytes.Equal(b, x.respBody) {
			return fmt.Errorf("%s: status %d, %d bytes", x.path, resp.StatusCode, len(b))
		}
		return nil
	}
	for i := range min(sequential, len(exchanges)) {
		if err := do(&exchanges[i]); err != nil {
			tb.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(exchanges))
	for i := sequential; i < len(exchanges); i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- do(&exchanges[i])
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			tb.Fatal(err)
		}
	}
	finish()
	klPath = filepath.Join(dir, "keys.txt")
	klMu.Lock()
	defer klMu.Unlock()
	if err := os.WriteFile(klPath, keylog.Bytes(), 0o600); err != nil {
		tb.Fatal(err)
	}
	return capPath, klPath, dropped
}

// recListener records the TCP connections it accepts (server side).
type recListener struct {
	net.Listener
	rec *tlsgen.Recorder
}

func (l recListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return l.rec.Conn(c, stream.ServerToClient), nil
}

func checkE2E(t *testing.T, e *har.Entry, x *e2eExchange) {
	t.Helper()
	if e.Request.Method != x.method || e.Request.HTTPVersion != "HTTP/3" || e.Response.Status != x.status || e.Incomplete {
		t.Errorf("%s: %s %s → %d, incomplete %v", x.path, e.Request.Method, e.Request.HTTPVersion, e.Response.Status, e.Incomplete)
	}
	if v, _ := har.Header(e.Request.Headers, "x-test"); v != x.path {
		t.Errorf("%s: request header x-test %q", x.path, v)
	}
	if v, _ := har.Header(e.Response.Headers, "x-reply"); v != strings.Split(x.path, "?")[0] {
		t.Errorf("%s: response header x-reply %q", x.path, v)
	}
	var reqBody []byte
	if e.Request.PostData != nil {
		reqBody = []byte(e.Request.PostData.Text)
	}
	if !bytes.Equal(reqBody, x.reqBody) {
		t.Errorf("%s: request body of %d bytes, want %d", x.path, len(reqBody), len(x.reqBody))
	}
	b, err := e.Response.Content.Body()
	if err != nil || !bytes.Equal(b, x.respBody) {
		t.Errorf("%s: response body of %d bytes (%v), want %d", x.path, len(b), err, len(x.respBody))
	}
	if e.CommunityID == "" || e.Timestamp == 0 {
		t.Errorf("%s: community ID %q timestamp %v", x.path, e.CommunityID, e.Timestamp)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// BenchmarkConvertHTTP3 converts the same 64 exchanges (GETs with
// responses of 1 KiB to 256 KiB, 4.2 MB) captured as HTTP/3 over QUIC and
// as HTTP/2 over TLS 1.3 over TCP, both with their key logs, alternately,
// and reports the ratio of the times: what QUIC and HTTP/3 cost against
// the TCP path.
func BenchmarkConvertHTTP3(b *testing.B) {
	var exchanges []e2eExchange
	for i := range 64 {
		exchanges = append(exchanges, e2eExchange{method: "GET", path: fmt.Sprintf("/r%d", i), status: 200,
			respBody: payload(strconv.Itoa(i), 1024<<(i%9))})
	}
	h3Path, h3Keys, _ := recordExchanges(b, exchanges, len(exchanges), true, 0, 0, false)
	h2Path, h2Keys, _ := recordExchanges(b, exchanges, len(exchanges), false, 0, 0, false)
	conv := func(path, keys string) int {
		sum, err := ConvertHAR(context.Background(), []string{path}, Options{KeyLogFiles: []string{keys}}, io.Discard)
		if err != nil {
			b.Fatal(err)
		}
		return sum.Entries
	}
	for path, want := range map[string]string{h3Path: "HTTP/3", h2Path: "HTTP/2"} {
		keys := h3Keys
		if path == h2Path {
			keys = h2Keys
		}
		_, err := Convert(context.Background(), []string{path}, Options{KeyLogFiles: []string{keys}}, func(e *har.Entry) error {
			if e.Request.HTTPVersion != want {
				return fmt.Errorf("%s entry in the %s capture", e.Request.HTTPVersion, want)
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	var t3, t2 time.Duration
	for range b.N {
		start := time.Now()
		n := conv(h3Path, h3Keys)
		t3 += time.Since(start)
		start = time.Now()
		m := conv(h2Path, h2Keys)
		t2 += time.Since(start)
		if n != 64 || m != 64 {
			b.Fatalf("%d entries from HTTP/3, %d from HTTP/2, want 64", n, m)
		}
	}
	b.ReportMetric(float64(t3.Nanoseconds())/float64(b.N), "h3-ns/op")
	b.ReportMetric(float64(t2.Nanoseconds())/float64(b.N), "h2-ns/op")
	b.ReportMetric(float64(t3)/float64(t2), "h3/h2")
}
