package match

import (
	"context"
	"errors"
	"io"
	"runtime"
	"sync"

	"github.com/tracewire/tracewire/har"
)

// EntrySource yields HAR entries one by one (har.Reader does), with io.EOF
// after the last. When it also has an Index() int method (har.Reader has),
// that gives the entry's index in the HAR, which can differ from the count
// when the source skipped malformed entries.
type EntrySource interface {
	Next() (*har.Entry, error)
}

// RawEntrySource hands out each entry's JSON text and index (har.Reader
// does); Stream then parses entries on its workers, requests only (the
// matcher never looks at responses).
type RawEntrySource interface {
	EntrySource
	NextRaw() ([]byte, int, error)
}

// maxInFlight bounds the entries read but not yet handed to the callback,
// so memory stays flat whatever the number of entries.
const maxInFlight = 512

// Stream matches every entry of src on a pool of workers (GOMAXPROCS when
// workers <= 0) and calls fn with the results in entry order, from one
// goroutine. It stops at the first error of src, fn or ctx.
func (m *Matcher) Stream(ctx context.Context, src EntrySource, workers int, fn func(*Result) error) error {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	type job struct {
		seq, idx int
		e        *har.Entry
		raw      []byte
	}
	type done struct {
		seq int
		r   *Result
	}
	jobs := make(chan job, maxInFlight)
	results := make(chan done, maxInFlight)
	indexer, _ := src.(interface{ Index() int })
	// A source that hands out raw entry text lets the workers parse in
	// parallel; reading then only splits the file into entries.
	rawSrc, _ := src.(RawEntrySource)
	slots := make(chan struct{}, maxInFlight)
	var readErr error

	go func() {
		defer close(jobs)
		for seq := 0; ; seq++ {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			var j job
			var err error
			if rawSrc != nil {
				j.raw, j.idx, err = rawSrc.NextRaw()
			} else {
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
			j.seq = seq
			select {
			case jobs <- j:
			case <-ctx.Done():
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
				var r *Result
				if j.raw != nil {
					if method, u, ok := har.PeekRequest(j.raw); ok && !m.mayFind(u) {
						// No adapter for the URL and no indicators: nothing
						// to find, no need to parse the entry.
						r = &Result{Entry: EntryRef{Index: j.idx, Method: method, URL: u}}
						select {
						case results <- done{j.seq, r}:
						case <-ctx.Done():
							return
						}
						continue
					}
					e, warns, err := har.ParseRequest(j.raw, j.idx)
					if err != nil {
						r = &Result{Entry: EntryRef{Index: j.idx}, Warnings: []string{err.Error() + "; entry skipped"}}
					} else {
						r = m.Entry(j.idx, e)
						for _, w := range warns {
							r.Warnings = append(r.Warnings, w.String())
						}
					}
				} else {
					r = m.Entry(j.idx, j.e)
				}
				select {
				case results <- done{j.seq, r}:
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

	pending := map[int]*Result{}
	next := 0
	var fnErr error
	for d := range results {
		if fnErr != nil {
			continue
		}
		pending[d.seq] = d.r
		for {
			p, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			<-slots
			if err := fn(p); err != nil {
				fnErr = err
				cancel()
				break
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
