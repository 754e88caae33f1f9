package enrich

import (
	"context"
	"fmt"
	"iter"
	"net/netip"
	"strings"
	"testing"

	json "github.com/go-json-experiment/json/v1"
	"github.com/tracewire/tracewire/communityid"
	"github.com/tracewire/tracewire/har"
)

// Shared fixtures: one device (10.8.0.2) talking to two servers.
var (
	devV4   = netip.MustParseAddr("10.8.0.2")
	srvA    = netip.MustParseAddr("93.184.216.34")
	srvB    = netip.MustParseAddr("151.101.1.69")
	flowA   = communityid.Flow{Proto: 6, Src: devV4, Dst: srvA, SrcPort: 43210, DstPort: 443}
	flowB   = communityid.Flow{Proto: 6, Src: devV4, Dst: srvB, SrcPort: 43211, DstPort: 443}
	baseSec = 1700000000.0 // 2023-11-14T22:13:20Z
)

// entry builds a HAR entry on flow f with request and response timestamps
// (seconds); resp 0 means no response.
func entry(f communityid.Flow, req, resp float64, version string) *har.Entry {
	e := &har.Entry{
		StartedDateTime: har.TimeOf(req),
		CommunityID:     f.ID(),
		Timestamp:       req,
		Timings:         har.NoTimings,
	}
	e.Request = har.Request{Method: "GET", URL: "https://example.com/", HTTPVersion: version, HeadersSize: -1, BodySize: -1, Timestamp: req}
	e.Response = har.Response{HeadersSize: -1, BodySize: -1}
	if resp != 0 {
		e.Response.Status = 200
		e.Response.HTTPVersion = version
		e.Response.Timestamp = resp
	}
	return e
}

// piRec is a PiRogue socket trace record for tests.
type piRec struct {
	tsMs   float64
	event  string
	local  string
	lport  int
	remote string
	rport  int
	stype  string
	// stack: nil = no stack key; classes otherwise
	stack []string
	fd    int
	raw   string // when set, used as the record's JSON as is
}

func (r piRec) json() string {
	if r.raw != "" {
		return r.raw
	}
	stype := r.stype
	if stype == "" {
		stype = "tcp6"
	}
	data := map[string]any{
		"socket_fd":         r.fd,
		"socket_type":       stype,
		"pid":               4242,
		"thread_id":         4250,
		"socket_event_type": r.event,
		"dest_ip":           r.remote,
		"dest_port":         r.rport,
		"local_ip":          r.local,
		"local_port":        r.lport,
	}
	if r.stack != nil {
		var frames []map[string]any
		for i, c := range r.stack {
			frames = append(frames, map[string]any{
				"class": c, "file": c[strings.LastIndex(c, ".")+1:] + ".java", "line": 100 + i,
				"method": "m" + fmt.Sprint(i), "is_native": false, "str": c + ".m" + fmt.Sprint(i),
			})
		}
		data["stack"] = frames
	}
	b, _ := json.Marshal(map[string]any{
		"type": "socket_trace_log", "dump": "socket_trace.json", "data_type": "json",
		"timestamp": r.tsMs, "pid": 4242, "process": "com.example.app", "data": data,
	})
	return string(b)
}

// mapped writes an IPv4 address as Frida does for tcp6 sockets.
func mapped(a netip.Addr) string { return "::ffff:" + a.String() }

// onFlow returns a record of flow f at t seconds.
func onFlow(f communityid.Flow, t float64, event string, stack ...string) piRec {
	return piRec{tsMs: t * 1000, event: event, local: mapped(f.Src), lport: int(f.SrcPort), remote: mapped(f.Dst), rport: int(f.DstPort), stack: stack, fd: 87}
}

func traceJSON(recs ...piRec) string {
	var b strings.Builder
	b.WriteString("[\n")
	for i, r := range recs {
		if i > 0 {
			b.WriteString(",\n")
		}
		b.WriteString(r.json())
	}
	b.WriteString("\n]\n")
	return b.String()
}

// pipe ranges over the pipeline's entries and hands each to emit.
func pipe(ctx context.Context, p *Pipeline, src iter.Seq2[*har.Entry, error], emit func(*har.Entry) error) (*Summary, error) {
	for e, err := range p.Enrich(ctx, src) {
		if err == nil {
			err = emit(e)
		}
		if err != nil {
			return p.Summary(), err
		}
	}
	return p.Summary(), nil
}

// slice is a sequence of the entries, without error.
func slice(entries []*har.Entry) iter.Seq2[*har.Entry, error] {
	return func(yield func(*har.Entry, error) bool) {
		for _, e := range entries {
			if !yield(e, nil) {
				return
			}
		}
	}
}

// run enriches entries with the enrichers and returns the summary.
func run(t *testing.T, entries []*har.Entry, ens ...Enricher) *Summary {
	t.Helper()
	p := &Pipeline{Enrichers: ens}
	n := 0
	s, err := pipe(context.Background(), p, slice(entries), func(*har.Entry) error { n++; return nil })
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if n != len(entries) {
		t.Fatalf("emitted %d entries, want %d", n, len(entries))
	}
	return s
}

// stackOf returns the _stacktrace of the request (d = Outbound) or response.
func stackOf(e *har.Entry, d Direction) map[string]any {
	x := e.Request.Extra
	if d == Inbound {
		x = e.Response.Extra
	}
	m, _ := x["_stacktrace"].(map[string]any)
	return m
}

// tsOf returns the timestamp of the attached trace in seconds, 0 when none.
func tsOf(e *har.Entry, d Direction) float64 {
	m := stackOf(e, d)
	if m == nil {
		return 0
	}
	return m["timestamp"].(float64)
}
