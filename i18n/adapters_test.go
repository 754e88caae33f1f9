package i18n_test

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/tracewire/tracewire/adapters"
	"github.com/tracewire/tracewire/i18n"
)

// adapterTexts are the reasoning texts and the tracker and adapter names of
// the embedded adapter database, each with the trackers that use it.
func adapterTexts(t *testing.T) (reasoning, names map[string][]string) {
	t.Helper()
	db, err := adapters.Default()
	if err != nil {
		t.Fatal(err)
	}
	reasoning, names = map[string][]string{}, map[string][]string{}
	add := func(m map[string][]string, k, slug string) {
		if !slices.Contains(m[k], slug) {
			m[k] = append(m[k], slug)
		}
	}
	for _, tr := range db.Trackers {
		add(names, tr.Name, tr.Slug)
	}
	for _, a := range db.Adapters {
		add(names, a.Name, a.Tracker.Slug)
		for _, pp := range a.ContainedDataPaths {
			for _, dp := range pp.Paths {
				add(reasoning, dp.Reasoning, a.Tracker.Slug)
			}
		}
	}
	return reasoning, names
}

// TestAdapterTextsTranslated: every reasoning text (but a bare URL) and
// every adapter name of the adapter database reads in every language, so
// a German report quotes no English reasoning. A new adapter's texts go
// into i18n/adapters/<tracker slug>.<lang>.yaml (texts several trackers
// share into common.<lang>.yaml); the failure lists them in that form.
func TestAdapterTextsTranslated(t *testing.T) {
	reasoning, names := adapterTexts(t)
	for _, lang := range i18n.Languages[1:] {
		missing := map[string]map[string][]string{} // file → section → keys
		note := func(slugs []string, section, key string) {
			file := "common." + lang + ".yaml"
			if len(slugs) == 1 {
				file = slugs[0] + "." + lang + ".yaml"
			}
			if missing[file] == nil {
				missing[file] = map[string][]string{}
			}
			if !slices.Contains(missing[file][section], key) {
				missing[file][section] = append(missing[file][section], key)
			}
		}
		for text, slugs := range reasoning {
			if !i18n.HasReasoning(lang, text) {
				note(slugs, "reasoning", i18n.ReasoningKey(text))
			}
		}
		for name, slugs := range names {
			for _, part := range i18n.UntranslatedNameParts(lang, name) {
				note(slugs, "names", part)
			}
		}
		if len(missing) == 0 {
			continue
		}
		var b strings.Builder
		n := 0
		for _, file := range sortedKeys(missing) {
			fmt.Fprintf(&b, "\ni18n/adapters/%s:\n", file)
			for _, section := range sortedKeys(missing[file]) {
				keys := missing[file][section]
				sort.Strings(keys)
				n += len(keys)
				fmt.Fprintf(&b, "%s:\n", section)
				for _, k := range keys {
					fmt.Fprintf(&b, "  %q: \"\"\n", k)
				}
			}
		}
		t.Errorf("%s: %d adapter texts have no translation:%s", lang, n, b.String())
	}
}

// TestAdapterTextsUsed: every translation is of a text the database has,
// so a changed English text cannot leave its old translation behind.
func TestAdapterTextsUsed(t *testing.T) {
	reasoning, names := adapterTexts(t)
	keys := map[string]bool{}
	for text := range reasoning {
		keys[i18n.ReasoningKey(text)] = true
	}
	parts := map[string]bool{}
	for name := range names {
		parts[name] = true
		for _, m := range regexp.MustCompile(`\(([^()]*)\)`).FindAllStringSubmatch(name, -1) {
			parts[m[1]] = true
			for _, p := range strings.Split(m[1], ", ") {
				parts[p] = true
			}
		}
	}
	for _, lang := range i18n.Languages[1:] {
		for _, k := range i18n.Keys(lang, "reasoning") {
			if !keys[k] {
				t.Errorf("%s: reasoning %q: no adapter has this text (or it ends with a URL, which is not part of the key)", lang, k)
			}
		}
		for _, k := range i18n.Keys(lang, "names") {
			if !parts[k] {
				t.Errorf("%s: names %q: no adapter name is or contains this in parentheses", lang, k)
			}
		}
	}
}

var urlRE = regexp.MustCompile(`https?://[^\s)]+`)

// TestAdapterTextsKeepURLs: a translation names the same documents as the
// English text, and nothing a reader could mistake for one.
func TestAdapterTextsKeepURLs(t *testing.T) {
	reasoning, _ := adapterTexts(t)
	for _, lang := range i18n.Languages[1:] {
		for text := range reasoning {
			got := i18n.Reasoning(lang, text)
			want := urlRE.FindAllString(text, -1)
			if have := urlRE.FindAllString(got, -1); !slices.Equal(have, want) {
				t.Errorf("%s: %q\n  is translated as %q\n  URLs %q, want %q", lang, text, got, have, want)
			}
		}
	}
}

func TestReasoningAndNames(t *testing.T) {
	for _, tt := range []struct{ lang, text, key, want string }{
		{"de", "obvious property name", "obvious property name", "selbsterklärender Feldname"},
		{"en", "obvious property name", "obvious property name", "obvious property name"},
		{"de", "https://example.com/doc#x", "", "https://example.com/doc#x"},
		{"de", "a SHA-256 hash: https://developers.pinterest.com/docs/api/v5/events-create", "a SHA-256 hash",
			"ein SHA-256-Hash: https://developers.pinterest.com/docs/api/v5/events-create"},
		{"de", "an app's client access token is APP_ID|CLIENT_TOKEN (https://developers.facebook.com/docs/facebook-login/guides/access-tokens#clienttokens)",
			"an app's client access token is APP_ID|CLIENT_TOKEN",
			"das Client-Zugriffstoken einer App hat die Form APP_ID|CLIENT_TOKEN (https://developers.facebook.com/docs/facebook-login/guides/access-tokens#clienttokens)"},
		{"de", "no such text: https://example.com", "no such text", "no such text: https://example.com"},
	} {
		if got := i18n.ReasoningKey(tt.text); got != tt.key {
			t.Errorf("ReasoningKey(%q) = %q, want %q", tt.text, got, tt.key)
		}
		if got := i18n.Reasoning(tt.lang, tt.text); got != tt.want {
			t.Errorf("Reasoning(%q, %q) = %q, want %q", tt.lang, tt.text, got, tt.want)
		}
	}
	for _, tt := range []struct {
		lang, name, want string
		missing          []string
	}{
		{"de", "Facebook Graph App Events API (query string)", "Facebook Graph App Events API (Query-String)", nil},
		{"de", "Google Mobile Ads SDK (DoubleClick, query string)", "Google Mobile Ads SDK (DoubleClick, Query-String)", nil},
		{"en", "Adjust (query string)", "Adjust (query string)", nil},
		{"de", "Criteo (gum/sid/json)", "Criteo (gum/sid/json)", nil},
		{"de", "X (unknown words, a/b)", "X (unknown words, a/b)", []string{"unknown words"}},
		{"de", "Unbalanced (query string", "Unbalanced (query string", nil},
	} {
		if got := i18n.AdapterName(tt.lang, tt.name); got != tt.want {
			t.Errorf("AdapterName(%q, %q) = %q, want %q", tt.lang, tt.name, got, tt.want)
		}
		if got := i18n.UntranslatedNameParts(tt.lang, tt.name); !slices.Equal(got, tt.missing) {
			t.Errorf("UntranslatedNameParts(%q, %q) = %q, want %q", tt.lang, tt.name, got, tt.missing)
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
