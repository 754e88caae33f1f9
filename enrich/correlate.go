package enrich

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"math"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tracewire/tracewire/communityid"
	"github.com/tracewire/tracewire/har"
)

// Direction is the direction of a socket operation as seen from the
// device: sends are Outbound and pair with requests, receives are Inbound
// and pair with responses.
type Direction uint8

const (
	Outbound Direction = iota
	Inbound
)

func (d Direction) String() string {
	if d == Outbound {
		return "request"
	}
	return "response"
}

// directionOf classifies a socket call by name. Frida's hooks and eBPF
// probes report libc or kernel names: write, writev, send, sendto,
// sendmsg, sendmmsg, SSL_write ... are sends; read, readv, recv, recvfrom,
// recvmsg, recvmmsg, SSL_read ... receives. connect, close and the like
// carry no data and are not paired.
func directionOf(event string) (Direction, bool) {
	e := strings.ToLower(event)
	e = strings.TrimPrefix(e, "ssl_")
	e = strings.TrimPrefix(e, "__")
	switch {
	case strings.HasPrefix(e, "write"), strings.HasPrefix(e, "send"), strings.HasPrefix(e, "pwrite"):
		return Outbound, true
	case strings.HasPrefix(e, "read") && !strings.HasPrefix(e, "readlink"), strings.HasPrefix(e, "recv"), strings.HasPrefix(e, "pread"):
		return Inbound, true
	}
	return 0, false
}

// Window is how far a socket operation may be from an entry's timestamp:
// from Before before it to After after it.
type Window struct {
	Before, After time.Duration
}

func (w Window) String() string { return fmt.Sprintf("%v before to %v after", w.Before, w.After) }

// CorrelationOptions tune how socket operations are paired with entries.
type CorrelationOptions struct {
	// Request is the window for sends around a request's timestamp,
	// Response the one for receives around a response's.
	Request, Response Window
	// TimeShift is added to entry timestamps before comparing them with
	// the device's (PiRogue's experiment.json gives it).
	TimeShift time.Duration
	// MaxCells bounds the work of the optimal assignment per flow and
	// direction (slots times candidate operations); a larger group is
	// paired greedily in time order, and the summary says so. 0 means
	// DefaultMaxCells.
	MaxCells int
}

// DefaultMaxCells keeps one flow's assignment under about 20 MB.
const DefaultMaxCells = 20_000_000

// DefaultCorrelation returns the default windows: 5 s before to 2 s after
// a request, 2 s before to 5 s after a response.
func DefaultCorrelation() CorrelationOptions {
	return CorrelationOptions{
		Request:  Window{Before: 5 * time.Second, After: 2 * time.Second},
		Response: Window{Before: 2 * time.Second, After: 5 * time.Second},
	}
}

// sockOp is one socket operation, compact: a million of them is 16 MB.
type sockOp struct {
	t     float64 // seconds since the epoch, device clock
	group int32   // flow*2 + direction
	ref   int32   // the source's record
}

// SocketTrace holds socket operations read from a trace file, indexed by
// flow and direction. Build the enricher with Enricher.
type SocketTrace struct {
	// Stats says how the file was read.
	Stats ReadStats
	name  string
	flows map[string]int32 // Community ID → flow number
	cids  []string
	tuple map[flowTuple]int32
	// pend collects the operations while reading; finish sorts them into
	// ops, by group, and sets start: group g's operations are
	// ops[start[g]:start[g+1]].
	pend  slab[sockOp]
	ops   []sockOp
	start []int32
	// render builds the _stacktrace value of a record.
	render func(ref int32) map[string]any
	// fastRecords counts the records read by a fast path (for tests).
	fastRecords int
}

type flowTuple struct {
	proto      uint8
	src, dst   netip.Addr
	sport, dpt uint16
}

func newSocketTrace(name, file string) *SocketTrace {
	return &SocketTrace{
		name:  name,
		Stats: ReadStats{File: file},
		flows: map[string]int32{},
		tuple: map[flowTuple]int32{},
	}
}

// addOp records an operation of the flow (proto, local, remote); it
// computes the Community ID once per distinct flow.
func (t *SocketTrace) addOp(ts float64, proto uint8, local, remote netip.AddrPort, dir Direction, ref int32) {
	f := t.flow(proto, local, remote)
	t.pend.add(sockOp{t: ts, group: f*2 + int32(dir), ref: ref})
}

// flow returns the number of the flow (proto, local, remote), numbering
// flows by their Community IDs in the order they are first seen.
func (t *SocketTrace) flow(proto uint8, local, remote netip.AddrPort) int32 {
	k := flowTuple{proto, local.Addr().Unmap(), remote.Addr().Unmap(), local.Port(), remote.Port()}
	f, ok := t.tuple[k]
	if !ok {
		cid := communityid.Flow{Proto: proto, Src: k.src, Dst: k.dst, SrcPort: k.sport, DstPort: k.dpt}.ID()
		if f, ok = t.flows[cid]; !ok {
			f = int32(len(t.cids))
			t.flows[cid] = f
			t.cids = append(t.cids, cid)
		}
		t.tuple[k] = f
	}
	return f
}

// finish sorts the operations by group (flow and direction), time and
// record, and sets start.
func (t *SocketTrace) finish() {
	t.tuple = nil
	t.ops = make([]sockOp, 0, t.pend.n)
	for _, c := range t.pend.chunks {
		t.ops = append(t.ops, c...)
	}
	t.pend = slab[sockOp]{}
	slices.SortFunc(t.ops, func(a, b sockOp) int {
		return cmp.Or(cmp.Compare(a.group, b.group), cmp.Compare(a.t, b.t), cmp.Compare(a.ref, b.ref))
	})
	t.start = make([]int32, 2*len(t.cids)+1)
	for _, op := range t.ops {
		t.start[op.group+1]++
	}
	for g := 1; g < len(t.start); g++ {
		t.start[g] += t.start[g-1]
	}
}

// span returns the operations of group g as ops[lo:hi].
func (t *SocketTrace) span(g int32) (lo, hi int32) {
	if g < 0 || int(g)+1 >= len(t.start) {
		return 0, 0
	}
	return t.start[g], t.start[g+1]
}

// slab is a list that grows by chunks, never copying what it holds.
type slab[T any] struct {
	chunks [][]T
	n      int
}

const slabShift = 16

func (s *slab[T]) add(v T) {
	if s.n>>slabShift == len(s.chunks) {
		s.chunks = append(s.chunks, make([]T, 0, 1<<slabShift))
	}
	c := &s.chunks[len(s.chunks)-1]
	*c = append(*c, v)
	s.n++
}

func (s *slab[T]) at(i int32) *T {
	return &s.chunks[i>>slabShift][i&(1<<slabShift-1)]
}

// Len returns the number of operations kept.
func (t *SocketTrace) Len() int { return len(t.ops) }

// Flows returns the Community IDs of the flows the trace saw, sorted.
func (t *SocketTrace) Flows() []string {
	out := append([]string(nil), t.cids...)
	sort.Strings(out)
	return out
}

// Enricher returns the enricher that attaches the operations' stack traces
// as request._stacktrace and response._stacktrace.
func (t *SocketTrace) Enricher(opts CorrelationOptions) Planner {
	if opts.MaxCells <= 0 {
		opts.MaxCells = DefaultMaxCells
	}
	s := &stackEnricher{tr: t, opts: opts, slots: map[int32][]slot{}}
	return s
}

// slot is an entry's request or response waiting for an operation.
type slot struct {
	t     float64
	entry int32
	h2    bool
}

// Why an entry's request or response got no operation.
const (
	reasonNoCID = iota
	reasonNoTime
	reasonNoFlow
	reasonNoneInWin
	reasonOutmatched
)

var reasons = [...]string{"no community ID", "no timestamp", "no records for the flow", "no operation within the window", "operations taken by nearer entries"}

type dirCounts struct {
	matched, shared, kept, noResponse int
	unmatched                         [len(reasons)]int
}

type stackEnricher struct {
	tr    *SocketTrace
	opts  CorrelationOptions
	slots map[int32][]slot
	// assigned holds, per direction and entry index, 1 + the index in
	// tr.ops of the entry's operation (0: none).
	assigned  [2][]int32
	counts    [2]dirCounts
	conflicts int
	examples  []string
	greedy    int
	opsUsed   int
}

func (s *stackEnricher) Name() string { return s.tr.name }

// Observe implements Planner.
func (s *stackEnricher) Observe(i int, e *har.Entry) error {
	if i > math.MaxInt32 {
		return fmt.Errorf("more than %d entries", math.MaxInt32)
	}
	shift := s.opts.TimeShift.Seconds()
	h2 := isHTTP2(e.Request.HTTPVersion) || isHTTP2(e.Response.HTTPVersion)
	for _, d := range []Direction{Outbound, Inbound} {
		ts := e.Request.Timestamp
		if d == Inbound {
			ts = e.Response.Timestamp
			if ts == 0 && e.Response.Status == 0 {
				s.counts[d].noResponse++
				continue
			}
		} else if ts == 0 {
			ts = e.Timestamp
		}
		f, ok := s.tr.flows[e.CommunityID]
		g := f*2 + int32(d)
		lo, hi := s.tr.span(g)
		switch {
		case e.CommunityID == "":
			s.counts[d].unmatched[reasonNoCID]++
		case ts == 0 || math.IsNaN(ts) || math.IsInf(ts, 0):
			s.counts[d].unmatched[reasonNoTime]++
		case !ok || lo == hi:
			s.counts[d].unmatched[reasonNoFlow]++
		default:
			s.slots[g] = append(s.slots[g], slot{t: ts + shift, entry: int32(i), h2: h2})
		}
	}
	return nil
}

func isHTTP2(v string) bool {
	v = strings.ToUpper(v)
	return strings.HasPrefix(v, "HTTP/2") || v == "H2" || v == "H2C"
}

// Plan implements Planner: it pairs the slots of each flow and direction
// with operations.
func (s *stackEnricher) Plan(ctx context.Context) error {
	used := make([]uint64, len(s.tr.ops)/64+1)
	for _, g := range slices.Sorted(maps.Keys(s.slots)) {
		if err := ctx.Err(); err != nil {
			return err
		}
		s.planGroup(g, s.slots[g], used)
		delete(s.slots, g)
	}
	return nil
}

// unit is a slot, or several HTTP/2 slots with the same timestamp that
// share one operation.
type unit struct {
	t       float64
	entries []int32
	lo, hi  int // candidate operations: ops[lo:hi+1]; lo > hi when none
}

func (s *stackEnricher) planGroup(g int32, slots []slot, used []uint64) {
	d := Direction(g % 2)
	win := s.opts.Request
	if d == Inbound {
		win = s.opts.Response
	}
	base, end := s.tr.span(g)
	ops := s.tr.ops[base:end]
	sort.Slice(slots, func(i, j int) bool {
		if slots[i].t != slots[j].t {
			return slots[i].t < slots[j].t
		}
		return slots[i].entry < slots[j].entry
	})
	var units []unit
	// The units' entries lie in one buffer (a unit's are appended at once,
	// so a unit keeps its own even when the buffer moves).
	var ents []int32
	for i := 0; i < len(slots); {
		at := len(ents)
		ents = append(ents, slots[i].entry)
		j := i + 1
		// Several HTTP/2 streams in one frame: one socket call wrote them.
		for slots[i].h2 && j < len(slots) && slots[j].h2 && slots[j].t == slots[i].t {
			ents = append(ents, slots[j].entry)
			j++
		}
		u := unit{t: slots[i].t, entries: ents[at:len(ents):len(ents)]}
		u.lo = sort.Search(len(ops), func(k int) bool { return ops[k].t >= u.t-win.Before.Seconds() })
		u.hi = sort.Search(len(ops), func(k int) bool { return ops[k].t > u.t+win.After.Seconds() }) - 1
		units = append(units, u)
		i = j
	}
	// The units with candidates take part in the assignment.
	var cand []int
	cells := 0
	for k, u := range units {
		if u.lo > u.hi {
			s.counts[d].unmatched[reasonNoneInWin] += len(u.entries)
			continue
		}
		cand = append(cand, k)
		cells += u.hi - u.lo + 2
	}
	var pick []int // per candidate unit: op index or -1
	if cells > s.opts.MaxCells {
		s.greedy++
		pick = assignGreedy(units, cand, ops)
	} else {
		pick = assignOptimal(units, cand, ops)
	}
	owner := map[int]int{} // operation → unit that got it
	for ci, k := range cand {
		if pick[ci] >= 0 {
			owner[pick[ci]] = k
		}
	}
	for ci, k := range cand {
		u := units[k]
		op := pick[ci]
		if op < 0 {
			s.counts[d].unmatched[reasonOutmatched] += len(u.entries)
		} else {
			if o := base + int32(op); used[o/64]&(1<<(o%64)) == 0 {
				used[o/64] |= 1 << (o % 64)
				s.opsUsed++
			}
			for n, e := range u.entries {
				s.assigned[d] = grow(s.assigned[d], int(e))
				s.assigned[d][e] = 1 + base + int32(op)
				s.counts[d].matched++
				if n > 0 {
					s.counts[d].shared++
				}
			}
		}
		// A conflict: the operation nearest to this unit went to another.
		near := nearestIn(ops, u.lo, u.hi, u.t)
		if k2, ok := owner[near]; ok && near != op {
			s.conflicts++
			if len(s.examples) < maxExamples {
				got := "nothing"
				if op >= 0 {
					got = fmt.Sprintf("the operation at %s", fmtTime(ops[op].t))
				}
				s.examples = append(s.examples, fmt.Sprintf("conflict: entry %d %s (%s, flow %s): the nearest operation, at %s, went to entry %d; it got %s",
					u.entries[0], d, fmtTime(u.t), s.tr.cids[g/2], fmtTime(ops[near].t), units[k2].entries[0], got))
			}
		}
	}
}

func fmtTime(t float64) string {
	return har.TimeOf(t).Format("15:04:05.000000")
}

// nearestIn returns the operation of ops[lo:hi+1] closest in time to t
// (the earlier one on a tie), -1 when the range is empty.
func nearestIn(ops []sockOp, lo, hi int, t float64) int {
	if lo > hi {
		return -1
	}
	p := lo + sort.Search(hi-lo+1, func(k int) bool { return ops[lo+k].t >= t })
	switch {
	case p > hi:
		return hi
	case p == lo:
		return lo
	case t-ops[p-1].t <= ops[p].t-t:
		return p - 1
	}
	return p
}

// assignGreedy pairs units in time order, each with the nearest operation
// not used and not earlier than the previous pick, so pairs never cross.
func assignGreedy(units []unit, cand []int, ops []sockOp) []int {
	pick := make([]int, len(cand))
	next := 0
	for ci, k := range cand {
		u := units[k]
		best := nearestIn(ops, max(u.lo, next), u.hi, u.t)
		pick[ci] = best
		if best >= 0 {
			next = best + 1
		}
	}
	return pick
}

// score orders partial assignments: more pairs first, then less total
// distance in time.
type score struct {
	n    int32
	cost float64
}

func (a score) better(b score) bool {
	return a.n > b.n || (a.n == b.n && a.cost < b.cost)
}

// assignOptimal finds the order-preserving assignment of operations to
// units that pairs the most units and, among those, has the least total
// distance in time. Units and operations are both sorted by time, so their
// candidate ranges only move forward; f(i, j), the best score using units
// up to i and operations up to j, is only kept over unit i's range (beyond
// it, it does not change), which makes the work the sum of the ranges.
func assignOptimal(units []unit, cand []int, ops []sockOp) []int {
	const (
		skipUnit = iota
		skipOp
		pair
	)
	n := len(cand)
	pick := make([]int, n)
	if n == 0 {
		return pick
	}
	// Row i covers operations lo_i-1 .. hi_i (lo_i-1 may be -1: none).
	start := make([]int, n) // offset of row i in choice
	total := 0
	for i, k := range cand {
		start[i] = total
		total += units[k].hi - units[k].lo + 2
	}
	choice := make([]uint8, total)
	var prev, cur, spare []score
	prevLo, prevHi := 0, -1 // previous row's range: lo-1 .. hi
	get := func(j int) score {
		// f(i-1, j); the zero row before the first unit is all zero.
		if prev == nil {
			return score{}
		}
		if j > prevHi {
			j = prevHi
		}
		return prev[j-(prevLo-1)]
	}
	for i, k := range cand {
		u := units[k]
		width := u.hi - u.lo + 2
		if cap(spare) < width {
			spare = make([]score, width)
		}
		cur = spare[:width]
		for x := 0; x < width; x++ {
			j := u.lo - 1 + x
			best, how := get(j), uint8(skipUnit)
			if x > 0 {
				if c := cur[x-1]; c.better(best) {
					best, how = c, skipOp
				}
				p := get(j - 1)
				c := score{p.n + 1, p.cost + math.Abs(ops[j].t-u.t)}
				if c.better(best) {
					best, how = c, pair
				}
			}
			cur[x] = best
			choice[start[i]+x] = how
		}
		spare = prev
		prev, prevLo, prevHi = cur, u.lo, u.hi
	}
	// Walk back from the last unit's last operation.
	for i := range pick {
		pick[i] = -1
	}
	i := n - 1
	j := units[cand[i]].hi
	for i >= 0 {
		u := units[cand[i]]
		if j > u.hi {
			j = u.hi
		}
		x := j - (u.lo - 1)
		if x < 0 {
			// Operations before this unit's range: it stays unpaired.
			i--
			continue
		}
		switch choice[start[i]+x] {
		case pair:
			pick[i] = j
			i--
			j--
		case skipOp:
			j--
		default:
			i--
		}
	}
	return pick
}

// Enrich implements Enricher.
func (s *stackEnricher) Enrich(i int, e *har.Entry) error {
	for _, d := range []Direction{Outbound, Inbound} {
		if a := s.assigned[d]; i < len(a) && a[i] > 0 {
			x := &e.Request.Extra
			if d == Inbound {
				x = &e.Response.Extra
			}
			s.attach(x, d, a[i]-1)
		}
	}
	return nil
}

func (s *stackEnricher) attach(x *har.Extra, d Direction, op int32) {
	if _, ok := (*x)["_stacktrace"]; ok {
		// Another source (or an earlier run) got there first.
		s.counts[d].kept++
		s.counts[d].matched--
		return
	}
	x.Set("_stacktrace", s.tr.render(s.tr.ops[op].ref))
}

// Report implements Enricher.
func (s *stackEnricher) Report(sum *Summary) {
	r := &SourceReport{Source: s.tr.name, Read: &s.tr.Stats}
	r.add("operations", len(s.tr.ops))
	r.add("flows", len(s.tr.cids))
	r.add("operations paired", s.opsUsed)
	for _, d := range []Direction{Outbound, Inbound} {
		c := s.counts[d]
		r.add(d.String()+"s with a stack trace", c.matched)
		if c.shared > 0 {
			r.add(d.String()+"s sharing an HTTP/2 frame's operation", c.shared)
		}
		if c.kept > 0 {
			r.add(d.String()+"s that already had a _stacktrace", c.kept)
		}
		for k, n := range c.unmatched {
			if n > 0 {
				r.add(d.String()+"s without: "+reasons[k], n)
			}
		}
		if d == Inbound && c.noResponse > 0 {
			r.add("entries without a response", c.noResponse)
		}
	}
	r.add("conflicts", s.conflicts)
	r.Notes = append(r.Notes, s.examples...)
	if s.greedy > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d flow directions had too many candidates for the optimal assignment and were paired greedily in time order", s.greedy))
	}
	if s.opts.TimeShift != 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("entry timestamps shifted by %v", s.opts.TimeShift))
	}
	sum.Sources = append(sum.Sources, r)
}
