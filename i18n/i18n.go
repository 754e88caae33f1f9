package i18n

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

//go:embed en.yaml de.yaml trackers ui.*.yaml adapters
var files embed.FS

// Languages are the supported language codes; the first is the fallback.
var Languages = []string{"en", "de"}

// catalog is one language's strings.
type catalog struct {
	Properties map[string]string `yaml:"properties"`
	Contexts   map[string]string `yaml:"contexts"`
	Encodings  map[string]string `yaml:"encodings"`
	UI         map[string]string `yaml:"ui"`
	// Enrichment translates the names of enrichment sources and their
	// counters (package enrich), keyed by the English name; English has
	// no such section.
	Enrichment map[string]string `yaml:"enrichment"`
	// Diagnostics translates messages of the capture readers (why a TLS
	// connection could not be decrypted, ...): an English pattern whose
	// {} stand for variable parts → the translation with as many {}, which
	// take the same parts in the same order. English has no such section.
	Diagnostics map[string]string `yaml:"diagnostics"`
	diagnostics []diagnostic
	trackers    map[string]string
	// reasoning and names translate the adapter database's English texts
	// (adapters/*.<lang>.yaml; see adapters.go).
	reasoning, names map[string]string
}

var (
	loadOnce sync.Once
	catalogs map[string]*catalog
	loadErr  error
)

func load() {
	catalogs = map[string]*catalog{}
	for _, lang := range Languages {
		b, err := files.ReadFile(lang + ".yaml")
		if err != nil {
			loadErr = err
			return
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		c := &catalog{trackers: map[string]string{}, reasoning: map[string]string{}, names: map[string]string{}}
		if err := dec.Decode(c); err != nil {
			loadErr = fmt.Errorf("i18n: %s.yaml: %w", lang, err)
			return
		}
		catalogs[lang] = c
		if c.diagnostics, err = compileDiagnostics(c.Diagnostics); err != nil {
			loadErr = fmt.Errorf("i18n: %s.yaml: %w", lang, err)
			return
		}
		if err := loadUI(lang, c); err != nil {
			loadErr = err
			return
		}
	}
	ents, err := fs.ReadDir(files, "trackers")
	if err != nil {
		loadErr = err
		return
	}
	for _, e := range ents {
		n := e.Name()
		base, ok := strings.CutSuffix(n, ".md")
		if !ok {
			continue
		}
		i := strings.LastIndexByte(base, '.')
		if i < 0 {
			loadErr = fmt.Errorf("i18n: trackers/%s: want <slug>.<lang>.md", n)
			return
		}
		slug, lang := base[:i], base[i+1:]
		c := catalogs[lang]
		if c == nil {
			loadErr = fmt.Errorf("i18n: trackers/%s: unknown language %q", n, lang)
			return
		}
		b, err := files.ReadFile("trackers/" + n)
		if err != nil {
			loadErr = err
			return
		}
		c.trackers[slug] = strings.TrimSpace(string(b))
	}
	loadErr = loadAdapterTexts()
}

// loadUI merges ui.<lang>.yaml, a flat map of dotted keys to strings (the
// report's and batch's strings, kept apart from the labels), into the ui
// section. A key in both places is an error, so no string silently wins.
func loadUI(lang string, c *catalog) error {
	b, err := files.ReadFile("ui." + lang + ".yaml")
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var m map[string]string
	if err := yaml.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("i18n: ui.%s.yaml: %w", lang, err)
	}
	if c.UI == nil {
		c.UI = map[string]string{}
	}
	for k, v := range m {
		if _, dup := c.UI[k]; dup {
			return fmt.Errorf("i18n: ui.%s.yaml: key %q is also in %s.yaml", lang, k, lang)
		}
		c.UI[k] = v
	}
	return nil
}

func cat(lang string) *catalog {
	loadOnce.Do(load)
	if loadErr != nil {
		return nil
	}
	return catalogs[lang]
}

// Err reports a problem with the embedded files (tests check it is nil).
func Err() error {
	loadOnce.Do(load)
	return loadErr
}

func lookup(lang string, get func(*catalog) map[string]string, key string) (string, bool) {
	for _, l := range []string{lang, Languages[0]} {
		if c := cat(l); c != nil {
			if s, ok := get(c)[key]; ok && s != "" {
				return s, l == lang
			}
		}
	}
	return key, false
}

// Property returns the label of a property name ("advertisingId" → "Werbe-ID"
// for "de"), falling back to English and then to the name itself.
func Property(lang, name string) string {
	s, _ := lookup(lang, func(c *catalog) map[string]string { return c.Properties }, name)
	return s
}

// HasProperty reports whether lang itself has a label for the property.
func HasProperty(lang, name string) bool {
	_, ok := lookup(lang, func(c *catalog) map[string]string { return c.Properties }, name)
	return ok
}

// Context returns the name of a request context (header, cookie, path,
// query, body).
func Context(lang, ctx string) string {
	s, _ := lookup(lang, func(c *catalog) map[string]string { return c.Contexts }, ctx)
	return s
}

// Encoding returns the name of an indicator encoding (plain, url, base64,
// hex, json, md5, sha1, sha256).
func Encoding(lang, enc string) string {
	s, _ := lookup(lang, func(c *catalog) map[string]string { return c.Encodings }, enc)
	return s
}

// UI returns a report or CLI string by its dotted key.
func UI(lang, key string) string {
	s, _ := lookup(lang, func(c *catalog) map[string]string { return c.UI }, key)
	return s
}

// Enrichment returns the name of an enrichment source or counter
// ("provenance log", "entries with owners") in lang; English, and names
// without a translation, come back unchanged.
func Enrichment(lang, name string) string {
	s, _ := enrichment(lang, name)
	return s
}

// HasEnrichment reports whether the enrichment name reads in lang.
func HasEnrichment(lang, name string) bool {
	_, ok := enrichment(lang, name)
	return ok
}

func enrichment(lang, name string) (string, bool) {
	if lang == Languages[0] {
		return name, true
	}
	if c := cat(lang); c != nil {
		if s, ok := c.Enrichment[name]; ok && s != "" {
			return s, true
		}
	}
	return name, false
}

// Tracker returns the Markdown description of a tracking company, falling
// back to English; "" when there is none.
func Tracker(lang, slug string) string {
	for _, l := range []string{lang, Languages[0]} {
		if c := cat(l); c != nil {
			if s := c.trackers[slug]; s != "" {
				return s
			}
		}
	}
	return ""
}

// HasTracker reports whether lang itself has a description of the tracker.
func HasTracker(lang, slug string) bool {
	c := cat(lang)
	return c != nil && c.trackers[slug] != ""
}

// Keys returns the keys of a section ("properties", "contexts",
// "encodings", "ui", "trackers", "enrichment", "diagnostics", and the adapter texts
// "reasoning" and "names") in a language, sorted; for tests and tools.
func Keys(lang, section string) []string {
	c := cat(lang)
	if c == nil {
		return nil
	}
	var m map[string]string
	switch section {
	case "properties":
		m = c.Properties
	case "contexts":
		m = c.Contexts
	case "encodings":
		m = c.Encodings
	case "ui":
		m = c.UI
	case "trackers":
		m = c.trackers
	case "reasoning":
		m = c.reasoning
	case "names":
		m = c.names
	case "enrichment":
		m = c.Enrichment
	case "diagnostics":
		m = c.Diagnostics
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
