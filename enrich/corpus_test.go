package enrich

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	json "github.com/go-json-experiment/json/v1"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/tracewire/tracewire/communityid"
	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/internal/testutil"
	"github.com/tracewire/tracewire/pcap"
)

// These tests convert captures of the corpus with pcap.Convert and enrich
// them with traces generated from the flows of those captures: the
// Community IDs, addresses and timestamps are the capture's own.

type converted struct {
	entries []*har.Entry
	flows   map[string]pcap.FlowInfo // by Community ID
}

func convertCapture(t *testing.T, path string) *converted {
	t.Helper()
	c := &converted{flows: map[string]pcap.FlowInfo{}}
	sum, err := pcap.Convert(context.Background(), []string{path}, pcap.Options{ListFlows: true}, func(e *har.Entry) error {
		c.entries = append(c.entries, e)
		return nil
	})
	if err != nil {
		t.Fatalf("convert %s: %v", path, err)
	}
	for _, f := range sum.Flows {
		if f.Transport == "udp" {
			// DNS and the like: no socket of the traces' TCP connections.
			continue
		}
		c.flows[f.CommunityID] = f
	}
	if len(c.entries) == 0 {
		// Only the converter can cause this; the enrichment is not at fault.
		t.Skipf("pcap.Convert found no entries in %s (%d flows, warnings %v): nothing to enrich", path, len(sum.Flows), sum.Warnings)
	}
	return c
}

// opRec builds a PiRogue record of the flow of e, at t seconds (device
// clock), written as Frida does for an IPv6 socket (IPv4-mapped), with fd
// as the operation's identity in assertions.
func (c *converted) opRec(t *testing.T, e *har.Entry, at float64, event string, fd int, stack ...string) piRec {
	t.Helper()
	f, ok := c.flows[e.CommunityID]
	if !ok {
		t.Fatalf("no flow for %s", e.CommunityID)
	}
	addr := func(a netip.Addr) string {
		if a.Is4() {
			return mapped(a)
		}
		return a.String()
	}
	r := piRec{tsMs: math.Round(at * 1000), event: event, local: addr(f.Client.Addr()), lport: int(f.Client.Port()),
		remote: addr(f.Server.Addr()), rport: int(f.Server.Port()), stack: stack, fd: fd}
	if f.Client.Addr().Is6() {
		r.stype = "tcp6"
	}
	return r
}

// fdOf returns the socket_fd of the attached trace, -1 when none.
func fdOf(e *har.Entry, d Direction) int64 {
	m := stackOf(e, d)
	if m == nil {
		return -1
	}
	return m["socketFd"].(int64)
}

// pcapngUtilsKeys are the keys pcapng-utils writes in _stacktrace.
var pcapngUtilsKeys = []string{"compact", "pid", "process", "socketEventType", "socketFd", "socketType", "stack", "threadId", "timestamp"}

func keysOf(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestCorpusCryptohack is the check: TLS 1.3 + HTTP/2 decrypted with
// the capture's own secrets, a PiRogue trace on its flow, and _stacktrace on
// request and response with pcapng-utils' field names.
func TestCorpusCryptohack(t *testing.T) {
	c := convertCapture(t, testutil.Corpus(t, "tls-extra", "dsb-tls3.cryptohack.org.pcapng"))
	if len(c.entries) != 1 || c.entries[0].CommunityID != "1:PkwxzkDMtlJQNoZAUvHhxrAYeYA=" {
		t.Fatalf("want the one GET of flow 1:PkwxzkDMtlJQNoZAUvHhxrAYeYA=, got %d entries", len(c.entries))
	}
	e := c.entries[0]
	req, resp := e.Request.Timestamp, e.Response.Timestamp
	other := onFlow(communityid.Flow{Proto: 6, Src: devV4, Dst: srvA, SrcPort: 1, DstPort: 443}, req, "write")
	other.fd = 99
	js := traceJSON(
		c.opRec(t, e, req-6, "write", 10, "okhttp3.internal.http2.Http2Writer"), // outside the window
		c.opRec(t, e, req-0.003, "write", 11, "java.net.SocketOutputStream", "okhttp3.internal.http2.Http2Writer", "java.net.SocketOutputStream", "com.example.Tracker"),
		c.opRec(t, e, resp+0.002, "read", 12), // a native thread: no stack
		c.opRec(t, e, resp+0.5, "read", 13),
		c.opRec(t, e, req-0.001, "connect", 14),
		other,
	)
	tr := readTrace(t, js)
	s := run(t, c.entries, tr.Enricher(DefaultCorrelation()))

	rq, rs := stackOf(e, Outbound), stackOf(e, Inbound)
	if rq == nil || rs == nil {
		t.Fatalf("request _stacktrace %v, response _stacktrace %v", rq, rs)
	}
	for _, m := range []map[string]any{rq, rs} {
		if got := keysOf(m); !reflect.DeepEqual(got, pcapngUtilsKeys) {
			t.Errorf("_stacktrace keys %v, want pcapng-utils' %v", got, pcapngUtilsKeys)
		}
	}
	if fdOf(e, Outbound) != 11 || fdOf(e, Inbound) != 12 {
		t.Errorf("paired operations %d/%d, want 11/12", fdOf(e, Outbound), fdOf(e, Inbound))
	}
	if got := rq["compact"]; !reflect.DeepEqual(got, []any{"java.net.SocketOutputStream", "okhttp3.internal.http2.Http2Writer", "com.example.Tracker"}) {
		t.Errorf("compact %v", got)
	}
	if rq["socketType"] != "tcp6" || rq["socketEventType"] != "write" || math.Abs(rq["timestamp"].(float64)-(math.Round((req-0.003)*1000)/1000)) > 1e-9 {
		t.Errorf("request _stacktrace %v", rq)
	}
	if rs["stack"] != nil || rs["compact"] != nil {
		t.Errorf("response without a stack: %v", rs)
	}
	r := s.Source(PiRogueSocketTraceName)
	if r.Count("flows") != 2 || r.Count("operations") != 5 || r.Count("operations paired") != 2 {
		t.Errorf("counts %v", r.Counts)
	}
	// The enriched HAR is valid HAR 1.2 and carries the fields as written.
	out := filepath.Join(t.TempDir(), "out.har")
	var buf bytes.Buffer
	if err := har.Encode(&buf, &har.HAR{Log: har.Log{Entries: []har.Entry{*e}}}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(out, buf.Bytes(), 0o644)
	if !strings.Contains(buf.String(), `"_stacktrace":{"compact":["java.net.SocketOutputStream","okhttp3.internal.http2.Http2Writer","com.example.Tracker"],"pid":4242,"process":"com.example.app","socketEventType":"write","socketFd":11,"socketType":"tcp6","stack":[{"class":"java.net.SocketOutputStream","file":"SocketOutputStream.java","isNative":false,"line":100,"method":"m0","str":"java.net.SocketOutputStream.m0"}`) {
		t.Errorf("HAR output: %s", buf.String())
	}
	testutil.ValidateHAR(t, out)
}

// TestCorpusHTTP2SharedFrame: in packet-h2-14_headers.pcapng four HTTP/2
// requests travel in one frame; one socket write sent them, and all four
// get it; the other requests of the flow get their own.
func TestCorpusHTTP2SharedFrame(t *testing.T) {
	c := convertCapture(t, testutil.Corpus(t, "wireshark", "packet-h2-14_headers.pcapng"))
	byTime := map[float64][]int{}
	for i, e := range c.entries {
		byTime[e.Request.Timestamp] = append(byTime[e.Request.Timestamp], i)
	}
	var shared []int
	var times []float64
	for ts, idx := range byTime {
		times = append(times, ts)
		if len(idx) > len(shared) {
			shared = idx
		}
	}
	if len(shared) < 2 {
		t.Fatalf("no HTTP/2 frame with several requests in this capture (%d entries)", len(c.entries))
	}
	sort.Float64s(times)
	var recs []piRec
	want := map[int]int{}
	for k, ts := range times {
		fd := 20 + k
		recs = append(recs, c.opRec(t, c.entries[byTime[ts][0]], ts-0.0005, "write", fd, "okhttp3.internal.http2.Http2Writer"))
		for _, i := range byTime[ts] {
			want[i] = fd
		}
	}
	tr := readTrace(t, traceJSON(recs...))
	s := run(t, c.entries, tr.Enricher(DefaultCorrelation()))
	for i, e := range c.entries {
		if got := fdOf(e, Outbound); got != int64(want[i]) {
			t.Errorf("entry %d (%s at %.6f): operation %d, want %d", i, e.Request.URL, e.Request.Timestamp, got, want[i])
		}
	}
	r := s.Source(PiRogueSocketTraceName)
	if got := r.Count("requests sharing an HTTP/2 frame's operation"); got != len(shared)-1 {
		t.Errorf("shared %d, want %d", got, len(shared)-1)
	}
	if r.Count("conflicts") != 0 {
		t.Errorf("conflicts %v", r.Notes)
	}
}

// TestCorpusManyFlows pairs 42 requests on 17 flows of pcapr.net.pcap with
// a generated trace: a device clock 120 s ahead (undone by the time shift),
// keep-alive flows with several requests, one flow without records, one
// request whose write is outside the window, and one response read twice.
func TestCorpusManyFlows(t *testing.T) {
	c := convertCapture(t, testutil.Corpus(t, "pcap2har", "pcapr.net.pcap"))
	if len(c.entries) != 42 {
		t.Fatalf("%d entries, want 42", len(c.entries))
	}
	const skew = 120.0
	noRecords := c.entries[0].CommunityID
	var recs []piRec
	wantReq, wantResp := map[int]int{}, map[int]int{}
	outside := -1
	for i, e := range c.entries {
		if e.CommunityID == noRecords {
			continue
		}
		req, resp := e.Request.Timestamp+skew, e.Response.Timestamp+skew
		if outside < 0 && i > 10 {
			outside = i
			recs = append(recs, c.opRec(t, e, req-5.5, "write", 1000+i))
		} else {
			// Request writes 1 to 40 ms before the request, varying.
			recs = append(recs, c.opRec(t, e, req-0.001*float64(1+i%40), "sendto", 1000+i, "com.example.Net"))
			wantReq[i] = 1000 + i
		}
		if resp > skew {
			recs = append(recs, c.opRec(t, e, resp+0.001, "recvfrom", 2000+i))
			recs = append(recs, c.opRec(t, e, resp+0.004, "read", 3000+i))
			wantResp[i] = 2000 + i
		}
	}
	tr := readTrace(t, traceJSON(recs...))
	opts := DefaultCorrelation()
	opts.TimeShift = skew * time.Second
	s := run(t, c.entries, tr.Enricher(opts))
	noFlow := 0
	for i, e := range c.entries {
		wq, ok := wantReq[i]
		if !ok {
			wq = -1
		}
		wr, ok := wantResp[i]
		if !ok {
			wr = -1
		}
		if got := fdOf(e, Outbound); got != int64(wq) {
			t.Errorf("entry %d request: operation %d, want %d", i, got, wq)
		}
		if got := fdOf(e, Inbound); got != int64(wr) {
			t.Errorf("entry %d response: operation %d, want %d", i, got, wr)
		}
		if e.CommunityID == noRecords {
			noFlow++
		}
	}
	// The request whose own write is too early may still have the writes
	// of its flow's other requests in its window: then it lost them to
	// nearer requests (a conflict), else it had none.
	oe := c.entries[outside]
	inWindow := 0
	for i, e := range c.entries {
		if _, ok := wantReq[i]; ok && i != outside && e.CommunityID == oe.CommunityID {
			d := e.Request.Timestamp - 0.001*float64(1+i%40) - oe.Request.Timestamp
			if d >= -5 && d <= 2 {
				inWindow++
			}
		}
	}
	taken, none := 0, 1
	if inWindow > 0 {
		taken, none = 1, 0
	}
	r := s.Source(PiRogueSocketTraceName)
	for name, want := range map[string]int{
		"requests with a stack trace":                          len(wantReq),
		"responses with a stack trace":                         len(wantResp),
		"requests without: no records for the flow":            noFlow,
		"requests without: no operation within the window":     none,
		"responses without: no records for the flow":           noFlow,
		"requests without: operations taken by nearer entries": taken,
		"conflicts": taken,
	} {
		if got := r.Count(name); got != want {
			t.Errorf("%s = %d, want %d", name, got, want)
		}
	}
	// Without the shift, nothing pairs: the clocks are two minutes apart.
	for _, e := range c.entries {
		delete(e.Request.Extra, "_stacktrace")
		delete(e.Response.Extra, "_stacktrace")
	}
	s = run(t, c.entries, tr.Enricher(DefaultCorrelation()))
	if got := s.Source(PiRogueSocketTraceName).Count("requests with a stack trace"); got != 0 {
		t.Errorf("without the time shift %d requests paired", got)
	}
}

// rewriteWithComments copies the packets of a pcap into a pcapng whose
// packets carry the comments comment(i, packet) returns.
func rewriteWithComments(t *testing.T, in string, comment func(i int, p gopacket.Packet) []string) string {
	t.Helper()
	fh, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	r, err := pcapgo.NewReader(fh)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "ptcpdump.pcapng")
	of, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer of.Close()
	w, err := pcapgo.NewNgWriter(of, r.LinkType())
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			break
		}
		p := gopacket.NewPacket(data, r.LinkType(), gopacket.Default)
		ci.InterfaceIndex = 0
		if err := w.WritePacketWithOptions(ci, data, pcapgo.NgPacketOptions{Comments: comment(i, p)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCorpusPtcpdump writes ptcpdump's comments into the packets of
// fhs.pcap (6 flows), one process per client port, and checks that each
// entry gets the process of its packets.
func TestCorpusPtcpdump(t *testing.T) {
	procOf := func(port uint16) []string {
		return []string{
			fmt.Sprintf("PID: %d\nCmd: /usr/bin/firefox\nArgs: firefox --tab %d", 4000+port%100, port),
			"ParentPID: 1\nParentCmd: /sbin/init\nParentArgs: init",
			"ContainerName: browser\nContainerId: 3f2a\nContainerImage: firefox:115\nContainerLabels: {}",
		}
	}
	path := rewriteWithComments(t, testutil.Corpus(t, "pcap2har", "fhs.pcap"), func(_ int, p gopacket.Packet) []string {
		tcp, ok := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if !ok {
			return []string{"not a TCP packet"}
		}
		port := uint16(tcp.SrcPort)
		if tcp.SrcPort == 80 {
			port = uint16(tcp.DstPort)
		}
		return procOf(port)
	})
	c := convertCapture(t, path)
	s := run(t, c.entries, Ptcpdump())
	for i, e := range c.entries {
		f := c.flows[e.CommunityID]
		want := ParsePtcpdumpComments(procOf(f.Client.Port()))[0]
		got, _ := e.Extra["_process"].(map[string]any)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("entry %d (port %d): _process %v, want %v", i, f.Client.Port(), got, want)
		}
		if p, _ := got["container"].(map[string]any); p["image"] != "firefox:115" {
			t.Errorf("entry %d: container %v", i, got["container"])
		}
	}
	r := s.Source(PtcpdumpName)
	if r.Count("entries with a process") != len(c.entries) || r.Count("distinct PIDs") != len(c.flows) {
		t.Errorf("counts %v (entries %d, flows %d)", r.Counts, len(c.entries), len(c.flows))
	}
}

// TestCorpusProvenance finds the Google Analytics beacon of pcapr.net.pcap
// by a sample of what it sent, and only within the time window.
func TestCorpusProvenance(t *testing.T) {
	c := convertCapture(t, testutil.Corpus(t, "pcap2har", "pcapr.net.pcap"))
	beacon := -1
	for i, e := range c.entries {
		if strings.Contains(e.Request.URL, "__utm.gif") {
			beacon = i
			break
		}
	}
	if beacon < 0 {
		t.Fatal("no __utm.gif request")
	}
	e := c.entries[beacon]
	u, err := url.Parse(e.Request.URL)
	if err != nil {
		t.Fatal(err)
	}
	sample := u.Query().Get("utmn") // the beacon's random number
	if len(sample) < MinProvenanceSample {
		t.Fatalf("utmhn %q", sample)
	}
	at := func(d float64) string { return har.TimeOf(e.Request.Timestamp + d).Format(time.RFC3339Nano) }
	log := fmt.Sprintf(`{"sink":"https","ts":%q,"owners":["visitor-1"],"data":%q}
{"sink":"https","ts":%q,"owners":["visitor-2"],"data":%q}
{"sink":"file_write","ts":%q,"dest":"/var/log/ga.log","owners":["visitor-1"],"data":%q}
`, at(-0.5), sample, at(-60), sample, at(-1), sample)
	p, err := ReadProvenance(strings.NewReader(log), "provenance.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	s := run(t, c.entries, p.Enricher(DefaultProvenanceOptions()))
	for i, en := range c.entries {
		got := en.Extra["_owners"]
		if i == beacon {
			if !reflect.DeepEqual(got, []any{"visitor-1"}) {
				t.Errorf("beacon _owners %v", got)
			}
		} else if got != nil {
			t.Errorf("entry %d (%s) got owners %v", i, en.Request.URL, got)
		}
	}
	r := s.Source(ProvenanceName)
	if r.Count("network events found in no request") != 1 || r.Count("other sink events") != 1 {
		t.Errorf("counts %v", r.Counts)
	}
}

// TestCorpusDecryption: a response body of fhs.pcap (a PNG) is recorded by
// a generated aes_info.json as the ciphertext of a decryption; that
// response alone is replaced.
func TestCorpusDecryption(t *testing.T) {
	c := convertCapture(t, testutil.Corpus(t, "pcap2har", "fhs.pcap"))
	target := -1
	var body []byte
	for i, e := range c.entries {
		if strings.HasSuffix(e.Request.URL, "dir-closed.png") {
			target = i
			body, _ = e.Response.Content.Body()
		}
	}
	if target < 0 || len(body) < 16 {
		t.Fatalf("no PNG response (%d bytes)", len(body))
	}
	pt := []byte(`{"decrypted":"yes"}`)
	rec, _ := json.Marshal(map[string]any{"type": "aes_info_log", "timestamp": 1280286180000, "pid": 7, "process": "app",
		"data": map[string]any{"alg": "AES/CTR/NoPadding", "key": "00", "iv": "01", "in": fmt.Sprintf("%x", body), "out": fmt.Sprintf("%x", pt)}})
	a, err := ReadAESInfo(strings.NewReader("["+string(rec)+"]"), "aes_info.json")
	if err != nil {
		t.Fatal(err)
	}
	before := make([]string, len(c.entries))
	for i, e := range c.entries {
		before[i] = e.Response.Content.Text
	}
	run(t, c.entries, a.Enricher())
	for i, e := range c.entries {
		if i == target {
			if e.Response.Content.Text != string(pt) || e.Response.Extra["_decryption"] == nil {
				t.Errorf("target response %q", e.Response.Content.Text)
			}
			continue
		}
		if e.Response.Content.Text != before[i] || e.Response.Extra["_decryption"] != nil {
			t.Errorf("entry %d changed", i)
		}
	}
}
