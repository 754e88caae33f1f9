package pcap

import (
	"bufio"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/tracewire/tracewire/har"
)

// sortKey orders entries: by request time, then by connection, then by
// order within the connection. It is unique per entry, so the order is
// total and the output does not depend on how entries were buffered.
type sortKey struct {
	t    int64 // request time, Unix nanoseconds
	conn uint64
	n    uint32
}

func (a sortKey) cmp(b sortKey) int {
	switch {
	case a.t != b.t:
		return cmpInt(a.t, b.t)
	case a.conn != b.conn:
		return cmpInt(a.conn, b.conn)
	default:
		return cmpInt(a.n, b.n)
	}
}

func cmpInt[T int64 | uint64 | uint32](a, b T) int {
	if a < b {
		return -1
	}
	if a > b {
		return 1
	}
	return 0
}

// item is an entry waiting to be emitted: in memory as an Entry (entries
// mode) or encoded (raw mode, and everything read back from the spool).
type item struct {
	k   sortKey
	e   *har.Entry
	raw []byte
}

// memItem is an entry held in memory: an Entry, or (raw mode) the bytes
// arena[off:off+n] of the sorter's arena.
type memItem struct {
	k      sortKey
	e      *har.Entry
	off, n int
}

// sorter sorts entries with a bounded amount of memory: entries are held in
// memory up to a budget, then sorted and written to a temporary file as a
// run; at the end the runs are merged. Entries arrive nearly in time order,
// so runs are long and few.
type sorter struct {
	raw    bool // encode entries on arrival (the output is a HAR file)
	budget int64
	dir    string

	mem     []memItem
	memSize int64
	// arena holds the encoded entries of raw mode, one after the other,
	// so encoding allocates nothing per entry.
	arena []byte

	f    *os.File
	w    *bufio.Writer
	off  int64
	runs []spoolRun
	hdr  [24]byte
}

type spoolRun struct{ off, size int64 }

const defaultBudget = 32 << 20

func newSorter(raw bool, budget int64, dir string) *sorter {
	if budget <= 0 {
		budget = defaultBudget
	}
	return &sorter{raw: raw, budget: budget, dir: dir}
}

// add takes an entry; it belongs to the sorter from then on.
func (s *sorter) add(k sortKey, e *har.Entry) error {
	it := memItem{k: k}
	if s.raw {
		if s.arena == nil {
			// Room for a budget of entries at once: growing by doubling
			// copied (and faulted in) the arena again and again. Pages
			// not written to cost nothing (a huge budget still grows).
			s.arena = make([]byte, 0, min(s.budget+s.budget/4, 64<<20))
		}
		it.off = len(s.arena)
		s.arena = har.AppendEntry(s.arena, e)
		it.n = len(s.arena) - it.off
		s.memSize += int64(it.n) + 64
	} else {
		it.e = e
		s.memSize += entrySize(e)
	}
	s.mem = append(s.mem, it)
	if s.memSize >= s.budget {
		return s.spill()
	}
	return nil
}

// spill writes the entries in memory as one sorted run.
func (s *sorter) spill() error {
	if len(s.mem) == 0 {
		return nil
	}
	if s.f == nil {
		f, err := os.CreateTemp(s.dir, "tracewire-spool-*")
		if err != nil {
			return fmt.Errorf("spool entries: %w", err)
		}
		// The file is only ours: drop its name at once where the system
		// allows (Unix), so nothing is left behind if the process dies;
		// close removes it otherwise.
		os.Remove(f.Name())
		s.f = f
		s.w = bufio.NewWriterSize(f, 256<<10)
	}
	s.sortMem()
	start := s.off
	var buf []byte
	for i := range s.mem {
		it := &s.mem[i]
		var raw []byte
		if it.e == nil {
			raw = s.arena[it.off : it.off+it.n]
		} else {
			buf = har.AppendEntry(buf[:0], it.e)
			raw = buf
		}
		binary.LittleEndian.PutUint64(s.hdr[0:], uint64(it.k.t))
		binary.LittleEndian.PutUint64(s.hdr[8:], it.k.conn)
		binary.LittleEndian.PutUint32(s.hdr[16:], it.k.n)
		binary.LittleEndian.PutUint32(s.hdr[20:], uint32(len(raw)))
		s.w.Write(s.hdr[:])
		if _, err := s.w.Write(raw); err != nil {
			return fmt.Errorf("spool entries to %s: %w", s.f.Name(), err)
		}
		s.off += int64(len(s.hdr) + len(raw))
		s.mem[i] = memItem{}
	}
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("spool entries to %s: %w", s.f.Name(), err)
	}
	s.runs = append(s.runs, spoolRun{start, s.off - start})
	s.mem = s.mem[:0]
	s.arena = s.arena[:0]
	s.memSize = 0
	return nil
}

func (s *sorter) sortMem() {
	slices.SortFunc(s.mem, func(a, b memItem) int { return a.k.cmp(b.k) })
}

// each calls fn for every entry in order. The item's raw bytes are only
// valid during the call.
func (s *sorter) each(fn func(*item) error) error {
	if len(s.runs) == 0 {
		s.sortMem()
		var it item
		for i := range s.mem {
			m := &s.mem[i]
			it = item{k: m.k, e: m.e}
			if m.e == nil {
				it.raw = s.arena[m.off : m.off+m.n]
			}
			if err := fn(&it); err != nil {
				return err
			}
			s.mem[i] = memItem{}
		}
		s.mem, s.arena = nil, nil
		return nil
	}
	if err := s.spill(); err != nil {
		return err
	}
	h := make(runHeap, 0, len(s.runs))
	for _, r := range s.runs {
		rr := &runReader{r: bufio.NewReaderSize(io.NewSectionReader(s.f, r.off, r.size), 64<<10)}
		ok, err := rr.next()
		if err != nil {
			return fmt.Errorf("read spool %s: %w", s.f.Name(), err)
		}
		if ok {
			h = append(h, rr)
		}
	}
	heap.Init(&h)
	for len(h) > 0 {
		rr := h[0]
		if err := fn(&rr.cur); err != nil {
			return err
		}
		ok, err := rr.next()
		if err != nil {
			return fmt.Errorf("read spool %s: %w", s.f.Name(), err)
		}
		if ok {
			heap.Fix(&h, 0)
		} else {
			heap.Pop(&h)
		}
	}
	return nil
}

// close removes the spool file.
func (s *sorter) close() {
	if s.f != nil {
		s.f.Close()
		os.Remove(s.f.Name())
		s.f = nil
	}
	s.mem, s.arena = nil, nil
}

type runReader struct {
	r   *bufio.Reader
	cur item
	buf []byte
	hdr [24]byte
}

func (rr *runReader) next() (bool, error) {
	if _, err := io.ReadFull(rr.r, rr.hdr[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return false, nil
		}
		return false, err
	}
	n := int(binary.LittleEndian.Uint32(rr.hdr[20:]))
	if cap(rr.buf) < n {
		rr.buf = make([]byte, n)
	}
	rr.buf = rr.buf[:n]
	if _, err := io.ReadFull(rr.r, rr.buf); err != nil {
		return false, err
	}
	rr.cur = item{
		k: sortKey{
			t:    int64(binary.LittleEndian.Uint64(rr.hdr[0:])),
			conn: binary.LittleEndian.Uint64(rr.hdr[8:]),
			n:    binary.LittleEndian.Uint32(rr.hdr[16:]),
		},
		raw: rr.buf,
	}
	return true, nil
}

type runHeap []*runReader

func (h runHeap) Len() int           { return len(h) }
func (h runHeap) Less(i, j int) bool { return h[i].cur.k.cmp(h[j].cur.k) < 0 }
func (h runHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *runHeap) Push(x any)        { *h = append(*h, x.(*runReader)) }
func (h *runHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// entrySize estimates the memory an entry holds.
func entrySize(e *har.Entry) int64 {
	n := 1024 + len(e.Request.URL) + len(e.Response.Content.Text) + len(e.Comment)
	nv := func(l []har.NameValue) {
		for _, h := range l {
			n += 48 + len(h.Name) + len(h.Value)
		}
	}
	nv(e.Request.Headers)
	nv(e.Request.QueryString)
	nv(e.Response.Headers)
	for _, c := range e.Request.Cookies {
		n += 96 + len(c.Name) + len(c.Value)
	}
	for _, c := range e.Response.Cookies {
		n += 96 + len(c.Name) + len(c.Value) + len(c.Path) + len(c.Domain)
	}
	if p := e.Request.PostData; p != nil {
		n += len(p.Text)
		for _, x := range p.Params {
			n += 64 + len(x.Name) + len(x.Value)
		}
	}
	return int64(n)
}

// decodeEntry reads back an entry encoded by har.AppendEntry.
func decodeEntry(raw []byte) (*har.Entry, error) {
	e, _, err := har.ParseEntry(raw, 0)
	if err != nil {
		return nil, fmt.Errorf("read back spooled entry: %w", err)
	}
	return e, nil
}
