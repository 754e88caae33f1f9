package adapters

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ohler55/ojg/jp"
)

// Path is a compiled path into decoded request data. The syntax is ojg's
// JSONPath with two conveniences for adapter authors (see FORMAT.md): the
// leading "$." may be left out, and a dotted segment may hold any character
// but ".", "[" and "]" (so "user-agent" or "metadata.$braze_install_id" need
// no brackets). A dotted segment names an object property; when it is all
// digits and meets a list, it selects that element, as the same path does in
// TrackHAR's JavaScript (so "extinfo.1" reads a list's second element).
// Array elements can always be written "[n]" or "*".
type Path struct {
	src  string
	expr jp.Expr
	// multi is set when the path can select several values (wildcard,
	// descent, filter, union or slice): its result is always a list.
	multi bool
	// simple holds the keys (string) and indexes (int) of a path made of
	// nothing else, which Find follows directly: most data paths are like
	// that, and ojg's Locate costs far more.
	simple []any
	// steps is the path as a program for locate, when it has wildcards or
	// descents but no filter, union or slice (those are left to ojg).
	steps []step
	// prefix is staticPrefix's result, computed once.
	prefix []string
}

// A step of a path that locate runs.
type step struct {
	op    uint8
	key   string // opChild
	boxed any    // opChild: key as an any, made once
	idx   int    // opNth; for opChild the key as an index, or -1
}

const (
	opSkip     = iota // root or bracket: nothing to do
	opChild           // .key
	opNth             // [n]
	opWildcard        // .* or [*]
	opDescent         // ..
)

// ParsePath compiles a path.
func ParsePath(s string) (*Path, error) {
	js, err := toJSONPath(s)
	if err != nil {
		return nil, fmt.Errorf("path %q: %w", s, err)
	}
	x, err := parseJP(js)
	if err != nil {
		return nil, fmt.Errorf("path %q: %w", s, err)
	}
	p := &Path{src: s, expr: x}
	simple := []any{}
	for _, f := range x {
		switch f := f.(type) {
		case jp.Wildcard, jp.Descent, *jp.Filter, jp.Union, jp.Slice:
			p.multi = true
			simple = nil
		case jp.Child:
			if simple != nil {
				simple = append(simple, string(f))
			}
		case jp.Nth:
			if simple != nil && f >= 0 {
				simple = append(simple, int(f))
			} else {
				simple = nil
			}
		case jp.Root, jp.Bracket:
		default:
			simple = nil
		}
	}
	p.simple = simple
	if p.multi {
		p.steps = compileSteps(x)
	}
	p.prefix = p.computeStaticPrefix()
	return p, nil
}

// compileSteps returns the fragments as steps, or nil when some fragment
// is not one locate handles.
func compileSteps(x jp.Expr) []step {
	steps := make([]step, 0, len(x))
	for _, f := range x {
		switch f := f.(type) {
		case jp.Root, jp.Bracket:
			steps = append(steps, step{op: opSkip})
		case jp.Child:
			steps = append(steps, step{op: opChild, key: string(f), boxed: string(f), idx: digitsIndex(string(f))})
		case jp.Nth:
			steps = append(steps, step{op: opNth, idx: int(f)})
		case jp.Wildcard:
			steps = append(steps, step{op: opWildcard})
		case jp.Descent:
			steps = append(steps, step{op: opDescent})
		default:
			return nil
		}
	}
	return steps
}

// parseJP wraps jp.ParseString, which panics on some inputs.
func parseJP(s string) (x jp.Expr, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("invalid JSONPath: %v", r)
		}
	}()
	return jp.ParseString(s)
}

// String returns the path as written.
func (p *Path) String() string { return p.src }

// JSONPath returns the path in ojg's JSONPath syntax.
func (p *Path) JSONPath() string { return p.expr.String() }

// Multi reports whether the path can select several values.
func (p *Path) Multi() bool { return p.multi }

// Match is a value a path selected, with its concrete location.
type Match struct {
	// Loc is the concrete location: keys (string) and indexes (int). It
	// may be shared with the Path: do not modify it in place.
	Loc   []any
	Value any
}

// Find returns the values the path selects in data, in a deterministic
// order (locations compared key by key, indexes numerically).
func (p *Path) Find(data any) []Match {
	if data == nil {
		return nil
	}
	if p.simple != nil {
		v := data
		for _, k := range p.simple {
			switch k := k.(type) {
			case string:
				m, ok := v.(map[string]any)
				if !ok {
					if a, isList := v.([]any); isList {
						// A digits segment on a list: follow it as an index,
						// and report the location with the index.
						if n := digitsIndex(k); n >= 0 && n < len(a) {
							return p.findListed(data)
						}
					}
					return nil
				}
				if v, ok = m[k]; !ok {
					return nil
				}
			case int:
				a, ok := v.([]any)
				if !ok || k >= len(a) {
					return nil
				}
				v = a[k]
			}
		}
		if len(p.simple) == 0 {
			return []Match{{Value: data}}
		}
		// The location is the path's own, shared: capped, so that an
		// append copies it.
		return []Match{{Loc: p.simple[:len(p.simple):len(p.simple)], Value: v}}
	}
	var out []Match
	if p.steps != nil {
		l := locator{steps: p.steps}
		var buf [8]locSeg
		l.apply(0, data, buf[:0])
		if !l.unknown {
			out = l.out
		}
	}
	if out == nil {
		out = p.ojgFind(data)
	}
	// Matches with the same location have the same value, so an unstable
	// sort gives what a stable one would. locate mostly emits in order
	// already (it walks object keys sorted).
	if !slices.IsSortedFunc(out, cmpMatch) {
		slices.SortFunc(out, cmpMatch)
	}
	return out
}

// findListed follows a simple path in which a digits segment met a list
// (rare, so the general locator does it).
func (p *Path) findListed(data any) []Match {
	l := locator{steps: compileSteps(p.expr)}
	l.apply(0, data, nil)
	return l.out
}

// digitsIndex returns the index an all-digits key stands for on a list, or
// -1.
func digitsIndex(k string) int {
	if k == "" || len(k) > 9 {
		return -1
	}
	n := 0
	for i := 0; i < len(k); i++ {
		if k[i] < '0' || k[i] > '9' {
			return -1
		}
		n = n*10 + int(k[i]-'0')
	}
	if len(k) > 1 && k[0] == '0' {
		return -1 // "01" is a property name, not an index, in JavaScript
	}
	return n
}

func cmpMatch(a, b Match) int { return cmpLoc(a.Loc, b.Loc) }

// cmpLoc orders locations component by component, indexes before keys, a
// prefix before what it is a prefix of.
func cmpLoc(a, b []any) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		switch x := a[i].(type) {
		case int:
			y, ok := b[i].(int)
			if !ok {
				return -1
			}
			if x != y {
				return cmp.Compare(x, y)
			}
		case string:
			y, ok := b[i].(string)
			if !ok {
				return 1
			}
			if x != y {
				return strings.Compare(x, y)
			}
		}
	}
	return cmp.Compare(len(a), len(b))
}

// ojgFind is Find through ojg's Locate, for paths with filters, unions or
// slices, and for data of types locate does not know.
func (p *Path) ojgFind(data any) []Match {
	locs := p.expr.Locate(data, 0)
	out := make([]Match, 0, len(locs))
	for _, l := range locs {
		v, ok := valueAt(data, l)
		if !ok {
			continue
		}
		m := Match{Value: v}
		for _, f := range l {
			switch f := f.(type) {
			case jp.Child:
				m.Loc = append(m.Loc, string(f))
			case jp.Nth:
				m.Loc = append(m.Loc, int(f))
			}
		}
		out = append(out, m)
	}
	return out
}

// valueAt returns the value at a location Locate returned, as FirstFound
// does but without its allocations, for the data types of decoded
// requests.
func valueAt(data any, l jp.Expr) (any, bool) {
	v := data
	for _, f := range l {
		switch f := f.(type) {
		case jp.Root:
		case jp.Child:
			m, ok := v.(map[string]any)
			if !ok {
				return l.FirstFound(data)
			}
			if v, ok = m[string(f)]; !ok {
				return nil, false
			}
		case jp.Nth:
			a, ok := v.([]any)
			if !ok || int(f) < 0 || int(f) >= len(a) {
				return l.FirstFound(data)
			}
			v = a[f]
		default:
			return l.FirstFound(data)
		}
	}
	return v, true
}

// locator finds what a path of steps selects, as ojg's Locate does (the
// same rules: a step after a child, an element or a wildcard applies only
// to objects and lists; a descent applies the rest of the path to the node
// it starts at and to every object and list below it, and with nothing
// after it selects every node), without building a location per fragment
// and walking it again to get the value.
type locator struct {
	steps []step
	out   []Match
	// locs holds the locations of matches, carved out of larger
	// allocations (most paths that get here match many values).
	locs []any
	// unknown is set when the data holds a type other than those of
	// decoded requests: ojg then does the work.
	unknown bool
}

// apply runs step i (and those after it) on v at loc.
func (l *locator) apply(i int, v any, loc []locSeg) {
	if i == len(l.steps) || l.unknown {
		return
	}
	switch st := &l.steps[i]; st.op {
	case opSkip:
		l.apply(i+1, v, loc)
	case opChild:
		switch t := v.(type) {
		case map[string]any:
			if c, ok := t[st.key]; ok {
				l.next(i+1, c, append(loc, locSeg{key: st.key, idx: -1, boxed: st.boxed}))
			}
		case []any:
			if n := st.idx; n >= 0 && n < len(t) {
				l.next(i+1, t[n], append(loc, locSeg{idx: n}))
			}
		default:
			l.leaf(v)
		}
	case opNth:
		switch t := v.(type) {
		case []any:
			n := st.idx
			if n < 0 {
				n += len(t)
			}
			if 0 <= n && n < len(t) {
				l.next(i+1, t[n], append(loc, locSeg{idx: n}))
			}
		default:
			l.leaf(v)
		}
	case opWildcard:
		switch t := v.(type) {
		case map[string]any:
			for _, k := range sortedKeys(t) {
				l.next(i+1, t[k], append(loc, locSeg{key: k, idx: -1}))
			}
		case []any:
			for n, c := range t {
				l.next(i+1, c, append(loc, locSeg{idx: n}))
			}
		default:
			l.leaf(v)
		}
	case opDescent:
		if i+1 == len(l.steps) {
			l.emit(loc, v)
		} else if isContainer(v) {
			l.apply(i+1, v, loc)
		}
		switch t := v.(type) {
		case map[string]any:
			for _, k := range sortedKeys(t) {
				l.apply(i, t[k], append(loc, locSeg{key: k, idx: -1}))
			}
		case []any:
			for n, c := range t {
				l.apply(i, c, append(loc, locSeg{idx: n}))
			}
		default:
			l.leaf(v)
		}
	}
}

// next goes on after a step selected c: it is a match when no step is
// left, and the path goes on only into objects and lists.
func (l *locator) next(i int, c any, loc []locSeg) {
	if i == len(l.steps) {
		l.emit(loc, c)
	} else if isContainer(c) {
		l.apply(i, c, loc)
	} else {
		l.leaf(c)
	}
}

func (l *locator) emit(loc []locSeg, v any) {
	var c []any
	if len(loc) > 0 {
		if len(loc) > cap(l.locs)-len(l.locs) {
			// Slabs grow with the matches: most paths match once or
			// twice, a few hundreds of times.
			l.locs = make([]any, 0, max(min(2*cap(l.locs), 1024), 4*len(loc)))
		}
		n := len(l.locs)
		for _, sg := range loc {
			l.locs = append(l.locs, sg.value())
		}
		c = l.locs[n:len(l.locs):len(l.locs)]
	}
	l.out = append(l.out, Match{Loc: c, Value: v})
}

// locSeg is a component of a location while the locator walks: a key
// (idx -1) or an index. It becomes an any (which costs an allocation for
// a key) only in a match's location.
type locSeg struct {
	key   string
	idx   int
	boxed any // the key as an any, when the step has it ready
}

func (sg locSeg) value() any {
	switch {
	case sg.boxed != nil:
		return sg.boxed
	case sg.idx < 0:
		return sg.key
	}
	return sg.idx
}

// leaf checks that a value without children is of a known type.
func (l *locator) leaf(v any) {
	switch v.(type) {
	case nil, bool, string, int64, float64, json.Number, map[string]any, []any:
	default:
		l.unknown = true
	}
}

// sortedKeys returns the keys of m in order, so that locate emits its
// matches mostly in the order Find returns them.
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func isContainer(v any) bool {
	switch v.(type) {
	case map[string]any, []any:
		return true
	}
	return false
}

// Get returns what a decoding step reads: nil when nothing is selected, the
// value when the path selects one value and cannot select more, and a
// []any of the values otherwise.
func (p *Path) Get(data any) any {
	ms := p.Find(data)
	if len(ms) == 0 {
		if p.multi {
			return nil
		}
		return nil
	}
	if !p.multi && len(ms) == 1 {
		return ms[0].Value
	}
	out := make([]any, len(ms))
	for i, m := range ms {
		out[i] = m.Value
	}
	return out
}

// staticPrefix returns the leading property names and indexes of the path,
// up to its first wildcard, filter or other selector. The result is shared:
// callers must not modify it.
func (p *Path) staticPrefix() []string { return p.prefix }

func (p *Path) computeStaticPrefix() []string {
	var out []string
	for _, f := range p.expr {
		switch f := f.(type) {
		case jp.Root, jp.Bracket:
		case jp.Child:
			out = append(out, string(f))
		case jp.Nth:
			out = append(out, strconv.Itoa(int(f)))
		default:
			return out
		}
	}
	return out
}

// FormatLoc renders a concrete location as "batch[2].advertiser_id":
// properties dotted (bracketed and quoted when they hold ".", "[", "]",
// quotes or spaces, or are empty), indexes in brackets.
func FormatLoc(loc []any) string {
	n := 0
	for _, s := range loc {
		switch s := s.(type) {
		case int:
			n += 22
		case string:
			if len(loc) == 1 && s != "" && !strings.ContainsAny(s, ".[]'\" \t\n") {
				return s // a plain key alone is itself
			}
			n += len(s) + 4
		}
	}
	var b strings.Builder
	b.Grow(n)
	for _, s := range loc {
		switch s := s.(type) {
		case int:
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s))
			b.WriteByte(']')
		case string:
			if s == "" || strings.ContainsAny(s, ".[]'\" \t\n") {
				b.WriteString("['")
				b.WriteString(strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "'", `\'`))
				b.WriteString("']")
				continue
			}
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s)
		}
	}
	return b.String()
}

// toJSONPath turns the adapter path syntax into ojg's.
func toJSONPath(s string) (string, error) {
	if s == "" {
		return "", fmt.Errorf("empty path")
	}
	var b strings.Builder
	b.WriteByte('$')
	i := 0
	if s[0] == '$' && (len(s) == 1 || s[1] == '.' || s[1] == '[') {
		i = 1
	}
	first := i == 0
	for i < len(s) {
		descent := false
		switch {
		case s[i] == '[':
			j, err := bracketEnd(s, i)
			if err != nil {
				return "", err
			}
			b.WriteString(s[i : j+1])
			i = j + 1
			first = false
			continue
		case strings.HasPrefix(s[i:], ".."):
			descent = true
			b.WriteString("..")
			i += 2
			if i < len(s) && s[i] == '[' {
				continue
			}
		case s[i] == '.':
			i++
			if i < len(s) && s[i] == '[' {
				continue // "a.[0]" is read as "a[0]"
			}
		case !first:
			return "", fmt.Errorf("expected '.' or '[' at %d", i)
		}
		first = false
		j := i
		for j < len(s) && s[j] != '.' && s[j] != '[' && s[j] != ']' {
			j++
		}
		seg := s[i:j]
		if seg == "" {
			return "", fmt.Errorf("empty segment at %d", i)
		}
		switch {
		case seg == "*" && descent:
			b.WriteByte('*')
		case seg == "*":
			b.WriteString(".*")
		default:
			b.WriteString("['")
			b.WriteString(strings.ReplaceAll(strings.ReplaceAll(seg, `\`, `\\`), "'", `\'`))
			b.WriteString("']")
		}
		i = j
	}
	return b.String(), nil
}

// bracketEnd returns the index of the ']' closing the '[' at i, skipping
// quoted strings, regular expressions and nested brackets.
func bracketEnd(s string, i int) (int, error) {
	depth := 0
	for j := i; j < len(s); j++ {
		switch c := s[j]; c {
		case '\'', '"':
			k := j + 1
			for k < len(s) && s[k] != c {
				if s[k] == '\\' {
					k++
				}
				k++
			}
			if k >= len(s) {
				return 0, fmt.Errorf("unterminated string at %d", j)
			}
			j = k
		case '/':
			// A regular expression literal after =~ or ~=.
			t := strings.TrimRight(s[i:j], " ")
			if strings.HasSuffix(t, "=~") || strings.HasSuffix(t, "~=") {
				k := j + 1
				for k < len(s) && s[k] != '/' {
					if s[k] == '\\' {
						k++
					}
					k++
				}
				if k >= len(s) {
					return 0, fmt.Errorf("unterminated regular expression at %d", j)
				}
				j = k
			}
		case '[', '(':
			depth++
		case ']', ')':
			depth--
			if depth == 0 {
				if c != ']' {
					return 0, fmt.Errorf("unbalanced ')' at %d", j)
				}
				return j, nil
			}
		}
	}
	return 0, fmt.Errorf("unterminated '[' at %d", i)
}
