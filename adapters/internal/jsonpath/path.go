package jsonpath

import (
	"cmp"
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
// Array elements can always be written "[n]" or "*". ojg evaluates it.
type Path struct {
	src string
	// expr is the path as ojg runs it: an all-digits dotted segment is the
	// union ['1',1], the property on an object and the element on a list.
	expr jp.Expr
	// multi is set when the path as written can select several values
	// (wildcard, descent, filter, union or slice): its result is always a
	// list.
	multi bool
	// prefix is StaticPrefix's result, computed once.
	prefix []string
}

// Parse compiles a path.
func Parse(s string) (*Path, error) {
	js, err := toJSONPath(s)
	if err != nil {
		return nil, fmt.Errorf("path %q: %w", s, err)
	}
	x, err := parseJP(js)
	if err != nil {
		return nil, fmt.Errorf("path %q: %w", s, err)
	}
	p := &Path{src: s, expr: x}
	for i, f := range x {
		switch f := f.(type) {
		case jp.Wildcard, jp.Descent, *jp.Filter, jp.Union, jp.Slice:
			p.multi = true
		case jp.Child:
			if n := digitsIndex(string(f)); n >= 0 {
				x[i] = jp.Union{string(f), int64(n)}
			}
		}
	}
	p.prefix = p.computeStaticPrefix()
	return p, nil
}

// parseJP wraps jp.ParseString, which panics on some malformed filters
// (FuzzParsePath finds them) instead of returning an error.
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

// Match is a value a path selected, with its concrete location.
type Match struct {
	// Loc is the concrete location: keys (string) and indexes (int).
	Loc   []any
	Value any
}

// Find returns the values the path selects in data, in a deterministic
// order (locations compared key by key, indexes numerically).
func (p *Path) Find(data any) []Match {
	if data == nil {
		return nil
	}
	if len(p.expr) == 1 {
		return []Match{{Value: data}} // "$": ojg's Locate finds nothing
	}
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
	// ojg walks maps in their (random) order. Matches with the same
	// location have the same value, so an unstable sort is enough.
	slices.SortFunc(out, func(a, b Match) int { return cmpLoc(a.Loc, b.Loc) })
	return out
}

// valueAt returns the value at a location Locate returned (made of
// children and indexes only).
func valueAt(data any, l jp.Expr) (any, bool) {
	v := data
	for _, f := range l {
		switch f := f.(type) {
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
		}
	}
	return v, true
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

// Get returns what a decoding step reads: nil when nothing is selected, the
// value when the path selects one value and cannot select more, and a
// []any of the values otherwise.
func (p *Path) Get(data any) any {
	ms := p.Find(data)
	if len(ms) == 0 {
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

// StaticPrefix returns the leading property names and indexes of the path,
// up to its first wildcard, filter or other selector. The result is shared:
// callers must not modify it.
func (p *Path) StaticPrefix() []string { return p.prefix }

func (p *Path) computeStaticPrefix() []string {
	var out []string
	for _, f := range p.expr {
		switch f := f.(type) {
		case jp.Root, jp.Bracket:
		case jp.Child:
			out = append(out, string(f))
		case jp.Nth:
			out = append(out, strconv.Itoa(int(f)))
		case jp.Union:
			if k, ok := f[0].(string); ok && len(f) == 2 && f[1] == any(int64(digitsIndex(k))) {
				out = append(out, k) // an all-digits segment
				continue
			}
			return out
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
			k := literalEnd(s, j)
			if k >= len(s) {
				return 0, fmt.Errorf("unterminated string at %d", j)
			}
			j = k
		case '/':
			// A regular expression literal after =~ or ~=.
			t := strings.TrimRight(s[i:j], " ")
			if strings.HasSuffix(t, "=~") || strings.HasSuffix(t, "~=") {
				k := literalEnd(s, j)
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

// literalEnd returns the index of the delimiter that closes the string or
// regular expression literal opened by s[j], past backslash escapes;
// len(s) or more when it is not closed.
func literalEnd(s string, j int) int {
	k := j + 1
	for k < len(s) && s[k] != s[j] {
		if s[k] == '\\' {
			k++
		}
		k++
	}
	return k
}
