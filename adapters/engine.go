package adapters

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	json "github.com/go-json-experiment/json/v1"
	"github.com/tracewire/tracewire/adapters/decode"
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
func InitialState(r *Request) map[string]any {
	st := make(map[string]any, 6)
	header := make(map[string]any, len(r.Headers))
	for _, h := range r.Headers {
		header[h.Name] = h.Value
	}
	st["header"] = header
	cookie := make(map[string]any, len(r.Cookies))
	for _, c := range r.Cookies {
		cookie[c.Name] = c.Value
	}
	st["cookie"] = cookie
	st["path"] = r.Path
	st["res"] = map[string]any{}
	if r.HasQuery {
		st["query"] = r.Query
	}
	if len(r.Body) > 0 {
		st["body"] = string(r.Body)
	}
	return st
}

// Decode runs the adapter's decoding steps over the request. A failing
// step is recorded and the next steps run; Decode itself never fails.
func (a *Adapter) Decode(r *Request) *Decoded {
	st := InitialState(r)
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
				rec.Status, rec.Error = "failed", fmt.Sprintf("mapInput is a %s, not a list", decode.TypeName(in))
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
		v, err := callSafe(spec.f, in, &s.Options, r)
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
			return fmt.Errorf("output %s: cannot write into a %s at %q", strings.Join(path, "."), decode.TypeName(cur), strings.Join(path[:i], "."))
		}
	}
	return nil
}

// Chain returns the records of the successful steps that produced the
// value at loc in context ctx, from the raw request to the value.
func (d *Decoded) Chain(ctx string, loc []any) []StepRecord {
	// The first target is res.<ctx>.<loc...>, later ones are the static
	// prefixes of the steps' inputs.
	target := []string{"res", ctx}
	for _, l := range loc {
		switch l := l.(type) {
		case string:
			target = append(target, l)
		case int:
			target = append(target, strconv.Itoa(l))
		}
	}
	var chain []StepRecord
	for i := len(d.Steps) - 1; i >= 0; i-- {
		rec := d.Steps[i]
		if rec.Status != "ok" {
			continue
		}
		s := &d.adapter.DecodingSteps[rec.Index]
		if !hasPrefix(target, s.output) {
			continue
		}
		chain = append(chain, rec)
		p := s.input
		if p == nil {
			p = s.mapInput
		}
		target = p.StaticPrefix()
		if len(target) == 1 {
			switch target[0] {
			case "header", "cookie", "path", "query", "body":
				i = 0
			}
		}
	}
	slices.Reverse(chain)
	return chain
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
