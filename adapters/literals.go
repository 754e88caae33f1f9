package adapters

import (
	"regexp/syntax"
	"strings"
)

// The endpoint regular expressions are tried only on URLs that contain
// every literal text they require: one pass of an Aho–Corasick automaton
// (internal/ahocorasick) over the URL finds which of those literals it
// holds, which costs less than a substring search per expression, and
// requiring all of an expression's literals (not only the longest) leaves
// few expressions to run.

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
