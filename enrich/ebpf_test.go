package enrich

import (
	"math"
	"strings"
	"testing"

	json "github.com/go-json-experiment/json/v1"
	"github.com/tracewire/tracewire/har"
)

func TestEBPFEvents(t *testing.T) {
	// Request on flow A at +10 s, response at +10.3 s; the events are in
	// nanoseconds, one per line, with a blank line and CRLF thrown in.
	in := strings.Join([]string{
		`{"ts_ns":1700000009990000123,"pid":4242,"tid":4250,"comm":"OkHttp Dispatch","process":"com.example.app","event":"sendmsg","protocol":"tcp","local_addr":"10.8.0.2","local_port":43210,"remote_addr":"93.184.216.34","remote_port":443,"fd":87,"bytes":517,` +
			`"managed_stack":[{"function":"okhttp3.internal.http2.Http2Writer.flush","file":"Http2Writer.kt","line":123,"module":"base.apk"},{"function":"com.example.Api.send","file":"Api.java","line":7},{"function":"com.example.Api.call"}],` +
			`"native_stack":[{"module":"/apex/com.android.runtime/lib64/bionic/libc.so","function":"sendmsg","address":"0x7B8C2E1A40"},{"module":"libjavacore.so","address":1234}]}`,
		``,
		`{"ts_ns":1700000010300000000,"pid":4242,"tid":4251,"comm":"curl","event":"recvfrom","protocol":"TCP","local_addr":"::ffff:10.8.0.2","local_port":43210,"remote_addr":"::ffff:93.184.216.34","remote_port":443,"native_stack":[{"module":"/usr/lib/libssl.so.3","function":"SSL_read"},{"module":"/usr/lib/libcurl.so.4"},{"module":"/usr/lib/libssl.so.3"}]}` + "\r",
		`{"ts_ns":1700000010200000000,"pid":4242,"tid":4251,"comm":"curl","event":"connect","protocol":"tcp","local_addr":"10.8.0.2","local_port":43210,"remote_addr":"93.184.216.34","remote_port":443}`,
		`{"ts_ns":1700000010250000000,"pid":4242,"event":"tcp_probe","direction":"in","protocol":"tcp","local_addr":"10.8.0.2","local_port":43210,"remote_addr":"93.184.216.34","remote_port":443}`,
	}, "\n")
	tr, err := ReadEBPFEvents(strings.NewReader(in), "events.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if tr.Len() != 3 || tr.Stats.Skips(skipEvent) != 1 {
		t.Fatalf("got %d operations, %v skipped; want 3 and 1 connect", tr.Len(), tr.Stats.Skipped)
	}
	e := entry(flowA, baseSec+10, baseSec+10.26, "HTTP/2")
	run(t, []*har.Entry{e}, tr.Enricher(DefaultCorrelation()))

	req := stackOf(e, Outbound)
	if req == nil {
		t.Fatal("no request _stacktrace")
	}
	got, _ := json.Marshal(req)
	want := `{"bytes":517,"comm":"OkHttp Dispatch","compact":["okhttp3.internal.http2.Http2Writer","com.example.Api"],` +
		`"nativeStack":[{"address":"0x7b8c2e1a40","function":"sendmsg","module":"/apex/com.android.runtime/lib64/bionic/libc.so"},{"address":"0x4d2","module":"libjavacore.so"}],` +
		`"pid":4242,"process":"com.example.app","socketEventType":"sendmsg","socketFd":87,"socketType":"tcp",` +
		`"stack":[{"class":"okhttp3.internal.http2.Http2Writer","file":"Http2Writer.kt","isNative":false,"line":123,"method":"flush","module":"base.apk","str":"okhttp3.internal.http2.Http2Writer.flush(Http2Writer.kt:123)"},` +
		`{"class":"com.example.Api","file":"Api.java","isNative":false,"line":7,"method":"send","str":"com.example.Api.send(Api.java:7)"},` +
		`{"class":"com.example.Api","file":"","isNative":false,"method":"call","str":"com.example.Api.call(Unknown Source)"}],` +
		`"threadId":4250,"timestamp":1700000009.99}`
	if string(got) != want {
		t.Errorf("request _stacktrace:\n got %s\nwant %s", got, want)
	}
	// Nanoseconds survive: the record's time is exact to the microsecond.
	if ts := req["timestamp"].(float64); math.Abs(ts-1700000009.990000123) > 1e-6 {
		t.Errorf("timestamp %v", ts)
	}
	// The response pairs with the explicit-direction event at 10.25 s, the
	// nearest receive; with only native frames, compact lists modules.
	resp := stackOf(e, Inbound)
	if resp == nil || resp["timestamp"].(float64) != 1700000010.25 {
		t.Fatalf("response _stacktrace %v, want the event at 10.25 s", resp)
	}
	e2 := entry(flowA, baseSec+10, baseSec+10.31, "HTTP/2")
	tr, _ = ReadEBPFEvents(strings.NewReader(in), "events.jsonl")
	run(t, []*har.Entry{e2}, tr.Enricher(DefaultCorrelation()))
	got, _ = json.Marshal(stackOf(e2, Inbound))
	want = `{"comm":"curl","compact":["libssl.so.3","libcurl.so.4"],"nativeStack":[{"function":"SSL_read","module":"/usr/lib/libssl.so.3"},{"module":"/usr/lib/libcurl.so.4"},{"module":"/usr/lib/libssl.so.3"}],` +
		`"pid":4242,"process":"curl","socketEventType":"recvfrom","socketType":"tcp6","stack":null,"threadId":4251,"timestamp":1700000010.3}`
	if string(got) != want {
		t.Errorf("response _stacktrace:\n got %s\nwant %s", got, want)
	}
}

func TestEBPFMalformed(t *testing.T) {
	line := func(ts string) string {
		return `{"ts_ns":` + ts + `,"event":"write","protocol":"tcp","local_addr":"10.8.0.2","local_port":43210,"remote_addr":"93.184.216.34","remote_port":443}`
	}
	tests := []struct {
		name, in, wantErr string
		skips             map[string]int
		used              int
	}{
		{name: "milliseconds", in: line("1700000009990"), wantErr: "events.jsonl: record 0 at byte 0: ts_ns 1700000009990 is not nanoseconds since the epoch (it looks like ms"},
		{name: "boot clock", in: line("123456789012"), wantErr: "bpf_ktime_get_ns"},
		{name: "one stray unit", in: line("1700000009990") + "\n" + line("1700000009990000000"), skips: map[string]int{skipTimeUnit: 1}, used: 1},
		{
			name: "wrong types and ranges",
			in: strings.Join([]string{
				`{"ts_ns":"1700000009990000000","event":"write","protocol":"tcp"}`,
				`{"ts_ns":1700000009990000000,"event":"write","protocol":"sctp","local_addr":"10.8.0.2","local_port":1,"remote_addr":"1.2.3.4","remote_port":2}`,
				`{"ts_ns":1700000009990000000,"event":"write","protocol":"tcp","local_addr":"10.8.0.2","local_port":65536,"remote_addr":"1.2.3.4","remote_port":2}`,
				`{"ts_ns":1700000009990000000,"event":"write","protocol":"tcp","local_addr":"x","local_port":1,"remote_addr":"1.2.3.4","remote_port":2}`,
				`{"ts_ns":1700000009990000000,"event":"write","direction":"sideways","protocol":"tcp"}`,
				`{"ts_ns":1700000009990000000,"event":"write","protocol":"tcp","local_addr":"10.8.0.2","local_port":1,"remote_addr":"1.2.3.4","remote_port":2,"managed_stack":{"a":1},"native_stack":[1,2]}`,
				`[1,2,3]`,
			}, "\n"),
			skips: map[string]int{skipTimestamp: 1, skipSocketType: 1, skipPort: 1, skipAddress: 1, skipEvent: 1, skipNotObject: 1},
			used:  1,
		},
		{name: "truncated line", in: line("1700000009990000000") + "\n" + `{"ts_ns":17000000`, used: 1},
		{name: "broken JSON", in: line("1700000009990000000") + "\n" + `{"ts_ns":17,,}`, wantErr: "events.jsonl: record 1 at byte 166: invalid JSON: invalid character ',' at start of value"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := ReadEBPFEvents(strings.NewReader(tc.in), "events.jsonl")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tr.Stats.Used != tc.used {
				t.Errorf("used %d, want %d (%+v)", tr.Stats.Used, tc.used, tr.Stats)
			}
			for r, n := range tc.skips {
				if got := tr.Stats.Skips(r); got != n {
					t.Errorf("skips %q = %d, want %d (%v)", r, got, n, tr.Stats.Skipped)
				}
			}
		})
	}
}
