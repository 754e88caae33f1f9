package adapters

import (
	"flag"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"testing"
)

var update = flag.Bool("update", false, "rewrite gendb.bin from the adapter files")

// TestPrecompiledDB fails when gendb.bin is not what the adapter files
// and the current types give (run "go generate ./adapters"), and checks
// that it loads into the same database as the YAML files.
func TestPrecompiledDB(t *testing.T) {
	names, texts, err := readYAMLFiles(embedded, "data")
	if err != nil {
		t.Fatal(err)
	}
	files, err := parseFiles(embedded, "data")
	if err != nil {
		t.Fatal(err)
	}
	want, err := encodeFiles(files, sourceDigest(names, texts))
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("gendb.bin", want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if precompiled != string(want) {
		t.Fatal("gendb.bin is stale: run go generate ./adapters")
	}
	got, err := loadPrecompiled()
	if err != nil {
		t.Fatal(err)
	}
	ref, err := Load(embedded, "data")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Adapters) != len(ref.Adapters) || len(got.Trackers) != len(ref.Trackers) {
		t.Fatalf("%d trackers, %d adapters; want %d, %d", len(got.Trackers), len(got.Adapters), len(ref.Trackers), len(ref.Adapters))
	}
	for i, tr := range ref.Trackers {
		if d := diffFields(reflect.ValueOf(got.Trackers[i]), reflect.ValueOf(tr), map[[2]uintptr]bool{}); d != "" {
			t.Errorf("tracker %s differs from the one the YAML gives at %s", tr.Slug, d)
		}
	}
	if !reflect.DeepEqual(got.exact, sameKeys(got.exact, ref.exact)) || len(got.regexes) != len(ref.regexes) {
		t.Error("endpoint index differs")
	}
}

// sameKeys maps ref's adapters to got's through their IDs, for comparing
// the two indexes.
func sameKeys(got, ref map[string][]*Adapter) map[string][]*Adapter {
	byID := map[string]*Adapter{}
	for _, l := range got {
		for _, a := range l {
			byID[a.ID()] = a
		}
	}
	out := map[string][]*Adapter{}
	for k, l := range ref {
		for _, a := range l {
			out[k] = append(out[k], byID[a.ID()])
		}
	}
	return out
}

// diffFields is reflect.DeepEqual that compares compiled regular
// expressions by their source and follows the cycle between trackers and
// adapters once; it returns where a and b first differ, "" if nowhere.
func diffFields(a, b reflect.Value, seen map[[2]uintptr]bool) string {
	if a.Type() != b.Type() {
		return "(type)"
	}
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			return diffIf(a.IsNil() != b.IsNil())
		}
		if a.Type() == reflect.TypeFor[*regexp.Regexp]() {
			// Unexported fields cannot give their interface; the
			// source text says enough.
			return diffIf(a.Elem().FieldByName("expr").String() != b.Elem().FieldByName("expr").String())
		}
		k := [2]uintptr{a.Pointer(), b.Pointer()}
		if seen[k] {
			return ""
		}
		seen[k] = true
		return diffFields(a.Elem(), b.Elem(), seen)
	case reflect.Slice:
		if a.IsNil() != b.IsNil() || a.Len() != b.Len() {
			return "(length or nil)"
		}
		for i := 0; i < a.Len(); i++ {
			if d := diffFields(a.Index(i), b.Index(i), seen); d != "" {
				return fmt.Sprintf("[%d]%s", i, d)
			}
		}
		return ""
	case reflect.Map:
		if a.IsNil() != b.IsNil() || a.Len() != b.Len() {
			return "(length or nil)"
		}
		for _, k := range a.MapKeys() {
			bv := b.MapIndex(k)
			if !bv.IsValid() {
				return fmt.Sprintf("[%v](missing)", k)
			}
			if d := diffFields(a.MapIndex(k), bv, seen); d != "" {
				return fmt.Sprintf("[%v]%s", k, d)
			}
		}
		return ""
	case reflect.Struct:
		for i := 0; i < a.NumField(); i++ {
			if d := diffFields(a.Field(i), b.Field(i), seen); d != "" {
				return "." + a.Type().Field(i).Name + d
			}
		}
		return ""
	case reflect.String:
		return diffIf(a.String() != b.String())
	case reflect.Bool:
		return diffIf(a.Bool() != b.Bool())
	case reflect.Interface:
		if a.IsNil() || b.IsNil() {
			return diffIf(a.IsNil() != b.IsNil())
		}
		return diffFields(a.Elem(), b.Elem(), seen)
	case reflect.Func:
		return diffIf(!a.IsNil() || !b.IsNil())
	}
	switch {
	case a.CanInt():
		return diffIf(a.Int() != b.Int())
	case a.CanUint():
		return diffIf(a.Uint() != b.Uint())
	case a.CanFloat():
		return diffIf(a.Float() != b.Float())
	}
	return "(unexpected kind " + a.Kind().String() + ")"
}

func diffIf(differ bool) string {
	if differ {
		return " (value)"
	}
	return ""
}
