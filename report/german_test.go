package report_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tracewire/tracewire"
	"github.com/tracewire/tracewire/i18n"
	"github.com/tracewire/tracewire/internal/testutil"
)

// TestEnrichmentNamesTranslated: the sources and counters the enrichers
// report on the repository's PiRogue experiment (socket trace, ptcpdump
// comments) and on the shop backend's provenance log have German names,
// so the German methodology lists them in German.
func TestEnrichmentNamesTranslated(t *testing.T) {
	root := testutil.RepoRoot()
	var names []string
	for _, in := range []tracewire.Input{
		{Experiment: filepath.Join(root, "testdata", "experiment")},
		{Files: []string{filepath.Join(root, "testdata", "report", "shop-backend.har")},
			Provenance: []string{filepath.Join(root, "testdata", "report", "provenance.jsonl")}},
	} {
		a, err := tracewire.Analyze(context.Background(), in, tracewire.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if a.Enrichment == nil {
			t.Fatalf("%+v: no enrichment", in)
		}
		for _, src := range a.Enrichment.Sources {
			names = append(names, src.Source)
			for _, c := range src.Counts {
				names = append(names, c.Name)
			}
		}
	}
	if len(names) < 10 {
		t.Fatalf("only %d enrichment names: %q", len(names), names)
	}
	for _, lang := range i18n.Languages[1:] {
		var missing []string
		for _, n := range names {
			if !i18n.HasEnrichment(lang, n) {
				missing = append(missing, n)
			}
		}
		if len(missing) > 0 {
			t.Errorf("%s: enrichment names without a translation (section enrichment of i18n/%s.yaml):\n%s", lang, lang, strings.Join(missing, "\n"))
		}
	}
}
