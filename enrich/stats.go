package enrich

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"maps"
	"slices"
)

// InputError is a trace file that cannot be read, with where.
type InputError struct {
	File string
	// Record is the 0-based index of the record, -1 when the problem is
	// not inside one.
	Record int
	// Offset is the byte offset of the problem in the file.
	Offset int64
	Msg    string
}

func (e *InputError) Error() string {
	if e.Record >= 0 {
		return fmt.Sprintf("%s: record %d at byte %d: %s", e.File, e.Record, e.Offset, e.Msg)
	}
	return fmt.Sprintf("%s: byte %d: %s", e.File, e.Offset, e.Msg)
}

// ReadStats describes how a trace file was read.
type ReadStats struct {
	// File is the name the reader was given (the base name in the CLI).
	File string `json:"file"`
	// SHA256 of the file's bytes, so a report names exactly what it used.
	SHA256 string `json:"sha256,omitempty"`
	// Records counts the records (JSON values) read.
	Records int `json:"records"`
	// Used counts the records kept.
	Used int `json:"used"`
	// Skipped counts the records left out, by reason, sorted by reason.
	Skipped []Count `json:"skipped,omitempty"`
	// Partial counts records used without a part that could not be read,
	// by reason.
	Partial []Count `json:"partial,omitempty"`
	// Examples are the first few skipped records, with where they are.
	Examples []string `json:"examples,omitempty"`
	// Truncated, when set, says that the file ends inside a record: the
	// records before it were used.
	Truncated string `json:"truncated,omitempty"`

	skipped, partials map[string]int
}

// maxExamples bounds the problems kept as examples.
const maxExamples = 5

// partial counts a record used without a part.
func (s *ReadStats) partial(reason string, record int, off int64, detail string) {
	s.count(&s.partials, reason, record, off, detail)
}

// count counts a record in m (skipped or partials) and keeps the first
// few as examples.
func (s *ReadStats) count(m *map[string]int, reason string, record int, off int64, detail string) {
	if *m == nil {
		*m = map[string]int{}
	}
	(*m)[reason]++
	if len(s.Examples) < maxExamples {
		if detail != "" {
			reason += ": " + detail
		}
		s.Examples = append(s.Examples, fmt.Sprintf("record %d at byte %d: %s", record, off, reason))
	}
}

// Skips returns the number of records skipped for reason.
func (s *ReadStats) Skips(reason string) int { return s.skipped[reason] }

func (s *ReadStats) finish() {
	s.Skipped = sortedCounts(s.skipped)
	s.Partial = sortedCounts(s.partials)
}

func sortedCounts(m map[string]int) []Count {
	var out []Count
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, Count{k, m[k]})
	}
	return out
}

// Digested is a trace file's reader with the file's SHA-256 (hex), when
// the caller has hashed the file already (tracewire.Analyze hashes every
// input for its report): the readers record SHA256 in their ReadStats
// instead of hashing the bytes a second time.
type Digested struct {
	io.Reader
	SHA256 string
}

// digester hashes what a trace reader reads, or knows the hash.
type digester interface {
	io.Reader
	stop()
	sum() string
}

func newDigester(r io.Reader) digester {
	if d, ok := r.(*Digested); ok && d.SHA256 != "" {
		return knownDigest{d}
	}
	return newAsyncHash(r)
}

type knownDigest struct{ *Digested }

func (knownDigest) stop()         {}
func (k knownDigest) sum() string { return k.SHA256 }

// asyncHash hashes what is read through it on another goroutine, so the
// SHA-256 of a trace file costs no time on the reading one.
type asyncHash struct {
	r          io.Reader
	h          hash.Hash
	work, free chan []byte
	done       chan struct{}
	stopped    bool
}

func newAsyncHash(r io.Reader) *asyncHash {
	a := &asyncHash{r: r, h: sha256.New(), work: make(chan []byte, 4), free: make(chan []byte, 4), done: make(chan struct{})}
	for i := 0; i < cap(a.free); i++ {
		a.free <- nil
	}
	go func() {
		for b := range a.work {
			a.h.Write(b)
			a.free <- b
		}
		close(a.done)
	}()
	return a
}

func (a *asyncHash) Read(p []byte) (int, error) {
	n, err := a.r.Read(p)
	if n > 0 && !a.stopped {
		b := <-a.free
		a.work <- append(b[:0], p[:n]...)
	}
	return n, err
}

// stop ends the hashing goroutine; safe to call more than once.
func (a *asyncHash) stop() {
	if !a.stopped {
		a.stopped = true
		close(a.work)
		<-a.done
	}
}

// sum reads what is left and returns the hash of all of it.
func (a *asyncHash) sum() string {
	io.Copy(io.Discard, a)
	a.stop()
	return hex.EncodeToString(a.h.Sum(nil))
}
