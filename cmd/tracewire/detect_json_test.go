package main

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/tracewire/tracewire/adapters"
	"github.com/tracewire/tracewire/match"
)

// jsonShapes lists the JSON fields of the types the appendJSON functions
// write; a change to those types fails TestFindingJSON until the functions
// (and this list) follow.
var jsonShapes = map[reflect.Type]string{
	reflect.TypeOf(match.Finding{}):        "entry,tracker omitempty,adapter omitempty,source,property,value,valueEncoding omitempty,context,path,templatePath omitempty,reasoning,decoding omitempty,indicator omitempty",
	reflect.TypeOf(match.EntryRef{}):       "index,timestamp omitempty,startedDateTime omitempty,method,url",
	reflect.TypeOf(match.TrackerRef{}):     "slug,name",
	reflect.TypeOf(match.IndicatorMatch{}): "value,encoding,of omitempty,field omitempty,offset",
	reflect.TypeOf(adapters.StepRecord{}):  "index,function,input,output,options omitempty,status,error omitempty",
	reflect.TypeOf(valuesLine{}):           "entry,adapter omitempty,values",
}

func shapeOf(t reflect.Type) string {
	var fs []string
	for i := 0; i < t.NumField(); i++ {
		tag := t.Field(i).Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if opts != "" {
			name += " " + opts
		}
		fs = append(fs, name)
	}
	return strings.Join(fs, ",")
}

// tricky are strings json.Marshal escapes in every way it has.
var tricky = []string{
	"", "plain", `quote " backslash \ slash /`, "<script>&amp;</script>", "ctl \x00\x01\b\f\n\r\t\x1f\x7f",
	"é ü 中文 😀", "bad \xff\xfe utf8 \xc3", "sep \u2028 \u2029", "\ufffd",
}

func findingsFor(s string, ts float64) []match.Finding {
	step := adapters.StepRecord{Index: 1, Function: s, Input: s, Output: s, Options: s, Status: s, Error: s}
	ref := match.EntryRef{Index: 7, Timestamp: ts, StartedDateTime: s, Method: s, URL: s}
	return []match.Finding{
		{Entry: ref},
		{Entry: ref, Tracker: &match.TrackerRef{Slug: s, Name: s}, Adapter: s, Source: s, Property: s, Value: s,
			ValueEncoding: s, Context: s, Path: s, TemplatePath: s, Reasoning: s, Decoding: []adapters.StepRecord{step, {}},
			Indicator: &match.IndicatorMatch{Value: s, Encoding: s, Of: s, Field: s, Offset: -3}},
		{Entry: ref, Decoding: []adapters.StepRecord{}, Indicator: &match.IndicatorMatch{}},
	}
}

func checkFindingJSON(t *testing.T, f *match.Finding) {
	t.Helper()
	want, err := json.Marshal(f)
	got, ok := appendFindingJSON(nil, f)
	if (err == nil) != ok {
		t.Fatalf("%+v: json.Marshal error %v, appendFindingJSON ok %v", f, err, ok)
	}
	if ok && !bytes.Equal(got, want) {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	v := valuesLine{Entry: f.Entry, Adapter: f.Adapter, Values: map[string][]string{f.Value: {f.Path, f.Value}, "z": nil, "a": {}}}
	want, err = json.Marshal(v)
	got, ok = appendValuesJSON(nil, &v)
	if (err == nil) != ok || ok && !bytes.Equal(got, want) {
		t.Errorf("values: got %s (%v)\nwant %s (%v)", got, ok, want, err)
	}
}

// TestFindingJSON checks that findings are written byte for byte as
// json.Marshal writes them.
func TestFindingJSON(t *testing.T) {
	for typ, want := range jsonShapes {
		if got := shapeOf(typ); got != want {
			t.Errorf("%v has the JSON fields\n%s\nthe encoder in detect.go knows\n%s", typ, got, want)
		}
	}
	for _, s := range tricky {
		for _, ts := range []float64{0, 1704164645.678, -1.5, 1e21, 1e20, 1e-6, 1e-7, 123456789e-15, math.NaN(), math.Inf(-1)} {
			for _, f := range findingsFor(s, ts) {
				checkFindingJSON(t, &f)
			}
		}
	}
	v := valuesLine{Entry: match.EntryRef{URL: "u"}}
	if got, _ := appendValuesJSON(nil, &v); string(got) != `{"entry":{"index":0,"method":"","url":"u"},"values":null}` {
		t.Errorf("nil values: %s", got)
	}
}

func FuzzFindingJSON(f *testing.F) {
	for _, s := range tricky {
		f.Add(s, 1.5)
	}
	f.Fuzz(func(t *testing.T, s string, ts float64) {
		for _, fd := range findingsFor(s, ts) {
			checkFindingJSON(t, &fd)
		}
	})
}
