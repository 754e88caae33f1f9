package enrich

import (
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	json "github.com/go-json-experiment/json/v1"
	"github.com/tracewire/tracewire/communityid"
	"github.com/tracewire/tracewire/har"
)

func readTrace(t *testing.T, js string) *SocketTrace {
	t.Helper()
	tr, err := ReadPiRogueSocketTrace(strings.NewReader(js), "socket_trace.json")
	if err != nil {
		t.Fatalf("ReadPiRogueSocketTrace: %v", err)
	}
	return tr
}

// TestPiRogueCorrelation checks which entry gets which operation, case by
// case: the expected value is the operation's timestamp in seconds (0 for
// none), for the request and the response of each entry.
func TestPiRogueCorrelation(t *testing.T) {
	b := baseSec
	tests := []struct {
		name    string
		entries []*har.Entry
		recs    []piRec
		opts    func(*CorrelationOptions)
		want    [][2]float64 // per entry: request op, response op
		counts  map[string]int
	}{
		{
			name:    "closest write before the request, closest read after the response",
			entries: []*har.Entry{entry(flowA, b+10, b+10.2, "HTTP/1.1")},
			recs: []piRec{
				onFlow(flowA, b+9.0, "write", "okhttp3.RealCall", "com.example.Api"),
				onFlow(flowA, b+9.99, "write", "okhttp3.RealCall", "com.example.Api"),
				onFlow(flowA, b+10.21, "read", "okhttp3.RealCall"),
				onFlow(flowA, b+10.5, "read", "okhttp3.RealCall"),
				onFlow(flowA, b+9.995, "connect"),
			},
			want:   [][2]float64{{b + 9.99, b + 10.21}},
			counts: map[string]int{"requests with a stack trace": 1, "responses with a stack trace": 1, "operations": 4, "conflicts": 0},
		},
		{
			name:    "window edges: 5 s before and 2 s after a request, 2 s before and 5 s after a response",
			entries: []*har.Entry{entry(flowA, b+10, b+20, "HTTP/1.1"), entry(flowB, b+10, b+20, "HTTP/1.1")},
			recs: []piRec{
				onFlow(flowA, b+5.0, "sendto"),    // exactly 5 s before: inside
				onFlow(flowA, b+25.0, "recvfrom"), // exactly 5 s after: inside
				onFlow(flowB, b+4.99, "write"),    // 5.01 s before: outside
				onFlow(flowB, b+12.01, "write"),   // 2.01 s after: outside
				onFlow(flowB, b+17.99, "read"),    // 2.01 s before: outside
				onFlow(flowB, b+25.01, "read"),    // 5.01 s after: outside
			},
			want: [][2]float64{{b + 5, b + 25}, {0, 0}},
			counts: map[string]int{
				"requests without: no operation within the window":  1,
				"responses without: no operation within the window": 1,
			},
		},
		{
			name: "entries of other flows, without community ID or timestamp, or without response get nothing",
			entries: []*har.Entry{
				entry(communityid.Flow{Proto: 6, Src: devV4, Dst: srvA, SrcPort: 5555, DstPort: 443}, b+10, b+11, "HTTP/1.1"),
				func() *har.Entry { e := entry(flowA, b+10, b+11, "HTTP/1.1"); e.CommunityID = ""; return e }(),
				func() *har.Entry {
					e := entry(flowA, 0, 0, "HTTP/1.1")
					e.Response.Status = 502
					return e
				}(),
				entry(flowA, b+10, 0, "HTTP/1.1"),
			},
			recs: []piRec{onFlow(flowA, b+9.9, "write"), onFlow(flowA, b+11.1, "read")},
			want: [][2]float64{{0, 0}, {0, 0}, {0, 0}, {b + 9.9, 0}},
			counts: map[string]int{
				"requests without: no records for the flow":  1,
				"responses without: no records for the flow": 1,
				"requests without: no community ID":          1,
				"responses without: no community ID":         1,
				"requests without: no timestamp":             1,
				"responses without: no timestamp":            1,
				"entries without a response":                 1,
			},
		},
		{
			// Greedy closest-first gives the write at 11.0 to the request at
			// 10.95 and leaves the one at 11.05 with none or the far one;
			// the time-ordered assignment pairs both.
			name:    "one-to-one assignment beats greedy closest",
			entries: []*har.Entry{entry(flowA, b+10.95, 0, "HTTP/1.1"), entry(flowA, b+11.05, 0, "HTTP/1.1")},
			recs:    []piRec{onFlow(flowA, b+10.0, "write"), onFlow(flowA, b+11.0, "write")},
			want:    [][2]float64{{b + 10, 0}, {b + 11, 0}},
			counts:  map[string]int{"requests with a stack trace": 2, "conflicts": 1},
		},
		{
			name:    "two requests, one operation: the nearer gets it and the conflict is reported",
			entries: []*har.Entry{entry(flowA, b+10.0, 0, "HTTP/1.1"), entry(flowA, b+10.5, 0, "HTTP/1.1")},
			recs:    []piRec{onFlow(flowA, b+10.45, "write")},
			want:    [][2]float64{{0, 0}, {b + 10.45, 0}},
			counts:  map[string]int{"requests with a stack trace": 1, "requests without: operations taken by nearer entries": 1, "conflicts": 1},
		},
		{
			name: "HTTP/2 streams in one frame share one operation; HTTP/1 ones do not",
			entries: []*har.Entry{
				entry(flowA, b+10.0, b+10.3, "HTTP/2"), entry(flowA, b+10.0, b+10.3, "HTTP/2"), entry(flowA, b+10.0, b+10.4, "HTTP/2"),
				entry(flowB, b+10.0, 0, "HTTP/1.1"), entry(flowB, b+10.0, 0, "HTTP/1.1"),
			},
			recs: []piRec{
				onFlow(flowA, b+9.98, "write"), onFlow(flowA, b+10.31, "read"), onFlow(flowA, b+10.41, "read"),
				onFlow(flowB, b+9.98, "write"),
			},
			want: [][2]float64{{b + 9.98, b + 10.31}, {b + 9.98, b + 10.31}, {b + 9.98, b + 10.41}, {b + 9.98, 0}, {0, 0}},
			counts: map[string]int{
				"requests with a stack trace":                          4,
				"requests sharing an HTTP/2 frame's operation":         2,
				"responses sharing an HTTP/2 frame's operation":        1,
				"requests without: operations taken by nearer entries": 1,
			},
		},
		{
			name:    "time shift moves the entry onto the device clock",
			entries: []*har.Entry{entry(flowA, b+10, 0, "HTTP/1.1")},
			recs:    []piRec{onFlow(flowA, b+9.99-30, "write"), onFlow(flowA, b+9.0, "write")},
			opts:    func(o *CorrelationOptions) { o.TimeShift = -30 * time.Second },
			want:    [][2]float64{{b + 9.99 - 30, 0}},
		},
		{
			name:    "narrower configured window",
			entries: []*har.Entry{entry(flowA, b+10, 0, "HTTP/1.1")},
			recs:    []piRec{onFlow(flowA, b+9.0, "write")},
			opts:    func(o *CorrelationOptions) { o.Request.Before = 500 * time.Millisecond },
			want:    [][2]float64{{0, 0}},
		},
		{
			name:    "UDP and TCP flows with the same addresses are different flows",
			entries: []*har.Entry{entry(flowA, b+10, 0, "HTTP/1.1")},
			recs: []piRec{
				func() piRec { r := onFlow(flowA, b+9.999, "sendto"); r.stype = "udp6"; return r }(),
				onFlow(flowA, b+9.5, "write"),
			},
			want: [][2]float64{{b + 9.5, 0}},
		},
		{
			name:    "greedy fallback when a flow has too many candidates",
			entries: []*har.Entry{entry(flowA, b+10.95, 0, "HTTP/1.1"), entry(flowA, b+11.05, 0, "HTTP/1.1")},
			recs:    []piRec{onFlow(flowA, b+10.0, "write"), onFlow(flowA, b+11.0, "write")},
			opts:    func(o *CorrelationOptions) { o.MaxCells = 1 },
			// Greedy in time order: 10.95 takes 11.0, 11.05 finds nothing after it.
			want:   [][2]float64{{b + 11, 0}, {0, 0}},
			counts: map[string]int{"conflicts": 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := readTrace(t, traceJSON(tc.recs...))
			opts := DefaultCorrelation()
			if tc.opts != nil {
				tc.opts(&opts)
			}
			s := run(t, tc.entries, tr.Enricher(opts))
			for i, e := range tc.entries {
				got := [2]float64{tsOf(e, Outbound), tsOf(e, Inbound)}
				if math.Abs(got[0]-tc.want[i][0]) > 1e-6 || math.Abs(got[1]-tc.want[i][1]) > 1e-6 {
					t.Errorf("entry %d: got request/response operations at %.3f/%.3f, want %.3f/%.3f", i, got[0]-b, got[1]-b, tc.want[i][0]-b, tc.want[i][1]-b)
				}
			}
			r := s.Source(PiRogueSocketTraceName)
			if r == nil {
				t.Fatal("no report")
			}
			for name, want := range tc.counts {
				if got := r.Count(name); got != want {
					t.Errorf("count %q = %d, want %d (all: %v)", name, got, want, r.Counts)
				}
			}
		})
	}
}

// TestPiRogueOutputFields checks the _stacktrace object field by field
// against what pcapng-utils writes.
func TestPiRogueOutputFields(t *testing.T) {
	rec := `{"type":"socket_trace_log","dump":"socket_trace.json","data_type":"json","timestamp":1700000009990,"pid":4242,"process":"com.example.app",
	 "data":{"socket_fd":87,"socket_type":"tcp6","pid":4242,"thread_id":4250,"socket_event_type":"write",
	 "dest_ip":"::ffff:93.184.216.34","dest_port":443,"local_ip":"::ffff:10.8.0.2","local_port":43210,
	 "stack":[{"class":"java.net.SocketOutputStream","file":"SocketOutputStream.java","line":-2,"method":"socketWrite0","is_native":true,"str":"java.net.SocketOutputStream.socketWrite0(Native Method)"},
	          {"class":"okhttp3.internal.http1.Http1ExchangeCodec","file":"Http1ExchangeCodec.kt","line":120,"method":"writeRequest","is_native":false,"str":"x"},
	          {"class":"java.net.SocketOutputStream","file":"SocketOutputStream.java","line":143,"method":"write","is_native":false,"str":"y"}],
	 "extra_field":{"some_key":1}}}`
	noStack := `{"type":"socket_trace_log","timestamp":1700000010300,"pid":4242,"process":"com.example.app",
	 "data":{"socket_fd":87,"socket_type":"tcp","thread_id":4251,"socket_event_type":"read",
	 "dest_ip":"93.184.216.34","dest_port":443,"local_ip":"10.8.0.2","local_port":43210}}`
	tr := readTrace(t, "["+rec+","+noStack+"]")
	e := entry(flowA, baseSec+10, baseSec+10.25, "HTTP/1.1")
	run(t, []*har.Entry{e}, tr.Enricher(DefaultCorrelation()))

	got, _ := json.Marshal(stackOf(e, Outbound))
	want := `{"compact":["java.net.SocketOutputStream","okhttp3.internal.http1.Http1ExchangeCodec"],` +
		`"extraField":{"someKey":1},"pid":4242,"process":"com.example.app","socketEventType":"write","socketFd":87,"socketType":"tcp6",` +
		`"stack":[{"class":"java.net.SocketOutputStream","file":"SocketOutputStream.java","isNative":true,"line":-2,"method":"socketWrite0","str":"java.net.SocketOutputStream.socketWrite0(Native Method)"},` +
		`{"class":"okhttp3.internal.http1.Http1ExchangeCodec","file":"Http1ExchangeCodec.kt","isNative":false,"line":120,"method":"writeRequest","str":"x"},` +
		`{"class":"java.net.SocketOutputStream","file":"SocketOutputStream.java","isNative":false,"line":143,"method":"write","str":"y"}],` +
		`"threadId":4250,"timestamp":1700000009.99}`
	if string(got) != want {
		t.Errorf("request _stacktrace:\n got %s\nwant %s", got, want)
	}
	// The response's record has no stack and no data.pid: pcapng-utils
	// writes null stack and compact; the top-level pid stands in.
	got, _ = json.Marshal(stackOf(e, Inbound))
	want = `{"compact":null,"pid":4242,"process":"com.example.app","socketEventType":"read","socketFd":87,"socketType":"tcp","stack":null,"threadId":4251,"timestamp":1700000010.3}`
	if string(got) != want {
		t.Errorf("response _stacktrace:\n got %s\nwant %s", got, want)
	}
	// And through the HAR writer, as it lands in a file.
	out := string(har.MarshalEntry(e))
	if !strings.Contains(out, `"_stacktrace":{"compact":["java.net.SocketOutputStream"`) {
		t.Errorf("HAR output lacks the request's _stacktrace: %s", out)
	}
}

// TestPiRogueChunked reads the same file whole, byte by byte and in odd
// pieces: records cut by buffer refills must read the same.
func TestPiRogueChunked(t *testing.T) {
	var recs []piRec
	for i := 0; i < 50; i++ {
		recs = append(recs, onFlow(flowA, baseSec+float64(i), "write", "a.B", fmt.Sprintf("c.D%d", i%3)))
	}
	recs = append(recs, piRec{raw: `{"timestamp":1700000000000,"data":{"socket_type":"tcp","socket_event_type":"write","dest_ip":"1.2.3.4","dest_port":70000,"local_ip":"10.0.0.1","local_port":1}}`})
	for _, js := range []string{traceJSON(recs...), traceJSON(recs...)[:len(traceJSON(recs...))-40]} {
		whole, err := ReadPiRogueSocketTrace(strings.NewReader(js), "t.json")
		if err != nil {
			t.Fatal(err)
		}
		for name, r := range map[string]io.Reader{
			"one byte": iotest.OneByteReader(strings.NewReader(js)),
			"half":     iotest.HalfReader(strings.NewReader(js)),
			"data+EOF": iotest.DataErrReader(strings.NewReader(js)),
		} {
			got, err := ReadPiRogueSocketTrace(r, "t.json")
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if !reflect.DeepEqual(got.Stats, whole.Stats) || !reflect.DeepEqual(got.ops, whole.ops) {
				t.Errorf("%s: stats %+v, want %+v", name, got.Stats, whole.Stats)
			}
		}
	}
	// A read error is reported with the file's name.
	_, err := ReadPiRogueSocketTrace(iotest.TimeoutReader(iotest.OneByteReader(strings.NewReader(traceJSON(recs...)))), "t.json")
	if err == nil || !strings.Contains(err.Error(), "t.json") || !errors.Is(err, iotest.ErrTimeout) {
		t.Errorf("read error: %v", err)
	}
}

func TestCamelCase(t *testing.T) {
	for in, want := range map[string]string{
		"thread_id": "threadId", "is_native": "isNative", "socket_event_type": "socketEventType",
		"class": "class", "socketFD": "socketfd", "a__b--c": "aBC", "ip4addr": "ip4Addr", "": "", "_x": "x",
		"Already": "already",
	} {
		if got := camelCase(in); got != want {
			t.Errorf("camelCase(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestPiRogueMalformed covers broken files: each gives a clear error with
// its position, or a counted skip; none panics.
func TestPiRogueMalformed(t *testing.T) {
	good := onFlow(flowA, baseSec+9.9, "write", "a.B").json()
	tests := []struct {
		name    string
		in      string
		wantErr string         // substring of the error, "" for none
		skips   map[string]int // expected skip counts
		used    int
		trunc   bool
	}{
		{name: "empty file", in: "", used: 0},
		{name: "empty array", in: "[]", used: 0},
		{name: "truncated after a record", in: "[" + good + ",\n" + good[:40], used: 1, trunc: true},
		{name: "truncated without the closing bracket", in: "[" + good, used: 1, trunc: true},
		{name: "garbage between records", in: "[" + good + " x " + good + "]", wantErr: "record 1 at byte"},
		{name: "not JSON", in: "hello", wantErr: "record 0 at byte 0: invalid JSON"},
		{name: "invalid JSON inside a record", in: `[{"timestamp": 1700000000000, "data": {"dest_port": 44x3}}]`, wantErr: "socket_trace.json: record 0 at byte 54: invalid JSON: invalid character 'x' after object value"},
		{name: "data after the array", in: "[" + good + "] {}", wantErr: "after the closing ']'"},
		{
			name: "wrong types are skipped and counted",
			in: traceJSON(
				piRec{raw: `"a string"`},
				piRec{raw: `{"timestamp":"1700000000000","data":{}}`},
				piRec{raw: `{"timestamp":1700000000000,"data":[1]}`},
				piRec{raw: `{"timestamp":1700000000000}`},
				piRec{raw: `{"type":"aes_info_log","timestamp":1700000000000,"data":{}}`},
				piRec{raw: `{"timestamp":1700000000000,"data":{"socket_type":"tcp","socket_event_type":"write","dest_ip":"1.2.3.4","dest_port":"443","local_ip":"10.0.0.1","local_port":1234}}`},
				piRec{raw: `{"timestamp":1700000000000,"data":{"socket_type":"tcp","socket_event_type":"write","dest_ip":"1.2.3.4","dest_port":443,"local_ip":"10.0.0.1","local_port":1234,"stack":"oops"}}`},
				onFlow(flowA, baseSec, "write"),
			),
			skips: map[string]int{skipNotObject: 1, skipTimestamp: 1, skipNoData: 2, skipType: 1, skipPort: 1},
			used:  2,
		},
		{
			name: "ports out of range, bad addresses, mixed families, other events",
			in: traceJSON(
				func() piRec { r := onFlow(flowA, baseSec, "write"); r.rport = 70000; return r }(),
				func() piRec { r := onFlow(flowA, baseSec, "write"); r.lport = 0; return r }(),
				func() piRec { r := onFlow(flowA, baseSec, "write"); r.rport = -1; return r }(),
				func() piRec { r := onFlow(flowA, baseSec, "write"); r.remote = "999.1.1.1"; return r }(),
				func() piRec { r := onFlow(flowA, baseSec, "write"); r.remote = "2001:db8::1"; return r }(),
				func() piRec { r := onFlow(flowA, baseSec, "write"); r.stype = "unix"; return r }(),
				onFlow(flowA, baseSec, "connect"),
				onFlow(flowA, baseSec, "write"),
			),
			skips: map[string]int{skipPort: 3, skipAddress: 1, skipFlow: 1, skipSocketType: 1, skipEvent: 1},
			used:  1,
		},
		{
			name:    "timestamps in seconds instead of milliseconds",
			in:      traceJSON(onFlow(flowA, baseSec/1000, "write"), onFlow(flowA, baseSec/1000+1, "read")),
			wantErr: "socket_trace.json: record 0 at byte 2: timestamp 1700000000 looks like seconds, not milliseconds since the epoch",
		},
		{
			name:    "timestamps in microseconds",
			in:      traceJSON(onFlow(flowA, baseSec*1000, "write")),
			wantErr: "looks like microseconds, not milliseconds",
		},
		{
			name:  "a stray timestamp in seconds among milliseconds is skipped",
			in:    traceJSON(onFlow(flowA, baseSec/1000, "write"), onFlow(flowA, baseSec, "write")),
			skips: map[string]int{skipTimeUnit: 1},
			used:  1,
		},
		{name: "deep nesting", in: "[" + strings.Repeat("[", 10000), wantErr: "exceeded max depth"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := ReadPiRogueSocketTrace(strings.NewReader(tc.in), "socket_trace.json")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				var ie *InputError
				if !errors.As(err, &ie) {
					t.Errorf("error %T is not an *InputError", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if tr.Stats.Used != tc.used || tr.Len() != tc.used {
				t.Errorf("used %d records (%d operations), want %d; stats %+v", tr.Stats.Used, tr.Len(), tc.used, tr.Stats)
			}
			for reason, n := range tc.skips {
				if got := tr.Stats.Skips(reason); got != n {
					t.Errorf("skips %q = %d, want %d (%v)", reason, got, n, tr.Stats.Skipped)
				}
			}
			if (tr.Stats.Truncated != "") != tc.trunc {
				t.Errorf("truncated = %q, want %v", tr.Stats.Truncated, tc.trunc)
			}
		})
	}
}

// TestPiRogueIPv4Mapped: the same flow written with IPv4-mapped addresses,
// plain IPv4 and bracketed gets the same Community ID as the capture.
func TestPiRogueIPv4Mapped(t *testing.T) {
	for _, pair := range [][2]string{
		{"::ffff:10.8.0.2", "::ffff:93.184.216.34"},
		{"10.8.0.2", "93.184.216.34"},
		{"::ffff:10.8.0.2", "93.184.216.34"},
		{"[::ffff:10.8.0.2]", "[::FFFF:93.184.216.34]"},
	} {
		r := onFlow(flowA, baseSec+9.9, "write")
		r.local, r.remote = pair[0], pair[1]
		tr := readTrace(t, traceJSON(r))
		if got := tr.Flows(); !reflect.DeepEqual(got, []string{flowA.ID()}) {
			t.Errorf("%v: flows %v, want [%s]", pair, got, flowA.ID())
		}
	}
}

// TestGenericRepeatedNames: a name given twice keeps its last value, at any
// depth and whatever the two types (json/v2 alone decodes the second into
// the first and fails on {"a":0,"a":""}, which stopped the whole file).
func TestGenericRepeatedNames(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"":0,"":""}`, `map[:]`},
		{`{"a":"s","a":{"b":1}}`, `map[a:map[b:1]]`},
		{`{"a":{"x":1},"a":{"y":2}}`, `map[a:map[y:2]]`},
		{`{"a":[1],"a":[2,3]}`, `map[a:[2 3]]`},
		{`{"data":{"":[{"":0,"":""}]}}`, `map[data:map[:[map[:]]]]`},
		{`{"n":12345678901234567890,"i":-3,"f":1.5}`, `map[f:1.5 i:-3 n:1.2345678901234567e+19]`},
	} {
		v, err := generic([]byte(tc.in))
		if got := fmt.Sprint(v); err != nil || got != tc.want {
			t.Errorf("generic(%s) = %s, %v; want %s", tc.in, got, err, tc.want)
		}
	}
}
