package match

import (
	"context"
	"errors"
	"io"
	"runtime"
	"sync"

	"github.com/tracewire/tracewire/adapters"
	"github.com/tracewire/tracewire/har"
)

// EntrySource yields HAR entries one by one (har.Reader does), with io.EOF
// after the last. When it also has an Index() int method (har.Reader has),
// that gives the entry's index in the HAR, which can differ from the count
// when the source skipped malformed entries.
type EntrySource interface {
	Next() (*har.Entry, error)
}

// RawEntrySource hands out each entry's JSON text and index; Stream then
// parses entries on its workers, requests only (the matcher never looks at
// responses).
type RawEntrySource interface {
	EntrySource
	NextRaw() ([]byte, int, error)
}

// RawBatchSource hands out entries' JSON text in batches that point into
// its buffer (har.Reader does): the reading goroutine then only cuts the
// file into entries, and nothing is copied.
type RawBatchSource interface {
	EntrySource
	NextBatch(max int) (*har.RawBatch, error)
}

// maxInFlight bounds the entries read but not yet handed to the callback,
// so memory stays flat whatever the number of entries.
const maxInFlight = 512

// batchSize is how many entries a worker takes at a time from a
// RawBatchSource: enough to make the hand-over cost nothing, few enough
// that the workers share a small HAR.
const batchSize = 64

// Stream matches every entry of src on a pool of workers (GOMAXPROCS when
// workers <= 0) and calls fn with the results in entry order, from one
// goroutine. It stops at the first error of src, fn or ctx.
//
// Entries whose request URL no adapter lists are not parsed when src gives
// their text (RawBatchSource, RawEntrySource) and no indicators are
// searched: their Result has only the entry's index, method and URL.
func (m *Matcher) Stream(ctx context.Context, src EntrySource, workers int, fn func(*Result) error) error {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// A job is one entry, or a batch of entries' texts.
	type job struct {
		seq   int
		idx   int // index of the (first) entry
		e     *har.Entry
		raw   []byte
		batch *har.RawBatch
	}
	type done struct {
		seq int
		rs  []*Result
	}
	batchSrc, _ := src.(RawBatchSource)
	rawSrc, _ := src.(RawEntrySource)
	indexer, _ := src.(interface{ Index() int })
	inFlight := maxInFlight
	if batchSrc != nil {
		inFlight = maxInFlight / batchSize
	}
	jobs := make(chan job, inFlight)
	results := make(chan done, inFlight)
	slots := make(chan struct{}, inFlight)
	var readErr error

	go func() {
		defer close(jobs)
		for seq := 0; ; seq++ {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			if ctx.Err() != nil {
				return
			}
			j := job{seq: seq}
			var err error
			switch {
			case batchSrc != nil:
				j.batch, err = batchSrc.NextBatch(batchSize)
			case rawSrc != nil:
				j.raw, j.idx, err = rawSrc.NextRaw()
			default:
				j.e, err = src.Next()
				j.idx = seq
				if indexer != nil {
					j.idx = indexer.Index()
				}
			}
			if err != nil {
				if !errors.Is(err, io.EOF) {
					readErr = err
				}
				<-slots
				return
			}
			select {
			case jobs <- j:
			case <-ctx.Done():
				if j.batch != nil {
					j.batch.Release()
				}
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				var rs []*Result
				switch {
				case j.batch != nil:
					rs = make([]*Result, len(j.batch.Texts))
					for i, raw := range j.batch.Texts {
						rs[i] = m.raw(raw, j.batch.First+i)
					}
					// Results hold no reference into the batch's buffers.
					j.batch.Release()
				case j.raw != nil:
					rs = []*Result{m.raw(j.raw, j.idx)}
				default:
					rs = []*Result{m.Entry(j.idx, j.e)}
				}
				select {
				case results <- done{j.seq, rs}:
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

	pending := map[int][]*Result{}
	next := 0
	var fnErr error
	for d := range results {
		if fnErr != nil {
			continue
		}
		pending[d.seq] = d.rs
		for {
			rs, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			<-slots
			for _, r := range rs {
				if err := fn(r); err != nil {
					fnErr = err
					cancel()
					break
				}
			}
			if fnErr != nil {
				break
			}
		}
	}
	// Batches a worker did not get to, after a cancel.
	for j := range jobs {
		if j.batch != nil {
			j.batch.Release()
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
