package adapters

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// StepRecord says what one decoding step did for one request.
type StepRecord struct {
	// Index is the step's position in the adapter's decodingSteps.
	Index    int    `json:"index"`
	Function string `json:"function"`
	// Input is the input or mapInput path.
	Input  string `json:"input"`
	Output string `json:"output"`
	// Options are the step's options as written, e.g. "path=$" (empty when
	// none).
	Options string `json:"options,omitempty"`
	// Status is "ok", "skipped" (nothing to read, or nothing produced) or
	// "failed".
	Status string `json:"status"`
	// Error says why the step failed (for mapInput: how many elements
	// failed and the first reason).
	Error string `json:"error,omitempty"`
}

// Decoded is the result of running an adapter's decoding steps.
type Decoded struct {
	// Res is the state's "res" object, which data paths read: res.header,
	// res.cookie, res.path, res.query, res.body.
	Res map[string]any
	// Steps records every step in order.
	Steps []StepRecord

	adapter *Adapter
}

// InitialState returns the state decoding starts from: header and cookie
// as name → value objects (a repeated name keeps its last value), path,
// query and body as text, and an empty res.
func InitialState(r *Request) map[string]any { return initialState(r, readsAll) }

// What of the initial state a decoding step can read (Adapter.reads): the
// rest need not be built for DecodeLean.
const (
	readsHeader = 1 << iota
	readsCookie
	readsPath
	readsQuery
	readsBody
	readsAll = readsHeader | readsCookie | readsPath | readsQuery | readsBody
)

// initialState is InitialState with only the parts in reads (res always).
func initialState(r *Request, reads uint8) map[string]any {
	st := make(map[string]any, 6)
	if reads&readsHeader != 0 {
		header := make(map[string]any, len(r.Headers))
		for _, h := range r.Headers {
			header[h.Name] = h.Value
		}
		st["header"] = header
	}
	if reads&readsCookie != 0 {
		cookie := make(map[string]any, len(r.Cookies))
		for _, c := range r.Cookies {
			cookie[c.Name] = c.Value
		}
		st["cookie"] = cookie
	}
	if reads&readsPath != 0 {
		st["path"] = r.Path
	}
	st["res"] = map[string]any{}
	if r.HasQuery && reads&readsQuery != 0 {
		st["query"] = r.Query
	}
	if len(r.Body) > 0 && reads&readsBody != 0 {
		st["body"] = r.bodyString()
	}
	return st
}

// stateReads works out Adapter.reads: the roots of the state the inputs of
// the steps start with (all when one starts with a wildcard or descent).
func (a *Adapter) stateReads() uint8 {
	var m uint8
	for i := range a.DecodingSteps {
		s := &a.DecodingSteps[i]
		for _, p := range [2]*Path{s.input, s.mapInput} {
			if p == nil {
				continue
			}
			pre := p.staticPrefix()
			if len(pre) == 0 {
				return readsAll
			}
			switch pre[0] {
			case "header":
				m |= readsHeader
			case "cookie":
				m |= readsCookie
			case "path":
				m |= readsPath
			case "query":
				m |= readsQuery
			case "body":
				m |= readsBody
			}
		}
	}
	return m
}

// Decode runs the adapter's decoding steps over the request. A failing
// step is recorded and the next steps run; Decode itself never fails.
func (a *Adapter) Decode(r *Request) *Decoded { return a.decode(r, nil, readsAll) }

// DecodeLean is a.Decode for finding what a's data paths select (the
// parts of the initial state no step reads are not built): JSON
// that a parseJson step parses is kept only where a later step or a data
// path reads it (and checked whole, so that the steps succeed and fail as
// in Decode). Res holds every value a's data paths find, with the same
// steps, and may lack the rest.
func (db *DB) DecodeLean(a *Adapter, r *Request) *Decoded {
	return a.decode(r, db.leanOf(a), a.reads)
}

// decode is Decode, with lean's projections for parseJson steps.
// lean[i], when there, is what to keep of what step i parses; reads says
// which parts of the initial state to build.
func (a *Adapter) decode(r *Request, lean []*jsonProj, reads uint8) *Decoded {
	st := initialState(r, reads)
	d := &Decoded{adapter: a, Steps: make([]StepRecord, 0, len(a.DecodingSteps))}
	for i := range a.DecodingSteps {
		s := &a.DecodingSteps[i]
		rec := StepRecord{Index: i, Function: s.Function, Output: s.Output, Status: "ok", Options: s.optionsString()}
		spec := functions[s.Function]
		if s.mapInput != nil {
			rec.Input = s.MapInput
			in := s.mapInput.Get(st)
			var list []any
			switch v := in.(type) {
			case nil:
			case []any:
				list = v
			default:
				rec.Status, rec.Error = "failed", fmt.Sprintf("mapInput is a %s, not a list", typeName(in))
				d.Steps = append(d.Steps, rec)
				continue
			}
			out := make([]any, 0, len(list))
			failed, first := 0, ""
			for _, e := range list {
				if e == nil {
					continue
				}
				v, err := callSafe(spec.f, e, &s.Options, r)
				if err != nil {
					failed++
					if first == "" {
						first = err.Error()
					}
					v = nil
				}
				out = append(out, v)
			}
			if failed > 0 {
				rec.Error = fmt.Sprintf("%d of %d elements failed: %s", failed, len(out), first)
				if failed == len(out) {
					rec.Status = "failed"
				}
			}
			if len(out) == 0 {
				rec.Status = "skipped"
			}
			if err := setPath(st, s.output, out); err != nil {
				rec.Status, rec.Error = "failed", err.Error()
			}
			d.Steps = append(d.Steps, rec)
			continue
		}
		rec.Input = s.Input
		in := s.input.Get(st)
		if !truthy(in) {
			rec.Status = "skipped"
			d.Steps = append(d.Steps, rec)
			continue
		}
		var v any
		var err error
		if i < len(lean) && lean[i] != nil {
			v, err = parseJSONLean(in, lean[i])
		} else {
			v, err = callSafe(spec.f, in, &s.Options, r)
		}
		switch {
		case err != nil:
			rec.Status, rec.Error = "failed", err.Error()
		case !truthy(v):
			rec.Status = "skipped"
		default:
			if err := setPath(st, s.output, v); err != nil {
				rec.Status, rec.Error = "failed", err.Error()
			}
		}
		d.Steps = append(d.Steps, rec)
	}
	d.Res, _ = st["res"].(map[string]any)
	if d.Res == nil {
		d.Res = map[string]any{}
	}
	return d
}

// callSafe runs a decoding function, turning a panic into an error so a
// bug in one function cannot take the whole run down.
func callSafe(f fn, in any, o *StepOptions, r *Request) (v any, err error) {
	defer func() {
		if p := recover(); p != nil {
			v, err = nil, fmt.Errorf("internal error: %v", p)
		}
	}()
	return f(in, o, r)
}

func (s *Step) optionsString() string {
	var parts []string
	o := &s.Options
	if o.Path != "" {
		parts = append(parts, "path="+o.Path)
	}
	if o.Separator != "" {
		parts = append(parts, "separator="+strconv.Quote(o.Separator))
	}
	if o.Part != "" {
		parts = append(parts, "part="+o.Part)
	}
	if o.Boundary != "" {
		parts = append(parts, "boundary="+o.Boundary)
	}
	if o.Schema != nil {
		parts = append(parts, "schema")
	}
	return strings.Join(parts, " ")
}

// truthy is JavaScript's truthiness, which decides (as in TrackHAR) whether
// a step has something to read and something to write.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case int64:
		return x != 0
	case float64:
		return x != 0 && !math.IsNaN(x)
	case json.Number:
		return x != "" && x != "0"
	}
	return true
}

// setPath writes v at a dotted path, creating objects where the path meets
// nothing (or a falsy value).
func setPath(st map[string]any, path []string, v any) error {
	var cur any = st
	for i, p := range path {
		last := i == len(path)-1
		switch c := cur.(type) {
		case map[string]any:
			if last {
				c[p] = v
				return nil
			}
			next := c[p]
			if !truthy(next) {
				next = map[string]any{}
				c[p] = next
			}
			cur = next
		case []any:
			idx, err := strconv.Atoi(p)
			if err != nil || idx < 0 || idx >= len(c) {
				return fmt.Errorf("output %s: %q is not an index of a list of %d", strings.Join(path, "."), p, len(c))
			}
			if last {
				c[idx] = v
				return nil
			}
			if !truthy(c[idx]) {
				c[idx] = map[string]any{}
			}
			cur = c[idx]
		default:
			return fmt.Errorf("output %s: cannot write into a %s at %q", strings.Join(path, "."), typeName(cur), strings.Join(path[:i], "."))
		}
	}
	return nil
}

// Chain returns the records of the successful steps that produced the
// value at loc in context ctx, from the raw request to the value.
func (d *Decoded) Chain(ctx string, loc []any) []StepRecord {
	// The first target is res.<ctx>.<loc...>, compared in place rather
	// than built (Chain runs for every finding); later ones are the static
	// prefixes of the steps' inputs.
	var target []string
	var chain []StepRecord
	for i := len(d.Steps) - 1; i >= 0; i-- {
		rec := d.Steps[i]
		if rec.Status != "ok" {
			continue
		}
		s := &d.adapter.DecodingSteps[rec.Index]
		if target == nil && chain == nil {
			if !outputLeadsTo(s.output, ctx, loc) {
				continue
			}
		} else if !hasPrefix(target, s.output) {
			continue
		}
		if chain == nil {
			chain = make([]StepRecord, 0, i+1) // the most it can hold
		}
		chain = append(chain, rec)
		p := s.input
		if p == nil {
			p = s.mapInput
		}
		target = p.staticPrefix()
		if len(target) == 1 {
			switch target[0] {
			case "header", "cookie", "path", "query", "body":
				i = 0
			}
		}
	}
	for i, j := 0, len(chain)-1; i < j; i, j = i+1, j-1 {
		chain[i], chain[j] = chain[j], chain[i]
	}
	return chain
}

// outputLeadsTo reports whether output is a prefix of res.<ctx>.<loc...>,
// indexes compared in their decimal form.
func outputLeadsTo(output []string, ctx string, loc []any) bool {
	if len(output) > 2+len(loc) {
		return false
	}
	var buf [20]byte
	for i, o := range output {
		switch i {
		case 0:
			if o != "res" {
				return false
			}
		case 1:
			if o != ctx {
				return false
			}
		default:
			switch l := loc[i-2].(type) {
			case string:
				if o != l {
					return false
				}
			case int:
				if o != string(strconv.AppendInt(buf[:0], int64(l), 10)) {
					return false
				}
			default:
				if o != "" {
					return false
				}
			}
		}
	}
	return true
}

func hasPrefix(s, prefix []string) bool {
	if len(prefix) > len(s) {
		return false
	}
	for i := range prefix {
		if s[i] != prefix[i] {
			return false
		}
	}
	return true
}

// parseJSONLean is parseJSONFn keeping what proj selects.
func parseJSONLean(in any, proj *jsonProj) (v any, err error) {
	defer func() {
		if p := recover(); p != nil {
			v, err = nil, fmt.Errorf("internal error: %v", p)
		}
	}()
	t, err := asText(in)
	if err != nil {
		return nil, err
	}
	return parseJSONProj(t, proj)
}

// jsonProj is what of a parsed JSON value the rest of an adapter reads: a
// tree of the object keys (named) and of the wildcards (wild, for every
// member or element) that later steps and data paths follow from where a
// parseJson step writes. DB.DecodeLean parses such bodies keeping only
// that; keepAll keeps a whole value (what a path ends at, or meets a
// descent, an index or a filter in), skipAll nothing.
type jsonProj struct {
	named map[string]*jsonProj
	wild  *jsonProj
}

var (
	keepAll = &jsonProj{}
	skipAll = &jsonProj{}
)

// member is what to keep of the value of an object's member.
func (j *jsonProj) member(key string) *jsonProj {
	if j == keepAll || j == skipAll {
		return j
	}
	if c, ok := j.named[key]; ok {
		return c // merged with wild when built
	}
	if j.wild != nil {
		return j.wild
	}
	return skipAll
}

// element is what to keep of each element of a list.
func (j *jsonProj) element() *jsonProj {
	if j == keepAll || j == skipAll {
		return j
	}
	if len(j.named) == 0 {
		if j.wild == nil {
			return skipAll
		}
		return j.wild
	}
	// A key on a list selects an element by its digits: the list is kept
	// whole rather than followed.
	return keepAll
}

// mergeProj returns what keeps what a or b keeps.
func mergeProj(a, b *jsonProj) *jsonProj {
	switch {
	case a == nil || a == skipAll:
		return b
	case b == nil || b == skipAll:
		return a
	case a == keepAll || b == keepAll:
		return keepAll
	}
	m := &jsonProj{wild: mergeProj(a.wild, b.wild)}
	for _, src := range []*jsonProj{a, b} {
		for k, c := range src.named {
			if m.named == nil {
				m.named = map[string]*jsonProj{}
			}
			m.named[k] = mergeProj(m.named[k], c)
		}
	}
	return m
}

// finish returns j with the wildcard merged into each named member, so
// that member needs one lookup.
func (j *jsonProj) finish() *jsonProj {
	if j == keepAll || j == skipAll || j == nil {
		return j
	}
	f := &jsonProj{wild: j.wild.finish()}
	for k, c := range j.named {
		if f.named == nil {
			f.named = map[string]*jsonProj{}
		}
		f.named[k] = mergeProj(c, j.wild).finish()
	}
	return f
}

// projFromPath returns what of the value written at out a path that reads
// the state (ops over the state, from compileSteps) needs: skipAll when it
// does not reach into it, keepAll when it reads all of it or more (or
// cannot be told).
func projFromPath(out []string, ops []step) *jsonProj {
	k := 0
	i := 0
	for ; i < len(ops) && k < len(out); i++ {
		switch op := ops[i]; op.op {
		case opSkip:
		case opChild:
			if op.key != out[k] {
				return skipAll
			}
			k++
		case opWildcard:
			k++
		case opNth:
			return skipAll // out's containers are objects
		default: // a descent reaches everything below
			return keepAll
		}
	}
	if k < len(out) {
		return keepAll // a container of the value, or the state itself
	}
	// The rest of the path, from the value.
	root := &jsonProj{}
	node := root
	for ; i < len(ops); i++ {
		var next **jsonProj
		switch op := ops[i]; op.op {
		case opSkip:
			continue
		case opChild:
			if node.named == nil {
				node.named = map[string]*jsonProj{}
			}
			c := node.named[op.key]
			if c == nil {
				c = &jsonProj{}
				node.named[op.key] = c
			}
			node = c
			continue
		case opWildcard:
			next = &node.wild
		default:
			return replaceLeaf(root, node)
		}
		if *next == nil {
			*next = &jsonProj{}
		}
		node = *next
	}
	return replaceLeaf(root, node)
}

// replaceLeaf makes leaf keep everything: it is replaced by keepAll in the
// tree from root.
func replaceLeaf(root, leaf *jsonProj) *jsonProj {
	if root == leaf {
		return keepAll
	}
	var walk func(n *jsonProj)
	walk = func(n *jsonProj) {
		if n.wild == leaf {
			n.wild = keepAll
		} else if n.wild != nil {
			walk(n.wild)
		}
		for k, c := range n.named {
			if c == leaf {
				n.named[k] = keepAll
			} else {
				walk(c)
			}
		}
	}
	walk(root)
	return root
}
