package match

// acAutomaton is an Aho–Corasick automaton compiled into a DFA over byte
// classes: scanning costs one table lookup per byte whatever the number of
// patterns, which is what makes searching every entry for every encoded
// form of every indicator affordable.
type acAutomaton struct {
	classes  [256]uint8
	nclass   int
	delta    []int32   // state*nclass + class → next state
	out      [][]int32 // state → patterns ending here (own and by suffix)
	patterns [][]byte
	// hits is delta for contains: next states premultiplied by nclass,
	// and -1 for those where a pattern ends (contains stops there).
	hits []int32
}

// newAC builds the automaton. Empty patterns are ignored.
func newAC(patterns [][]byte) *acAutomaton {
	a := &acAutomaton{patterns: patterns}
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
	// Trie.
	type node struct {
		next map[uint8]int32
		fail int32
	}
	nodes := []node{{next: map[uint8]int32{}}}
	outs := [][]int32{nil}
	for pi, p := range patterns {
		if len(p) == 0 {
			continue
		}
		s := int32(0)
		for _, c := range p {
			cl := a.classes[c]
			n, ok := nodes[s].next[cl]
			if !ok {
				n = int32(len(nodes))
				nodes = append(nodes, node{next: map[uint8]int32{}})
				outs = append(outs, nil)
				nodes[s].next[cl] = n
			}
			s = n
		}
		outs[s] = append(outs[s], int32(pi))
	}
	// Breadth-first: failure links and the full transition table.
	nc := a.nclass
	a.delta = make([]int32, len(nodes)*nc)
	queue := make([]int32, 0, len(nodes))
	for cl := 0; cl < nc; cl++ {
		if n, ok := nodes[0].next[uint8(cl)]; ok {
			nodes[n].fail = 0
			a.delta[cl] = n
			queue = append(queue, n)
		}
	}
	for qi := 0; qi < len(queue); qi++ {
		s := queue[qi]
		f := nodes[s].fail
		outs[s] = append(outs[s], outs[f]...)
		for cl := 0; cl < nc; cl++ {
			if n, ok := nodes[s].next[uint8(cl)]; ok {
				nodes[n].fail = a.delta[int(f)*nc+cl]
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

// scan reports every occurrence (overlapping ones too) of every pattern in
// hay as (pattern index, end offset). With fold set, ASCII letters of hay
// are lowercased first (the patterns must be lowercase then).
func (a *acAutomaton) scan(hay []byte, fold bool, report func(pat int, end int)) {
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
		if o := a.out[s]; o != nil {
			for _, p := range o {
				report(int(p), i+1)
			}
		}
	}
}
