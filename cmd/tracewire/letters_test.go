package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	rep "github.com/tracewire/tracewire/report"
)

func detailsFile() string { return repoFile("testdata", "details.yaml") }

// TestReportDocuments goes from the included capture to a notice and both
// complaints, in every letter format, from the CLI.
func TestReportDocuments(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		doc, out, lang string
		want           []string
	}{
		{"notice", "notice.md", "en", []string{"# Notice concerning the transmission", "Sample App GmbH", "Google LLC", "Article 15(1)(c) GDPR"}},
		{"complaint", "complaint.html", "de", []string{"<!DOCTYPE html>", "Beschwerde nach Artikel 77 DSGVO", "Adjust GmbH", "§ 25 Absatz 1 TDDDG"}},
		{"complaint-informal", "informal.md", "en", []string{"Dear Sir or Madam,", "Meta Platforms Ireland Ltd."}},
		{"complaint", "complaint.pdf", "en", []string{"%PDF-1."}},
	} {
		p := filepath.Join(dir, tc.out)
		args := []string{"report", samplePath(), "--document", tc.doc, "--details", detailsFile(), "--lang", tc.lang, "-o", p}
		if _, stderr, err := runCLI(t, nil, args...); err != nil {
			t.Fatalf("%s: %v\n%s", tc.out, err, stderr)
		}
		got := string(mustRead(t, p))
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s lacks %q", tc.out, w)
			}
		}
	}
}

// TestReportDocumentErrors: a letter without details, with a details file
// that lacks a field, or about an analysis without findings is refused
// before anything is written.
func TestReportDocumentErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "details.yaml")
	if err := os.WriteFile(bad, []byte("complainant: {name: A, email: a@example.org}\ndates: {appUsed: 2024-01-02}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
		is   error
	}{
		{"no details", []string{"report", samplePath(), "--document", "notice"}, "needs --details", nil},
		{"missing field", []string{"report", samplePath(), "--document", "complaint", "--details", bad}, "controller.name is missing", nil},
		{"unknown document", []string{"report", samplePath(), "--document", "letter"}, "want report, notice, complaint or complaint-informal", nil},
		{"no findings", []string{"report", repoFile("testdata", "golden", "gen-small.har"), "--document", "complaint", "--details", detailsFile()}, "", rep.ErrNoFindings},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, tc.name+".md")
			_, _, err := runCLI(t, nil, append(tc.args, "-o", out)...)
			if err == nil {
				t.Fatal("no error")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("err = %v, want %v", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to say %q", err, tc.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("an output file was written")
			}
		})
	}
}

// TestBatchDocuments: batch writes the letters of each analysis from the
// details.yaml beside its input, refuses them (with a note) for an
// analysis without findings, and fails an analysis whose details are
// missing.
func TestBatchDocuments(t *testing.T) {
	in := t.TempDir()
	for dir, files := range map[string][][2]string{
		"app":   {{samplePath(), "tracking.pcapng"}, {detailsFile(), "details.yaml"}},
		"clean": {{repoFile("testdata", "golden", "gen-small.har"), "gen-small.har"}, {detailsFile(), "details.yaml"}},
		"bare":  {{repoFile("testdata", "golden", "tracking.har"), "tracking.har"}},
	} {
		if err := os.MkdirAll(filepath.Join(in, dir), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if err := os.WriteFile(filepath.Join(in, dir, f[1]), mustRead(t, f[0]), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	out := filepath.Join(t.TempDir(), "out")
	_, stderr, err := runCLI(t, nil, "batch", in, "-o", out, "--format", "md", "--document", "notice,complaint", "--jobs", "1")
	if exitStatus(err) != exitIncomplete {
		t.Fatalf("err = %v, want exit 1 for the analysis without details\n%s", err, stderr)
	}
	base := filepath.Join(out, filepath.Base(in))
	for _, f := range []string{"app/tracking.pcapng/notice.md", "app/tracking.pcapng/complaint.md", "app/tracking.pcapng/report.md"} {
		if _, err := os.Stat(filepath.Join(base, f)); err != nil {
			t.Error(err)
		}
	}
	if !strings.Contains(string(mustRead(t, filepath.Join(base, "app/tracking.pcapng/complaint.md"))), "Google LLC") {
		t.Error("the complaint does not name Google")
	}
	m := string(mustRead(t, filepath.Join(base, "app/tracking.pcapng/manifest.json")))
	if !strings.Contains(m, `"role": "details"`) {
		t.Errorf("the manifest does not list details.yaml as an input:\n%s", m)
	}
	if _, err := os.Stat(filepath.Join(base, "clean/gen-small.har/complaint.md")); err == nil {
		t.Error("a complaint was written for an analysis without findings")
	}
	if m := string(mustRead(t, filepath.Join(base, "clean/gen-small.har/manifest.json"))); !strings.Contains(m, "no complaint:") {
		t.Errorf("the manifest does not say why there is no complaint:\n%s", m)
	}
	if !strings.Contains(stderr, "details.yaml") || !strings.Contains(stderr, "bare/tracking.har") {
		t.Errorf("the failure line does not name the missing details.yaml:\n%s", stderr)
	}
}
