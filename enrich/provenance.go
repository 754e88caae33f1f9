package enrich

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/tracewire/tracewire/har"
)

// A provenance log comes from a backend instrumented to log each time a
// user's data reaches an output (a "sink"): concatenated or line-delimited
// JSON objects
//
//	{"sink": "socket_send|http|https|file_write|stdout|…", "ts": "2025-12-12T08:34:00Z",
//	 "source": "db.users.email", "pid": 311, "dest": "graph.facebook.com:443",
//	 "owners": ["alice@example.com"], "data": "<a sample of the data written>"}
//
// An event of a network sink is attached to each entry whose request
// carries its sample (in the request line, URL-decoded or not, a header, or
// the body, URL-decoded or not) within a time window of its timestamp:
// entry._owners lists the owner IDs, entry._provenance the events. Events
// of other sinks (files, stdout, logs) are summarised per owner. Every
// owner ID is an Indicator for the matching stage, so the capture of a
// backend's egress plus its provenance log says whose data went where.

// ProvenanceName names the source in summaries.
const ProvenanceName = "provenance log"

// MinProvenanceSample is the shortest sample matched against requests:
// shorter ones ("1", "en") occur everywhere by chance.
const MinProvenanceSample = 4

// DefaultProvenanceWindow: a sink event is logged as the data is written,
// so just before the request reaches the wire; timestamps with whole
// seconds need a second of slack on each side.
var DefaultProvenanceWindow = Window{Before: 10 * time.Second, After: 2 * time.Second}

// Skip reasons of provenance events.
const (
	skipNoSink  = "no sink"
	skipTS      = "bad ts"
	skipOwners  = "no owners"
	skipPartial = "owners not all strings"
)

// networkSinks are the sinks that write to the network; events of any other
// sink are never paired with a request.
var networkSinks = map[string]bool{
	"socket_send": true, "socket_write": true, "socket_sendto": true, "sendto": true, "send": true, "sendmsg": true,
	"http": true, "https": true, "http_request": true, "http_client": true, "grpc": true, "websocket": true,
	"tcp": true, "udp": true, "net": true, "network": true, "dns": true, "smtp": true, "quic": true,
}

// IsNetworkSink reports whether events of sink describe data leaving over
// the network.
func IsNetworkSink(sink string) bool {
	s := strings.ToLower(sink)
	return networkSinks[s] || strings.HasPrefix(s, "socket_") || strings.HasPrefix(s, "http") || strings.HasPrefix(s, "net_")
}

// provEvent is one sink event.
type provEvent struct {
	rec     int
	sink    string
	ts      time.Time
	t       float64
	source  string
	pid     any
	dest    string
	owners  []string
	data    string
	sample  string // data without a trailing line break, what is matched
	network bool
	matched int
}

// Provenance holds the events of a provenance log.
type Provenance struct {
	Stats  ReadStats
	events []*provEvent // network events, sorted by time
	other  []*provEvent // other sinks
	owners map[string]bool
}

// ReadProvenance reads a provenance log. name is used in messages.
func ReadProvenance(r io.Reader, name string) (*Provenance, error) {
	p := &Provenance{Stats: ReadStats{File: name}, owners: map[string]bool{}}
	err := readJSONRecords(r, &p.Stats, p.parse)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(p.events, func(i, j int) bool { return p.events[i].t < p.events[j].t })
	return p, nil
}

// provRecord is a sink event as it is decoded.
type provRecord struct {
	Sink   jstr `json:"sink"`
	TS     jstr `json:"ts"`
	Source jstr `json:"source"`
	Pid    jnum `json:"pid"`
	Dest   jstr `json:"dest"`
	Owners jval `json:"owners"`
	Data   jstr `json:"data"`
}

func (p *Provenance) parse(rec int, off int64, d *jsontext.Decoder) error {
	var x provRecord
	if err := json.UnmarshalDecode(d, &x); err != nil {
		return err
	}
	ev := &provEvent{rec: rec, sink: x.Sink.String(), source: x.Source.String(), dest: x.Dest.String(), data: x.Data.String()}
	if x.Pid.whole {
		ev.pid = x.Pid.int
	} else if x.Pid.kind == '"' {
		if s, err := jsontext.AppendUnquote(nil, x.Pid.raw); err == nil {
			ev.pid = string(s)
		}
	}
	if ev.sink == "" {
		return problem(skipNoSink, "")
	}
	if !x.TS.ok() {
		return problem(skipTS, "ts is %s, not an RFC 3339 string", kindName(x.TS.kind))
	}
	var err error
	if ev.ts, err = time.Parse(time.RFC3339Nano, x.TS.String()); err != nil {
		return problem(skipTS, "ts %q is not RFC 3339", x.TS.String())
	}
	ev.t = har.Seconds(ev.ts)
	if x.Owners.kind != '[' {
		return problem(skipOwners, "owners is %s", kindName(x.Owners.kind))
	}
	var owners []jstr
	if err := json.Unmarshal(x.Owners.raw, &owners, decodeOptions...); err != nil {
		return err
	}
	bad := false
	for i := range owners {
		if o := &owners[i]; o.ok() && len(o.b) > 0 {
			ev.owners = append(ev.owners, o.String())
		} else {
			bad = true
		}
	}
	if len(ev.owners) == 0 {
		return problem(skipOwners, "no owner IDs")
	}
	if bad {
		return problem(skipPartial, "owners %s", truncateBytes(x.Owners.raw, 80))
	}
	for _, o := range ev.owners {
		p.owners[o] = true
	}
	ev.network = IsNetworkSink(ev.sink)
	ev.sample = strings.TrimRight(ev.data, "\r\n")
	if ev.network && x.Data.ok() && len(ev.sample) >= MinProvenanceSample {
		p.events = append(p.events, ev)
	} else {
		if ev.network {
			// Kept for the owners and the summary, never paired.
			ev.network = false
			p.Stats.partial("network event without a usable sample (never paired)", rec, off, fmt.Sprintf("data %q", ev.data))
		}
		p.other = append(p.other, ev)
	}
	return nil
}

func truncateBytes(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "…"
}

// Indicators returns every owner ID of the log as an indicator, sorted.
func (p *Provenance) Indicators() []Indicator {
	var out []Indicator
	for o := range p.owners {
		out = append(out, Indicator{Value: o, Kind: "owner", Source: p.Stats.File})
	}
	return sortIndicators(out)
}

// ProvenanceOptions tune how provenance events are paired with requests.
type ProvenanceOptions struct {
	// Window is how far an event may be from a request's timestamp, after
	// the shift.
	Window Window
	// TimeShift, when set, is added to the log's times before pairing. When
	// nil it is estimated (see EstimateShift): runtimes that write local
	// time with a "Z" are hours off.
	TimeShift *time.Duration
}

// DefaultProvenanceOptions returns DefaultProvenanceWindow with the time
// shift estimated.
func DefaultProvenanceOptions() ProvenanceOptions {
	return ProvenanceOptions{Window: DefaultProvenanceWindow}
}

// Enricher returns the enricher that attaches events to entries whose
// request carries their sample within o.Window of the request's timestamp.
// Unless o.TimeShift is set, it is a Planner that first estimates the
// shift of the log's clock from the whole capture.
func (p *Provenance) Enricher(o ProvenanceOptions) Enricher {
	pe := &provEnricher{p: p, w: o.Window}
	if o.TimeShift != nil {
		pe.shift = *o.TimeShift
		pe.report = &TimeShift{Seconds: o.TimeShift.Seconds()}
		if *o.TimeShift == 0 {
			pe.report = nil
		}
		return pe
	}
	return &provPlanner{provEnricher: pe, est: newShiftEstimator(p.events)}
}

type provEnricher struct {
	p       *Provenance
	w       Window
	shift   time.Duration // added to the events' times
	report  *TimeShift    // the shift applied, for the summary
	note    string        // why no shift was applied, when one was looked for
	entries int
}

func (pe *provEnricher) Name() string { return ProvenanceName }

// requestTime is the time of an entry's request, 0 when unknown.
func requestTime(e *har.Entry) float64 {
	ts := e.Request.Timestamp
	if ts == 0 {
		ts = e.Timestamp
	}
	if ts == 0 && !e.StartedDateTime.IsZero() {
		ts = har.Seconds(e.StartedDateTime)
	}
	return ts
}

func (pe *provEnricher) Enrich(i int, e *har.Entry) error {
	ts := requestTime(e)
	if ts == 0 || len(pe.p.events) == 0 {
		return nil
	}
	// Event times plus the shift, compared with the request's.
	ts -= pe.shift.Seconds()
	evs := pe.p.events
	lo := sort.Search(len(evs), func(k int) bool { return evs[k].t >= ts-pe.w.Before.Seconds() })
	var hay [][]byte
	var matched []*provEvent
	for k := lo; k < len(evs) && evs[k].t <= ts+pe.w.After.Seconds(); k++ {
		if hay == nil {
			hay = requestText(&e.Request)
		}
		sample := []byte(evs[k].sample)
		for _, h := range hay {
			if bytes.Contains(h, sample) {
				matched = append(matched, evs[k])
				break
			}
		}
	}
	if len(matched) == 0 {
		return nil
	}
	pe.entries++
	owners := map[string]bool{}
	list := make([]any, 0, len(matched))
	for _, ev := range matched {
		ev.matched++
		os := make([]any, len(ev.owners))
		for j, o := range ev.owners {
			os[j] = o
			owners[o] = true
		}
		m := map[string]any{"sink": ev.sink, "ts": ev.ts.Format(time.RFC3339Nano), "owners": os, "data": ev.data, "record": int64(ev.rec)}
		if ev.source != "" {
			m["source"] = ev.source
		}
		if ev.dest != "" {
			m["dest"] = ev.dest
		}
		if ev.pid != nil {
			m["pid"] = ev.pid
		}
		list = append(list, m)
	}
	var ol []any
	for _, o := range slices.Sorted(maps.Keys(owners)) {
		ol = append(ol, o)
	}
	e.Extra.Set("_owners", ol)
	e.Extra.Set("_provenance", list)
	return nil
}

// requestText returns the forms of a request a sample is looked for in:
// the request line with the URL as the HAR has it, raw and URL-decoded;
// the head as it went on the wire (request line with the path and query,
// then each header as "Name: value", lines ended by CRLF), raw and
// URL-decoded; the cookies as name=value; the body, raw and URL-decoded,
// and its form fields.
func requestText(r *har.Request) [][]byte {
	line := r.Method + " " + r.URL + " " + r.HTTPVersion
	out := [][]byte{[]byte(line)}
	out = appendUnescaped(out, line)
	var hb strings.Builder
	hb.WriteString(r.Method + " " + requestTarget(r.URL) + " " + r.HTTPVersion + "\r\n")
	for _, h := range r.Headers {
		hb.WriteString(h.Name)
		hb.WriteString(": ")
		hb.WriteString(h.Value)
		hb.WriteString("\r\n")
	}
	hb.WriteString("\r\n")
	head := hb.String()
	out = append(out, []byte(head))
	out = appendUnescaped(out, head)
	var cb strings.Builder
	for _, c := range r.Cookies {
		cb.WriteString(c.Name + "=" + c.Value + "\n")
	}
	if cb.Len() > 0 {
		out = append(out, []byte(cb.String()))
	}
	if r.PostData != nil {
		if b, err := r.PostData.Body(); err == nil && len(b) > 0 {
			out = append(out, b)
			if u, err := url.QueryUnescape(string(b)); err == nil && u != string(b) {
				out = append(out, []byte(u))
			}
		}
		for _, p := range r.PostData.Params {
			out = append(out, []byte(p.Name+"="+p.Value))
		}
	}
	return out
}

// appendUnescaped appends s URL-decoded (as a query, else as a path) when
// that changes it.
func appendUnescaped(out [][]byte, s string) [][]byte {
	if u, err := url.QueryUnescape(s); err == nil && u != s {
		return append(out, []byte(u))
	} else if u, err := url.PathUnescape(s); err == nil && u != s {
		return append(out, []byte(u))
	}
	return out
}

// requestTarget is the path and query of an absolute URL as the request
// line carries them ("/profile?q=a%40b.c"); other URLs as they are.
func requestTarget(u string) string {
	i := strings.Index(u, "://")
	if i < 0 {
		return u
	}
	rest := u[i+3:]
	j := strings.IndexAny(rest, "/?#")
	if j < 0 {
		return "/"
	}
	t := rest[j:]
	if k := strings.IndexByte(t, '#'); k >= 0 {
		t = t[:k]
	}
	if t == "" || t[0] != '/' {
		t = "/" + t
	}
	return t
}

func (pe *provEnricher) Report(s *Summary) {
	p := pe.p
	r := &SourceReport{Source: ProvenanceName, Read: &p.Stats}
	matched := 0
	for _, ev := range p.events {
		if ev.matched > 0 {
			matched++
		}
	}
	r.add("network events", len(p.events))
	r.add("network events found in a request", matched)
	r.add("network events found in no request", len(p.events)-matched)
	r.add("entries with owners", pe.entries)
	r.add("other sink events", len(p.other))
	r.add("owners", len(p.owners))
	r.TimeShift = pe.report
	if pe.note != "" {
		r.Notes = append(r.Notes, pe.note)
	}
	// Per owner: what left through the network without a request in the
	// capture, and what went to other sinks.
	type tally struct {
		unmatched int
		sinks     map[string]int
		dests     map[string]bool
	}
	per := map[string]*tally{}
	get := func(o string) *tally {
		t := per[o]
		if t == nil {
			t = &tally{sinks: map[string]int{}, dests: map[string]bool{}}
			per[o] = t
		}
		return t
	}
	for _, ev := range p.events {
		if ev.matched == 0 {
			for _, o := range ev.owners {
				get(o).unmatched++
			}
		}
	}
	for _, ev := range p.other {
		for _, o := range ev.owners {
			t := get(o)
			t.sinks[ev.sink]++
			if ev.dest != "" {
				t.dests[ev.dest] = true
			}
		}
	}
	for _, o := range slices.Sorted(maps.Keys(per)) {
		t := per[o]
		var parts []string
		if t.unmatched > 0 {
			parts = append(parts, fmt.Sprintf("%d network events found in no request", t.unmatched))
		}
		for _, k := range slices.Sorted(maps.Keys(t.sinks)) {
			parts = append(parts, fmt.Sprintf("%s ×%d", k, t.sinks[k]))
		}
		if len(t.dests) > 0 {
			ds := slices.Sorted(maps.Keys(t.dests))
			if len(ds) > 5 {
				ds = append(ds[:5], fmt.Sprintf("and %d more", len(t.dests)-5))
			}
			parts = append(parts, "to "+strings.Join(ds, ", "))
		}
		r.Notes = append(r.Notes, fmt.Sprintf("owner %s: %s", o, strings.Join(parts, "; ")))
	}
	s.Sources = append(s.Sources, r)
	s.indicators = append(s.indicators, p.Indicators()...)
}
