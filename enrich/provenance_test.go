package enrich

import (
	"fmt"
	"maps"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	json "github.com/go-json-experiment/json/v1"
	"github.com/tracewire/tracewire/har"
)

func TestProvenance(t *testing.T) {
	at := func(s float64) string { return har.TimeOf(baseSec + s).Format(time.RFC3339Nano) }
	// Concatenated and line-delimited objects mixed, as loggers write them.
	log := `{"sink":"https","ts":"` + at(9.5) + `","source":"db.users.email","pid":311,"dest":"graph.facebook.com:443","owners":["alice@example.com"],"data":"alice@example.com"}` +
		`{"sink":"socket_send","ts":"` + at(9.9) + `","pid":311,"dest":"api.branch.io:443","owners":["bob@example.com","alice@example.com"],"data":"ab12cd34-device"}
{"sink":"http","ts":"` + at(100) + `","owners":["carol@example.com"],"data":"carol@example.com"}
{"sink":"file_write","ts":"` + at(5) + `","dest":"/var/log/app.log","owners":["alice@example.com"],"data":"alice@example.com"}
{"sink":"stdout","ts":"` + at(6) + `","owners":["alice@example.com"],"data":"alice"}
{"sink":"https","ts":"` + at(9) + `","owners":["dave@example.com"],"data":"ab"}
{"sink":"https","ts":"yesterday","owners":["x@example.com"],"data":"xxxx"}
{"sink":"https","ts":"` + at(9) + `","owners":[],"data":"xxxx"}
`
	p, err := ReadProvenance(strings.NewReader(log), "provenance.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if p.Stats.Skips(skipTS) != 1 || p.Stats.Skips(skipOwners) != 1 || p.Stats.Used != 6 {
		t.Fatalf("stats %+v", p.Stats)
	}
	// Entry 0 carries alice's email URL-encoded in the query; entry 1 the
	// device ID in a header and alice's email in a form body; entry 2
	// carries alice's email but 30 s after the event; entry 3 nothing.
	e0 := entry(flowA, baseSec+10, 0, "HTTP/1.1")
	e0.Request.URL = "https://graph.facebook.com/tr?ud[em]=" + url.QueryEscape("alice@example.com")
	e1 := entry(flowB, baseSec+10, 0, "HTTP/2")
	e1.Request.Method = "POST"
	e1.Request.Headers = []har.NameValue{{Name: "X-Device", Value: "ab12cd34-device"}}
	e1.Request.PostData = &har.PostData{MimeType: "application/x-www-form-urlencoded", Text: "email=alice%40example.com"}
	e2 := entry(flowA, baseSec+40, 0, "HTTP/1.1")
	e2.Request.URL = "https://graph.facebook.com/tr?em=alice@example.com"
	e3 := entry(flowA, baseSec+10, 0, "HTTP/1.1")
	s := run(t, []*har.Entry{e0, e1, e2, e3}, p.Enricher(DefaultProvenanceOptions()))

	if got := e0.Extra["_owners"]; !reflect.DeepEqual(got, []any{"alice@example.com"}) {
		t.Errorf("entry 0 _owners = %v", got)
	}
	got, _ := json.Marshal(e0.Extra["_provenance"])
	want := `[{"data":"alice@example.com","dest":"graph.facebook.com:443","owners":["alice@example.com"],"pid":311,"record":0,"sink":"https","source":"db.users.email","ts":"` + at(9.5) + `"}]`
	if string(got) != want {
		t.Errorf("entry 0 _provenance:\n got %s\nwant %s", got, want)
	}
	if got := e1.Extra["_owners"]; !reflect.DeepEqual(got, []any{"alice@example.com", "bob@example.com"}) {
		t.Errorf("entry 1 _owners = %v", got)
	}
	if pv, _ := e1.Extra["_provenance"].([]any); len(pv) != 2 {
		t.Errorf("entry 1 _provenance has %d events, want 2", len(pv))
	}
	for i, e := range []*har.Entry{e2, e3} {
		if _, ok := e.Extra["_owners"]; ok {
			t.Errorf("entry %d got owners", i+2)
		}
	}
	r := s.Source(ProvenanceName)
	for name, want := range map[string]int{"network events": 3, "network events found in a request": 2, "network events found in no request": 1, "entries with owners": 2, "other sink events": 3, "owners": 4} {
		if got := r.Count(name); got != want {
			t.Errorf("%s = %d, want %d", name, got, want)
		}
	}
	wantNotes := []string{
		"owner alice@example.com: file_write ×1; stdout ×1; to /var/log/app.log",
		"owner carol@example.com: 1 network events found in no request",
		"owner dave@example.com: https ×1",
	}
	if !reflect.DeepEqual(r.Notes, wantNotes) {
		t.Errorf("notes:\n got %q\nwant %q", r.Notes, wantNotes)
	}
	var vals []string
	for _, in := range s.Indicators() {
		if in.Kind != "owner" || in.Source != "provenance.jsonl" {
			t.Errorf("indicator %+v", in)
		}
		vals = append(vals, in.Value)
	}
	if !reflect.DeepEqual(vals, []string{"alice@example.com", "bob@example.com", "carol@example.com", "dave@example.com"}) {
		t.Errorf("indicators %v", vals)
	}
	if !reflect.DeepEqual(p.Indicators(), s.Indicators()) {
		t.Error("Provenance.Indicators differs from Summary.Indicators")
	}
}

func TestProvenanceMalformed(t *testing.T) {
	for _, tc := range []struct{ name, in, wantErr, skip string }{
		{name: "owners not an array", in: `{"sink":"http","ts":"2025-12-12T08:34:00Z","owners":"alice","data":"xxxx"}`, skip: skipOwners},
		{name: "owner of the wrong type", in: `{"sink":"http","ts":"2025-12-12T08:34:00Z","owners":["alice",3],"data":"xxxx"}`, skip: skipPartial},
		{name: "ts a number", in: `{"sink":"http","ts":1765528440,"owners":["a"],"data":"xxxx"}`, skip: skipTS},
		{name: "no sink", in: `{"ts":"2025-12-12T08:34:00Z","owners":["a"]}`, skip: skipNoSink},
		{name: "broken", in: `{"sink":"http","ts":"2025-12-12T08:34:00Z"}{"sink":}`, wantErr: "provenance.jsonl: record 1 at byte 51: invalid JSON: invalid character '}' at start of value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ReadProvenance(strings.NewReader(tc.in), "provenance.jsonl")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Stats.Skips(tc.skip) != 1 {
				t.Errorf("skips %v, want one %q", p.Stats.Skipped, tc.skip)
			}
		})
	}
}

// runtimeLog writes events as the SST runtime does: pretty-printed JSON
// objects one after another, ts in whole seconds with a "Z" whatever the
// host's zone (local is how far the host's clock is from UTC), dest
// sometimes absent.
func runtimeLog(t *testing.T, local time.Duration, evs ...map[string]any) string {
	t.Helper()
	var b strings.Builder
	for _, ev := range evs {
		ev = maps.Clone(ev)
		at := ev["ts"].(time.Time).Add(local).UTC().Truncate(time.Second)
		ev["ts"] = at.Format("2006-01-02T15:04:05Z")
		js, err := json.MarshalIndent(ev, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		b.Write(js)
		b.WriteString("\n")
	}
	return b.String()
}

// TestProvenanceRuntimeFormat: samples that are a request line (as on the
// wire: path and query, not the HAR's absolute URL) or a header line match
// their request, and a log written in local time with a "Z" is shifted
// when the events found in exactly one request agree on the offset.
func TestProvenanceRuntimeFormat(t *testing.T) {
	t0 := har.TimeOf(baseSec + 10)
	mk := func() []*har.Entry {
		e0 := entry(flowA, baseSec+10, 0, "HTTP/1.1")
		e0.Request.URL = "https://shop.example.com/profile?q=alice%40example.com"
		e0.Request.Headers = []har.NameValue{{Name: "Host", Value: "shop.example.com"}}
		e1 := entry(flowB, baseSec+15, 0, "HTTP/1.1")
		e1.Request.URL = "https://api.example.com/v1/me"
		e1.Request.Headers = []har.NameValue{{Name: "Host", Value: "api.example.com"}, {Name: "X-User", Value: "bob-7781"}}
		e2 := entry(flowA, baseSec+20, 0, "HTTP/1.1")
		e2.Request.URL = "https://shop.example.com/"
		e2.Request.Headers = []har.NameValue{{Name: "Host", Value: "shop.example.com"}}
		return []*har.Entry{e0, e1, e2}
	}
	evs := []map[string]any{
		{"sink": "socket_send", "ts": t0.Add(-time.Second), "source": "http.request", "pid": 311, "dest": "shop.example.com:443", "owners": []string{"alice@example.com"}, "data": "GET /profile?q=alice%40example.com HTTP/1.1"},
		{"sink": "socket_send", "ts": t0.Add(4 * time.Second), "source": "http.header", "pid": 311, "owners": []string{"bob"}, "data": "X-User: bob-7781\r\n"},
		{"sink": "file_write", "ts": t0, "source": "db.users", "pid": 311, "dest": "/var/log/x", "owners": []string{"alice@example.com"}, "data": "alice"},
	}
	// The same request line in every request: matches more than one
	// request, so it says nothing about the offset.
	everywhere := map[string]any{"sink": "socket_send", "ts": t0.Add(-2 * time.Hour), "owners": []string{"dave"}, "data": "Host: shop.example.com"}
	shift := func(d time.Duration) *time.Duration { return &d }
	for _, tc := range []struct {
		name      string
		local     time.Duration
		extra     []map[string]any
		shift     *time.Duration
		owners    [3]string
		wantShift float64
		note      string
	}{
		{name: "UTC", local: 0, owners: [3]string{"[alice@example.com]", "[bob]", ""}},
		{name: "UTC-5 written as Z", local: -5 * time.Hour, owners: [3]string{"[alice@example.com]", "[bob]", ""}, wantShift: 18000},
		{name: "UTC+5:30, with an event found in two requests", local: 5*time.Hour + 30*time.Minute, extra: []map[string]any{everywhere}, owners: [3]string{"[alice@example.com]", "[bob]", ""}, wantShift: -19800},
		{name: "shift set by hand to nothing", local: -5 * time.Hour, shift: shift(0), owners: [3]string{"", "", ""}},
		{name: "shift set by hand", local: -5 * time.Hour, shift: shift(5 * time.Hour), owners: [3]string{"[alice@example.com]", "[bob]", ""}, wantShift: 18000},
		{name: "offsets disagree", local: -5 * time.Hour, extra: []map[string]any{{"sink": "https", "ts": t0.Add(5*time.Hour + 10*time.Second), "owners": []string{"x"}, "data": "GET / HTTP/1.1"}},
			owners: [3]string{"", "", "[x]"}, note: "times not shifted: the events found in exactly one request suggest different clock offsets (0s ×1, 5h0m0s ×2); set --provenance-time-shift"},
		{name: "one event only", local: -5 * time.Hour, extra: nil, owners: [3]string{"", "", ""}, note: "times not shifted: only 1 event found in exactly one request suggests a clock offset of 5h0m0s; set --provenance-time-shift"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := append(append([]map[string]any(nil), evs...), tc.extra...)
			if tc.name == "one event only" {
				in = in[:1]
			}
			log := runtimeLog(t, tc.local, in...)
			p, err := ReadProvenance(strings.NewReader(log), "provenance.log")
			if err != nil {
				t.Fatal(err)
			}
			if p.Stats.Used != len(in) {
				t.Fatalf("stats %+v\n%s", p.Stats, log)
			}
			es := mk()
			o := DefaultProvenanceOptions()
			o.TimeShift = tc.shift
			s := run(t, es, p.Enricher(o))
			for i, e := range es {
				got := ""
				if o, ok := e.Extra["_owners"]; ok {
					got = fmt.Sprint(o)
				}
				if got != tc.owners[i] {
					t.Errorf("entry %d _owners %q, want %q", i, got, tc.owners[i])
				}
			}
			r := s.Source(ProvenanceName)
			gotShift := 0.0
			if r.TimeShift != nil {
				gotShift = r.TimeShift.Seconds
				if (tc.shift == nil) != (r.TimeShift.Events > 0) {
					t.Errorf("shift %+v: estimated or set by hand?", r.TimeShift)
				}
			}
			if gotShift != tc.wantShift {
				t.Errorf("shift %v, want %v", gotShift, tc.wantShift)
			}
			var text strings.Builder
			s.WriteText(&text)
			if tc.wantShift != 0 && !strings.Contains(text.String(), "times shifted by ") {
				t.Errorf("summary does not give the shift:\n%s", text.String())
			}
			if tc.note != "" && !slices.Contains(r.Notes, tc.note) {
				t.Errorf("notes %q, want %q", r.Notes, tc.note)
			}
		})
	}
}
