// Package ahocorasick finds many literal patterns in a text in one pass: an
// Aho–Corasick automaton compiled into a DFA over byte classes, so that a
// scan costs one table lookup per byte whatever the number of patterns. It
// is written here (about 100 lines) because its users need what the
// libraries do not give together: ASCII case folding while scanning
// (match's indicators), a stop at the first hit (match's endpoint
// prefilter), and all patterns a text holds without allocating (the
// literals adapters' endpoint regular expressions require).
package ahocorasick

// Automaton is a compiled set of patterns; it is read-only and safe for
// concurrent use.
type Automaton struct {
	classes [256]uint8
	nclass  int
	delta   []int32   // state*nclass + class → next state
	out     [][]int32 // state → patterns ending here (own and by suffix)
	// hits is delta for Contains: next states premultiplied by nclass,
	// and -1 for those where a pattern ends (Contains stops there).
	hits []int32
}

// New builds the automaton. Empty patterns are ignored.
func New(patterns [][]byte) *Automaton {
	a := &Automaton{}
	// Byte classes: each byte that occurs in a pattern gets its own class,
	// all others share class 0.
	var used [256]bool
	for _, p := range patterns {
		for _, c := range p {
			used[c] = true
		}
	}
	a.nclass = 1
	for c := 0; c < 256; c++ {
		if used[c] {
			a.classes[c] = uint8(a.nclass)
			a.nclass++
		}
	}
	nc := a.nclass
	// The trie, as a transition table; -1 is no edge.
	next := []int32{}
	addState := func() int32 {
		for i := 0; i < nc; i++ {
			next = append(next, -1)
		}
		return int32(len(next)/nc - 1)
	}
	addState()
	outs := [][]int32{nil}
	for pi, p := range patterns {
		if len(p) == 0 {
			continue
		}
		s := int32(0)
		for _, c := range p {
			e := s*int32(nc) + int32(a.classes[c])
			if next[e] < 0 {
				n := addState()
				outs = append(outs, nil)
				next[e] = n
			}
			s = next[e]
		}
		outs[s] = append(outs[s], int32(pi))
	}
	// Breadth first: failure links turn the trie into a DFA.
	nstates := len(next) / nc
	a.delta = make([]int32, nstates*nc)
	fail := make([]int32, nstates)
	queue := make([]int32, 0, nstates)
	for cl := 0; cl < nc; cl++ {
		if n := next[cl]; n > 0 {
			a.delta[cl] = n
			queue = append(queue, n)
		}
	}
	for qi := 0; qi < len(queue); qi++ {
		s := queue[qi]
		f := fail[s]
		outs[s] = append(outs[s], outs[f]...)
		for cl := 0; cl < nc; cl++ {
			if n := next[int(s)*nc+cl]; n > 0 {
				fail[n] = a.delta[int(f)*nc+cl]
				a.delta[int(s)*nc+cl] = n
				queue = append(queue, n)
			} else {
				a.delta[int(s)*nc+cl] = a.delta[int(f)*nc+cl]
			}
		}
	}
	a.out = outs
	a.hits = make([]int32, len(a.delta))
	for i, n := range a.delta {
		a.hits[i] = n * int32(nc)
		if outs[n] != nil {
			a.hits[i] = -1
		}
	}
	return a
}

// Scan reports every occurrence (overlapping ones too) of every pattern in
// hay as (pattern index, end offset). With fold set, ASCII letters of hay
// are lowercased first (the patterns must be lowercase then).
func (a *Automaton) Scan(hay []byte, fold bool, report func(pat int, end int)) {
	if a == nil || len(a.delta) == 0 {
		return
	}
	nc := a.nclass
	s := int32(0)
	for i, c := range hay {
		if fold && c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		s = a.delta[int(s)*nc+int(a.classes[c])]
		for _, p := range a.out[s] {
			report(int(p), i+1)
		}
	}
}

// Contains reports whether any pattern occurs in hay (case-sensitively).
func (a *Automaton) Contains(hay string) bool {
	t := a.hits
	s := int32(0)
	for i := 0; i < len(hay); i++ {
		if s = t[int(s)+int(a.classes[hay[i]])]; s < 0 {
			return true
		}
	}
	return false
}

// Mark sets found[p] for each pattern p that occurs in text
// (case-sensitively); len(found) must be at least the number of patterns.
func (a *Automaton) Mark(text string, found []bool) {
	nc := a.nclass
	s := int32(0)
	for i := 0; i < len(text); i++ {
		s = a.delta[int(s)*nc+int(a.classes[text[i]])]
		for _, p := range a.out[s] {
			found[p] = true
		}
	}
}
