package tracewire

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	json "github.com/go-json-experiment/json/v1"
	"github.com/tracewire/tracewire/enrich"
	"github.com/tracewire/tracewire/har"
)

// TestEnrichSamePlan: Enrich runs Analyze's stages in Analyze's order
// (decryption first) and writes the same entries; its log names the trace
// files read.
func TestEnrichSamePlan(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"traffic.pcapng", "socket_trace.json", "experiment.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", "experiment", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A key without data: read, used for nothing, but a stage.
	aes := `[{"type":"aes_info_log","timestamp":1700000009000,"pid":1,"process":"app","data":{"alg":"AES","key":"30313233343536373839616263646566"}}]`
	if err := os.WriteFile(filepath.Join(dir, "aes_info.json"), []byte(aes), 0o644); err != nil {
		t.Fatal(err)
	}
	in := Input{Experiment: dir}
	var analysed, enriched bytes.Buffer
	a, err := Analyze(context.Background(), in, Options{HAR: &analysed})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Enrich(context.Background(), in, Options{HAR: &enriched})
	if err != nil {
		t.Fatal(err)
	}
	var want, got []string
	for _, s := range a.Enrichment.Sources {
		want = append(want, s.Source)
	}
	for _, s := range res.Enrichment.Sources {
		got = append(got, s.Source)
	}
	if !slices.Equal(got, want) || len(got) != 3 || got[0] != enrich.AESInfoName || got[1] != enrich.PiRogueSocketTraceName || got[2] != enrich.PtcpdumpName {
		t.Errorf("Enrich's stages %v, Analyze's %v", got, want)
	}
	ha, _, err := har.ReadAll(bytes.NewReader(analysed.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	he, _, err := har.ReadAll(bytes.NewReader(enriched.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	x, _ := json.Marshal(ha.Log.Entries)
	y, _ := json.Marshal(he.Log.Entries)
	if len(he.Log.Entries) != a.EntriesRead || res.Entries != a.EntriesRead || !bytes.Equal(x, y) {
		t.Errorf("Enrich wrote %d entries (%d counted), Analyze %d; same bytes: %v", len(he.Log.Entries), res.Entries, len(ha.Log.Entries), bytes.Equal(x, y))
	}
	sources, _ := json.Marshal(he.Log.Extra["_enrichment"])
	var list []struct{ Source, File, SHA256 string }
	if err := json.Unmarshal(sources, &list); err != nil || len(list) != 2 || list[0].File != "aes_info.json" || list[1].File != "socket_trace.json" || len(list[1].SHA256) != 64 {
		t.Errorf("_enrichment %s", sources)
	}
}
