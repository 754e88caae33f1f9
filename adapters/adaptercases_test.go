package adapters_test

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/tracewire/tracewire/adapters"
	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/internal/testutil"
	"github.com/tracewire/tracewire/match"
)

// The adapter database's own tests: testdata/adaptercases/<tracker>/<adapter>.yaml
// (and <adapter>.<anything>.yaml, e.g. hand-written cases next to generated
// ones) hold requests written from each tracker's documented (or observed)
// request format, with invented values, and the exact adapter findings each
// must give. They run through match's public API, as users' requests do.

// acFile is one case file.
type acFile struct {
	Cases []acCase `yaml:"cases"`
}

type acCase struct {
	Name    string    `yaml:"name"`
	Request acRequest `yaml:"request"`
	// Adapter is the ID of the adapter that must handle the request; empty
	// means no adapter may handle it.
	Adapter string `yaml:"adapter"`
	// Findings are the adapter findings, exactly: [property, context, path,
	// value]. Values an adapter must drop (notIf, onlyIf, empty values) are
	// simply not listed.
	Findings [][]string `yaml:"findings"`
	// FailedSteps are the decoding steps (by index) expected to fail; any
	// other failing step fails the case.
	FailedSteps []int `yaml:"failedSteps"`
	// TrackHARDiffers says why TrackHAR 1.0.0 finds data in this request
	// that tracewire deliberately does not (a TrackHAR bug fixed here);
	// TestAdapterCasesCoverTrackHAR then wants TrackHAR to find something,
	// so the note cannot go stale.
	TrackHARDiffers string `yaml:"trackharDiffers"`
}

type acRequest struct {
	Method  string      `yaml:"method"`
	URL     string      `yaml:"url"`
	Headers [][2]string `yaml:"headers"`
	// Cookies go into the HAR's cookie list (a Cookie header works too).
	Cookies  [][2]string `yaml:"cookies"`
	MimeType string      `yaml:"mimeType"`
	Body     string      `yaml:"body"`
	// BodyBase64 is a binary body (protobuf, gzip), stored in the HAR with
	// encoding base64.
	BodyBase64 string `yaml:"bodyBase64"`
	// Gzip compresses the body and adds Content-Encoding: gzip, as a client
	// that compresses its requests does.
	Gzip bool `yaml:"gzip"`
}

func (r *acRequest) entry() (*har.Entry, error) {
	e := &har.Entry{
		StartedDateTime: time.Date(2024, 7, 1, 12, 0, 0, 0, time.UTC),
		Request:         har.Request{Method: r.Method, URL: r.URL, HTTPVersion: "HTTP/1.1", HeadersSize: -1, BodySize: -1},
		Response:        har.Response{Status: 200, StatusText: "OK", HTTPVersion: "HTTP/1.1", HeadersSize: -1, BodySize: -1},
	}
	if e.Request.Method == "" {
		e.Request.Method = "GET"
	}
	// A HAR lists the query parameters too; TrackHAR reads them from there.
	if u, err := url.Parse(r.URL); err == nil {
		for _, kv := range strings.Split(u.RawQuery, "&") {
			if kv == "" {
				continue
			}
			k, v, _ := strings.Cut(kv, "=")
			ku, _ := url.QueryUnescape(k)
			vu, _ := url.QueryUnescape(v)
			e.Request.QueryString = append(e.Request.QueryString, har.NameValue{Name: ku, Value: vu})
		}
	}
	for _, h := range r.Headers {
		e.Request.Headers = append(e.Request.Headers, har.NameValue{Name: h[0], Value: h[1]})
	}
	for _, c := range r.Cookies {
		e.Request.Cookies = append(e.Request.Cookies, har.Cookie{Name: c[0], Value: c[1]})
	}
	body := []byte(r.Body)
	if r.BodyBase64 != "" {
		b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(r.BodyBase64), ""))
		if err != nil {
			return nil, fmt.Errorf("bodyBase64: %w", err)
		}
		body = b
	}
	if r.Gzip {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(body)
		zw.Close()
		body = buf.Bytes()
		e.Request.Headers = append(e.Request.Headers, har.NameValue{Name: "Content-Encoding", Value: "gzip"})
	}
	if len(body) > 0 {
		pd := &har.PostData{MimeType: r.MimeType, Text: string(body)}
		if r.BodyBase64 != "" || r.Gzip {
			pd.Text = base64.StdEncoding.EncodeToString(body)
			pd.Encoding = "base64"
		}
		e.Request.PostData = pd
	}
	return e, nil
}

func loadAdapterCases(t *testing.T) map[string]*acFile {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "adaptercases", "*", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no files in testdata/adaptercases")
	}
	out := map[string]*acFile{}
	for _, fn := range files {
		b, err := os.ReadFile(fn)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		var f acFile
		if err := dec.Decode(&f); err != nil {
			t.Fatalf("%s: %v", fn, err)
		}
		slug, _, _ := strings.Cut(filepath.Base(fn), ".")
		id := filepath.Base(filepath.Dir(fn)) + "/" + slug
		if out[id] == nil {
			out[id] = &acFile{}
		}
		out[id].Cases = append(out[id].Cases, f.Cases...)
	}
	return out
}

// TestAdapterCases runs every case and compares the adapter findings exactly.
func TestAdapterCases(t *testing.T) {
	m, err := match.New(match.Options{})
	if err != nil {
		t.Fatal(err)
	}
	files := loadAdapterCases(t)
	ids := make([]string, 0, len(files))
	for id := range files {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		for i, c := range files[id].Cases {
			name := fmt.Sprintf("%s/%d", id, i)
			if c.Name != "" {
				name = id + "/" + c.Name
			}
			t.Run(name, func(t *testing.T) {
				runAdapterCase(t, m, c)
			})
		}
	}
}

func runAdapterCase(t *testing.T, m *match.Matcher, c acCase) {
	e, err := c.Request.entry()
	if err != nil {
		t.Fatal(err)
	}
	res := m.Entry(0, e)
	if res.Adapter != c.Adapter {
		t.Fatalf("handled by adapter %q, want %q", res.Adapter, c.Adapter)
	}
	var got, want []string
	for _, f := range res.Findings {
		if f.Source != match.SourceAdapter {
			continue
		}
		got = append(got, strings.Join([]string{f.Property, f.Context, f.Path, f.Value}, " | "))
	}
	for _, f := range c.Findings {
		if len(f) != 4 {
			t.Fatalf("finding %q: want [property, context, path, value]", f)
		}
		if !adapters.IsProperty(f[0]) {
			t.Fatalf("finding %q: unknown property", f)
		}
		want = append(want, strings.Join(f, " | "))
	}
	sort.Strings(got)
	sort.Strings(want)
	missing, extra := diffSorted(want, got)
	for _, s := range missing {
		t.Errorf("missing finding: %s", s)
	}
	for _, s := range extra {
		t.Errorf("unexpected finding: %s", s)
	}
	failed := map[int]bool{}
	for _, i := range c.FailedSteps {
		failed[i] = true
	}
	for i, st := range res.Steps {
		if st.Status == "failed" && !failed[i] {
			t.Errorf("decoding step %d (%s) failed: %s", i, st.Function, st.Error)
		}
		if st.Status != "failed" && failed[i] {
			t.Errorf("decoding step %d (%s) did not fail", i, st.Function)
		}
	}
	if t.Failed() {
		t.Logf("all findings:\n  %s", strings.Join(got, "\n  "))
	}
}

// diffSorted returns what is only in a and only in b (both sorted).
func diffSorted(a, b []string) (onlyA, onlyB []string) {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || (i < len(a) && a[i] < b[j]):
			onlyA = append(onlyA, a[i])
			i++
		case i == len(a) || b[j] < a[i]:
			onlyB = append(onlyB, b[j])
			j++
		default:
			i++
			j++
		}
	}
	return onlyA, onlyB
}

// TestAdapterCasesCoverDatabase wants a case file for every adapter of the
// embedded database, with at least one case the adapter handles, and no case
// file for an adapter that does not exist.
func TestAdapterCasesCoverDatabase(t *testing.T) {
	db, err := adapters.Default()
	if err != nil {
		t.Fatal(err)
	}
	files := loadAdapterCases(t)
	for _, a := range db.Adapters {
		f, ok := files[a.ID()]
		if !ok {
			t.Errorf("adapter %s has no testdata/adaptercases/%s.yaml", a.ID(), a.ID())
			continue
		}
		handled := false
		for _, c := range f.Cases {
			if c.Adapter == a.ID() && len(c.Findings) > 0 {
				handled = true
			}
		}
		if !handled {
			t.Errorf("testdata/adaptercases/%s.yaml: no case with findings that %s handles", a.ID(), a.ID())
		}
	}
	for id := range files {
		if db.Adapter(id) == nil {
			t.Errorf("testdata/adaptercases/%s.yaml: no such adapter", id)
		}
	}
}

// TestAdapterCasesCoverTrackHAR runs TrackHAR (npm "trackhar" 1.0.0, whose
// database the adapters were translated from) over every case request and
// fails for each TrackHAR finding that tracewire does not report too (same
// request, property and value). It skips when node or the package is absent;
// .ci/run installs it.
func TestAdapterCasesCoverTrackHAR(t *testing.T) {
	testutil.NodeModules(t, "trackhar") // skip before building the HAR
	m, err := match.New(match.Options{})
	if err != nil {
		t.Fatal(err)
	}
	files := loadAdapterCases(t)
	ids := make([]string, 0, len(files))
	for id := range files {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	type ref struct {
		name    string
		ours    map[string][]string // property -> values
		differs string
		found   bool
	}
	var refs []ref
	h := &har.HAR{Log: har.Log{Version: "1.2", Creator: har.Creator{Name: "tracewire adaptercases", Version: "1"}}}
	for _, id := range ids {
		for i, c := range files[id].Cases {
			e, err := c.Request.entry()
			if err != nil {
				t.Fatal(err)
			}
			ours := map[string][]string{}
			for _, f := range m.Entry(len(refs), e).Findings {
				ours[f.Property] = append(ours[f.Property], f.Value)
			}
			refs = append(refs, ref{name: fmt.Sprintf("%s#%d (%s)", id, i, c.Name), ours: ours, differs: c.TrackHARDiffers})
			h.Log.Entries = append(h.Log.Entries, *e)
		}
	}
	harFile := filepath.Join(t.TempDir(), "cases.har")
	var buf bytes.Buffer
	if err := har.Encode(&buf, h); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(harFile, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range testutil.RunTrackHAR(t, "", harFile) {
		if f.Entry < 0 || f.Entry >= len(refs) {
			t.Fatalf("trackhar output: entry %d out of range", f.Entry)
		}
		r := &refs[f.Entry]
		if f.Error != "" {
			t.Errorf("%s: TrackHAR failed: %s", r.name, f.Error)
			continue
		}
		n++
		if r.differs != "" {
			r.found = true
			t.Logf("%s: TrackHAR's %s finds %s = %q, deliberately not reported: %s", r.name, f.Adapter, f.Property, f.Value, r.differs)
			continue
		}
		found := false
		for _, v := range r.ours[f.Property] {
			if testutil.SameTrackHARValue(f.Value, v) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("%s: TrackHAR's %s finds %s = %q at %s %s; tracewire does not", r.name, f.Adapter, f.Property, f.Value, f.Context, f.Path)
		}
	}
	if n == 0 {
		t.Fatal("TrackHAR found nothing in the cases; is the script working?")
	}
	for _, r := range refs {
		if r.differs != "" && !r.found {
			t.Errorf("%s: trackharDiffers says TrackHAR finds data here, but it finds none", r.name)
		}
	}
	t.Logf("%d TrackHAR findings in %d case requests, all reported by tracewire", n, len(refs))
}
