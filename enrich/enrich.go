package enrich

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
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
// When the Pipeline has a Skim pass, the entries of the first pass carry only
// the skimmed fields: CommunityID, Timestamp, Request.Timestamp,
// Request.HTTPVersion, Response.Timestamp, Response.HTTPVersion and
// Response.Status (unless a planner of the package reads requests: the
// provenance log's shift estimate).
type Planner interface {
	Enricher
	Observe(i int, e *har.Entry) error
	Plan(ctx context.Context) error
}

// Pipeline runs enrichers over a stream of entries.
type Pipeline struct {
	// Enrichers run in this order on each entry.
	Enrichers []Enricher
	// Progress, when set, is called every few thousand entries with the
	// pass (1 or 2; 2 is the only pass when no enricher plans) and the
	// number of entries done.
	Progress func(pass, done int)
	// Skim, when set, is the first pass over the entries instead of the
	// entries themselves (HARFile.Skim): same entries, with at least the
	// fields a Planner reads.
	Skim iter.Seq2[*har.Entry, error]

	summary *Summary
}

// progressEvery is how often Progress is called and the context checked.
const progressEvery = 4096

// errStop ends a pass whose consumer stopped.
var errStop = errors.New("stopped")

// Enrich returns the entries of src enriched, in order. With a Planner it
// ranges over src twice (the first time over Skim, when set): both passes
// must give the same entries in the same order. The sequence ends with the
// first error of src, an enricher or ctx.
func (p *Pipeline) Enrich(ctx context.Context, src iter.Seq2[*har.Entry, error]) iter.Seq2[*har.Entry, error] {
	return func(yield func(*har.Entry, error) bool) {
		err := p.run(ctx, src, func(e *har.Entry) error {
			if !yield(e, nil) {
				return errStop
			}
			return nil
		})
		if err != nil && !errors.Is(err, errStop) {
			yield(nil, err)
		}
	}
}

// Summary says what each source did, once the entries of Enrich have ended
// (as far as it got when they ended early).
func (p *Pipeline) Summary() *Summary { return p.summary }

func (p *Pipeline) run(ctx context.Context, src iter.Seq2[*har.Entry, error], emit func(*har.Entry) error) error {
	s := &Summary{}
	p.summary = s
	var planners []Planner
	for _, en := range p.Enrichers {
		if pl, ok := en.(Planner); ok {
			planners = append(planners, pl)
		}
	}
	first := -1
	if len(planners) > 0 {
		pass1 := src
		if p.Skim != nil {
			pass1 = p.Skim
		}
		for _, pl := range planners {
			if r, ok := pl.(interface{ needsRequests() bool }); ok && r.needsRequests() {
				pass1 = src
			}
		}
		n, err := p.pass(ctx, pass1, 1, func(i int, e *har.Entry) error {
			for _, pl := range planners {
				if err := pl.Observe(i, e); err != nil {
					return fmt.Errorf("%s: entry %d: %w", pl.Name(), i, err)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		first = n
		for _, pl := range planners {
			if err := pl.Plan(ctx); err != nil {
				return fmt.Errorf("%s: %w", pl.Name(), err)
			}
		}
	}
	n, err := p.pass(ctx, src, 2, func(i int, e *har.Entry) error {
		for _, en := range p.Enrichers {
			if err := en.Enrich(i, e); err != nil {
				return fmt.Errorf("%s: entry %d: %w", en.Name(), i, err)
			}
		}
		return emit(e)
	})
	s.Entries = n
	if err != nil {
		return err
	}
	if first >= 0 && first != n {
		return fmt.Errorf("enrich: the input gave %d entries in the first pass and %d in the second", first, n)
	}
	for _, en := range p.Enrichers {
		en.Report(s)
	}
	return nil
}

func (p *Pipeline) pass(ctx context.Context, src iter.Seq2[*har.Entry, error], pass int, fn func(int, *har.Entry) error) (int, error) {
	i := 0
	for e, err := range src {
		if i%progressEvery == 0 {
			if err := ctx.Err(); err != nil {
				return i, err
			}
			if p.Progress != nil && i > 0 {
				p.Progress(pass, i)
			}
		}
		if err != nil {
			return i, err
		}
		if err := fn(i, e); err != nil {
			return i, err
		}
		i++
	}
	if err := ctx.Err(); err != nil && i%progressEvery == 0 {
		return i, err
	}
	if p.Progress != nil {
		p.Progress(pass, i)
	}
	return i, nil
}

// HARFile streams the entries of a HAR file; each iteration reads the
// file again.
type HARFile struct {
	Path string
	// Workers parse entries in parallel (in order; at most a few hundred
	// in flight): GOMAXPROCS when 0, on the reading goroutine when 1.
	Workers int
	r       *har.Reader
	warn    *warnings
}

// All returns the entries of the file.
func (h *HARFile) All() iter.Seq2[*har.Entry, error] {
	return h.openPass(func(r *har.Reader, yield func(*har.Entry, error) bool) {
		h.r = r
		h.warn = &warnings{}
		workers := h.Workers
		if workers <= 0 {
			workers = runtime.GOMAXPROCS(0)
		}
		if workers == 1 {
			for e, err := range r.Entries() {
				if !yield(e, err) || err != nil {
					return
				}
			}
			return
		}
		h.parallel(workers, yield)
	})
}

// openPass returns a pass over the file that opens it, hands a reader of it to
// read and closes it; the errors read yields are prefixed with the path
// (an open error names it already).
func (h *HARFile) openPass(read func(r *har.Reader, yield func(*har.Entry, error) bool)) iter.Seq2[*har.Entry, error] {
	return func(yield func(*har.Entry, error) bool) {
		f, err := os.Open(h.Path)
		if err != nil {
			yield(nil, err)
			return
		}
		defer f.Close()
		read(har.NewReader(f), func(e *har.Entry, err error) bool {
			if err != nil {
				err = fmt.Errorf("%s: %w", h.Path, err)
			}
			return yield(e, err)
		})
	}
}

// Log returns the log properties of the last pass's reader (those after
// the entries only once the pass has ended); nil before the first pass.
func (h *HARFile) Log() *har.Log {
	if h.r == nil {
		return nil
	}
	return h.r.Log()
}

// Head returns the log properties before the entries of the last pass's
// reader, as they stood when its entries began (har.Reader.Head); nil
// before the first pass.
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

// parsed is an entry parsed on a worker; nil e and err for an entry left
// out (not an object).
type parsed struct {
	e   *har.Entry
	err error
}

// inFlight bounds the batches of entries read but not yet handed out.
const inFlight = 16

// parallel cuts the entries on one goroutine, parses them on workers and
// hands them to yield in order.
func (h *HARFile) parallel(workers int, yield func(*har.Entry, error) bool) {
	type job struct {
		b   *har.RawBatch
		out chan []parsed
	}
	order := make(chan chan []parsed, inFlight)
	jobs := make(chan job, inFlight)
	stop := make(chan struct{})
	var readErr error
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				ps := make([]parsed, len(j.b.Texts))
				for i, raw := range j.b.Texts {
					idx := j.b.First + i
					if jsontext.Value(raw).Kind() != '{' {
						// As Reader.Entries: skipped, with a warning.
						h.warn.add([]har.Warning{{Entry: idx, Msg: "entry is not an object; skipped", Skipped: true}})
						continue
					}
					var ws []har.Warning
					ps[i].e, ws, ps[i].err = har.ParseEntry(raw, idx)
					h.warn.add(ws)
				}
				j.b.Release()
				j.out <- ps
			}
		}()
	}
	go func() {
		defer func() {
			close(jobs)
			wg.Wait()
		}()
		defer close(order)
		for {
			b, err := h.r.NextBatch(64)
			if err != nil {
				readErr = err
				return
			}
			out := make(chan []parsed, 1)
			select {
			case order <- out:
			case <-stop:
				b.Release()
				return
			}
			jobs <- job{b, out}
		}
	}()
	defer func() {
		close(stop)
		// Let the reader and workers finish what they hold.
		for range order {
		}
		wg.Wait()
	}()
	for out := range order {
		for _, p := range <-out {
			if p.err != nil {
				yield(nil, p.err)
				return
			}
			if p.e != nil && !yield(p.e, nil) {
				return
			}
		}
	}
	if !errors.Is(readErr, io.EOF) {
		yield(nil, readErr)
	}
}

// Skim returns a pass over the file that only delimits each entry and
// reads the few fields planners need (Pipeline.Skim), several times faster
// than All's.
func (h *HARFile) Skim() iter.Seq2[*har.Entry, error] {
	return h.openPass(func(r *har.Reader, yield func(*har.Entry, error) bool) {
		for {
			b, err := r.NextBatch(64)
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				yield(nil, err)
				return
			}
			for i, raw := range b.Texts {
				e, err := skim(raw, b.First+i)
				if e != nil || err != nil {
					if !yield(e, err) || err != nil {
						b.Release()
						return
					}
				}
			}
			b.Release()
		}
	})
}

// skim reads an entry's skimmed fields; nil for an entry left out (not an
// object).
func skim(raw []byte, idx int) (*har.Entry, error) {
	if jsontext.Value(raw).Kind() != '{' {
		// Reader.Entries skips these too, with a warning.
		return nil, nil
	}
	if e, ok := skimEntry(raw); ok {
		return e, nil
	}
	// Whatever the skim could not read, the full parser reads as the
	// second pass will.
	e, _, err := har.ParseEntry(raw, idx)
	return e, err
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
