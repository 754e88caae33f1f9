package adapters

import (
	"regexp/syntax"
	"strings"
)

// The endpoint regular expressions are tried only on URLs that contain
// every literal text they require: one pass of an Aho–Corasick automaton
// over the URL finds which of those literals it holds, which costs less
// than a substring search per expression, and requiring all of an
// expression's literals (not only the longest) leaves few expressions to
// run.

// requiredLiterals returns the literal runs (case-sensitive, of at least
// three bytes) that every match of the regular expression contains.
func requiredLiterals(expr string) []string {
	var out []string
	for _, l := range literalRuns(expr) {
		if len(l) >= 3 {
			out = append(out, l)
		}
	}
	return out
}

// requiredLiteral returns the longest literal that every match of the
// regular expression contains (case-sensitively), or "" if there is none.
// It lets a prefilter skip most regexes with a substring test.
func requiredLiteral(expr string) string {
	best := ""
	for _, l := range literalRuns(expr) {
		if len(l) > len(best) {
			best = l
		}
	}
	return best
}

// literalRuns returns, in order, the runs of case-sensitive literal text
// between the other parts of the expression's top-level concatenation
// (zero-width anchors do not break a run); nil when it does not parse.
func literalRuns(expr string) []string {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	re = re.Simplify()
	var subs []*syntax.Regexp
	switch re.Op {
	case syntax.OpConcat:
		subs = re.Sub
	case syntax.OpLiteral:
		subs = []*syntax.Regexp{re}
	}
	var out []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, cur.String())
		}
		cur.Reset()
	}
	for _, s := range subs {
		switch {
		case s.Op == syntax.OpLiteral && s.Flags&syntax.FoldCase == 0:
			cur.WriteString(string(s.Rune))
		case s.Op == syntax.OpBeginText || s.Op == syntax.OpBeginLine:
			// zero-width: keeps the run going
		default:
			flush()
		}
	}
	flush()
	return out
}

// litIndex finds which of a set of literals a text contains.
type litIndex struct {
	classes [256]uint8
	nclass  int
	delta   []int32   // state*nclass + class → next state
	out     [][]int32 // state → literals that end here (own and by suffix)
	n       int       // number of literals
}

func newLitIndex(lits []string) *litIndex {
	x := &litIndex{n: len(lits)}
	var used [256]bool
	for _, l := range lits {
		for i := 0; i < len(l); i++ {
			used[l[i]] = true
		}
	}
	x.nclass = 1
	for c := 0; c < 256; c++ {
		if used[c] {
			x.classes[c] = uint8(x.nclass)
			x.nclass++
		}
	}
	nc := x.nclass
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
	for li, l := range lits {
		s := int32(0)
		for i := 0; i < len(l); i++ {
			cl := int32(x.classes[l[i]])
			if next[s*int32(nc)+cl] < 0 {
				n := addState()
				outs = append(outs, nil)
				next[s*int32(nc)+cl] = n
			}
			s = next[s*int32(nc)+cl]
		}
		outs[s] = append(outs[s], int32(li))
	}
	// Breadth first: failure links turn the trie into a DFA.
	nstates := len(next) / nc
	x.delta = make([]int32, nstates*nc)
	fail := make([]int32, nstates)
	queue := make([]int32, 0, nstates)
	for cl := 0; cl < nc; cl++ {
		if n := next[cl]; n > 0 {
			x.delta[cl] = n
			queue = append(queue, n)
		}
	}
	for qi := 0; qi < len(queue); qi++ {
		s := queue[qi]
		f := fail[s]
		outs[s] = append(outs[s], outs[f]...)
		for cl := 0; cl < nc; cl++ {
			if n := next[int(s)*nc+cl]; n > 0 {
				fail[n] = x.delta[int(f)*nc+cl]
				x.delta[int(s)*nc+cl] = n
				queue = append(queue, n)
			} else {
				x.delta[int(s)*nc+cl] = x.delta[int(f)*nc+cl]
			}
		}
	}
	x.out = outs
	return x
}

// find marks in found (len(found) >= the number of literals) the literals
// that text contains.
func (x *litIndex) find(text string, found []bool) {
	nc := x.nclass
	s := int32(0)
	for i := 0; i < len(text); i++ {
		s = x.delta[int(s)*nc+int(x.classes[text[i]])]
		for _, l := range x.out[s] {
			found[l] = true
		}
	}
}
