package adapters

import (
	"crypto/sha256"
	_ "embed" // gendb.bin
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path"
	"reflect"
	"sort"
	"strings"
)

// The embedded database is also stored precompiled, in gendb.bin: the
// parsed adapter files in a compact binary form, which loads in a
// fraction of the time YAML takes (YAML was most of a command's start-up):
// 55 ms against 387 ms for the database of 2026-12-05 (go test -bench of
// loadPrecompiled and Load(embedded, "data"), 10 runs each, machine at
// load 30), that is 0.33 s off every command, where detect of the 50,337
// entries of BENCHMARKS.md's tiled HAR takes 0.18 s. encoding/gob cannot
// replace the codec: the parsed files hold back pointers (Adapter.Tracker).
// The file starts with a digest of the YAML files it was made from and of
// the Go types it encodes; Default uses it only when both match what this
// binary embeds and declares, and parses the YAML otherwise, so a stale
// gendb.bin costs time, never correctness. TestPrecompiledDB fails when it
// is stale; regenerate it with:
//
//go:generate go test -run TestPrecompiledDB -update .

//go:embed gendb.bin
var precompiled string

// precompiledMagic starts gendb.bin; change it with the encoding.
const precompiledMagic = "tracewire adapters db 1\n"

// loadPrecompiled returns the embedded database from gendb.bin, or
// errStale when gendb.bin was not made from the embedded YAML files with
// the current types.
func loadPrecompiled() (*DB, error) {
	names, texts, err := readYAMLFiles(embedded, "data")
	if err != nil {
		return nil, err
	}
	files, err := decodeFiles(precompiled, sourceDigest(names, texts))
	if err != nil {
		return nil, err
	}
	cc := newCompiler()
	for _, f := range files {
		if err := f.compile(cc); err != nil {
			return nil, fmt.Errorf("adapters: %s: %w", f.Tracker.File, err)
		}
	}
	return NewDB(files...)
}

var errStale = errors.New("adapters: gendb.bin is stale (go generate ./adapters)")

// readYAMLFiles returns the names and contents of the *.yaml and *.yml
// files of dir, in name order.
func readYAMLFiles(fsys fs.FS, dir string) ([]string, [][]byte, error) {
	ents, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, nil, fmt.Errorf("adapters: %w", err)
	}
	var names []string
	var texts [][]byte
	for _, e := range ents {
		n := e.Name()
		if e.IsDir() || !(strings.HasSuffix(n, ".yaml") || strings.HasSuffix(n, ".yml")) {
			continue
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, n))
		if err != nil {
			return nil, nil, fmt.Errorf("adapters: %w", err)
		}
		names, texts = append(names, n), append(texts, b)
	}
	if dir != commonDir && !strings.HasSuffix(dir, "/"+commonDir) {
		// The shared blocks (blocks.go), named common/<file>.
		cn, ct, err := readYAMLFiles(fsys, path.Join(dir, commonDir))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, nil, err
		}
		for i := range cn {
			names, texts = append(names, commonDir+"/"+cn[i]), append(texts, ct[i])
		}
	}
	return names, texts, nil
}

// sourceDigest identifies what gendb.bin encodes: the adapter files and
// the layout of the types they decode into.
func sourceDigest(names []string, texts [][]byte) []byte {
	h := sha256.New()
	h.Write([]byte(precompiledMagic))
	h.Write([]byte(typeSignature(reflect.TypeFor[File](), map[reflect.Type]bool{})))
	var n [8]byte
	for i, name := range names {
		binary.LittleEndian.PutUint64(n[:], uint64(len(name)))
		h.Write(n[:])
		h.Write([]byte(name))
		binary.LittleEndian.PutUint64(n[:], uint64(len(texts[i])))
		h.Write(n[:])
		h.Write(texts[i])
	}
	return h.Sum(nil)
}

// typeSignature describes the encoded fields of t, so that a change to the
// types makes an older gendb.bin stale.
func typeSignature(t reflect.Type, seen map[reflect.Type]bool) string {
	switch t.Kind() {
	case reflect.Pointer:
		return "*" + typeSignature(t.Elem(), seen)
	case reflect.Slice:
		return "[]" + typeSignature(t.Elem(), seen)
	case reflect.Map:
		return "map[" + typeSignature(t.Key(), seen) + "]" + typeSignature(t.Elem(), seen)
	case reflect.Struct:
		if seen[t] {
			return t.Name()
		}
		seen[t] = true
		var b strings.Builder
		b.WriteString(t.Name() + "{")
		for _, f := range encodedFields(t) {
			b.WriteString(t.Field(f).Name + " " + typeSignature(t.Field(f).Type, seen) + ";")
		}
		b.WriteString("}")
		return b.String()
	}
	return t.Kind().String()
}

// encodedFields are the indexes of the fields of a struct type that the
// precompiled form keeps: the exported ones that come from the file (the
// loader computes the others, and those tagged yaml:"-").
func encodedFields(t reflect.Type) []int {
	var out []int
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() || f.Tag.Get("yaml") == "-" {
			continue
		}
		out = append(out, i)
	}
	return out
}

// encodeFiles writes the precompiled form of parsed files: the magic, the
// digest, the number of files, and each file's name and value.
func encodeFiles(files []*File, digest []byte) ([]byte, error) {
	e := &encoder{b: append([]byte(precompiledMagic), digest...)}
	e.uint(uint64(len(files)))
	for _, f := range files {
		e.str(f.Tracker.File)
		if err := e.value(reflect.ValueOf(f).Elem()); err != nil {
			return nil, err
		}
	}
	return e.b, nil
}

type encoder struct{ b []byte }

func (e *encoder) uint(u uint64) { e.b = binary.AppendUvarint(e.b, u) }

func (e *encoder) str(s string) {
	e.uint(uint64(len(s)))
	e.b = append(e.b, s...)
}

// value encodes v by kind: nil pointers, slices and maps are told from
// empty ones (a length of n is written as n+1, nil as 0), map keys in
// sorted order so that the output is deterministic.
func (e *encoder) value(v reflect.Value) error {
	switch v.Kind() {
	case reflect.String:
		e.str(v.String())
	case reflect.Bool:
		if v.Bool() {
			e.b = append(e.b, 1)
		} else {
			e.b = append(e.b, 0)
		}
	case reflect.Int, reflect.Int64, reflect.Int32:
		e.b = binary.AppendVarint(e.b, v.Int())
	case reflect.Float64:
		e.b = binary.LittleEndian.AppendUint64(e.b, math.Float64bits(v.Float()))
	case reflect.Pointer:
		if v.IsNil() {
			e.uint(0)
			return nil
		}
		e.uint(1)
		return e.value(v.Elem())
	case reflect.Slice:
		if v.IsNil() {
			e.uint(0)
			return nil
		}
		e.uint(uint64(v.Len()) + 1)
		for i := 0; i < v.Len(); i++ {
			if err := e.value(v.Index(i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		if v.IsNil() {
			e.uint(0)
			return nil
		}
		e.uint(uint64(v.Len()) + 1)
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool {
			a, b := keys[i], keys[j]
			if a.Kind() == reflect.String {
				return a.String() < b.String()
			}
			return a.Int() < b.Int()
		})
		for _, k := range keys {
			if err := e.value(k); err != nil {
				return err
			}
			if err := e.value(v.MapIndex(k)); err != nil {
				return err
			}
		}
	case reflect.Struct:
		for _, i := range encodedFields(v.Type()) {
			if err := e.value(v.Field(i)); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("adapters: precompiled form: cannot encode a %s", v.Type())
	}
	return nil
}

// decodeFiles reads what encodeFiles wrote, when its digest is digest;
// strings point into data.
func decodeFiles(data string, digest []byte) (files []*File, err error) {
	if !strings.HasPrefix(data, precompiledMagic) || !strings.HasPrefix(data[len(precompiledMagic):], string(digest)) {
		return nil, errStale
	}
	d := &decoder{s: data, i: len(precompiledMagic) + len(digest), fields: map[reflect.Type][]int{}}
	defer func() {
		// Only a gendb.bin that does not come from encodeFiles ends up
		// here (the digest matched): say so rather than crash.
		if p := recover(); p != nil {
			files, err = nil, fmt.Errorf("adapters: gendb.bin is corrupt at byte %d: %v", d.i, p)
		}
	}()
	n := d.uint()
	files = make([]*File, 0, min(n, 1<<10))
	for k := uint64(0); k < n; k++ {
		name := d.str()
		f := new(File)
		d.value(reflect.ValueOf(f).Elem())
		f.Tracker.File = name
		files = append(files, f)
	}
	if d.i != len(d.s) {
		return nil, fmt.Errorf("adapters: gendb.bin is corrupt: %d bytes after the last file", len(d.s)-d.i)
	}
	return files, nil
}

type decoder struct {
	s      string
	i      int
	fields map[reflect.Type][]int // encodedFields, per type
}

func (d *decoder) uint() uint64 {
	u, n := binary.Uvarint([]byte(d.s[d.i:min(len(d.s), d.i+binary.MaxVarintLen64)]))
	if n <= 0 {
		panic("bad varint")
	}
	d.i += n
	return u
}

func (d *decoder) str() string {
	n := d.uint()
	if n > uint64(len(d.s)-d.i) {
		panic("string past the end")
	}
	s := d.s[d.i : d.i+int(n)]
	d.i += int(n)
	return s
}

// length reads a length written as n+1, or 0 for nil.
func (d *decoder) length() (int, bool) {
	n := d.uint()
	if n == 0 {
		return 0, false
	}
	if n-1 > uint64(len(d.s)-d.i) {
		panic("length past the end")
	}
	return int(n - 1), true
}

func (d *decoder) value(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(d.str())
	case reflect.Bool:
		v.SetBool(d.s[d.i] == 1)
		d.i++
	case reflect.Int, reflect.Int64, reflect.Int32:
		x, n := binary.Varint([]byte(d.s[d.i:min(len(d.s), d.i+binary.MaxVarintLen64)]))
		if n <= 0 {
			panic("bad varint")
		}
		d.i += n
		v.SetInt(x)
	case reflect.Float64:
		v.SetFloat(math.Float64frombits(binary.LittleEndian.Uint64([]byte(d.s[d.i : d.i+8]))))
		d.i += 8
	case reflect.Pointer:
		if d.uint() == 0 {
			return
		}
		p := reflect.New(v.Type().Elem())
		d.value(p.Elem())
		v.Set(p)
	case reflect.Slice:
		n, ok := d.length()
		if !ok {
			return
		}
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := 0; i < n; i++ {
			d.value(s.Index(i))
		}
		v.Set(s)
	case reflect.Map:
		n, ok := d.length()
		if !ok {
			return
		}
		m := reflect.MakeMapWithSize(v.Type(), n)
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		for i := 0; i < n; i++ {
			k.SetZero()
			e.SetZero()
			d.value(k)
			d.value(e)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Struct:
		fs, ok := d.fields[v.Type()]
		if !ok {
			fs = encodedFields(v.Type())
			d.fields[v.Type()] = fs
		}
		for _, i := range fs {
			d.value(v.Field(i))
		}
	default:
		panic("cannot decode a " + v.Type().String())
	}
}
