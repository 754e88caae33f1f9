package report_test

import (
	"bytes"
	"errors"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tracewire/tracewire/internal/testutil"
	"github.com/tracewire/tracewire/report"
)

var letterDocs = []report.Document{report.DocNotice, report.DocComplaint, report.DocComplaintInformal}

func letterDetails(t *testing.T, doc report.Document) *report.Details {
	t.Helper()
	p := filepath.Join(testutil.RepoRoot(), "testdata", "details.yaml")
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := report.ReadDetails(f, "details.yaml", doc)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// letterAnalysis is the android first run with the tool's version pinned,
// so the goldens do not change with each build.
func letterAnalysis(t *testing.T) *report.Analysis {
	a := *corpusAnalyses(t)["android_first-run"]
	a.Tool = report.Tool{Name: "tracewire", Version: "(golden test)"}
	return &a
}

// TestGoldenLetters renders the notice and both complaints in English and
// German over a corpus HAR with many findings and the user's own
// TrackerControl export, and compares them with reviewed files.
func TestGoldenLetters(t *testing.T) {
	a := letterAnalysis(t)
	for _, doc := range letterDocs {
		for _, lang := range []string{"en", "de"} {
			t.Run(string(doc)+"."+lang, func(t *testing.T) {
				o := report.Options{Lang: lang, DeviceReports: []*report.DeviceReport{deviceReport(t, "android_tracker-control-report.csv")}}
				var buf bytes.Buffer
				if err := report.WriteDocument(&buf, report.Markdown, doc, a, letterDetails(t, doc), o); err != nil {
					t.Fatal(err)
				}
				checkGolden(t, filepath.Join("testdata", "golden", "letters", string(doc)+"."+lang+".md"), buf.Bytes())
				// Facts come from the findings: every recipient is named.
				for _, r := range firstRunRecipients {
					if !strings.Contains(buf.String(), r) {
						t.Errorf("%s does not name %s", doc, r)
					}
				}
				if strings.Contains(buf.String(), "{") {
					t.Errorf("an unfilled placeholder in:\n%s", buf.String())
				}
			})
		}
	}
}

// TestLetterPDF writes the complaint as PDF and reads it back with
// poppler's pdftotext: pages, the controller, each company and each cited
// article are in its text.
func TestLetterPDF(t *testing.T) {
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("skipping: no pdftotext (.ci/run installs poppler-utils)")
	}
	a := letterAnalysis(t)
	articles := map[string][]string{
		"en": {"Article 5(3) of Directive 2002/58/EC", "Article 6(1) GDPR", "Article 5(1)(c) GDPR", "Article 25(2) GDPR", "Article 5(2) GDPR", "Article 7(1) GDPR", "Section 25(1) of the TDDDG"},
		"de": {"Artikel 5 Absatz 3 der Richtlinie 2002/58/EG", "Artikel 6 Absatz 1 DSGVO", "Artikel 5 Absatz 1 Buchstabe c DSGVO", "Artikel 25 Absatz 2 DSGVO", "Artikel 5 Absatz 2 DSGVO", "Artikel 7 Absatz 1 DSGVO", "§ 25 Absatz 1 TDDDG"},
	}
	for _, lang := range []string{"en", "de"} {
		t.Run(lang, func(t *testing.T) {
			var buf bytes.Buffer
			o := report.Options{Lang: lang, DeviceReports: []*report.DeviceReport{deviceReport(t, "android_tracker-control-report.csv")}}
			if err := report.WriteDocument(&buf, report.PDF, report.DocComplaint, a, letterDetails(t, report.DocComplaint), o); err != nil {
				t.Fatal(err)
			}
			if pages := len(pdfPageRe.FindAll(buf.Bytes(), -1)); pages < 2 {
				t.Errorf("%d pages, want at least 2", pages)
			}
			p := filepath.Join(t.TempDir(), "complaint.pdf")
			if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command("pdftotext", "-layout", p, "-").Output()
			if err != nil {
				t.Fatalf("pdftotext: %v", err)
			}
			text := strings.Join(strings.Fields(string(out)), " ")
			want := append([]string{"Sample App GmbH"}, firstRunRecipients...)
			for _, s := range append(want, articles[lang]...) {
				if !strings.Contains(text, s) {
					t.Errorf("the PDF's text lacks %q", s)
				}
			}
		})
	}
}

// TestLetterRefusesWithoutFindings: a letter states only transmissions
// that were found; with none there is nothing to complain about.
func TestLetterRefusesWithoutFindings(t *testing.T) {
	a := *letterAnalysis(t)
	a.Findings = nil
	for _, doc := range letterDocs {
		var buf bytes.Buffer
		err := report.WriteDocument(&buf, report.Markdown, doc, &a, letterDetails(t, doc), report.Options{})
		if !errors.Is(err, report.ErrNoFindings) {
			t.Errorf("%s without findings: err = %v, want ErrNoFindings", doc, err)
		}
		if buf.Len() > 0 {
			t.Errorf("%s without findings wrote %d bytes", doc, buf.Len())
		}
	}
}

// TestLetterDeviceEvidence: the complaint's "affected" section lists only
// the companies the device report confirms for this app, and a record
// without the app is not offered as evidence.
func TestLetterDeviceEvidence(t *testing.T) {
	a := letterAnalysis(t)
	dr := deviceReport(t, "android_tracker-control-report.csv")
	affected := func(d *report.Details) string {
		var buf bytes.Buffer
		if err := report.WriteDocument(&buf, report.Markdown, report.DocComplaint, a, d, report.Options{DeviceReports: []*report.DeviceReport{dr}}); err != nil {
			t.Fatal(err)
		}
		s := buf.String()
		return s[strings.Index(s, "## Why I am affected"):strings.Index(s, "## Legal assessment")]
	}
	d := letterDetails(t, report.DocComplaint)
	got := affected(d)
	for _, host := range []string{"api2.branch.io", "graph.facebook.com", "sessions.bugsnag.com"} {
		if !strings.Contains(got, "| "+host+" |") {
			t.Errorf("the affected section lacks %s:\n%s", host, got)
		}
	}
	if strings.Contains(got, "notify.bugsnag.com") {
		t.Errorf("the affected section lists a host the device report does not confirm:\n%s", got)
	}
	other := *d
	other.App.ID = "com.example.other"
	if got := affected(&other); strings.Contains(got, "| ") || !strings.Contains(got, "not offered as evidence") {
		t.Errorf("another app's record is used as evidence:\n%s", got)
	}
}

// TestReadDetailsErrors: each missing or wrong field is named.
func TestReadDetailsErrors(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		doc        report.Document
		want       []string
	}{
		{"empty", "", report.DocNotice, []string{"empty file"}},
		{"missing parties", "dates: {appUsed: 2024-01-02}\n", report.DocNotice,
			[]string{"complainant.name is missing", "controller.name is missing", "controller.address or controller.email is missing"}},
		{"complaint needs the authority", "complainant: {name: A, email: a@x}\ncontroller: {name: C, email: c@x}\ndates: {appUsed: 2024-01-02}\n", report.DocComplaint,
			[]string{"authority.name is missing", "authority.address is missing"}},
		{"bad date", "complainant: {name: A, email: a@x}\ncontroller: {name: C, email: c@x}\ndates: {appUsed: 2 Jan 2024}\n", report.DocNotice,
			[]string{`dates.appUsed "2 Jan 2024" is not a date YYYY-MM-DD`}},
		{"bad response", "complainant: {name: A, email: a@x}\ncontroller: {name: C, email: c@x}\ndates: {appUsed: 2024-01-02, noticeSent: 2024-02-01, response: {kind: maybe}}\n", report.DocNotice,
			[]string{`dates.response.kind "maybe"`}},
		{"unknown field", "complainant: {name: A, email: a@x, phone: 1}\n", report.DocNotice, []string{"field phone not found"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := report.ReadDetails(strings.NewReader(tc.yaml), "details.yaml", tc.doc)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// TestComplaintHTMLInChromium renders the HTML complaint in headless
// Chromium and checks the screenshot has content.
func TestComplaintHTMLInChromium(t *testing.T) {
	bin := chromium(t)
	a := letterAnalysis(t)
	var buf bytes.Buffer
	o := report.Options{Lang: "de", DeviceReports: []*report.DeviceReport{deviceReport(t, "android_tracker-control-report.csv")}}
	if err := report.WriteDocument(&buf, report.HTML, report.DocComplaint, a, letterDetails(t, report.DocComplaint), o); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	page := filepath.Join(dir, "complaint.html")
	if err := os.WriteFile(page, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	dom := string(runChromium(t, bin, page, "--dump-dom"))
	for _, s := range []string{"<h2>Der Sachverhalt</h2>", "<h2>Rechtliche Bewertung</h2>", "<table>", "Sample App GmbH"} {
		if !strings.Contains(dom, s) {
			t.Errorf("the DOM lacks %q", s)
		}
	}
	shot := filepath.Join(dir, "shot.png")
	runChromium(t, bin, page, "--window-size=1000,1600", "--screenshot="+shot)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	// Text on a white page: some pixels are dark.
	dark := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 4 {
		for x := b.Min.X; x < b.Max.X; x += 4 {
			if r, g, bb, _ := img.At(x, y).RGBA(); r+g+bb < 3*0x4000 {
				dark++
			}
		}
	}
	if dark < 500 {
		t.Errorf("the screenshot is nearly blank (%d dark samples)", dark)
	}
	if os.Getenv("TRACEWIRE_KEEP_SHOT") != "" {
		_ = os.WriteFile(os.Getenv("TRACEWIRE_KEEP_SHOT"), mustRead(t, shot), 0o644)
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
