package enrich

import (
	"math"
	"net/netip"
	"runtime"
)

// A socket trace is read on two cores: as each chunk of the file comes
// in, a second parser (pirogueAhead.w) reads its second half with
// parseFast, from the first place that looks like the start of a record,
// while the stream's parser reads the first half. When the stream's parser
// arrives exactly at that place, between two records of the array, the
// records read ahead are the ones it would have read there itself:
// parseFast's result depends only on a record's bytes, and the second
// parser separates records as the stream does. They are then added in
// order, renumbering what the second parser numbered on its own (strings,
// stacks, flows, records) in the order the stream's parser would have
// given the numbers. When the guess was wrong (it fell inside a string,
// say), or the second parser stopped at once, nothing of it is kept.
// The second parser only takes what parseFast takes and stops at the
// first record it does not, so skipped and partial records, and any
// error, are always the stream parser's own.

// Chunks of the parse ahead: two halves of 2 MiB keep both cores busy for
// about a millisecond each, against microseconds to start and join.
const (
	aheadChunk = 4 << 20
	aheadMin   = 256 << 10
)

type pirogueAhead struct {
	main, w *pirogueParser
	done    chan struct{}
	n, end  int // records read ahead, where the last ends
	// The main parser's numbers for the second parser's strings, stacks
	// and flows, plus one (0: not known yet). They are kept across chunks:
	// both parsers keep their numbers for good.
	strs   []uint32
	stacks []int32
	flows  []int32
}

func newPirogueAhead(p *pirogueParser) *pirogueAhead {
	w := &pirogueParser{tr: newSocketTrace(p.tr.name, p.tr.Stats.File), strs: newInterner(), stacks: map[string]int32{}, keys: map[string]string{}, addrs: map[uint32]netip.Addr{}}
	w.strs.track = true
	return &pirogueAhead{main: p, w: w, strs: []uint32{0}}
}

// aheadOK says whether reading on two cores can help.
func aheadOK() bool { return runtime.GOMAXPROCS(0) > 1 }

// likely tells a record from a stack frame (both objects after "},"): by
// its first member's name.
func (a *pirogueAhead) likely(b []byte) bool {
	name, _, ok := fastKey(b, skipWS(b, 1))
	if !ok {
		return false
	}
	switch string(name) {
	case "type", "dump", "data_type", "timestamp", "pid", "process", "data":
		return true
	}
	return false
}

func (a *pirogueAhead) start(b []byte, then func()) {
	a.done = make(chan struct{})
	go func() {
		defer close(a.done)
		a.n, a.end = a.w.parseAhead(b)
		then()
	}()
}

// parseAhead reads the records of the array that start at b[0] and follow
// each other, with parseFast, up to the first it does not take.
func (p *pirogueParser) parseAhead(b []byte) (n, end int) {
	p.recs.reset()
	p.tr.pend.reset()
	p.strs.newRound()
	// The interned strings' first uses in this chunk are listed by the
	// interner: the one-entry caches would hide them.
	fs := &p.fast
	fs.process, fs.stype, fs.event, fs.dest, fs.local = strCache{}, strCache{}, strCache{}, strCache{}, strCache{}
	i := 0
	for {
		e, ok := p.parseFast(b[i:])
		if !ok {
			return n, end
		}
		n, end = n+1, i+e
		j := skipWS(b, end)
		if j >= len(b) || b[j] != ',' {
			return n, end
		}
		if i = skipWS(b, j+1); i >= len(b) || b[i] != '{' {
			return n, end
		}
	}
}

func (a *pirogueAhead) join(take bool) (int, int) {
	<-a.done
	p, w, n := a.main, a.w, a.n
	if !take || n == 0 || p.recs.n+n > math.MaxInt32 {
		return 0, 0
	}
	// Strings first used in the chunk are numbered in the order of those
	// uses, as the main parser would have met them.
	for _, id := range w.strs.order {
		a.strs = grow(a.strs, int(id))
		if a.strs[id] == 0 {
			a.strs[id] = p.strs.idString(w.strs.strs[id])
		}
	}
	base := int32(p.recs.n)
	for k := range int32(n) {
		r := *w.recs.at(k)
		r.process, r.stype, r.event = a.strs[r.process], a.strs[r.stype], a.strs[r.event]
		if r.stack >= 0 {
			r.stack = a.stack(r.stack)
		}
		p.recs.add(r)
	}
	for k := range int32(n) {
		op := *w.tr.pend.at(k)
		op.group = a.flow(op.group>>1)*2 + op.group&1
		op.ref += base
		p.tr.pend.add(op)
	}
	p.ms += n
	p.tr.fastRecords += n
	p.tr.aheadRecords += n
	return n, a.end
}

// stack is the main parser's number for the second parser's stack id; a
// stack new to it is taken as the second parser decoded it (decoding
// depends on the bytes alone).
func (a *pirogueAhead) stack(id int32) int32 {
	a.stacks = grow(a.stacks, int(id))
	if m := a.stacks[id]; m != 0 {
		return m - 1
	}
	p, w := a.main, a.w
	raw := w.stackRaw[id]
	m, ok := p.stacks[string(raw)]
	if !ok {
		m = int32(len(p.stackV))
		p.stackV = append(p.stackV, w.stackV[id])
		p.stackRaw = append(p.stackRaw, raw)
		p.stacks[string(raw)] = m
	}
	a.stacks[id] = m + 1
	return m
}

// flow is the main trace's number for the second parser's flow id.
func (a *pirogueAhead) flow(f int32) int32 {
	a.flows = grow(a.flows, int(f))
	if m := a.flows[f]; m != 0 {
		return m - 1
	}
	args := a.w.fast.flowArgs[f]
	m := a.main.tr.flow(args.proto, args.local, args.remote)
	a.flows[f] = m + 1
	return m
}
