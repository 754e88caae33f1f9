package adapters

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/tracewire/tracewire/adapters/decode"
	"github.com/tracewire/tracewire/adapters/internal/jsonpath"
	"github.com/tracewire/tracewire/internal/ahocorasick"
	"go.yaml.in/yaml/v3"
)

//go:embed data/*.yaml data/common/*.yaml
var embedded embed.FS

// DB is a loaded, checked adapter database. It is read-only after loading
// and safe for concurrent use.
type DB struct {
	// Trackers in slug order.
	Trackers []*Tracker
	// Adapters in matching order: files by name, adapters in file order.
	Adapters []*Adapter

	order   map[*Adapter]int
	exact   map[string][]*Adapter
	regexes []*regexEndpoint
	// lits finds the literals of the endpoint regexes in a URL; each
	// regex is tried only when all of its own are there.
	lits     *ahocorasick.Automaton
	nlits    int
	trackers map[string]*Tracker
	byID     map[string]*Adapter
}

type regexEndpoint struct {
	adapter *Adapter
	e       *Endpoint
	lits    []int32 // indexes in DB.lits of the literals it requires
}

// Default returns the embedded database, loaded once: from its
// precompiled form when that is up to date (see gendb.go), else from the
// YAML files.
var Default = sync.OnceValues(func() (*DB, error) {
	if db, err := loadPrecompiled(); err == nil {
		return db, nil
	}
	return Load(embedded, "data")
})

// LoadDir loads the *.yaml files of a directory, for users' own adapters.
func LoadDir(dir string) (*DB, error) {
	// Said with the folder's name: within it, errors name the files as
	// "." and "x.yaml".
	if st, err := os.Stat(dir); err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("adapter folder %s: %w", dir, err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("adapter folder %s: not a folder", dir)
	}
	db, err := Load(os.DirFS(dir), ".")
	if err == nil && len(db.Adapters) == 0 {
		// A wrong folder must not pass for a database that finds nothing.
		return nil, fmt.Errorf("adapter folder %s holds no adapters (*.yaml files as adapters/FORMAT.md describes)", dir)
	}
	return db, err
}

// Load reads and checks every *.yaml and *.yml file of dir in fsys.
func Load(fsys fs.FS, dir string) (*DB, error) {
	files, err := parseFiles(fsys, dir)
	if err != nil {
		return nil, err
	}
	return NewDB(files...)
}

// parseFiles parses and checks the *.yaml and *.yml files of dir in fsys,
// in name order.
func parseFiles(fsys fs.FS, dir string) ([]*File, error) {
	names, texts, err := readYAMLFiles(fsys, dir)
	if err != nil {
		return nil, err
	}
	// Parsing (YAML mostly) is most of a command's start-up: the files are
	// parsed on all CPUs; the first error in file order is reported, as
	// when parsing them one by one.
	blocks, names, texts, err := parseBlockFiles(names, texts)
	if err != nil {
		return nil, err
	}
	files := make([]*File, len(names))
	errs := make([]error, len(names))
	next := make(chan int, len(names))
	for i := range names {
		next <- i
	}
	close(next)
	var wg sync.WaitGroup
	for w := 0; w < min(runtime.GOMAXPROCS(0), len(names)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				files[i], errs[i] = parseFile(names[i], texts[i], blocks)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return files, nil
}

// ParseFile parses and checks one adapter file on its own: an include
// in it is an error, as no shared blocks are known (Load reads them from
// the common/ directory).
func ParseFile(name string, b []byte) (*File, error) {
	return parseFile(name, b, nil)
}

func parseFile(name string, b []byte, blocks map[string]*Block) (*File, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var f File
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("adapters: %s: %w", name, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, fmt.Errorf("adapters: %s: more than one YAML document", name)
	}
	f.Tracker.File = name
	for _, a := range f.Adapters {
		if a == nil {
			continue // compile reports it
		}
		if err := a.include(blocks); err != nil {
			return nil, fmt.Errorf("adapters: %s: adapter %s: %w", name, a.Slug, err)
		}
	}
	if err := f.compile(newCompiler()); err != nil {
		return nil, fmt.Errorf("adapters: %s: %w", name, err)
	}
	return &f, nil
}

var slugRe = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// compiler compiles the regular expressions and paths of adapter files,
// each distinct one once: the same few (a hash's regex, "^\\[") recur
// hundreds of times, and compiled ones are read-only, so they are shared.
type compiler struct {
	res   map[string]*regexp.Regexp
	paths map[string]*jsonpath.Path
}

func newCompiler() *compiler {
	return &compiler{res: map[string]*regexp.Regexp{}, paths: map[string]*jsonpath.Path{}}
}

func (c *compiler) regexp(expr string) (*regexp.Regexp, error) {
	if re, ok := c.res[expr]; ok {
		return re, nil
	}
	re, err := regexp.Compile(expr)
	if err == nil {
		c.res[expr] = re
	}
	return re, err
}

func (c *compiler) path(s string) (*jsonpath.Path, error) {
	if p, ok := c.paths[s]; ok {
		return p, nil
	}
	p, err := jsonpath.Parse(s)
	if err == nil {
		c.paths[s] = p
	}
	return p, err
}

func (f *File) compile(cc *compiler) error {
	t := &f.Tracker
	if !slugRe.MatchString(t.Slug) {
		return fmt.Errorf("tracker slug %q: want lowercase letters, digits and single hyphens", t.Slug)
	}
	if strings.TrimSpace(t.Name) == "" {
		return fmt.Errorf("tracker %s: no name", t.Slug)
	}
	if want := t.Slug + ".yaml"; t.File != "" && t.File != want && t.File != t.Slug+".yml" {
		return fmt.Errorf("tracker %s must be in %s", t.Slug, want)
	}
	if len(f.Adapters) == 0 {
		return fmt.Errorf("tracker %s: no adapters", t.Slug)
	}
	seen := map[string]bool{}
	for _, a := range f.Adapters {
		if a == nil {
			return fmt.Errorf("tracker %s: empty adapter", t.Slug)
		}
		a.Tracker = t
		a.id = t.Slug + "/" + a.Slug
		if !slugRe.MatchString(a.Slug) {
			return fmt.Errorf("adapter slug %q: want lowercase letters, digits and single hyphens", a.Slug)
		}
		if seen[a.Slug] {
			return fmt.Errorf("adapter %s given twice", a.Slug)
		}
		seen[a.Slug] = true
		if err := a.compile(cc); err != nil {
			return fmt.Errorf("adapter %s: %w", a.Slug, err)
		}
		t.Adapters = append(t.Adapters, a)
	}
	return nil
}

// Contexts are the places of a request a data path can point into.
var Contexts = []string{"header", "cookie", "path", "query", "body"}

func (a *Adapter) compile(cc *compiler) error {
	if strings.TrimSpace(a.Name) == "" {
		return errors.New("no name")
	}
	for lang := range a.Description {
		if lang != "en" && lang != "de" {
			return fmt.Errorf("description: unknown language %q (en, de)", lang)
		}
	}
	if len(a.EndpointURLs) == 0 {
		return errors.New("no endpointUrls")
	}
	for i := range a.EndpointURLs {
		e := &a.EndpointURLs[i]
		if e.Regex == "" {
			if !strings.HasPrefix(e.URL, "https://") && !strings.HasPrefix(e.URL, "http://") {
				return fmt.Errorf("endpoint %q: want an http(s) URL or {regex: ...}", e.URL)
			}
			if strings.ContainsAny(e.URL, "?#") {
				return fmt.Errorf("endpoint %q: no query or fragment (use match: hasQuery/queryHas)", e.URL)
			}
			continue
		}
		re, err := cc.regexp(e.Regex)
		if err != nil {
			return fmt.Errorf("endpoint regex: %w", err)
		}
		e.re = re
		e.lit = requiredLiteral(e.Regex)
	}
	if a.Match != nil {
		if err := a.Match.compile(cc); err != nil {
			return fmt.Errorf("match: %w", err)
		}
	}
	for i := range a.DecodingSteps {
		if err := a.DecodingSteps[i].compile(cc); err != nil {
			return fmt.Errorf("decodingSteps[%d]: %w", i, err)
		}
	}
	if len(a.ContainedDataPaths) == 0 {
		return errors.New("no containedDataPaths")
	}
	for _, pp := range a.ContainedDataPaths {
		if !IsProperty(pp.Property) {
			return fmt.Errorf("containedDataPaths: unknown property %q (the known ones are the keys of the properties section of i18n/en.yaml)", pp.Property)
		}
		for _, dp := range pp.Paths {
			if err := dp.compileWith(cc); err != nil {
				return fmt.Errorf("containedDataPaths.%s: %w", pp.Property, err)
			}
		}
	}
	return nil
}

func (c *Condition) compile(cc *compiler) error {
	if c.BodyMatches != "" {
		re, err := cc.regexp(c.BodyMatches)
		if err != nil {
			return fmt.Errorf("bodyMatches: %w", err)
		}
		c.bodyRe = re
	}
	if c.Not != nil {
		if err := c.Not.compile(cc); err != nil {
			return err
		}
	}
	for i := range c.AnyOf {
		if err := c.AnyOf[i].compile(cc); err != nil {
			return err
		}
	}
	for i := range c.AllOf {
		if err := c.AllOf[i].compile(cc); err != nil {
			return err
		}
	}
	return nil
}

func (s *Step) compile(cc *compiler) error {
	spec, ok := functions[s.Function]
	if !ok {
		return fmt.Errorf("unknown function %q", s.Function)
	}
	if (s.Input == "") == (s.MapInput == "") {
		return errors.New("give exactly one of input and mapInput")
	}
	var err error
	if s.Input != "" {
		if s.input, err = cc.path(s.Input); err != nil {
			return fmt.Errorf("input: %w", err)
		}
	} else if s.mapInput, err = cc.path(s.MapInput); err != nil {
		return fmt.Errorf("mapInput: %w", err)
	}
	if s.Output == "" {
		return errors.New("no output")
	}
	s.output = strings.Split(s.Output, ".")
	for _, p := range s.output {
		if p == "" {
			return fmt.Errorf("output %q: empty segment", s.Output)
		}
	}
	if s.output[0] == "header" || s.output[0] == "cookie" || s.output[0] == "path" || s.output[0] == "query" || s.output[0] == "body" {
		return fmt.Errorf("output %q: the request's own %s is read-only; write to res.%s or a scratch name", s.Output, s.output[0], s.output[0])
	}
	o := &s.Options
	given := map[string]bool{
		"path": o.Path != "", "separator": o.Separator != "", "part": o.Part != "",
		"schema": o.Schema != nil, "boundary": o.Boundary != "",
	}
	for name, set := range given {
		if set && !slices.Contains(spec.options, name) {
			return fmt.Errorf("%s: unknown option %q", s.Function, name)
		}
	}
	for _, name := range spec.required {
		if !given[name] {
			return fmt.Errorf("%s: option %q is required", s.Function, name)
		}
	}
	if o.Path != "" {
		if o.path, err = cc.path(o.Path); err != nil {
			return fmt.Errorf("options.path: %w", err)
		}
	}
	switch o.Part {
	case "", "payload", "header", "both":
	default:
		return fmt.Errorf("decodeJwt: part %q: want payload, header or both", o.Part)
	}
	if o.Schema != nil {
		if err := o.Schema.Check(); err != nil {
			return fmt.Errorf("decodeProtobuf schema: %w", err)
		}
	}
	return nil
}

func (d *DataPath) compileWith(cc *compiler) error {
	found := false
	for _, c := range Contexts {
		found = found || c == d.Context
	}
	if !found {
		return fmt.Errorf("context %q: want one of %s", d.Context, strings.Join(Contexts, ", "))
	}
	var err error
	if d.path, err = cc.path(d.Path); err != nil {
		return err
	}
	if strings.TrimSpace(d.Reasoning) == "" {
		return fmt.Errorf("path %q: no reasoning", d.Path)
	}
	if d.KeyMatches != "" {
		if d.keyRe, err = cc.regexp(d.KeyMatches); err != nil {
			return fmt.Errorf("keyMatches: %w", err)
		}
	}
	for _, ts := range []ValueTests{d.NotIf, d.OnlyIf} {
		for i := range ts {
			if ts[i].Regex != "" {
				if ts[i].re, err = cc.regexp(ts[i].Regex); err != nil {
					return fmt.Errorf("path %q: %w", d.Path, err)
				}
			}
		}
	}
	return nil
}

// NewDB checks files together (unique tracker slugs) and indexes them.
func NewDB(files ...*File) (*DB, error) {
	sort.Slice(files, func(i, j int) bool { return files[i].Tracker.Slug < files[j].Tracker.Slug })
	db := &DB{
		order:    map[*Adapter]int{},
		exact:    map[string][]*Adapter{},
		trackers: map[string]*Tracker{},
		byID:     map[string]*Adapter{},
	}
	for _, f := range files {
		t := &f.Tracker
		if db.trackers[t.Slug] != nil {
			return nil, fmt.Errorf("adapters: tracker %s defined twice", t.Slug)
		}
		db.trackers[t.Slug] = t
		db.Trackers = append(db.Trackers, t)
		for _, a := range t.Adapters {
			db.order[a] = len(db.Adapters)
			db.Adapters = append(db.Adapters, a)
			db.byID[a.ID()] = a
			for i := range a.EndpointURLs {
				e := &a.EndpointURLs[i]
				if e.re != nil {
					db.regexes = append(db.regexes, &regexEndpoint{adapter: a, e: e})
					continue
				}
				k := strings.TrimSuffix(e.URL, "/")
				if l := db.exact[k]; len(l) == 0 || l[len(l)-1] != a {
					db.exact[k] = append(l, a)
				}
			}
		}
	}
	db.indexLiterals()
	return db, nil
}

// indexLiterals builds DB.lits.
func (db *DB) indexLiterals() {
	ids := map[string]int32{}
	var lits [][]byte
	for _, r := range db.regexes {
		for _, l := range requiredLiterals(r.e.Regex) {
			id, ok := ids[l]
			if !ok {
				id = int32(len(lits))
				ids[l] = id
				lits = append(lits, []byte(l))
			}
			r.lits = append(r.lits, id)
		}
	}
	db.lits, db.nlits = ahocorasick.New(lits), len(lits)
}

// Tracker returns the tracker with this slug, or nil.
func (db *DB) Tracker(slug string) *Tracker { return db.trackers[slug] }

// Adapter returns the adapter with this ID ("tracker/adapter"), or nil.
func (db *DB) Adapter(id string) *Adapter { return db.byID[id] }

// Candidates returns the adapters whose endpoint URLs match endpointURL
// (scheme://host/path; a trailing slash is ignored), in matching order.
// When none matches, the same URL with the other scheme (http/https) is
// tried: adapters list the scheme an SDK normally uses, but the same request
// sent in cleartext carries the same data to the same company.
func (db *DB) Candidates(endpointURL string) []*Adapter {
	out := db.candidates(endpointURL)
	if len(out) == 0 {
		if rest, ok := strings.CutPrefix(endpointURL, "http://"); ok {
			out = db.candidates("https://" + rest)
		} else if rest, ok := strings.CutPrefix(endpointURL, "https://"); ok {
			out = db.candidates("http://" + rest)
		}
	}
	return out
}

func (db *DB) candidates(endpointURL string) []*Adapter {
	trimmed := strings.TrimSuffix(endpointURL, "/")
	var out []*Adapter
	out = append(out, db.exact[trimmed]...)
	var buf [128]bool
	found := buf[:]
	if db.nlits > len(buf) {
		found = make([]bool, db.nlits)
	}
	db.lits.Mark(endpointURL, found)
regexes:
	for _, r := range db.regexes {
		for _, l := range r.lits {
			if !found[l] {
				continue regexes
			}
		}
		if r.e.re.MatchString(endpointURL) || (trimmed != endpointURL && r.e.re.MatchString(trimmed)) {
			if len(out) == 0 || out[len(out)-1] != r.adapter {
				out = append(out, r.adapter)
			}
		}
	}
	if len(out) > 1 {
		slices.SortStableFunc(out, func(a, b *Adapter) int { return db.order[a] - db.order[b] })
		out = slices.Compact(out)
	}
	return out
}

// Select returns the first adapter, in matching order, whose endpoint and
// match condition accept r, or nil.
func (db *DB) Select(r *Request) *Adapter {
	for _, a := range db.Candidates(r.EndpointURL) {
		if a.Match == nil || a.Match.Test(r) {
			return a
		}
	}
	return nil
}

// Match is a value a data path selected, with its location: keys (string)
// and indexes (int).
type Match = jsonpath.Match

// FormatLoc renders a location as "batch[2].advertiser_id".
func FormatLoc(loc []any) string { return jsonpath.FormatLoc(loc) }

// Find returns the values this data path selects in a decoded context,
// after its keyMatches, onlyIf and notIf tests, without values that mean
// nothing (IsEmpty).
func (d *DataPath) Find(data any) []Match {
	ms := d.path.Find(data)
	out := ms[:0]
	for _, m := range ms {
		if d.keyRe != nil {
			k, ok := lastKey(m.Loc)
			if !ok || !d.keyRe.MatchString(k) {
				continue
			}
		}
		if decode.IsEmpty(m.Value) {
			continue
		}
		if len(d.OnlyIf) > 0 || len(d.NotIf) > 0 {
			s := decode.Stringify(m.Value)
			if len(d.OnlyIf) > 0 && !d.OnlyIf.Test(s) {
				continue
			}
			if d.NotIf.Test(s) {
				continue
			}
		}
		out = append(out, m)
	}
	return out
}

func lastKey(loc []any) (string, bool) {
	if len(loc) == 0 {
		return "", false
	}
	k, ok := loc[len(loc)-1].(string)
	return k, ok
}
