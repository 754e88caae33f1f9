package adapters_test

import (
	"testing"

	"github.com/tracewire/tracewire/adapters"
	"github.com/tracewire/tracewire/i18n"
)

// TestDatabase is the check FORMAT.md promises: the embedded database loads
// (so every regex compiles, every path parses, every function, option,
// context and property exists), and every property and tracker has English
// and German text.
func TestDatabase(t *testing.T) {
	db, err := adapters.Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range adapters.Properties() {
		for _, lang := range i18n.Languages {
			if !i18n.HasProperty(lang, p) {
				t.Errorf("property %s has no %s label in i18n/%s.yaml", p, lang, lang)
			}
		}
	}
	for _, tr := range db.Trackers {
		for _, lang := range i18n.Languages {
			if !i18n.HasTracker(lang, tr.Slug) {
				t.Errorf("tracker %s (%s) has no description i18n/trackers/%s.%s.md", tr.Slug, tr.File, tr.Slug, lang)
			}
		}
		for _, a := range tr.Adapters {
			// ID is kept from loading: it must still be what it stands for.
			if want := tr.Slug + "/" + a.Slug; a.ID() != want || a.Tracker != tr {
				t.Errorf("adapter %s: ID %q, tracker %s", want, a.ID(), a.Tracker.Slug)
			}
			if len(a.Description) > 0 && (a.Description["en"] == "" || a.Description["de"] == "") {
				t.Errorf("adapter %s: description needs both en and de", a.ID())
			}
		}
	}
	for _, lang := range i18n.Languages {
		for _, p := range i18n.Keys(lang, "properties") {
			if !adapters.IsProperty(p) {
				t.Errorf("i18n/%s.yaml labels %q, which is not in i18n/en.yaml's properties", lang, p)
			}
		}
	}
}
