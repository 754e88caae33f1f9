package adapters

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/ohler55/ojg/jp"
	"go.yaml.in/yaml/v3"
)

// lessLoc is the order Find sorted with before cmpLoc.
func lessLoc(a, b []any) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		switch x := a[i].(type) {
		case int:
			if y, ok := b[i].(int); ok {
				if x != y {
					return x < y
				}
				continue
			}
			return true
		case string:
			y, ok := b[i].(string)
			if !ok {
				return false
			}
			if x != y {
				return x < y
			}
		}
	}
	return len(a) < len(b)
}

// refFind is Find as ojg alone does it (Locate, FirstFound per location,
// sorted), the reference for the paths Find locates itself.
func refFind(p *Path, data any) []Match {
	if data == nil {
		return nil
	}
	var out []Match
	for _, l := range p.expr.Locate(data, 0) {
		v, ok := l.FirstFound(data)
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
	sort.SliceStable(out, func(i, j int) bool { return lessLoc(out[i].Loc, out[j].Loc) })
	return out
}

var findSeedPaths = []string{
	"$.*", "$..*", "a.*.b", "*.*", "$..b", "a..b", "a..*", "$..[0]", "a[-1]", "a[*].b",
	"x..y..z", "$..a.b", "a[1:]", "a[0,1]", "a[?(@.b == 1)].c", "$..events[?(@.identifier == 'view')].category",
}

var findSeedData = []string{
	`{"a":[{"b":1,"c":"x"},{"b":2,"c":{"b":3}},5,"s",null],"b":{"a":{"b":[true,{"b":"deep"}]}},"x":{"y":{"z":1,"y":{"z":2}}}}`,
	`{"ae":{"v":{"events":[{"identifier":"view","category":"news"},{"identifier":"app"}]}},"events":[]}`,
	`[1,[2,[3,{"a":[4]}]],{"b":{}}]`,
	`"scalar"`,
	`{"a":{"b":"c"},"1":{"2":3}}`,
}

// TestFindSameAsOJG compares Find with ojg's own way over every path of
// the database and the request bodies of the adapter test cases, and over
// a few hand-made paths and documents.
func TestFindSameAsOJG(t *testing.T) {
	db, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	var paths []*Path
	for _, a := range db.Adapters {
		for i := range a.DecodingSteps {
			s := &a.DecodingSteps[i]
			for _, p := range []*Path{s.input, s.mapInput} {
				if p != nil {
					paths = append(paths, p)
				}
			}
		}
		for _, pp := range a.ContainedDataPaths {
			for _, dp := range pp.Paths {
				paths = append(paths, dp.path)
			}
		}
	}
	for _, s := range findSeedPaths {
		p, err := ParsePath(s)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		paths = append(paths, p)
	}
	var docs []any
	for _, s := range findSeedData {
		d, err := ParseJSON(s)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, d)
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "adaptercases", "*", "*.yaml"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var cs struct {
			Cases []struct {
				Request struct {
					Body string `yaml:"body"`
				} `yaml:"request"`
			} `yaml:"cases"`
		}
		_ = yaml.Unmarshal(b, &cs) // the case tests check the files
		for _, c := range cs.Cases {
			if d, err := ParseJSON(c.Request.Body); err == nil && isContainer(d) {
				docs = append(docs, d)
			}
		}
	}
	if len(docs) < 50 {
		t.Fatalf("only %d documents", len(docs))
	}
	native, found := 0, 0
	for _, p := range paths {
		if !p.multi {
			continue
		}
		if p.steps != nil {
			native++
		}
		for _, d := range docs {
			got, want := p.Find(d), refFind(p, d)
			found += len(want)
			if len(got) != len(want) || len(got) > 0 && !reflect.DeepEqual(got, want) {
				t.Errorf("%s:\n got %v\nwant %v", p.src, got, want)
			}
		}
	}
	if native < 20 || found < 100 {
		t.Errorf("%d paths located natively, %d values found: the comparison says little", native, found)
	}
}

func FuzzFind(f *testing.F) {
	for _, p := range findSeedPaths {
		for _, d := range findSeedData {
			f.Add(p, d)
		}
	}
	f.Fuzz(func(t *testing.T, path, doc string) {
		p, err := ParsePath(path)
		if err != nil || !p.multi {
			return // single-valued paths are followed directly, as before
		}
		for _, st := range p.steps {
			if st.op == opChild && st.idx >= 0 {
				// A digits segment may index a list, which ojg's Child
				// never does (TestDigitsSegmentOnList covers it).
				return
			}
		}
		d, err := ParseJSON(doc)
		if err != nil {
			return
		}
		got, want := p.Find(d), refFind(p, d)
		if len(got) != len(want) || len(got) > 0 && !reflect.DeepEqual(got, want) {
			t.Errorf("%s on %s:\n got %v\nwant %v", path, doc, got, want)
		}
	})
}

// A digits segment reads a list's element, as TrackHAR's JavaScript paths
// do, and still names a property of an object.
func TestDigitsSegmentOnList(t *testing.T) {
	data := map[string]any{
		"extinfo": []any{"a", "b"},
		"batch":   []any{map[string]any{"id": "x"}, map[string]any{"id": "y"}},
		"mixed":   []any{[]any{"p", "q"}, map[string]any{"1": "r"}},
		"obj":     map[string]any{"1": "v"},
	}
	tests := []struct {
		path string
		want string // loc=value pairs
	}{
		{"extinfo.1", "extinfo[1]=b"},
		{"batch.1.id", "batch[1].id=y"},
		{"mixed.*.1", "mixed[0][1]=q mixed[1].1=r"},
		{"obj.1", "obj.1=v"},
		{"extinfo.01", ""},
		{"extinfo.5", ""},
		{"extinfo[1]", "extinfo[1]=b"},
	}
	for _, tt := range tests {
		p, err := ParsePath(tt.path)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range p.Find(data) {
			got = append(got, FormatLoc(m.Loc)+"="+fmt.Sprint(m.Value))
		}
		if s := strings.Join(got, " "); s != tt.want {
			t.Errorf("%s: got %q, want %q", tt.path, s, tt.want)
		}
	}
}

// FuzzFormatLoc checks FormatLoc's shortcut for a location of one key
// against the general path (the same key followed by an index).
func FuzzFormatLoc(f *testing.F) {
	for _, s := range []string{"uid", "", "a.b", "x y", "it's", `\`, "[0]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := FormatLoc([]any{s})
		want, ok := strings.CutSuffix(FormatLoc([]any{s, 7}), "[7]")
		if !ok || got != want {
			t.Errorf("%q: %q, general path %q", s, got, want)
		}
	})
}
