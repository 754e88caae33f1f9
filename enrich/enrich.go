package enrich

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/tracewire/tracewire/har"
)

// Enricher adds what one source knows to HAR entries.
type Enricher interface {
	// Name names the source in the summary, e.g. "pirogue socket trace".
	Name() string
	// Enrich adds to e, the i-th entry (0-based) of the input.
	Enrich(i int, e *har.Entry) error
	// Report adds the source's counts to s once every entry is enriched.
	Report(s *Summary)
}

// Planner is an Enricher that must see every entry before it changes any,
// because what one entry gets depends on the others (one-to-one pairing of
// socket operations). Observe sees each entry in a first pass, without
// changing it; Plan is called once after that pass.
//
// When the Source is a Skimmer, the entries of the first pass carry only
// the skimmed fields: CommunityID, Timestamp, Request.Timestamp,
// Request.HTTPVersion, Response.Timestamp, Response.HTTPVersion and
// Response.Status (unless a planner of the package reads requests: the
// provenance log's shift estimate).
type Planner interface {
	Enricher
	Observe(i int, e *har.Entry) error
	Plan(ctx context.Context) error
}

// Entries is one pass over the entries of an input.
type Entries interface {
	// Next returns the next entry, or io.EOF after the last one.
	Next() (*har.Entry, error)
	Close() error
}

// Source opens passes over the same entries. A Pipeline with a Planner opens
// it twice; both passes must give the same entries in the same order.
type Source interface {
	Open() (Entries, error)
}

// Skimmer is a Source that can also give a cheaper first pass, whose
// entries carry only the fields a Planner reads.
type Skimmer interface {
	Source
	Skim() (Entries, error)
}

// Pipeline runs enrichers over a stream of entries.
type Pipeline struct {
	// Enrichers run in this order on each entry.
	Enrichers []Enricher
	// Progress, when set, is called every few thousand entries with the
	// pass (1 or 2; 2 is the only pass when no enricher plans) and the
	// number of entries done.
	Progress func(pass, done int)
}

// progressEvery is how often Progress is called and the context checked.
const progressEvery = 4096

// Run enriches the entries of src in order and hands each to emit. The
// returned summary says what each source did; it is also returned, as far
// as it got, with an error.
func (p *Pipeline) Run(ctx context.Context, src Source, emit func(*har.Entry) error) (*Summary, error) {
	s := &Summary{}
	var planners []Planner
	for _, en := range p.Enrichers {
		if pl, ok := en.(Planner); ok {
			planners = append(planners, pl)
		}
	}
	first := -1
	if len(planners) > 0 {
		skim := true
		for _, pl := range planners {
			if r, ok := pl.(interface{ needsRequests() bool }); ok && r.needsRequests() {
				skim = false
			}
		}
		n, err := p.pass(ctx, src, 1, skim, func(i int, e *har.Entry) error {
			for _, pl := range planners {
				if err := pl.Observe(i, e); err != nil {
					return fmt.Errorf("%s: entry %d: %w", pl.Name(), i, err)
				}
			}
			return nil
		})
		if err != nil {
			return s, err
		}
		first = n
		for _, pl := range planners {
			if err := pl.Plan(ctx); err != nil {
				return s, fmt.Errorf("%s: %w", pl.Name(), err)
			}
		}
	}
	n, err := p.pass(ctx, src, 2, false, func(i int, e *har.Entry) error {
		for _, en := range p.Enrichers {
			if err := en.Enrich(i, e); err != nil {
				return fmt.Errorf("%s: entry %d: %w", en.Name(), i, err)
			}
		}
		return emit(e)
	})
	s.Entries = n
	if err != nil {
		return s, err
	}
	if first >= 0 && first != n {
		return s, fmt.Errorf("enrich: the input gave %d entries in the first pass and %d in the second", first, n)
	}
	for _, en := range p.Enrichers {
		en.Report(s)
	}
	return s, nil
}

func (p *Pipeline) pass(ctx context.Context, src Source, pass int, skim bool, fn func(int, *har.Entry) error) (int, error) {
	open := src.Open
	if sk, ok := src.(Skimmer); ok && skim {
		open = sk.Skim
	}
	it, err := open()
	if err != nil {
		return 0, err
	}
	defer it.Close()
	i := 0
	for {
		if i%progressEvery == 0 {
			if err := ctx.Err(); err != nil {
				return i, err
			}
			if p.Progress != nil && i > 0 {
				p.Progress(pass, i)
			}
		}
		e, err := it.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return i, err
		}
		if err := fn(i, e); err != nil {
			return i, err
		}
		i++
	}
	if p.Progress != nil {
		p.Progress(pass, i)
	}
	return i, it.Close()
}

// SliceSource is a Source over entries held in memory; the second pass
// enriches them in place.
type SliceSource []*har.Entry

// Open implements Source.
func (s SliceSource) Open() (Entries, error) { return &sliceEntries{s: s}, nil }

type sliceEntries struct {
	s []*har.Entry
	i int
}

func (it *sliceEntries) Next() (*har.Entry, error) {
	if it.i >= len(it.s) {
		return nil, io.EOF
	}
	it.i++
	return it.s[it.i-1], nil
}

func (it *sliceEntries) Close() error { return nil }

// HARFile is a Source that streams the entries of a HAR file; each pass
// reads the file again.
type HARFile struct {
	Path string
	// Workers parse entries in parallel (in order; at most a few hundred
	// in flight): GOMAXPROCS when 0, on the reading goroutine when 1.
	Workers int
	r       *har.Reader
	warn    *warnings
}

// Open implements Source.
func (h *HARFile) Open() (Entries, error) {
	f, err := os.Open(h.Path)
	if err != nil {
		return nil, err
	}
	h.r = har.NewReader(f)
	h.warn = &warnings{}
	workers := h.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if workers == 1 {
		return &harEntries{f: f, r: h.r, path: h.Path}, nil
	}
	return newParallelEntries(f, h.r, h.Path, workers, h.warn), nil
}

// Log returns the log properties of the last pass's reader (those after
// the entries only once the pass has ended); nil before the first Open.
func (h *HARFile) Log() *har.Log {
	if h.r == nil {
		return nil
	}
	return h.r.Log()
}

// Head returns the log properties before the entries of the last pass's
// reader, as they stood when its entries began (har.Reader.Head); nil
// before the first Open.
func (h *HARFile) Head() *har.Log {
	if h.r == nil {
		return nil
	}
	return h.r.Head()
}

// Warnings returns what the last pass's reader worked around, in entry
// order.
func (h *HARFile) Warnings() []har.Warning {
	if h.r == nil {
		return nil
	}
	out := append(h.r.Warnings(), h.warn.sorted()...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Entry < out[j].Entry })
	return out
}

// warnings collects the warnings of entries parsed on workers.
type warnings struct {
	mu   sync.Mutex
	list []har.Warning
}

func (w *warnings) add(ws []har.Warning) {
	if len(ws) == 0 {
		return
	}
	w.mu.Lock()
	if len(w.list) < 10000 {
		w.list = append(w.list, ws...)
	}
	w.mu.Unlock()
}

func (w *warnings) sorted() []har.Warning {
	if w == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]har.Warning(nil), w.list...)
}

// parallelEntries reads entries' text on one goroutine, parses them on
// workers and hands them out in order.
type parallelEntries struct {
	f     *os.File
	order chan chan parsed
	stop  chan struct{}
	done  chan struct{}
	err   error // the reader's last error (io.EOF at the end), set before order closes
	path  string
	once  sync.Once
}

type parsed struct {
	e   *har.Entry
	err error
}

// inFlight bounds the entries read but not yet handed out.
const inFlight = 256

func newParallelEntries(f *os.File, r *har.Reader, path string, workers int, warn *warnings) *parallelEntries {
	p := &parallelEntries{f: f, order: make(chan chan parsed, inFlight), stop: make(chan struct{}), done: make(chan struct{}), path: path}
	type job struct {
		raw []byte
		idx int
		out chan parsed
	}
	jobs := make(chan job, inFlight)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				e, ws, err := har.ParseEntry(j.raw, j.idx)
				warn.add(ws)
				j.out <- parsed{e, err}
			}
		}()
	}
	go func() {
		defer func() {
			close(jobs)
			wg.Wait()
			close(p.done)
		}()
		defer close(p.order)
		for {
			raw, idx, err := r.NextRaw()
			if err != nil {
				p.err = err
				return
			}
			if jsontext.Value(raw).Kind() != '{' {
				// As Reader.Next: skipped, with a warning.
				warn.add([]har.Warning{{Entry: idx, Msg: "entry is not an object; skipped", Skipped: true}})
				continue
			}
			out := make(chan parsed, 1)
			select {
			case p.order <- out:
			case <-p.stop:
				p.err = errors.New("closed")
				return
			}
			jobs <- job{raw, idx, out}
		}
	}()
	return p
}

func (p *parallelEntries) Next() (*har.Entry, error) {
	out, ok := <-p.order
	if !ok {
		if errors.Is(p.err, io.EOF) {
			return nil, io.EOF
		}
		return nil, fmt.Errorf("%s: %w", p.path, p.err)
	}
	r := <-out
	if r.err != nil {
		return nil, fmt.Errorf("%s: %w", p.path, r.err)
	}
	return r.e, nil
}

func (p *parallelEntries) Close() error {
	var err error
	p.once.Do(func() {
		close(p.stop)
		// Let the reader and workers finish what they hold.
		for range p.order {
		}
		<-p.done
		err = p.f.Close()
	})
	return err
}

// Skim implements Skimmer: a pass that only delimits each entry and reads
// the few fields planners need, several times faster than Open's.
func (h *HARFile) Skim() (Entries, error) {
	f, err := os.Open(h.Path)
	if err != nil {
		return nil, err
	}
	return &harEntries{f: f, r: har.NewReader(f), path: h.Path, skim: true}, nil
}

type harEntries struct {
	f    *os.File
	r    *har.Reader
	path string
	skim bool
}

func (it *harEntries) Next() (*har.Entry, error) {
	if it.skim {
		return it.nextSkim()
	}
	e, err := it.r.Next()
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %w", it.path, err)
	}
	return e, err
}

func (it *harEntries) nextSkim() (*har.Entry, error) {
	for {
		raw, idx, err := it.r.NextRaw()
		if errors.Is(err, io.EOF) {
			return nil, err
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", it.path, err)
		}
		if jsontext.Value(raw).Kind() != '{' {
			// Reader.Next skips these too, with a warning.
			continue
		}
		if e, ok := skimEntry(raw); ok {
			return e, nil
		}
		// Whatever the skim could not read, the full parser reads as the
		// second pass will.
		e, _, err := har.ParseEntry(raw, idx)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", it.path, err)
		}
		if e == nil {
			continue
		}
		return e, nil
	}
}

// skimmed is what the first pass of a Planner reads of an entry.
type skimmed struct {
	CommunityID string  `json:"_communityId"`
	Timestamp   float64 `json:"_timestamp"`
	Request     struct {
		Timestamp   float64 `json:"_timestamp"`
		HTTPVersion string  `json:"httpVersion"`
	} `json:"request"`
	Response struct {
		Timestamp   float64 `json:"_timestamp"`
		HTTPVersion string  `json:"httpVersion"`
		Status      float64 `json:"status"`
	} `json:"response"`
}

// skimEntry reads an entry's Community ID, timestamps, HTTP versions and
// status, skipping the rest (bodies, headers); ok is false when any of it
// is not as tracewire writes it (json/v2's strict defaults: types,
// duplicate names, UTF-8), which the HAR reader's lenient parse then reads.
func skimEntry(raw []byte) (*har.Entry, bool) {
	var s skimmed
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, false
	}
	e := &har.Entry{CommunityID: s.CommunityID, Timestamp: s.Timestamp}
	e.Request.Timestamp, e.Request.HTTPVersion = s.Request.Timestamp, s.Request.HTTPVersion
	e.Response.Timestamp, e.Response.HTTPVersion = s.Response.Timestamp, s.Response.HTTPVersion
	e.Response.Status = int(s.Response.Status)
	return e, true
}

func (it *harEntries) Close() error {
	if it.f == nil {
		return nil
	}
	err := it.f.Close()
	it.f = nil
	return err
}

// Summary says what each source did in a run.
type Summary struct {
	// Entries is the number of entries enriched.
	Entries int `json:"entries"`
	// Sources holds one report per enricher, in pipeline order.
	Sources []*SourceReport `json:"sources"`
	// indicators collects the owner IDs of provenance logs.
	indicators []Indicator
}

// SourceReport is what one enricher did.
type SourceReport struct {
	Source string `json:"source"`
	// Read describes the trace file; nil for sources without one.
	Read *ReadStats `json:"read,omitempty"`
	// Counts are the source's counters, in a fixed order.
	Counts []Count `json:"counts"`
	// Notes are details worth reading: conflicts, per-owner summaries.
	Notes []string `json:"notes,omitempty"`
	// TimeShift, when set, is the shift applied to the source's times.
	TimeShift *TimeShift `json:"timeShift,omitempty"`
}

// Count is one named counter.
type Count struct {
	Name string `json:"name"`
	N    int    `json:"n"`
}

// Count returns the counter called name, 0 when there is none.
func (r *SourceReport) Count(name string) int {
	for _, c := range r.Counts {
		if c.Name == name {
			return c.N
		}
	}
	return 0
}

func (r *SourceReport) add(name string, n int) {
	r.Counts = append(r.Counts, Count{name, n})
}

// Source returns the first report of the named source, nil when none.
func (s *Summary) Source(name string) *SourceReport {
	for _, r := range s.Sources {
		if r.Source == name {
			return r
		}
	}
	return nil
}

// Indicator is a value the matching stage should look for in requests
// (and in its encodings and hashes) because a source says it is personal
// data.
type Indicator struct {
	// Value is the literal to look for, e.g. "alice@example.com".
	Value string `json:"value"`
	// Kind says what it is; "owner" for the owner IDs of provenance logs.
	Kind string `json:"kind"`
	// Source is where it came from, e.g. "provenance.jsonl".
	Source string `json:"source"`
}

// Indicators returns the indicators the sources found, sorted by value,
// without duplicates.
func (s *Summary) Indicators() []Indicator {
	return sortIndicators(s.indicators)
}

func sortIndicators(in []Indicator) []Indicator {
	out := slices.Clone(in)
	slices.SortFunc(out, func(a, b Indicator) int {
		return cmp.Or(strings.Compare(a.Value, b.Value), strings.Compare(a.Kind, b.Kind), strings.Compare(a.Source, b.Source))
	})
	return slices.Compact(out)
}

// WriteText writes the summary for people, one source per paragraph.
func (s *Summary) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "enrich: %d entries\n", s.Entries)
	for _, r := range s.Sources {
		b.WriteString(r.Source)
		if r.Read != nil && r.Read.File != "" {
			fmt.Fprintf(&b, " (%s)", r.Read.File)
		}
		b.WriteString(":\n")
		if rs := r.Read; rs != nil {
			fmt.Fprintf(&b, "  records: %d read, %d used", rs.Records, rs.Used)
			for _, c := range rs.Skipped {
				fmt.Fprintf(&b, ", %d skipped (%s)", c.N, c.Name)
			}
			for _, c := range rs.Partial {
				fmt.Fprintf(&b, ", %d partly used (%s)", c.N, c.Name)
			}
			b.WriteString("\n")
			if rs.Truncated != "" {
				fmt.Fprintf(&b, "  WARNING: %s\n", rs.Truncated)
			}
			for _, x := range rs.Examples {
				fmt.Fprintf(&b, "  problem: %s\n", x)
			}
		}
		for _, c := range r.Counts {
			fmt.Fprintf(&b, "  %s: %d\n", c.Name, c.N)
		}
		if r.TimeShift != nil {
			fmt.Fprintf(&b, "  %s\n", r.TimeShift)
		}
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "  %s\n", n)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
