package enrich

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/internal/testutil"
)

// countingEnricher records what the pipeline calls.
type countingEnricher struct {
	observed, enriched []int
	planned            int
}

func (c *countingEnricher) Name() string { return "counting" }
func (c *countingEnricher) Enrich(i int, e *har.Entry) error {
	c.enriched = append(c.enriched, i)
	e.Extra.Set("_seen", int64(i))
	return nil
}
func (c *countingEnricher) Report(s *Summary) {
	s.Sources = append(s.Sources, &SourceReport{Source: "counting", Counts: []Count{{"entries", len(c.enriched)}}})
}
func (c *countingEnricher) Observe(i int, e *har.Entry) error {
	if _, ok := e.Extra["_seen"]; ok {
		return errors.New("observe saw an enriched entry")
	}
	c.observed = append(c.observed, i)
	return nil
}
func (c *countingEnricher) Plan(context.Context) error { c.planned++; return nil }

// TestPipelineHARFile runs a planner over a HAR file: two passes, the
// second writes enriched entries, the log survives.
func TestPipelineHARFile(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.har")
	var buf bytes.Buffer
	h := &har.HAR{Log: har.Log{Creator: har.Creator{Name: "test", Version: "1"}, Comment: "trailing comment"}}
	for i := 0; i < 3; i++ {
		h.Log.Entries = append(h.Log.Entries, *entry(flowA, baseSec+float64(i), 0, "HTTP/1.1"))
	}
	if err := har.Encode(&buf, h); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(in, buf.Bytes(), 0o644)

	c := &countingEnricher{}
	src := &HARFile{Path: in}
	var out bytes.Buffer
	var w *har.Writer
	var progress []int
	p := &Pipeline{Enrichers: []Enricher{c}, Progress: func(pass, n int) { progress = append(progress, pass*100+n) }, Skim: src.Skim()}
	s, err := pipe(context.Background(), p, src.All(), func(e *har.Entry) error {
		if w == nil {
			w = har.NewWriter(&out, src.Log())
		}
		return w.Write(e)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if len(c.observed) != 3 || len(c.enriched) != 3 || c.planned != 1 || s.Entries != 3 {
		t.Errorf("observed %v enriched %v planned %d entries %d", c.observed, c.enriched, c.planned, s.Entries)
	}
	if want := []int{103, 203}; len(progress) != 2 || progress[0] != want[0] || progress[1] != want[1] {
		t.Errorf("progress %v, want %v", progress, want)
	}
	got, _, err := har.ReadAll(&out)
	if err != nil {
		t.Fatal(err)
	}
	if got.Log.Creator.Name != "test" || got.Log.Comment != "trailing comment" || len(got.Log.Entries) != 3 || got.Log.Entries[2].Extra["_seen"] != int64(2) {
		t.Errorf("output log %+v", got.Log)
	}
	var text strings.Builder
	s.WriteText(&text)
	if text.String() != "enrich: 3 entries\ncounting:\n  entries: 3\n" {
		t.Errorf("summary text %q", text.String())
	}
}

// changing gives one more entry in each pass.
func changing() iter.Seq2[*har.Entry, error] {
	n := 0
	return func(yield func(*har.Entry, error) bool) {
		n++
		for range n {
			if !yield(entry(flowA, baseSec, 0, "HTTP/1.1"), nil) {
				return
			}
		}
	}
}

func TestPipelineErrors(t *testing.T) {
	p := &Pipeline{Enrichers: []Enricher{&countingEnricher{}}}
	emit := func(*har.Entry) error { return nil }
	if _, err := pipe(context.Background(), p, changing(), emit); err == nil || !strings.Contains(err.Error(), "1 entries in the first pass and 2 in the second") {
		t.Errorf("changing input: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := pipe(ctx, p, slice([]*har.Entry{entry(flowA, baseSec, 0, "HTTP/1.1")}), emit); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	boom := errors.New("disk full")
	if _, err := pipe(context.Background(), p, slice([]*har.Entry{entry(flowA, baseSec, 0, "HTTP/1.1")}), func(*har.Entry) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("emit error: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.har")
	os.WriteFile(bad, []byte(`{"log":{"entries":[{"request":{}},`), 0o644)
	if _, err := pipe(context.Background(), p, (&HARFile{Path: bad}).All(), emit); err == nil || !strings.Contains(err.Error(), "bad.har: har: byte") {
		t.Errorf("truncated HAR: %v", err)
	}
	if _, err := pipe(context.Background(), p, (&HARFile{Path: filepath.Join(t.TempDir(), "none.har")}).All(), emit); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing HAR: %v", err)
	}
}

// skimFields are the fields the skim pass promises.
func skimFields(e *har.Entry) [7]any {
	return [7]any{e.CommunityID, e.Timestamp, e.Request.Timestamp, e.Request.HTTPVersion, e.Response.Timestamp, e.Response.HTTPVersion, e.Response.Status}
}

// TestSkimMatchesParse reads the corpus's HARs both ways: the skim pass
// must give the full parse's values for the fields it promises, and the
// same number of entries.
func TestSkimMatchesParse(t *testing.T) {
	dir := testutil.Corpus(t, "har")
	var files []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".har") {
			files = append(files, p)
		}
		return nil
	})
	// And one of ours, with tracewire's fields.
	ours := filepath.Join(t.TempDir(), "ours.har")
	var buf bytes.Buffer
	h := &har.HAR{}
	for i := 0; i < 3; i++ {
		e := entry(flowA, baseSec+float64(i), baseSec+float64(i)+0.5, "HTTP/2")
		e.Response.Content.Text = `a "quoted" \ body ]}` + strings.Repeat("x", i*1000)
		h.Log.Entries = append(h.Log.Entries, *e)
	}
	har.Encode(&buf, h)
	os.WriteFile(ours, buf.Bytes(), 0o644)
	files = append(files, ours)
	if len(files) < 10 {
		t.Fatalf("only %d HAR files", len(files))
	}
	for _, f := range files {
		src := &HARFile{Path: f}
		full, stopFull := iter.Pull2(src.All())
		skim, stopSkim := iter.Pull2(src.Skim())
		for n := 0; ; n++ {
			a, errA, okA := full()
			b, errB, okB := skim()
			if okA != okB || (errA == nil) != (errB == nil) {
				t.Errorf("%s entry %d: full %v %v, skim %v %v", filepath.Base(f), n, okA, errA, okB, errB)
				break
			}
			if !okA || errA != nil {
				break
			}
			if skimFields(a) != skimFields(b) {
				t.Errorf("%s entry %d: full %v, skim %v", filepath.Base(f), n, skimFields(a), skimFields(b))
			}
		}
		stopFull()
		stopSkim()
	}
}

func FuzzSkimEntry(f *testing.F) {
	f.Add([]byte(`{"_communityId":"1:x","_timestamp":1.5,"request":{"httpVersion":"HTTP/2","_timestamp":1.5,"headers":[]},"response":{"status":200,"_timestamp":2,"content":{"text":"a\"]}"}}}`))
	f.Add([]byte(`{"response":{"status":"200"},"request":null}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		e, ok := skimEntry(raw)
		if !ok {
			return
		}
		full, _, err := har.ParseEntry(raw, 0)
		if err != nil || full == nil {
			return // the skim reads less; the full parse decides in pass 2
		}
		if skimFields(e) != skimFields(full) {
			t.Fatalf("skim %v, parse %v", skimFields(e), skimFields(full))
		}
	})
}

// TestHARFileParallel: the parallel parse gives the entries and warnings of
// the sequential one, in order, and stops cleanly when closed early.
func TestHARFileParallel(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString(`{"log":{"version":"1.2","creator":{"name":"x","version":"1"},"entries":[`)
	for i := 0; i < 1000; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		if i == 500 {
			b.WriteString(`"not an entry",`)
		}
		fmt.Fprintf(&b, `{"startedDateTime":"2023-11-14T22:13:20Z","time":"%d","request":{"method":"GET","url":"http://x/%d","httpVersion":"HTTP/1.1","headers":[],"queryString":[],"cookies":[],"headersSize":-1,"bodySize":-1},"response":{"status":200},"_timestamp":%d}`, i, i, 1700000000+i)
	}
	b.WriteString(`]}}`)
	p := filepath.Join(dir, "in.har")
	os.WriteFile(p, []byte(b.String()), 0o644)
	read := func(workers int) ([]string, []har.Warning) {
		h := &HARFile{Path: p, Workers: workers}
		var urls []string
		for e, err := range h.All() {
			if err != nil {
				t.Fatal(err)
			}
			urls = append(urls, e.Request.URL)
		}
		return urls, h.Warnings()
	}
	seqU, seqW := read(1)
	parU, parW := read(4)
	if len(seqU) != 1000 || strings.Join(seqU, " ") != strings.Join(parU, " ") {
		t.Errorf("sequential %d entries, parallel %d, or a different order", len(seqU), len(parU))
	}
	if len(seqW) != len(parW) || len(seqW) != 1001 {
		t.Errorf("warnings: sequential %d, parallel %d (want 1000 time-as-string and 1 skipped entry)", len(seqW), len(parW))
	}
	for i := range seqW {
		if i < len(parW) && seqW[i].String() != parW[i].String() {
			t.Errorf("warning %d: %s vs %s", i, seqW[i], parW[i])
			break
		}
	}
	// Stopping after a few entries stops the reader and workers.
	h := &HARFile{Path: p, Workers: 4}
	for range h.All() {
		break
	}
}

// TestHARFileErrors: every pass over a HAR file (All on one reading
// goroutine and on workers, Skim) gives a missing file's open error as it
// is, and prefixes what the reader cannot read with the path, once.
func TestHARFileErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.har")
	if err := os.WriteFile(bad, []byte(`{"log":{"entries":[{"request":{}},`), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "none.har")
	passes := []struct {
		name string
		seq  func(h *HARFile) iter.Seq2[*har.Entry, error]
		h    HARFile
	}{
		{"All, 1 worker", (*HARFile).All, HARFile{Workers: 1}},
		{"All, 4 workers", (*HARFile).All, HARFile{Workers: 4}},
		{"Skim", (*HARFile).Skim, HARFile{}},
	}
	for _, tc := range []struct {
		name, path, prefix string
		is                 error
	}{
		{"missing", missing, "open " + missing + ": ", os.ErrNotExist},
		{"truncated", bad, bad + ": har: byte ", nil},
	} {
		for _, p := range passes {
			t.Run(tc.name+"/"+p.name, func(t *testing.T) {
				h := p.h
				h.Path = tc.path
				var errs []error
				for _, err := range p.seq(&h) {
					if err != nil {
						errs = append(errs, err)
					}
				}
				if len(errs) != 1 {
					t.Fatalf("%d errors, want 1: %v", len(errs), errs)
				}
				msg := errs[0].Error()
				if !strings.HasPrefix(msg, tc.prefix) || strings.Count(msg, tc.path) != 1 {
					t.Errorf("error %q, want it to start %q and name the path once", msg, tc.prefix)
				}
				if tc.is != nil && !errors.Is(errs[0], tc.is) {
					t.Errorf("error %q is not %v", msg, tc.is)
				}
			})
		}
	}
}
