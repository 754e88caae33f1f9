package match

import (
	"context"
	"errors"
	"io"
	"iter"
	"runtime"
	"sync"

	"github.com/tracewire/tracewire/adapters"
	"github.com/tracewire/tracewire/har"
)

// maxInFlight bounds the entries read but not yet handed to the callback,
// so memory stays flat whatever the number of entries.
const maxInFlight = 512

// batchSize is how many entries' texts a worker takes at a time in
// StreamHAR: enough to make the hand-over cost nothing, few enough that
// the workers share a small HAR.
const batchSize = 64

// job is one entry (Stream) or a batch of entries' texts (StreamHAR).
type job struct {
	seq   int
	idx   int
	e     *har.Entry
	batch *har.RawBatch
}

// Stream matches entries on a pool of workers (GOMAXPROCS when workers
// <= 0) and calls fn with the results in entry order, from one goroutine.
// An entry's index is its place in entries; each Result's Parsed is the
// entry. It stops at the first error of entries, fn or ctx.
func (m *Matcher) Stream(ctx context.Context, entries iter.Seq2[*har.Entry, error], workers int, fn func(*Result) error) error {
	return m.stream(ctx, workers, maxInFlight, func(send func(job) bool) error {
		i := 0
		for e, err := range entries {
			if err != nil {
				return err
			}
			if !send(job{idx: i, e: e}) {
				return nil
			}
			i++
		}
		return nil
	}, fn)
}

// StreamHAR is Stream over the entries of a HAR, read as text: the
// reading goroutine only cuts the file into entries, the workers parse
// them, requests only, and entries whose request URL no adapter lists and
// that no indicator is searched in are not parsed at all (their Result has
// only the entry's index, method and URL). Each Result's Text is its
// entry's JSON text, valid until fn returns; indexes are the HAR's.
//
// This shortcut past Stream and Reader.Entries is what makes "tracewire
// detect" fast: on the tiled 50,337-entry HAR of BENCHMARKS.md, detect
// through Stream (entries parsed whole on one goroutine) took 3.7-4.8 s
// CPU and 3.7-4.4 s wall against 2.6-3.1 s CPU and 1.8-3.0 s wall this way
// (2 cores, loaded machine, December 2026), and handing out single
// entries' texts instead of batches cost another tenth of the CPU.
func (m *Matcher) StreamHAR(ctx context.Context, r *har.Reader, workers int, fn func(*Result) error) error {
	return m.stream(ctx, workers, maxInFlight/batchSize, func(send func(job) bool) error {
		for {
			b, err := r.NextBatch(batchSize)
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if !send(job{batch: b}) {
				return nil
			}
		}
	}, fn)
}

// stream runs read on its own goroutine, the jobs it sends on the
// workers, and fn on the results in the order read sent the jobs.
func (m *Matcher) stream(ctx context.Context, workers, inFlight int, read func(send func(job) bool) error, fn func(*Result) error) error {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type done struct {
		seq   int
		rs    []*Result
		batch *har.RawBatch
	}
	jobs := make(chan job, inFlight)
	results := make(chan done, inFlight)
	slots := make(chan struct{}, inFlight)
	var readErr error
	go func() {
		defer close(jobs)
		seq := 0
		readErr = read(func(j job) bool {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return false
			}
			j.seq = seq
			seq++
			select {
			case jobs <- j:
				return true
			case <-ctx.Done():
				return false
			}
		})
	}()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				d := done{seq: j.seq, batch: j.batch}
				if j.batch != nil {
					d.rs = make([]*Result, len(j.batch.Texts))
					for i, raw := range j.batch.Texts {
						d.rs[i] = m.raw(raw, j.batch.First+i)
					}
				} else {
					r := m.Entry(j.idx, j.e)
					r.Parsed = j.e
					d.rs = []*Result{r}
				}
				select {
				case results <- d:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() {
		wg.Wait()
		close(results)
	}()

	// A batch's buffers go back to the Reader once its results are
	// handed out (they hold no reference into them, Text aside); after an
	// error they are left to the collector.
	pending := map[int]done{}
	next := 0
	var fnErr error
	for d := range results {
		pending[d.seq] = d
		for d, ok := pending[next]; ok; d, ok = pending[next] {
			delete(pending, next)
			next++
			<-slots
			for i, r := range d.rs {
				if fnErr != nil {
					break
				}
				if d.batch != nil {
					r.Text = d.batch.Texts[i]
				}
				if fnErr = fn(r); fnErr != nil {
					cancel()
				}
				r.Text = nil
			}
			if d.batch != nil && fnErr == nil {
				d.batch.Release()
			}
		}
	}
	if fnErr != nil {
		return fnErr
	}
	if readErr != nil {
		return readErr
	}
	return ctx.Err()
}

// raw matches an entry given as JSON text.
func (m *Matcher) raw(raw []byte, idx int) *Result {
	method, u, ok := har.PeekRequest(raw)
	var cands []*adapters.Adapter
	if ok {
		var may bool
		if may, cands = m.mayFind(u); !may {
			// No adapter for the URL and no indicators: nothing to find,
			// no need to parse the entry.
			return &Result{Entry: EntryRef{Index: idx, Method: method, URL: u}}
		}
	}
	e, warns, err := har.ParseRequest(raw, idx)
	if err != nil {
		var ee *har.EntryError
		if errors.As(err, &ee) {
			err = ee.Err // the index is the Result's
		}
		return &Result{Entry: EntryRef{Index: idx}, Skipped: true, Warnings: []string{err.Error()}}
	}
	r := m.entry(idx, e, u, cands)
	for _, w := range warns {
		r.Warnings = append(r.Warnings, w.String())
	}
	return r
}
