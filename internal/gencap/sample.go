package gencap

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"time"
)

// The made-up app and device of the tracking sample. None of these values
// belongs to a real person or device.
const (
	SampleApp        = "com.example.weatherapp"
	SampleAdID       = "6f1c2a3e-8b4d-4e2f-9a1b-3c5d7e9f0a2b"
	SampleInstanceID = "f3a1c9d27b5e4c08a6d2e1f0b9c8a7d6"
	SampleClientID   = "1234567890.1710406800"
	SamplePID        = 4242
)

// SampleRequest is one request of the tracking sample, for tests to check
// conversion against.
type SampleRequest struct {
	Method, URL string
	Status      int
}

// sampleConn is one connection of the sample and its exchanges.
type sampleConn struct {
	cli, srv  string
	exchanges [][2][]byte
}

// WriteTracking writes testdata/sample/tracking.pcapng: a made-up weather
// app on a phone that fetches its forecast and, on the side, reports to
// analytics and advertising endpoints (a Google Analytics 4 collect call, a
// Facebook Graph API app event with the advertising ID, a Firebase
// app-measurement upload), all in cleartext so no key log is needed.
// Packet comments carry the app's process, as eBPF capture tools write
// them.
func WriteTracking(w io.Writer) ([]SampleRequest, error) {
	fw, err := newFileWriter(w, PCAPNG)
	if err != nil {
		return nil, err
	}
	conns, reqs := trackingConns()
	clock := DefaultStart
	comment := fmt.Sprintf("PID: %d\nCommand: %s", SamplePID, SampleApp)
	seq := uint32(0x1000)
	for i, sc := range conns {
		g := &gen{fw: fw, clock: clock}
		f := &flow{
			cli:  netip.MustParseAddrPort(sc.cli),
			srv:  netip.MustParseAddrPort(sc.srv),
			cseq: seq * uint32(i+1),
			sseq: 0x7000000 + seq*uint32(i+3),
		}
		f.queue = append(f.queue,
			segment{src: f.cli, dst: f.srv, seq: f.cseq, flags: flSYN},
			segment{src: f.srv, dst: f.cli, seq: f.sseq, ack: f.cseq + 1, flags: flSYN | flACK},
			segment{src: f.cli, dst: f.srv, seq: f.cseq + 1, ack: f.sseq + 1, flags: flACK},
		)
		f.cseq++
		f.sseq++
		for _, ex := range sc.exchanges {
			g.message(f, true, ex[0])
			g.message(f, false, ex[1])
		}
		f.left = 0
		g.refill(f) // the close
		for j := range f.queue {
			s := &f.queue[j]
			clock = clock.Add(3*time.Millisecond + time.Duration(j%5)*time.Millisecond)
			s.at = clock
			if s.src == f.cli && len(s.payload) > 0 {
				s.comment = comment
			}
			if err := fw.packet(s); err != nil {
				return nil, err
			}
		}
		clock = clock.Add(400 * time.Millisecond)
	}
	return reqs, fw.flush()
}

func trackingConns() ([]sampleConn, []SampleRequest) {
	var reqs []SampleRequest
	ex := func(method, host, target, ctype string, body []byte, resp []byte, status int) [2][]byte {
		var b bytes.Buffer
		fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: WeatherApp/3.2.1 (Android 14; Pixel 7)\r\n", method, target, host)
		if body != nil {
			fmt.Fprintf(&b, "Content-Type: %s\r\nContent-Length: %d\r\n", ctype, len(body))
		}
		b.WriteString("Accept-Encoding: gzip\r\n\r\n")
		b.Write(body)
		reqs = append(reqs, SampleRequest{Method: method, URL: "http://" + host + target, Status: status})
		return [2][]byte{bytes.Clone(b.Bytes()), resp}
	}
	resp := func(status int, reason, ctype string, body []byte, gz bool) []byte {
		var b bytes.Buffer
		fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\nDate: Thu, 14 Mar 2024 09:00:01 GMT\r\n", status, reason)
		if ctype != "" {
			fmt.Fprintf(&b, "Content-Type: %s\r\n", ctype)
		}
		if gz {
			var z bytes.Buffer
			zw := gzip.NewWriter(&z)
			zw.Write(body)
			zw.Close()
			body = z.Bytes()
			b.WriteString("Content-Encoding: gzip\r\n")
		}
		if status != 204 && status != 304 {
			fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
		}
		b.WriteString("\r\n")
		b.Write(body)
		return b.Bytes()
	}

	forecast := []byte(`{"city":"Berlin","units":"metric","days":[{"date":"2024-03-14","min":3,"max":11,"sky":"cloudy"},{"date":"2024-03-15","min":5,"max":14,"sky":"sun"}]}`)
	api := sampleConn{cli: "10.0.0.23:44310", srv: "198.51.100.80:80", exchanges: [][2][]byte{
		ex("GET", "api.example-weather.test", "/v2/forecast?city=Berlin&units=metric", "", nil,
			resp(200, "OK", "application/json", forecast, true), 200),
		ex("GET", "api.example-weather.test", "/v2/alerts?lat=52.5200&lon=13.4050", "", nil,
			resp(200, "OK", "application/json", []byte(`{"alerts":[]}`), false), 200),
	}}

	ga := url.Values{}
	ga.Set("v", "2")
	ga.Set("tid", "G-EXAMPLE123")
	ga.Set("cid", SampleClientID)
	ga.Set("en", "screen_view")
	ga.Set("ep.screen_name", "Forecast")
	ga.Set("ul", "de-de")
	ga.Set("sr", "1080x2400")
	analytics := sampleConn{cli: "10.0.0.23:44312", srv: "203.0.113.66:80", exchanges: [][2][]byte{
		ex("POST", "www.google-analytics.com", "/g/collect?"+ga.Encode(), "text/plain;charset=UTF-8", []byte{},
			resp(204, "No Content", "", nil, false), 204),
	}}

	fb := url.Values{}
	fb.Set("event", "CUSTOM_APP_EVENTS")
	fb.Set("advertiser_id", SampleAdID)
	fb.Set("advertiser_tracking_enabled", "1")
	fb.Set("application_tracking_enabled", "1")
	fb.Set("anon_id", "XZ"+SampleInstanceID)
	fb.Set("bundle_id", SampleApp)
	fb.Set("custom_events", `[{"_eventName":"fb_mobile_activate_app","_logTime":1710406802}]`)
	facebook := sampleConn{cli: "10.0.0.23:44316", srv: "203.0.113.77:80", exchanges: [][2][]byte{
		ex("POST", "graph.facebook.com", "/v17.0/123456789012345/activities", "application/x-www-form-urlencoded", []byte(fb.Encode()),
			resp(200, "OK", "application/json", []byte(`{"success":true}`), false), 200),
	}}

	// A made-up Firebase measurement batch: protobuf fields with the app,
	// its instance ID, the advertising ID and an event name.
	var pb []byte
	pb = pbString(pb, 1, SampleApp)
	pb = pbString(pb, 2, SampleInstanceID)
	pb = pbString(pb, 3, SampleAdID)
	pb = pbString(pb, 4, "_s")
	pb = pbVarint(pb, 5, 1710406803000)
	measurement := sampleConn{cli: "10.0.0.23:44320", srv: "203.0.113.88:80", exchanges: [][2][]byte{
		ex("POST", "app-measurement.com", "/a", "application/x-protobuf", pb,
			resp(204, "No Content", "", nil, false), 204),
	}}

	icon := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00\x1f\xf3\xffa")
	cdn := sampleConn{cli: "10.0.0.23:44324", srv: "198.51.100.81:80", exchanges: [][2][]byte{
		ex("GET", "cdn.example-weather.test", "/icons/cloudy.png", "", nil,
			resp(200, "OK", "image/png", icon, false), 200),
	}}
	return []sampleConn{api, analytics, facebook, measurement, cdn}, reqs
}

func pbVarint(b []byte, field int, v uint64) []byte {
	b = appendUvarint(b, uint64(field<<3))
	return appendUvarint(b, v)
}

func pbString(b []byte, field int, s string) []byte {
	b = appendUvarint(b, uint64(field<<3|2))
	b = appendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendUvarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}
