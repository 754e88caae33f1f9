package jsonpath

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/tracewire/tracewire/adapters/decode"
)

var findSeedPaths = []string{
	"$.*", "$..*", "a.*.b", "*.*", "$..b", "a..b", "a..*", "$..[0]", "a[-1]", "a[*].b",
	"x..y..z", "$..a.b", "a[1:]", "a[0,1]", "a[?(@.b == 1)].c", "$..events[?(@.identifier == 'view')].category", "1.1",
}

var findSeedData = []string{
	`{"a":[{"b":1,"c":"x"},{"b":2,"c":{"b":3}},5,"s",null],"b":{"a":{"b":[true,{"b":"deep"}]}},"x":{"y":{"z":1,"y":{"z":2}}}}`,
	`{"ae":{"v":{"events":[{"identifier":"view","category":"news"},{"identifier":"app"}]}},"events":[]}`,
	`[1,[2,[3,{"a":[4]}]],{"b":{}}]`,
	`"scalar"`,
	`{"a":{"b":"c"},"1":{"2":3}}`,
}

// FuzzFind checks that Find never panics, returns its matches in order,
// and that each match's location leads to its value.
func FuzzFind(f *testing.F) {
	for _, p := range findSeedPaths {
		for _, d := range findSeedData {
			f.Add(p, d)
		}
	}
	f.Fuzz(func(t *testing.T, path, doc string) {
		p, err := Parse(path)
		if err != nil {
			return
		}
		d, err := decode.ParseJSON(doc)
		if err != nil {
			return
		}
		ms := p.Find(d)
		for i, m := range ms {
			if i > 0 && cmpLoc(ms[i-1].Loc, m.Loc) > 0 {
				t.Fatalf("%s on %s: matches out of order: %v", path, doc, ms)
			}
			v := d
			for _, k := range m.Loc {
				switch k := k.(type) {
				case string:
					v = v.(map[string]any)[k]
				case int:
					v = v.([]any)[k]
				}
			}
			if !reflect.DeepEqual(v, m.Value) {
				t.Fatalf("%s on %s: %v at %v, location leads to %v", path, doc, m.Value, m.Loc, v)
			}
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
		p, err := Parse(tt.path)
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

func TestPathFind(t *testing.T) {
	data, _ := decode.ParseJSON(`{"batch":[{"advertiser_id":"a0"},{"x":1},{"advertiser_id":"a2"}],"user-agent":"UA","1":{"14":"app"},
		"evs":[{"identifier":"view","state":"appeared","category":"news"},{"identifier":"app","state":"x"}],
		"f":["device-brand/Google","other"]}`)
	tests := []struct {
		path string
		want []string // FormatLoc=value
	}{
		{"batch.*.advertiser_id", []string{"batch[0].advertiser_id=a0", "batch[2].advertiser_id=a2"}},
		{"$.batch[2].advertiser_id", []string{"batch[2].advertiser_id=a2"}},
		{"user-agent", []string{"user-agent=UA"}},
		{"1.14", []string{"1.14=app"}},
		{"$..advertiser_id", []string{"batch[0].advertiser_id=a0", "batch[2].advertiser_id=a2"}},
		{"evs[?(@.identifier == 'view' && @.state == 'appeared')].category", []string{"evs[0].category=news"}},
		{"f[?(@ =~ /^device-brand\\//)]", []string{"f[0]=device-brand/Google"}},
		{"nothing.here", nil},
	}
	for _, tt := range tests {
		p, err := Parse(tt.path)
		if err != nil {
			t.Errorf("%s: %v", tt.path, err)
			continue
		}
		var got []string
		for _, m := range p.Find(data) {
			got = append(got, FormatLoc(m.Loc)+"="+decode.Stringify(m.Value))
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %q, want %q", tt.path, got, tt.want)
		}
	}
	for _, bad := range []string{"", "a..", "a[", "a[?(@.x == )]", "a.b]", "a...b"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) did not fail", bad)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"a.b[0].*", "$..x[?(@.y == 'z')]", "a[?(@ =~ /^x\\//)]", "user-agent", "$['a.b']"} {
		f.Add(s)
	}
	data, _ := decode.ParseJSON(`{"a":{"b":[{"x":1,"y":"z"}]},"user-agent":"u"}`)
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse(s)
		if err != nil {
			return
		}
		for _, m := range p.Find(data) {
			_ = FormatLoc(m.Loc)
		}
		_ = p.Get(data)
	})
}

// TestBracketEnd: the ']' that closes a bracket is found past quoted
// strings, regular expressions (after =~ or ~=) and nested brackets, with
// their escapes; what is left open is an error naming where.
func TestBracketEnd(t *testing.T) {
	for _, tc := range []struct {
		s       string
		want    int
		wantErr string
	}{
		{`[0]`, 2, ""},
		{`a[0].b`, 3, ""}, // from i = 1
		{`['a]b']`, 6, ""},
		{`["a\"]"]`, 7, ""},
		{`['a\']']`, 7, ""},
		{`[?(@.x =~ /a]b/)]`, 16, ""},
		{`[?(@.x ~= /a\/]/)]`, 17, ""},
		{`[?(@.x / 2 == 1)]`, 16, ""}, // a '/' not after =~ is division
		{`[[0]]`, 4, ""},
		{`['ab`, 0, "unterminated string at 1"},
		{`["a\"]`, 0, "unterminated string at 1"},
		{`[?(@.x =~ /a]`, 0, "unterminated regular expression at 10"},
		{`[?(@.x =~ /a\/`, 0, "unterminated regular expression at 10"},
		{`[(0]`, 0, "unterminated '[' at 0"},
		{`[0)`, 0, "unbalanced ')' at 2"},
		{`[0`, 0, "unterminated '[' at 0"},
	} {
		i := strings.IndexByte(tc.s, '[')
		got, err := bracketEnd(tc.s, i)
		if tc.wantErr != "" {
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("bracketEnd(%q) = %d, %v, want error %q", tc.s, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("bracketEnd(%q) = %d, %v, want %d", tc.s, got, err, tc.want)
		}
	}
}
