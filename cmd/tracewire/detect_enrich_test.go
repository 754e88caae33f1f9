package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	json "github.com/go-json-experiment/json/v1"
)

// TestDetectWithProvenance is issue 5's example end to end from the CLI: a
// backend's egress (a HAR) plus its provenance log yields "Alice's email,
// SHA-256-hashed, went to graph.facebook.com" — the owner ID became an
// indicator automatically and is searched also in requests an adapter
// decoded (the Conversions API call here), without further options.
func TestDetectWithProvenance(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"detect", "../../testdata/report/shop-backend.har",
		"--provenance", "../../testdata/report/provenance.jsonl", "--format", "json"},
		strings.NewReader(""), &stdout, &stderr)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	var out struct {
		Findings []struct {
			Entry     struct{ URL string }
			Tracker   *struct{ Slug string }
			Property  string
			Value     string
			Indicator *struct {
				Encoding string
				Value    string
			}
		}
		EntriesRead int `json:"entries_read"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("%v\n%s", err, stdout.String())
	}
	found := false
	for _, f := range out.Findings {
		if f.Property == "email" && f.Indicator != nil && f.Indicator.Encoding == "sha256" &&
			f.Indicator.Value == "alice@example.com" && strings.Contains(f.Entry.URL, "graph.facebook.com") {
			found = true
		}
	}
	if !found {
		t.Errorf("no SHA-256 email finding for alice@example.com to graph.facebook.com:\n%s", stdout.String())
	}
	if out.EntriesRead < 2 {
		t.Errorf("entries_read %d", out.EntriesRead)
	}
	if !strings.Contains(stderr.String(), "provenance") {
		t.Errorf("no enrichment summary on stderr:\n%s", stderr.String())
	}

	// Without the provenance log, detect streams as before and knows no
	// owner, so there is no email finding.
	stdout.Reset()
	stderr.Reset()
	if err := run(context.Background(), []string{"detect", "../../testdata/report/shop-backend.har", "--indicators-everywhere", "--format", "json"},
		strings.NewReader(""), &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stdout.String(), `"property":"email"`) {
		t.Errorf("email found without the provenance log:\n%s", stdout.String())
	}
}
