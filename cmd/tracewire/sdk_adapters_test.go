package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	json "github.com/go-json-experiment/json/v1"
	"github.com/tracewire/tracewire/internal/testutil"
)

// TestDetectDocumentedRequests runs detect on testdata/sdk/documented-requests.har:
// one request for each adapter written from a vendor's documentation without a
// corpus request (AppsFlyer, Braze, AppLovin, Tealium, IAS, Nativo), built from
// the first case of its case file, and a last request to no tracker. Each must
// be handled by its adapter with the key values below, end to end through the
// CLI; the last must give nothing. testdata/sdk/mkhar.py rebuilds the file from
// the case files.
func TestDetectDocumentedRequests(t *testing.T) {
	har := filepath.Join(testutil.RepoRoot(), "testdata", "sdk", "documented-requests.har")
	testutil.ValidateHAR(t, har) // the fixture itself is a valid HAR (skips without the npm oracle)
	out, stderr, err := runCLI(t, nil, "detect", har, "--format", "json")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	var doc struct {
		Findings []struct {
			Entry                          struct{ Index int }
			Adapter, Property, Path, Value string
		}
		EntriesRead int      `json:"entries_read"`
		Warnings    []string `json:"warnings"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%.500s", err, out)
	}
	want := []struct {
		adapter string
		key     string // "property path = value" that must be among the entry's findings
	}{
		{"appsflyer/s2s-inappevent", "advertisingId advertising_id = 6f1c2a3e-8b4d-4e2f-9a1b-3c5d7e9f0a2b"},
		{"appsflyer/ctv-events", "advertisingId device_ids[0].value = fa73d67d-f55c-5af3-883a-726253dc7d0e"},
		{"appsflyer/web-s2s", "browserId afUserId = 9a8b7c6d-f848-4963-a091-568f0bf9a361"},
		{"braze/users-track", "email attributes[0].email = alice@example.com"},
		{"braze/sdk-data", "eventName events[1].data.n = added_to_wishlist"},
		{"applovin/axon-conversion-api", "hashedEmail events[1].user_data.email = ff8d9819fc0e12bf0d24892e45987e249a28dce836a85cad60e28eaaa8c6d976"},
		{"tealium/collect-json", "advertisingId google_adid = 6f1c2a3e-8b4d-4e2f-9a1b-3c5d7e9f0a2b"},
		{"tealium/collect-query", "deviceId tealium_visitor_id = amp-Xy12AbCdEfGh"},
		{"integral-ad-science/publisher-optimization", "viewedPage url = https://news.example/politics/story-42?src=home"},
		{"nativo/prebid", "viewedPage ntv_url = https://news.example/health/story-7"},
	}
	if doc.EntriesRead != len(want)+1 || len(doc.Warnings) != 0 {
		t.Errorf("%d entries read, want %d; warnings %q", doc.EntriesRead, len(want)+1, doc.Warnings)
	}
	adapters := map[int][]string{}
	keys := map[int][]string{}
	for _, f := range doc.Findings {
		if !slices.Contains(adapters[f.Entry.Index], f.Adapter) {
			adapters[f.Entry.Index] = append(adapters[f.Entry.Index], f.Adapter)
		}
		keys[f.Entry.Index] = append(keys[f.Entry.Index], fmt.Sprintf("%s %s = %s", f.Property, f.Path, f.Value))
	}
	for i, w := range want {
		if got := adapters[i]; len(got) != 1 || got[0] != w.adapter {
			t.Errorf("entry %d: adapters %q, want %s", i, got, w.adapter)
		}
		if !slices.Contains(keys[i], w.key) {
			t.Errorf("entry %d (%s): no finding %q among %q", i, w.adapter, w.key, keys[i])
		}
	}
	if got := keys[len(want)]; len(got) != 0 {
		t.Errorf("the request to no tracker gives findings: %q", got)
	}
}
