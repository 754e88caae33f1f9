package gencap

import (
	"bytes"
	"compress/gzip"
	"crypto/ed25519"
	"crypto/md5"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	json "github.com/go-json-experiment/json/v1"
	"golang.org/x/net/http2"
)

// The made-up app and device of the tracking sample. None of these values
// belongs to a real person, device, app or account.
const (
	SampleApp        = "com.example.weatherapp"
	SampleAppVersion = "3.2.1"
	SampleAdID       = "6f1c2a3e-8b4d-4e2f-9a1b-3c5d7e9f0a2b"    // Android advertising ID
	SampleInstanceID = "f3a1c9d27b5e4c08a6d2e1f0b9c8a7d6"        // Firebase app instance ID
	SampleFBAnonID   = "XZ9b2d4f6a-8c1e-4a3b-b5d7-e9f1a3c5e7b9"  // Facebook SDK installation ID
	SampleAdjustUUID = "0c8e5c7a-3f1d-4b9e-8a2c-6d4f1e7b9a35"    // Adjust SDK installation ID
	SampleClientID   = "1234567890.1710406800"                   // Google Analytics client ID (WebView)
	SampleGMPAppID   = "1:123456789012:android:0a1b2c3d4e5f6a7b" // Firebase app ID
	SampleModel      = "Pixel 7"
	SampleOSVersion  = "14"
	SampleBuild      = "UQ1A.240205.004"
	SamplePID        = 4242
	SampleUID        = 10187
)

// ErrOtherSuite says that crypto/tls negotiated another cipher suite than
// the committed sample's TLS_AES_128_GCM_SHA256: it prefers ChaCha20 on
// CPUs without AES instructions, so the sample cannot be reproduced there.
var ErrOtherSuite = errors.New("gencap: crypto/tls did not choose TLS 1.3 with TLS_AES_128_GCM_SHA256 (it prefers ChaCha20 on CPUs without AES instructions)")

// SampleComment is the ptcpdump-style packet comment on the app's packets.
var SampleComment = fmt.Sprintf("PID: %d\nCmd: %s\nArgs: %s\nUserId: %d", SamplePID, SampleApp, SampleApp, SampleUID)

// SampleRequest is one request of the tracking sample, for tests to check
// conversion against.
type SampleRequest struct {
	Method, URL string
	Status      int
	HTTPVersion string // "HTTP/1.1" or "HTTP/2"
	TLS         bool
}

// sampleExchange is one request and its response.
type sampleExchange struct {
	method, path string
	// headers of the request after Host (HTTP/1.1) or the pseudo-headers
	// (HTTP/2), in wire order; Content-Length is added for bodies unless
	// chunked is set.
	headers [][2]string
	body    []byte
	chunked bool // send body chunked (HTTP/1.1)

	status      int
	respHeaders [][2]string
	respBody    []byte

	pause time.Duration // think time before the request
}

// sampleConn is one connection of the sample.
type sampleConn struct {
	name     string
	at       time.Duration // start, from DefaultStart
	cli, srv string
	host     string
	tls      bool
	h2       bool
	// pseudo is the order of the HTTP/2 pseudo-headers the client sends.
	pseudo    []string
	exchanges []sampleExchange
}

func (sc *sampleConn) scheme() string {
	if sc.tls {
		return "https"
	}
	return "http"
}

// TrackingRequests returns the requests of testdata/sample/tracking.pcapng
// in order, without writing it.
func TrackingRequests() []SampleRequest {
	var reqs []SampleRequest
	for _, sc := range trackingConns() {
		v := "HTTP/1.1"
		if sc.h2 {
			v = "HTTP/2"
		}
		for _, ex := range sc.exchanges {
			reqs = append(reqs, SampleRequest{Method: ex.method, URL: sc.scheme() + "://" + sc.host + ex.path, Status: ex.status, HTTPVersion: v, TLS: sc.tls})
		}
	}
	return reqs
}

// WriteTracking writes testdata/sample/tracking.pcapng: an invented
// weather app on an Android phone starts, fetches its forecast and icons
// over cleartext HTTP, and on the side reports to Firebase Analytics,
// Facebook app events and Adjust over TLS 1.3 (HTTP/1.1), and, from the
// rain radar in its WebView, to Google Analytics over TLS 1.3 and HTTP/2.
// Each tracker request has the shape its SDK sends (see adapters/data).
// The TLS key log is embedded as a Decryption Secrets Block, so readers
// decrypt without a key file, and ptcpdump-style packet comments name the
// app's process.
//
// The output is the same on every run (seeded TLS randomness, fixed
// clocks). That needs GODEBUG=cryptocustomrand=1 (see SeededRand); without
// it WriteTracking returns ErrRandIgnored. The bytes also depend on Go's
// crypto/tls (its ClientHello, and AES-GCM preferred only where the CPU
// has AES instructions).
func WriteTracking(w io.Writer) ([]SampleRequest, error) {
	if err := CheckSeededTLS(); err != nil {
		return nil, err
	}
	conns := trackingConns()
	var keylog bytes.Buffer
	var out []Conn
	for i := range conns {
		sc := &conns[i]
		c, kl, err := sc.record()
		if err != nil {
			return nil, fmt.Errorf("gencap: sample connection %s: %w", sc.name, err)
		}
		keylog.Write(kl)
		out = append(out, c)
	}
	cw, err := NewConnWriter(w, PCAPNG, DefaultStart)
	if err != nil {
		return nil, err
	}
	cw.Step, cw.Latency, cw.ACKs = 150*time.Microsecond, 14*time.Millisecond, true
	if err := cw.Secrets(keylog.Bytes()); err != nil {
		return nil, err
	}
	for i, c := range out {
		at := DefaultStart.Add(conns[i].at)
		if at.Before(cw.Clock) {
			return nil, fmt.Errorf("gencap: sample connection %s starts at %v, before the previous one ended (%v)", conns[i].name, at, cw.Clock)
		}
		cw.Clock = at
		if err := cw.WriteConn(c); err != nil {
			return nil, err
		}
	}
	return TrackingRequests(), cw.Flush()
}

// record returns the connection's wires (through Go's crypto/tls for a
// TLS connection) and its key log.
func (sc *sampleConn) record() (Conn, []byte, error) {
	c := Conn{
		Client:  netip.MustParseAddrPort(sc.cli),
		Server:  netip.MustParseAddrPort(sc.srv),
		Comment: SampleComment,
	}
	// Initial sequence numbers from the name, as random-looking as a
	// real stack's.
	h := sha256.Sum256([]byte("isn " + sc.name))
	c.ISN = [2]uint32{binary.BigEndian.Uint32(h[:]), binary.BigEndian.Uint32(h[4:])}
	var ex Exchange
	if sc.h2 {
		ex = sc.h2Exchange()
	} else {
		for _, e := range sc.exchanges {
			ex.Requests = append(ex.Requests, sc.h1Request(e))
			ex.Responses = append(ex.Responses, h1Response(e))
			ex.Pauses = append(ex.Pauses, e.pause)
		}
	}
	if !sc.tls {
		for i := range ex.Requests {
			c.Wires = append(c.Wires,
				Wire{Dir: ClientToServer, Data: ex.Requests[i], Pause: ex.Pauses[i]},
				Wire{Dir: ServerToClient, Data: ex.Responses[i]})
		}
		return c, nil, nil
	}
	cc, sc2, err := sc.tlsConfigs()
	if err != nil {
		return c, nil, err
	}
	ses, err := RecordTLS(cc, sc2, ex, true)
	if err != nil {
		return c, nil, err
	}
	if ses.State.Version != tls.VersionTLS13 || ses.State.CipherSuite != tls.TLS_AES_128_GCM_SHA256 {
		return c, nil, fmt.Errorf("%w: negotiated %s with %s", ErrOtherSuite, tls.VersionName(ses.State.Version), tls.CipherSuiteName(ses.State.CipherSuite))
	}
	c.Wires = ses.Wires
	return c, ses.KeyLog, nil
}

// tlsConfigs returns the client's and the server's configuration: a
// self-signed Ed25519 certificate for the host (Ed25519 signatures need
// no randomness), X25519 key shares only (no ML-KEM hybrid), seeded
// randomness, the connection's start as the clock, no session tickets.
func (sc *sampleConn) tlsConfigs() (client, server *tls.Config, err error) {
	start := DefaultStart.Add(sc.at)
	seed := sha256.Sum256([]byte("tracewire sample key " + sc.host))
	key := ed25519.NewKeyFromSeed(seed[:])
	tmpl := &x509.Certificate{
		SerialNumber:          new(big.Int).SetBytes(seed[:8]),
		Subject:               pkix.Name{CommonName: sc.host, Organization: []string{"tracewire sample (not a real certificate)"}},
		NotBefore:             time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:              time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		DNSNames:              []string{sc.host},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(SeededRand("cert "+sc.host), tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, fmt.Errorf("certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("certificate: %w", err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	now := func() time.Time { return start }
	alpn := []string{"http/1.1"}
	if sc.h2 {
		alpn = []string{"h2", "http/1.1"}
	}
	client = &tls.Config{
		Rand: SeededRand("client " + sc.name), Time: now,
		RootCAs: roots, ServerName: sc.host, NextProtos: alpn,
		MinVersion: tls.VersionTLS13, CurvePreferences: []tls.CurveID{tls.X25519},
	}
	server = &tls.Config{
		Rand: SeededRand("server " + sc.name), Time: now,
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
		NextProtos:   alpn[:1],
		MinVersion:   tls.VersionTLS13, CurvePreferences: []tls.CurveID{tls.X25519},
		SessionTicketsDisabled: true,
	}
	return client, server, nil
}

func (sc *sampleConn) h1Request(e sampleExchange) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\n", e.method, e.path)
	for _, h := range e.headers {
		fmt.Fprintf(&b, "%s: %s\r\n", h[0], h[1])
	}
	switch {
	case e.chunked:
		b.WriteString("\r\n")
		// Two chunks, as a streaming writer sends them.
		half := len(e.body) / 2
		for _, part := range [][]byte{e.body[:half], e.body[half:]} {
			fmt.Fprintf(&b, "%x\r\n", len(part))
			b.Write(part)
			b.WriteString("\r\n")
		}
		b.WriteString("0\r\n\r\n")
		return b.Bytes()
	case e.body != nil:
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(e.body))
	}
	b.WriteString("\r\n")
	b.Write(e.body)
	return b.Bytes()
}

func h1Response(e sampleExchange) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\n", e.status, reason(e.status))
	for _, h := range e.respHeaders {
		fmt.Fprintf(&b, "%s: %s\r\n", h[0], h[1])
	}
	if e.status != 204 && e.status != 304 {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(e.respBody))
	}
	b.WriteString("\r\n")
	b.Write(e.respBody)
	return b.Bytes()
}

func reason(status int) string {
	switch status {
	case 200:
		return "OK"
	case 204:
		return "No Content"
	case 304:
		return "Not Modified"
	}
	return "Status " + strconv.Itoa(status)
}

// h2Exchange turns the exchanges into HTTP/2: the client's preface and
// SETTINGS come with the first request, the server's SETTINGS with the
// first response, and the client acknowledges them at once (a last write
// that needs no answer when there is a single request). Stream i is 2i+1.
func (sc *sampleConn) h2Exchange() Exchange {
	h := newH2Conn()
	var ex Exchange
	for i, e := range sc.exchanges {
		stream := uint32(2*i + 1)
		w := h.write(ClientToServer)
		switch i {
		case 0:
			w.preface(http2.Setting{ID: http2.SettingHeaderTableSize, Val: 65536},
				http2.Setting{ID: http2.SettingEnablePush, Val: 0},
				http2.Setting{ID: http2.SettingInitialWindowSize, Val: 6291456},
				http2.Setting{ID: http2.SettingMaxHeaderListSize, Val: 262144})
		case 1:
			w.settingsAck()
		}
		pseudo := map[string]string{":method": e.method, ":path": e.path, ":authority": sc.host, ":scheme": "https"}
		var kv []string
		for _, p := range sc.pseudo {
			kv = append(kv, p, pseudo[p])
		}
		for _, hd := range e.headers {
			kv = append(kv, hd[0], hd[1])
		}
		w.headers(stream, len(e.body) == 0, kv...)
		if len(e.body) > 0 {
			w.data(stream, true, e.body)
		}
		r := h.write(ServerToClient)
		if i == 0 {
			r.settings(http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: 100},
				http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1048576},
				http2.Setting{ID: http2.SettingMaxHeaderListSize, Val: 65536}).settingsAck()
		}
		kv = []string{":status", strconv.Itoa(e.status)}
		for _, hd := range e.respHeaders {
			kv = append(kv, hd[0], hd[1])
		}
		r.headers(stream, len(e.respBody) == 0, kv...)
		if len(e.respBody) > 0 {
			r.data(stream, true, e.respBody)
		}
		ex.Requests = append(ex.Requests, bytes.Clone(w.bytes()))
		ex.Responses = append(ex.Responses, bytes.Clone(r.bytes()))
		ex.Pauses = append(ex.Pauses, e.pause)
	}
	if len(sc.exchanges) == 1 {
		ack := h.write(ClientToServer).settingsAck()
		ex.Requests = append(ex.Requests, bytes.Clone(ack.bytes()))
		ex.Responses = append(ex.Responses, nil)
		ex.Pauses = append(ex.Pauses, 0)
	}
	return ex
}

func md5sum(s string) [16]byte { return md5.Sum([]byte(s)) }

func gzipped(b []byte) []byte {
	var z bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&z, gzip.DefaultCompression)
	zw.Write(b)
	zw.Close()
	return z.Bytes()
}

// form encodes key/value pairs in the given order (url.Values sorts).
func form(kv ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(kv[i]))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(kv[i+1]))
	}
	return b.String()
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

const (
	dalvikUA  = "Dalvik/2.1.0 (Linux; U; Android " + SampleOSVersion + "; " + SampleModel + " Build/" + SampleBuild + ")"
	webViewUA = "Mozilla/5.0 (Linux; Android " + SampleOSVersion + "; " + SampleModel + " Build/" + SampleBuild + "; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/122.0.6261.119 Mobile Safari/537.36"
	appUA     = "WeatherApp/" + SampleAppVersion + " (Android " + SampleOSVersion + "; " + SampleModel + ")"
	date      = "Thu, 14 Mar 2024 09:00:01 GMT"
)

func trackingConns() []sampleConn {
	// The app's own API, in cleartext: the forecast and the weather alerts
	// near the phone (no tracker: nothing is reported).
	forecast := []byte(`{"city":"Berlin","units":"metric","days":[{"date":"2024-03-14","min":3,"max":11,"sky":"cloudy"},{"date":"2024-03-15","min":5,"max":14,"sky":"sun"}]}`)
	api := sampleConn{name: "api", at: 0, cli: "10.0.0.23:44310", srv: "198.51.100.80:80", host: "api.example-weather.test", exchanges: []sampleExchange{
		{method: "GET", path: "/v2/forecast?city=Berlin&units=metric",
			headers: [][2]string{{"Host", "api.example-weather.test"}, {"User-Agent", appUA}, {"Accept-Encoding", "gzip"}},
			status:  200, respHeaders: [][2]string{{"Date", date}, {"Content-Type", "application/json"}, {"Content-Encoding", "gzip"}}, respBody: gzipped(forecast)},
		{method: "GET", path: "/v2/alerts?lat=52.5200&lon=13.4050", pause: 40 * time.Millisecond,
			headers: [][2]string{{"Host", "api.example-weather.test"}, {"User-Agent", appUA}, {"Accept-Encoding", "gzip"}},
			status:  200, respHeaders: [][2]string{{"Date", date}, {"Content-Type", "application/json"}}, respBody: []byte(`{"alerts":[]}`)},
	}}

	// Firebase Analytics (app-measurement.com): the SDK checks its
	// configuration, then uploads a gzip-compressed protobuf batch whose
	// bundle carries the app, the device and the advertising ID.
	firebase := sampleConn{name: "firebase", at: 300 * time.Millisecond, cli: "10.0.0.23:44312", srv: "203.0.113.88:443", host: "app-measurement.com", tls: true, exchanges: []sampleExchange{
		{method: "GET", path: "/config/app/" + SampleGMPAppID + "?platform=android&gmp_version=84002&runtime_version=0&app_instance_id=" + SampleInstanceID,
			headers: [][2]string{{"If-Modified-Since", "Wed, 13 Mar 2024 18:12:40 GMT"}, {"User-Agent", dalvikUA}, {"Host", "app-measurement.com"}, {"Connection", "Keep-Alive"}, {"Accept-Encoding", "gzip"}},
			status:  304, respHeaders: [][2]string{{"Date", date}, {"Cache-Control", "private, max-age=0"}, {"Server", "sffe"}}},
		{method: "POST", path: "/a", pause: 850 * time.Millisecond,
			headers: [][2]string{{"Content-Encoding", "gzip"}, {"User-Agent", dalvikUA}, {"Host", "app-measurement.com"}, {"Connection", "Keep-Alive"}, {"Accept-Encoding", "gzip"}, {"Content-Type", "application/x-www-form-urlencoded"}},
			body:    gzipped(measurementBatch()),
			status:  204, respHeaders: [][2]string{{"Date", date}, {"Server", "Golfe2"}, {"Content-Type", "text/html; charset=UTF-8"}}},
	}}

	// Facebook app events: the SDK posts "fb_mobile_activate_app" as a
	// gzip-compressed, chunked form with the advertising ID, its own
	// installation ID and extinfo, a JSON array describing the device.
	extinfo := mustJSON([]any{"a2", SampleApp, 30201, SampleAppVersion, SampleOSVersion, SampleModel, "de_DE", "MEZ", "Example Mobil",
		1080, 2400, "2.63", 8, 119, 52, "Europe/Berlin"})
	events := mustJSON([]map[string]any{{"_eventName": "fb_mobile_activate_app", "_eventName_md5": fmt.Sprintf("%x", md5sum("fb_mobile_activate_app")),
		"_logTime": 1710406801, "_ui": "MainActivity", "_session_id": "4a7e2c91-5b3d-4f6a-8e1c-9d2b7f4a6c08", "fb_mobile_launch_source": "Unclassified"}})
	fbBody := form("format", "json", "sdk", "android", "custom_events", events, "event", "CUSTOM_APP_EVENTS",
		"anon_id", SampleFBAnonID, "application_tracking_enabled", "true", "advertiser_id_collection_enabled", "true",
		"advertiser_id", SampleAdID, "advertiser_tracking_enabled", "true", "extinfo", extinfo,
		"application_package_name", SampleApp) + "&"
	facebook := sampleConn{name: "facebook", at: 1400 * time.Millisecond, cli: "10.0.0.23:44316", srv: "203.0.113.77:443", host: "graph.facebook.com", tls: true, exchanges: []sampleExchange{
		{method: "POST", path: "/v17.0/123456789012345/activities",
			headers: [][2]string{{"User-Agent", "FBAndroidSDK.17.0.0"}, {"Accept-Language", "de_DE"}, {"Content-Type", "application/x-www-form-urlencoded"}, {"Content-Encoding", "gzip"},
				{"Transfer-Encoding", "chunked"}, {"Host", "graph.facebook.com"}, {"Connection", "Keep-Alive"}, {"Accept-Encoding", "gzip"}},
			body: gzipped([]byte(fbBody)), chunked: true,
			status: 200, respHeaders: [][2]string{{"Content-Type", "application/json; charset=UTF-8"}, {"facebook-api-version", "v17.0"}, {"Date", date}},
			respBody: []byte(`{"success":true}`)},
	}}

	// Adjust: the SDK's first session, a form with the advertising ID,
	// its own installation ID, the Facebook one it read, and the device.
	adjustBody := form(
		"android_uuid", SampleAdjustUUID, "api_level", "34", "app_token", "a1b2c3d4e5f6", "app_version", SampleAppVersion,
		"attribution_deeplink", "1", "connectivity_type", "1", "country", "DE", "cpu_type", "arm64-v8a",
		"created_at", "2024-03-14T10:00:01.902Z+0100", "device_manufacturer", "Google", "device_name", SampleModel, "device_type", "phone",
		"display_height", "2400", "display_width", "1080", "environment", "production", "event_buffering_enabled", "0",
		"fb_anon_id", SampleFBAnonID, "gps_adid", SampleAdID, "gps_adid_attempt", "1", "gps_adid_src", "service",
		"hardware_name", SampleBuild, "installed_at", "2024-03-14T09:58:47.211Z+0100", "language", "de",
		"needs_response_details", "1", "os_build", SampleBuild, "os_name", "android", "os_version", SampleOSVersion,
		"package_name", SampleApp, "screen_density", "high", "screen_format", "long", "screen_size", "normal",
		"sent_at", "2024-03-14T10:00:01.958Z+0100", "session_count", "1", "tracking_enabled", "1", "ui_mode", "1",
		"updated_at", "2024-03-14T09:58:47.211Z+0100")
	adjust := sampleConn{name: "adjust", at: 1900 * time.Millisecond, cli: "10.0.0.23:44318", srv: "203.0.113.99:443", host: "app.adjust.com", tls: true, exchanges: []sampleExchange{
		{method: "POST", path: "/session",
			headers: [][2]string{{"Client-SDK", "android4.38.0"}, {"Content-Type", "application/x-www-form-urlencoded"}, {"User-Agent", dalvikUA},
				{"Host", "app.adjust.com"}, {"Connection", "Keep-Alive"}, {"Accept-Encoding", "gzip"}},
			body:   []byte(adjustBody),
			status: 200, respHeaders: [][2]string{{"Date", date}, {"Content-Type", "application/json"}},
			respBody: []byte(`{"app_token":"a1b2c3d4e5f6","adid":"5e2b8c4f1a7d3e9b6c0f2a8d4b7e1c3f","timestamp":"2024-03-14T09:00:02.104Z+0000","message":"Session tracked"}`)},
	}}

	// An icon from the app's CDN, in cleartext (no tracker).
	icon := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00\x1f\xf3\xffa")
	cdn := sampleConn{name: "cdn", at: 2600 * time.Millisecond, cli: "10.0.0.23:44320", srv: "198.51.100.81:80", host: "cdn.example-weather.test", exchanges: []sampleExchange{
		{method: "GET", path: "/icons/cloudy.png",
			headers: [][2]string{{"Host", "cdn.example-weather.test"}, {"User-Agent", appUA}, {"Accept-Encoding", "gzip"}},
			status:  200, respHeaders: [][2]string{{"Date", date}, {"Content-Type", "image/png"}}, respBody: icon},
	}}

	// The rain radar, a web page in the app's WebView, loads gtag.js,
	// which sends a Google Analytics 4 page_view over HTTP/2 (Chrome's
	// header order, client hints in the query).
	ga := form("v", "2", "tid", "G-EXAMPLE123", "gtm", "45je4370v9123456789za200", "_p", "1710406806512",
		"gcs", "G111", "gcd", "13l3l3l3l1", "npa", "0", "dma", "0", "cid", SampleClientID, "ul", "de-de", "sr", "412x915",
		"uaa", "arm", "uab", "64", "uafvl", "Chromium;122.0.6261.119|Android%20WebView;122.0.6261.119", "uamb", "1",
		"uam", SampleModel, "uap", "Android", "uapv", "14.0.0", "uaw", "0", "are", "1", "frm", "0", "pscdl", "noapi",
		"_s", "1", "sid", "1710406806", "sct", "1", "seg", "0",
		"dl", "https://radar.example-weather.test/map?city=Berlin", "dt", "Regenradar",
		"en", "page_view", "_fv", "1", "_nsi", "1", "_ss", "1", "tfd", "618")
	analytics := sampleConn{name: "analytics", at: 6500 * time.Millisecond, cli: "10.0.0.23:44326", srv: "203.0.113.66:443", host: "region1.google-analytics.com",
		tls: true, h2: true, pseudo: []string{":method", ":authority", ":scheme", ":path"}, exchanges: []sampleExchange{
			{method: "POST", path: "/g/collect?" + ga,
				headers: [][2]string{{"content-length", "0"}, {"sec-ch-ua-platform", `"Android"`}, {"user-agent", webViewUA},
					{"sec-ch-ua", `"Chromium";v="122", "Not(A:Brand";v="24", "Android WebView";v="122"`}, {"sec-ch-ua-mobile", "?1"},
					{"accept", "*/*"}, {"origin", "https://radar.example-weather.test"}, {"x-requested-with", SampleApp},
					{"sec-fetch-site", "cross-site"}, {"sec-fetch-mode", "no-cors"}, {"sec-fetch-dest", "empty"},
					{"referer", "https://radar.example-weather.test/"}, {"accept-encoding", "gzip, deflate, br"},
					{"accept-language", "de-DE,de;q=0.9,en-US;q=0.8,en;q=0.7"}, {"priority", "u=4, i"}},
				status: 204, respHeaders: [][2]string{{"access-control-allow-origin", "https://radar.example-weather.test"},
					{"access-control-allow-credentials", "true"}, {"date", "Thu, 14 Mar 2024 09:00:06 GMT"},
					{"content-type", "text/plain"}, {"cross-origin-resource-policy", "cross-origin"}, {"server", "Golfe2"}, {"content-length", "0"}}},
		}}
	return []sampleConn{api, firebase, facebook, adjust, cdn, analytics}
}

// measurementBatch is a Firebase Analytics upload: field 1 holds one
// bundle per upload; the bundle has the events (2) with their parameters,
// the user properties (3), timestamps, and the app and device fields the
// google/app-measurement adapter reads (8 platform, 9 OS version,
// 14 app ID, 16 app version, 19 advertising ID), besides others (10 model,
// 11 language, 21 app instance ID, 25 Firebase app ID).
func measurementBatch() []byte {
	param := func(name, s string, n int64) []byte {
		p := pbString(nil, 1, name)
		if s != "" {
			return pbString(p, 2, s)
		}
		return pbVarint(p, 3, uint64(n))
	}
	event := func(name string, at int64, params ...[]byte) []byte {
		var e []byte
		for _, p := range params {
			e = pbBytes(e, 1, p)
		}
		e = pbString(e, 2, name)
		return pbVarint(e, 3, uint64(at))
	}
	userProp := func(name string, at int64, s string, n int64) []byte {
		u := pbVarint(nil, 1, uint64(at))
		u = pbString(u, 2, name)
		if s != "" {
			return pbString(u, 3, s)
		}
		return pbVarint(u, 4, uint64(n))
	}
	const t0 = 1710406800412 // ms
	var b []byte
	b = pbVarint(b, 1, 1)
	b = pbBytes(b, 2, event("_f", t0, param("_o", "auto", 0), param("_r", "", 1), param("_c", "", 1), param("_uwa", "", 0)))
	b = pbBytes(b, 2, event("_s", t0+3, param("_o", "auto", 0), param("_sid", "", 1710406800), param("_sno", "", 1)))
	b = pbBytes(b, 3, userProp("_fot", t0, "", 1710410400000))
	b = pbBytes(b, 3, userProp("_fi", t0, "", 1))
	b = pbBytes(b, 3, userProp("_sid", t0+3, "", 1710406800))
	b = pbVarint(b, 4, t0+1150)
	b = pbVarint(b, 5, t0)
	b = pbVarint(b, 6, t0+3)
	b = pbString(b, 8, "android")
	b = pbString(b, 9, SampleOSVersion)
	b = pbString(b, 10, SampleModel)
	b = pbString(b, 11, "de-de")
	b = pbVarint(b, 12, 60)
	b = pbString(b, 13, "manual_install")
	b = pbString(b, 14, SampleApp)
	b = pbString(b, 16, SampleAppVersion)
	b = pbVarint(b, 17, 84002)
	b = pbVarint(b, 18, 240304)
	b = pbString(b, 19, SampleAdID)
	b = pbVarint(b, 20, 0)
	b = pbString(b, 21, SampleInstanceID)
	b = pbString(b, 25, SampleGMPAppID)
	return pbBytes(nil, 1, b)
}

func pbVarint(b []byte, field int, v uint64) []byte {
	b = appendUvarint(b, uint64(field<<3))
	return appendUvarint(b, v)
}

func pbString(b []byte, field int, s string) []byte {
	return pbBytes(b, field, []byte(s))
}

func pbBytes(b []byte, field int, v []byte) []byte {
	b = appendUvarint(b, uint64(field<<3|2))
	b = appendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

func appendUvarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}
