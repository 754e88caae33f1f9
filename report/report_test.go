package report

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	json "github.com/go-json-experiment/json/v1"
	"github.com/tracewire/tracewire/adapters"
	"github.com/tracewire/tracewire/enrich"
	"github.com/tracewire/tracewire/i18n"
	"github.com/tracewire/tracewire/match"
)

// fullAnalysis is sampleAnalysis with every optional part filled in, so a
// report of it uses every string.
func fullAnalysis() *Analysis {
	a := sampleAnalysis()
	a.Subject = &Subject{
		App:      &App{ID: "com.example.app", Name: "Example", Version: "1.0", VersionCode: "10", Platform: "android", MD5: "00"},
		Device:   &Device{Platform: "android", Manufacturer: "Google", Model: "Pixel", OSVersion: "14", OSBuild: "AP1A", RunTarget: "device"},
		Backend:  &Backend{Name: "shop", Host: "api.example.com"},
		Recorder: "tracewire 0.1", RecordingStart: "2023-11-14T22:13:20Z", RecordingEnd: "2023-11-14T22:13:30Z",
		Tools: []NameValue{{Name: "frida", Value: "16"}},
	}
	a.Indicators = append(a.Indicators, IndicatorCount{Property: "email", Count: 1, Source: "owner"})
	a.Capture = &Capture{
		Packets: 100, Connections: 3, Entries: 7, TLSDecrypted: 1,
		Undecrypted:    []Flow{{Time: time.Unix(1700000002, 0), Client: "10.0.0.2:4000", Server: "192.0.2.1:443", SNI: "x.example", Reason: "no key"}},
		NoEntries:      []Flow{{Time: time.Unix(1700000003, 0), Client: "10.0.0.2:4001", Server: "192.0.2.2:853", Protocol: "tls", Bytes: 999}},
		NoEntriesTotal: 1, Notes: []string{"gap in a flow"}, NotesTotal: 2,
	}
	a.Enrichment = &enrich.Summary{Entries: 7, Sources: []*enrich.SourceReport{{Source: "provenance log", Read: &enrich.ReadStats{File: "p.jsonl", Records: 2, Used: 1}, Counts: []enrich.Count{{Name: "entries with owners", N: 1}}}}}
	a.Warnings = []string{"app.pcapng: frame 9: truncated"}
	// Requests to tracking companies that no adapter decoded: six to one
	// endpoint (one of them with many keys), one with a body of no keys.
	metrics := &adapters.Company{Name: "Example Metrics Ltd."}
	a.Undecoded = []UndecodedRequest{}
	for i := 10; i < 16; i++ {
		keys := []string{"cid"}
		if i == 10 {
			for k := 0; k < 25; k++ {
				keys = append(keys, fmt.Sprintf("k%02d", k))
			}
		}
		a.Undecoded = append(a.Undecoded, UndecodedRequest{
			Entry:     match.EntryRef{Index: i, Method: "GET", URL: "https://t.example-metrics.com/collect?cid=1"},
			Undecoded: &match.Undecoded{Company: metrics, Host: "t.example-metrics.com", Path: "/collect", Keys: keys},
		})
	}
	a.Undecoded = append(a.Undecoded, UndecodedRequest{
		Entry:     match.EntryRef{Index: 20, Method: "POST", URL: "https://in.another-ads.example/v2/e"},
		Undecoded: &match.Undecoded{Company: &adapters.Company{Slug: "another", Name: "Another Ads GmbH"}, Host: "in.another-ads.example", Path: "/v2/e", Keys: []string{"(body)"}},
	})
	return a
}

func fullOptions(lang string) *Options {
	before := sampleAnalysis()
	before.Findings = before.Findings[:1] // only the advertising ID
	tc := &DeviceReport{Kind: TrackerControl, Name: "tc.csv", SHA256: "aa", Platform: "android",
		Contacts: []DeviceContact{{App: "com.example.app", AppName: "Example", Host: "api2.branch.io", First: time.Unix(1700000100, 0), Last: time.Unix(1700000100, 0), Hits: 1}}}
	apr := &DeviceReport{Kind: AppPrivacyReport, Name: "apr.ndjson", SHA256: "bb", Platform: "ios"}
	other := &DeviceReport{Kind: TrackerControl, Name: "tc2.csv", SHA256: "cc", Platform: "android",
		Contacts: []DeviceContact{{App: "com.example.app", Host: "elsewhere.example", First: time.Unix(1, 0), Last: time.Unix(1, 0), Hits: 1}}}
	return &Options{Lang: lang, Compare: before, DeviceReports: []*DeviceReport{tc, apr, other}}
}

// TestEveryStringTranslated renders a report that uses every section in
// each language and fails on any string the report asked for that the
// language's catalog lacks.
func TestEveryStringTranslated(t *testing.T) {
	for _, lang := range i18n.Languages {
		v, err := buildView(fullAnalysis(), fullOptions(lang))
		if err != nil {
			t.Fatal(err)
		}
		for _, write := range []func(io.Writer) error{v.writeHTML, v.writeMarkdown, v.writePDF} {
			if err := write(io.Discard); err != nil {
				t.Fatal(err)
			}
		}
		if m := v.tr.missingKeys(); len(m) > 0 {
			t.Errorf("%s: missing strings: %v", lang, m)
		}
		// And the plural forms of every counted string.
		for _, k := range i18n.Keys("en", "ui") {
			if base, ok := strings.CutSuffix(k, ".one"); ok && !hasUIKey(lang, base+".other") {
				t.Errorf("%s: %s.other is missing", lang, base)
			}
		}
	}
}

// TestReportContent checks what a reader must find in each format.
func TestReportContent(t *testing.T) {
	a := fullAnalysis()
	for _, f := range []Format{HTML, Markdown} {
		var buf bytes.Buffer
		if err := Write(&buf, f, a, *fullOptions("en")); err != nil {
			t.Fatal(err)
		}
		s := buf.String()
		for _, want := range []string{
			"Branch Metrics, Inc.",          // recipient
			"collect.example-analytics.net", // recipient without adapter, by host
			sampleAdID,                      // the value
			"com.example.app (pid 4242)",    // process from the stack trace
			"io.branch.referral.network.BranchRemoteInterface ← io.branch.referral.ServerRequestQueue", // compact stack
			"alice@example.com",                      // owner
			"matches the known email (SHA-256 hash)", // how the indicator was found
			"app.pcapng",                             // input
			"Of 2 TLS connections (QUIC included), 1 were decrypted", // decryption
			"x.example",             // undecrypted SNI
			"192.0.2.2:853",         // flow without entries
			"persisted", "appeared", // comparison
			"TrackerControl export (Android)", "tc.csv", // device report
			"api.example.com",                                      // backend
			"This record comes from a iOS phone",                   // platform mismatch
			"None of the hosts that received personal data",        // no overlap
			"Requests to tracking companies that were not decoded", // undecoded requests
			"t.example-metrics.com/collect",                        // endpoint
			"6 (#11, #12, #13, #14, #15, …)",                       // count and first numbers
			"… (6 more)",                                           // keys cut at 20
			"(the body)",                                           // a body without keys
			"Another Ads GmbH",
		} {
			if !strings.Contains(s, want) {
				t.Errorf("%s report lacks %q", f, want)
			}
		}
	}
}

func TestHTMLSelfContained(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteHTML(&buf, fullAnalysis(), *fullOptions("de")); err != nil {
		t.Fatal(err)
	}
	s := buf.String()
	for _, bad := range []string{"<script", "<link", "<img", " src=", "@import", "url("} {
		if strings.Contains(s, bad) {
			t.Errorf("HTML report contains %q: it must not load anything", bad)
		}
	}
	if !strings.Contains(s, `<html lang="de">`) || !strings.Contains(s, "@media print") {
		t.Error("language or print styles missing")
	}
	// Values from the input are escaped.
	a := sampleAnalysis()
	a.Findings[0].Value = `<b onmouseover="x">`
	buf.Reset()
	if err := WriteHTML(&buf, a, Options{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), `<b onmouseover`) {
		t.Error("a value was written as HTML")
	}
}

func TestEmptyAnalysis(t *testing.T) {
	a := &Analysis{Tool: Tool{Name: "tracewire", Version: "x"}, EntriesRead: 3}
	for _, f := range Formats {
		var buf bytes.Buffer
		if err := Write(&buf, f, a, Options{Lang: "de"}); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		// It says nothing was found, and that this does not show that
		// nothing was sent.
		if f == Markdown && (!strings.Contains(buf.String(), "Es wurde keine Anfrage gefunden") ||
			!strings.Contains(buf.String(), "Das zeigt nicht, dass nichts gesendet wurde")) {
			t.Errorf("an empty report does not say that nothing was found, or suggests that nothing was sent:\n%s", buf.String())
		}
		if f == JSONL && buf.Len() != 0 {
			t.Errorf("JSONL of no findings: %q", buf.String())
		}
	}
	if err := Write(io.Discard, HTML, a, Options{Lang: "fr"}); err == nil {
		t.Error("unknown language accepted")
	}
}

func TestMarkdownEscaping(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"sdk_gphone64_x86_64", "sdk_gphone64_x86_64"},
		{"_private", `\_private`},
		{"a | b", `a \| b`},
		{"# not a heading", `\# not a heading`},
		{"issue #7", "issue #7"},
		{"Kund*innen", `Kund\*innen`},
		{"<b>", `\<b>`},
		{"line\nbreak", "line break"},
	} {
		if got := mdText(tc.in); got != tc.want {
			t.Errorf("mdText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := mdCode("a`b|c"); got != "``a`b\\|c``" {
		t.Errorf("mdCode = %q", got)
	}
}

func TestExcerpts(t *testing.T) {
	a := sampleAnalysis()
	tx := transmissions(a)
	if len(tx) != 2 {
		t.Fatalf("%d transmissions", len(tx))
	}
	db := mustDB(t)
	v := txViewOf(tx[0], db, "en", newTranslator("en"))
	if len(v.Excerpts) != 1 {
		t.Fatalf("%d excerpts", len(v.Excerpts))
	}
	text := excerptText(v.Excerpts[0].Lines, "[", "]")
	for _, want := range []string{`"google_advertising_id": "[` + sampleAdID + `]"`, `"os": "[Android]"`} {
		if !strings.Contains(text, want) {
			t.Errorf("excerpt lacks %s:\n%s", want, text)
		}
	}
	// The indicator finding marks the hash as sent.
	v = txViewOf(tx[1], db, "en", newTranslator("en"))
	if len(v.Excerpts) != 1 || v.Excerpts[0].Label != "Request body, as sent" {
		t.Fatalf("excerpts of the indicator finding: %+v", v.Excerpts)
	}
	if text := excerptText(v.Excerpts[0].Lines, "[", "]"); !strings.Contains(text, `"em":"[`+a.Findings[2].Value+`]"`) {
		t.Errorf("indicator excerpt: %s", text)
	}
}

func TestTextMarks(t *testing.T) {
	for _, tc := range []struct {
		text, value string
		want        string
	}{
		{"ts=2023-08-13T08:00 size=8", "8", "ts=2023-08-13T08:00 size=[8]"},
		{"a=1080&b=10800", "1080", "a=[1080]&b=10800"},
		{`{"x":"a\"b"}`, `a"b`, `{"x":"[a\"b]"}`},
		{"id=XZ9d-1 id=XZ9d-1", "XZ9d-1", "id=[XZ9d-1] id=[XZ9d-1]"},
		{"no match here", "zzz", "no match here"},
	} {
		marks := textMarks(tc.text, []*match.Finding{{Value: tc.value}})
		got := excerptText(cutExcerpt(tc.text, marks), "[", "]")
		if len(marks) == 0 {
			got = tc.text + "\n"
		}
		if got != tc.want+"\n" {
			t.Errorf("marks of %q in %q: %q, want %q", tc.value, tc.text, got, tc.want)
		}
	}
}

func TestCutExcerpt(t *testing.T) {
	var lines []string
	for i := 0; i < 100; i++ {
		lines = append(lines, "line "+strings.Repeat("x", i%5))
	}
	text := strings.Join(lines, "\n")
	at := func(line int) span {
		s := 0
		for i := 0; i < line; i++ {
			s += len(lines[i]) + 1
		}
		return span{s, s + 4}
	}
	got := cutExcerpt(text, []span{at(10), at(11), at(50)})
	var shape []string
	for _, l := range got {
		if l.Gap {
			shape = append(shape, "…")
			continue
		}
		marked := false
		for _, s := range l.Segs {
			marked = marked || s.Mark
		}
		if marked {
			shape = append(shape, "M")
		} else {
			shape = append(shape, "c")
		}
	}
	if s := strings.Join(shape, ""); s != "…cMMc…cMc…" {
		t.Errorf("excerpt shape %s, want …cMMc…cMc…", s)
	}
	// A long line is cut to windows around its mark.
	long := strings.Repeat("a", 5000) + "VALUE" + strings.Repeat("b", 5000)
	got = cutExcerpt(long, []span{{5000, 5005}})
	out := excerptText(got, "[", "]")
	if len(out) > 2*excerptLineLen || !strings.Contains(out, "[VALUE]") || !strings.HasPrefix(out, "…") {
		t.Errorf("long line excerpt (%d bytes): %q", len(out), out)
	}
	// At most excerptMaxLines lines are kept.
	var many []span
	for i := 0; i < 100; i += 2 {
		many = append(many, at(i))
	}
	if got := cutExcerpt(text, many); len(got) > excerptMaxLines+1 {
		t.Errorf("%d lines kept", len(got))
	}
}

func TestCompare(t *testing.T) {
	f := func(idx int, tracker, prop, val string) match.Finding {
		fd := match.Finding{Entry: match.EntryRef{Index: idx, URL: "https://h.example/x"}, Property: prop, Value: val, Adapter: tracker + "/a"}
		if tracker != "" {
			fd.Tracker = &match.TrackerRef{Slug: tracker, Name: strings.ToUpper(tracker)}
		}
		return fd
	}
	before := &Analysis{Findings: []match.Finding{
		f(1, "fb", "advertisingId", "A"), f(2, "fb", "advertisingId", "A"),
		f(1, "fb", "osVersion", "13"), f(3, "", "email", "x"), f(4, "br", "deviceId", "D1"), f(5, "br", "deviceId", "D2"),
	}}
	after := &Analysis{Findings: []match.Finding{
		f(1, "fb", "advertisingId", "A"), f(1, "fb", "osVersion", "14"), f(2, "fb", "model", "P"),
		f(4, "br", "deviceId", "D1"), f(5, "br", "deviceId", "D3"),
	}}
	c := Compare(before, after)
	var got []string
	for _, r := range c.Rows {
		got = append(got, strings.Join([]string{r.Recipient, r.Property, r.Status,
			itoa(r.Before), itoa(r.After), itoa(r.SharedValues), boolStr(r.SameValues)}, " "))
	}
	want := []string{
		"br deviceId persisted 2 2 1 false",
		"fb advertisingId persisted 2 1 1 true",
		"fb model appeared 0 1 0 false",
		"fb osVersion persisted 1 1 0 false",
		"host:h.example email disappeared 1 0 0 false",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if c.Count(Persisted) != 3 || c.Count(Appeared) != 1 || c.Count(Disappeared) != 1 {
		t.Error("counts")
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func boolStr(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func TestReadDeviceReport(t *testing.T) {
	csv := "\ufeff\"uid\",\"daddr\",\"time\",\"uncertain\",\"Tracker\",\"Category\",\"Package\",\"App\"\n" +
		"\"1\",\"Graph.Facebook.com.\",\"1712308081917\",\"0\",\"Facebook\",\"Social\",\"tld.sample.app\",\"Sample\"\n" +
		"\"1\",\"bad.example\",\"notatime\",\"0\",\"\",\"\",\"tld.sample.app\",\"Sample\"\n" +
		"\"2\",\"api2.branch.io\",\"1712308081000\",\"0\",\"Branch\",\"\",\"org.other\",\"Other\"\n"
	d, err := ReadDeviceReport(strings.NewReader(csv), "tc.csv")
	if err != nil {
		t.Fatal(err)
	}
	if d.Kind != TrackerControl || d.Platform != "android" || len(d.Contacts) != 2 || d.Skipped != 1 {
		t.Fatalf("%+v", d)
	}
	if c := d.Contacts[1]; c.Host != "graph.facebook.com" || c.App != "tld.sample.app" || c.AppName != "Sample" ||
		!c.First.Equal(time.UnixMilli(1712308081917)) || c.Company != "Facebook" {
		t.Errorf("contact %+v", c)
	}
	nd := `{"type":"access","category":"photos","timeStamp":"2023-11-20T18:55:24.086+01:00"}
{"timeStamp":"2024-04-05T10:38:19.569+02:00","domain":"graph.facebook.com","type":"networkActivity","firstTimeStamp":"2024-04-05T10:30:00.000+02:00","bundleID":"tld.sample.app","hits":3}
{"timeStamp":"garbage","domain":"x.example","type":"networkActivity","bundleID":"a"}
not json
`
	d, err = ReadDeviceReport(strings.NewReader(nd), "apr.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	if d.Kind != AppPrivacyReport || d.Platform != "ios" || len(d.Contacts) != 1 || d.Skipped != 2 {
		t.Fatalf("%+v", d)
	}
	if c := d.Contacts[0]; c.Hits != 3 || !c.First.Equal(time.Date(2024, 4, 5, 8, 30, 0, 0, time.UTC)) || !c.Last.Equal(time.Date(2024, 4, 5, 8, 38, 19, 569e6, time.UTC)) {
		t.Errorf("contact %+v", c)
	}
	for _, bad := range []string{"a,b,c\n1,2,3\n", "", "\"unterminated"} {
		if _, err := ReadDeviceReport(strings.NewReader(bad), "bad"); err == nil {
			t.Errorf("%q accepted as a device report", bad)
		}
	}
}

func TestDeviceEvidence(t *testing.T) {
	d := &DeviceReport{Platform: "android", Contacts: []DeviceContact{
		{App: "tld.sample.app", Host: "graph.facebook.com", First: time.Unix(10, 0), Last: time.Unix(20, 0), Hits: 1},
		{App: "tld.sample.app", Host: "graph.facebook.com", First: time.Unix(5, 0), Last: time.Unix(8, 0), Hits: 2},
		{App: "org.other", Host: "graph.facebook.com", First: time.Unix(1, 0), Last: time.Unix(1, 0), Hits: 1},
		{App: "tld.sample.app", Host: "cdn.example", First: time.Unix(1, 0), Last: time.Unix(1, 0), Hits: 1},
	}}
	hosts := map[string]string{"graph.facebook.com": "Meta"}
	af := deviceEvidence(d, hosts, "tld.sample.app", "android")
	if !af.Applicable || af.NoAppID || af.AppMissing || len(af.Rows) != 1 {
		t.Fatalf("%+v", af)
	}
	if r := af.Rows[0]; r.Hits != 3 || !r.First.Equal(time.Unix(5, 0)) || !r.Last.Equal(time.Unix(20, 0)) || len(r.Apps) != 1 {
		t.Errorf("row %+v", r)
	}
	// Contacts of other apps are never evidence: an app the record does
	// not know, or no known app, lists nothing.
	if af := deviceEvidence(d, hosts, "com.missing", "android"); !af.AppMissing || len(af.Rows) != 0 {
		t.Errorf("app missing: %+v", af)
	}
	if af := deviceEvidence(d, hosts, "", "android"); !af.NoAppID || len(af.Rows) != 0 {
		t.Errorf("no app ID: %+v", af)
	}
	if af := deviceEvidence(d, hosts, "", "ios"); af.Applicable || len(af.Rows) != 0 {
		t.Errorf("wrong platform: %+v", af)
	}
}

func TestAnalysisJSON(t *testing.T) {
	a := fullAnalysis()
	var buf bytes.Buffer
	if err := a.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	b, err := ReadAnalysis(bytes.NewReader(buf.Bytes()), "a.json")
	if err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	if err := b.WriteJSON(&again); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Error("an analysis changes when written, read and written again")
	}
	if e := b.Entry(3); e == nil || e.Request.Extra["_stacktrace"] == nil || e.Response.Content.Text != "" {
		t.Errorf("evidence entry 3: %+v", e)
	}
	if b.Entry(4) != nil {
		t.Error("entry 4 was not evidence")
	}

	// detect --format json reads as an analysis without metadata.
	detect := `{
"findings": [{"entry":{"index":2,"method":"GET","url":"https://x.example/"},"source":"indicator","property":"email","value":"a@b.c","context":"query","path":"e"}],
"entries_read": 5,
"warnings": []
}`
	d, err := ReadAnalysis(strings.NewReader(detect), "d.json")
	if err != nil || d.EntriesRead != 5 || len(d.Findings) != 1 {
		t.Fatalf("detect JSON: %v %+v", err, d)
	}
	for _, bad := range []string{`{"log":{}}`, `[1,2]`, `{"findings": [`, `{"findings":[], "entries":[{"index":1,"entry":null}]}`} {
		if _, err := ReadAnalysis(strings.NewReader(bad), "bad.json"); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestIsFindingsJSON(t *testing.T) {
	for _, tc := range []struct {
		head string
		want bool
	}{
		{`{"log":{"version":"1.2"}}`, false},
		{`{"findings": [`, true},
		{` {"comment": "x", "id": "ab"`, true},
		{`{"other": {"nested": [1,2,3]}, "entries_read": 1}`, true},
		{`{"other": 1, "log": {}}`, false},
		{`[]`, false},
		{``, false},
	} {
		if got := IsFindingsJSON([]byte(tc.head)); got != tc.want {
			t.Errorf("IsFindingsJSON(%q) = %v", tc.head, got)
		}
	}
}

func TestTicks(t *testing.T) {
	start := time.Date(2023, 4, 7, 13, 4, 57, 78e6, time.UTC)
	ts := ticks(start, start.Add(15*time.Second), 5)
	var got []string
	for _, x := range ts {
		got = append(got, x.Format("15:04:05"))
	}
	if strings.Join(got, " ") != "13:05:00 13:05:05 13:05:10" {
		t.Errorf("ticks %v", got)
	}
	if n := len(ticks(start, start.Add(36*time.Hour), 5)); n < 2 || n > 5 {
		t.Errorf("%d ticks over 36 h", n)
	}
}

func TestFigureSVG(t *testing.T) {
	f := timelineFigure([]timelineRow{{Label: `A & <B>`, Times: []time.Time{time.Unix(10, 0)}, Tips: []string{"#1"}}},
		time.Unix(0, 0), time.Unix(20, 0), "cap", "desc")
	svg := f.svg()
	if !strings.Contains(svg, "A &amp; &lt;B&gt;") || !regexp.MustCompile(`<circle cx="\d+(\.\d+)?" cy="20" r="4.5"`).MatchString(svg) {
		t.Errorf("svg:\n%s", svg)
	}
}

// TestUndecodedSection: the section of requests to tracking companies that
// no adapter decoded is left out when the analysis does not say (a findings
// file of an older tracewire), says so when there were none, and reads
// detect's JSON list.
func TestUndecodedSection(t *testing.T) {
	md := func(a *Analysis) string {
		var buf bytes.Buffer
		if err := Write(&buf, Markdown, a, Options{}); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	a := &Analysis{Tool: Tool{Name: "tracewire", Version: "x"}, EntriesRead: 3}
	if s := md(a); strings.Contains(s, "not decoded") {
		t.Errorf("an analysis without the list has the section:\n%s", s)
	}
	a.Undecoded = []UndecodedRequest{}
	if s := md(a); !strings.Contains(s, "## Requests to tracking companies that were not decoded\n\nEvery request to a host of tracewire's directory") ||
		!strings.Contains(s, "| **Requests to tracking companies not decoded** | 0 |") {
		t.Errorf("an empty list does not say that every request was decoded:\n%s", s)
	}
	detect := `{"findings": [], "entries_read": 9, "warnings": [],
"undecoded": [{"entry":{"index":4,"method":"GET","url":"https://b.scorecardresearch.example/b?c1=2"},"company":{"name":"Comscore, Inc."},"host":"b.scorecardresearch.example","path":"/b","keys":["c1","c2"]}]}`
	d, err := ReadAnalysis(strings.NewReader(detect), "d.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Undecoded) != 1 || d.Undecoded[0].Undecoded == nil || d.Undecoded[0].Company.Name != "Comscore, Inc." || d.Undecoded[0].Entry.Index != 4 {
		t.Fatalf("detect's undecoded list read as %+v", d.Undecoded)
	}
	if s := md(d); !strings.Contains(s, "| Comscore, Inc. | `b.scorecardresearch.example/b` | 1 (#5) | c1, c2 |") {
		t.Errorf("the row of detect's undecoded request is missing:\n%s", s)
	}
}
