package decode

import (
	"sort"
	"strconv"
	"strings"
)

// Limits of query string parsing, as common parsers (PHP, Node's qs) have
// them: deeper brackets stay part of the key, larger indexes make an object.
const (
	qsMaxDepth      = 5
	qsMaxArrayIndex = 20
	qsMaxParams     = 1000
)

// ParseQueryString parses a query string into nested objects the way
// PHP-style parsers do (and Node's qs, which TrackHAR uses): "a=1&a=2" gives
// a list, "a[b][c]=1" nested objects, "a[]=1" and "a[0]=1" lists, "+" is a
// space. When s is a URL or path with a query ("/p?a=1"), only the query
// is parsed; a "?" inside a value ("a=1&r=/x?y") is kept.
func ParseQueryString(s string) map[string]any {
	if i := strings.IndexByte(s, '?'); i > 0 && !strings.ContainsAny(s[:i], "=&") {
		s = s[i+1:]
	}
	root := make(map[string]any, min(strings.Count(s, "&")+1, qsMaxParams))
	n := 0
	for part := range strings.SplitSeq(s, "&") {
		if part == "" {
			continue
		}
		if n++; n > qsMaxParams {
			break
		}
		var k, v string
		pos := strings.Index(part, "]=")
		if pos >= 0 {
			pos++
		} else {
			pos = strings.IndexByte(part, '=')
		}
		if pos < 0 {
			k = qsDecode(part)
		} else {
			k, v = qsDecode(part[:pos]), qsDecode(part[pos+1:])
		}
		if k == "" {
			continue
		}
		if strings.IndexByte(k, '[') < 0 {
			// A plain key (most are), which qsKeys gives alone.
			root[k] = qsPut(root[k], nil, v)
			continue
		}
		chain := qsKeys(k)
		root[chain[0].key] = qsPut(root[chain[0].key], chain[1:], v)
	}
	for k, v := range root {
		if _, isString := v.(string); !isString { // qsFinish keeps a string
			root[k] = qsFinish(v)
		}
	}
	return root
}

// qsDecode decodes a query string's key or value: "+" is a space, %XX
// escapes are undone, and text whose escapes are malformed or not UTF-8 is
// kept as it is (as decodeURIComponent-based parsers do).
func qsDecode(s string) string {
	s = strings.ReplaceAll(s, "+", " ")
	if d, err := DecodeURIComponent(s); err == nil {
		return d
	}
	return s
}

type qsSeg struct {
	key    string
	index  int // >= 0 for an array index
	append bool
}

// qsKeys splits "a[b][0][]" into its segments.
func qsKeys(k string) []qsSeg {
	open := strings.IndexByte(k, '[')
	if open < 0 || !strings.Contains(k[open:], "]") {
		return []qsSeg{{key: k, index: -1}}
	}
	parent := k[:open]
	var segs []qsSeg
	rest := k[open:]
	if parent == "" {
		// "[a]=1" names the key a.
		end := strings.IndexByte(rest, ']')
		parent = rest[1:end]
		rest = rest[end+1:]
	}
	segs = append(segs, qsSeg{key: parent, index: -1})
	depth := 0
	for len(rest) > 0 && rest[0] == '[' {
		end := strings.IndexByte(rest, ']')
		if end < 0 || strings.IndexByte(rest[1:end], '[') >= 0 {
			break
		}
		if depth == qsMaxDepth {
			segs = append(segs, qsSeg{key: rest, index: -1})
			return segs
		}
		in := rest[1:end]
		seg := qsSeg{key: in, index: -1}
		if in == "" {
			seg.append = true
		} else if i, err := strconv.Atoi(in); err == nil && i >= 0 && i <= qsMaxArrayIndex && strconv.Itoa(i) == in {
			seg.index = i
		}
		segs = append(segs, seg)
		depth++
		rest = rest[end+1:]
	}
	if rest != "" && len(segs) > 0 {
		// Text after the brackets ("a[b]c") stays part of the last key.
		last := &segs[len(segs)-1]
		last.key += rest
		last.index, last.append = -1, false
	}
	return segs
}

// qsArray is a list under construction: elements by index.
type qsArray struct {
	idx  []int
	vals []any
}

func (a *qsArray) get(i int) (any, int) {
	for j, x := range a.idx {
		if x == i {
			return a.vals[j], j
		}
	}
	return nil, -1
}

func (a *qsArray) next() int {
	n := 0
	for _, x := range a.idx {
		if x >= n {
			n = x + 1
		}
	}
	return n
}

// qsList is the value of a repeated plain key.
type qsList []any

// qsPut stores v at chain below cur and returns the new cur.
func qsPut(cur any, chain []qsSeg, v string) any {
	if len(chain) == 0 {
		switch c := cur.(type) {
		case nil:
			return v
		case qsList:
			return append(c, v)
		case *qsArray:
			c.idx = append(c.idx, c.next())
			c.vals = append(c.vals, v)
			return c
		case map[string]any:
			return qsList{c, v}
		default:
			return qsList{c, v}
		}
	}
	seg := chain[0]
	if seg.append || seg.index >= 0 {
		switch c := cur.(type) {
		case nil:
			cur = &qsArray{}
		case *qsArray:
		case map[string]any:
			k := seg.key
			if seg.append {
				k = strconv.Itoa(len(c))
			}
			c[k] = qsPut(c[k], chain[1:], v)
			return c
		default:
			return qsAppend(c, qsPut(nil, chain, v))
		}
		a := cur.(*qsArray)
		i := seg.index
		if seg.append {
			i = a.next()
		}
		old, j := a.get(i)
		if j >= 0 {
			if _, isObj := old.(map[string]any); isObj && len(chain) > 1 && !chain[1].append && chain[1].index < 0 {
				a.vals[j] = qsPut(old, chain[1:], v)
				return a
			}
			i = a.next()
		}
		a.idx = append(a.idx, i)
		a.vals = append(a.vals, qsPut(nil, chain[1:], v))
		return a
	}
	switch c := cur.(type) {
	case nil:
		m := map[string]any{}
		m[seg.key] = qsPut(nil, chain[1:], v)
		return m
	case map[string]any:
		c[seg.key] = qsPut(c[seg.key], chain[1:], v)
		return c
	case *qsArray:
		m := map[string]any{}
		for j, i := range c.idx {
			m[strconv.Itoa(i)] = c.vals[j]
		}
		m[seg.key] = qsPut(m[seg.key], chain[1:], v)
		return m
	default:
		return qsAppend(c, qsPut(nil, chain, v))
	}
}

func qsAppend(cur, v any) any {
	if l, ok := cur.(qsList); ok {
		return append(l, v)
	}
	return qsList{cur, v}
}

// qsFinish turns the construction types into []any and map[string]any.
func qsFinish(v any) any {
	switch c := v.(type) {
	case qsList:
		out := make([]any, len(c))
		for i, x := range c {
			out[i] = qsFinish(x)
		}
		return out
	case *qsArray:
		order := make([]int, len(c.idx))
		for i := range order {
			order[i] = i
		}
		sort.SliceStable(order, func(i, j int) bool { return c.idx[order[i]] < c.idx[order[j]] })
		out := make([]any, len(order))
		for i, j := range order {
			out[i] = qsFinish(c.vals[j])
		}
		return out
	case map[string]any:
		for k, x := range c {
			c[k] = qsFinish(x)
		}
		return c
	}
	return v
}
