package report_test

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tracewire/tracewire/report"
)

// recipients of the android first run, as the adapter database names them.
var firstRunRecipients = []string{"Branch Metrics, Inc.", "Meta Platforms Ireland Ltd.", "SmartBear Software"}

var (
	pdfPageRe    = regexp.MustCompile(`/Type\s*/Page[^s]`)
	untranslated = regexp.MustCompile(`\breport\.[a-z]+\.[a-zA-Z]+`)
)

// TestPDF renders a report as PDF and reads it back: a PDF that poppler's
// pdfinfo and pdftotext accept (when installed; .ci/run installs
// poppler-utils), with pages, and the recipients' names and the German
// labels in its text.
func TestPDF(t *testing.T) {
	as := corpusAnalyses(t)
	for _, tc := range []struct {
		name, lang string
		want       []string
	}{
		{"android_first-run", "en", append([]string{"Technical report", "Advertising ID", "1209d0b9-b959-42e6-b921-aa5d9d08c1af"}, firstRunRecipients...)},
		{"android_second-run", "de", []string{"Technischer Bericht", "Werbe-ID", "Vergleich mit einer früheren Analyse", "Branch Metrics, Inc.", "Meta Platforms Ireland Ltd."}},
	} {
		t.Run(tc.name+"."+tc.lang, func(t *testing.T) {
			var buf bytes.Buffer
			if err := report.Write(&buf, report.PDF, as[tc.name], goldenOptions(t, tc.name, tc.lang)); err != nil {
				t.Fatal(err)
			}
			b := buf.Bytes()
			if !bytes.HasPrefix(b, []byte("%PDF-1.")) || !bytes.Contains(b[max(0, len(b)-64):], []byte("%%EOF")) {
				t.Fatalf("not a PDF: starts %q, ends %q", b[:min(16, len(b))], b[max(0, len(b)-32):])
			}
			pages := len(pdfPageRe.FindAll(b, -1))
			if pages < 2 {
				t.Errorf("%d page objects", pages)
			}
			var again bytes.Buffer
			if err := report.Write(&again, report.PDF, as[tc.name], goldenOptions(t, tc.name, tc.lang)); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b, again.Bytes()) {
				t.Error("two renderings of the PDF differ")
			}

			if _, err := exec.LookPath("pdftotext"); err != nil {
				t.Skip("skipping the text checks: pdftotext (poppler-utils) is not installed")
			}
			dir := t.TempDir()
			p := filepath.Join(dir, "r.pdf")
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
			info, err := exec.Command("pdfinfo", p).CombinedOutput()
			if err != nil {
				t.Fatalf("pdfinfo: %v\n%s", err, info)
			}
			m := regexp.MustCompile(`(?m)^Pages:\s+(\d+)`).FindSubmatch(info)
			if m == nil {
				t.Fatalf("pdfinfo says no page count:\n%s", info)
			}
			if n, _ := strconv.Atoi(string(m[1])); n != pages {
				t.Errorf("pdfinfo: %d pages, the file has %d page objects", n, pages)
			}
			out, err := exec.Command("pdftotext", "-enc", "UTF-8", p, "-").CombinedOutput()
			if err != nil {
				t.Fatalf("pdftotext: %v\n%s", err, out)
			}
			// Lines may break anywhere; compare with whitespace squeezed.
			text := strings.Join(strings.Fields(string(out)), " ")
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("PDF text lacks %q", w)
				}
			}
			if k := untranslated.FindString(text); k != "" {
				t.Errorf("PDF text has an untranslated key: %s", k)
			}
		})
	}
}

func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("TRACEWIRE_CHROMIUM"); p != "" {
		return p
	}
	for _, n := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	t.Skip("skipping: no Chromium installed (.ci/run installs Debian's chromium); set TRACEWIRE_CHROMIUM to use another")
	return ""
}

// runChromium runs headless Chromium on a file with extra arguments.
func runChromium(t *testing.T, bin, page string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
		"--user-data-dir=" + t.TempDir()}
	cmd := exec.CommandContext(ctx, bin, append(append(base, args...), "file://"+page)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, stderr.String())
	}
	return stdout.Bytes()
}

// TestHTMLInChromium opens the HTML report in a real headless Chromium:
// the DOM Chromium builds has every section, figure and request, the page
// renders to a screenshot with content, and it prints to PDF.
func TestHTMLInChromium(t *testing.T) {
	bin := chromium(t)
	as := corpusAnalyses(t)
	name := "android_second-run"
	var buf bytes.Buffer
	if err := report.Write(&buf, report.HTML, as[name], goldenOptions(t, name, "en")); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	if err := os.WriteFile(page, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	dom := string(runChromium(t, bin, page, "--dump-dom"))
	for _, id := range []string{"summary", "analysed", "overview", "figures", "compare", "affected", "recipients", "method", "appendix"} {
		if !strings.Contains(dom, `id="`+id+`"`) {
			t.Errorf("the DOM has no section %q", id)
		}
	}
	requests := map[int]bool{}
	for _, f := range as[name].Findings {
		requests[f.Entry.Index] = true
	}
	if got := strings.Count(dom, `class="tx"`); got != len(requests) {
		t.Errorf("%d request blocks in the DOM, want %d", got, len(requests))
	}
	if got := strings.Count(dom, "<svg"); got != 2 {
		t.Errorf("%d inline SVG figures, want 2", got)
	}
	if got := strings.Count(dom, "<mark>"); got < len(as[name].Findings)/2 {
		t.Errorf("only %d marked values in the excerpts", got)
	}
	if strings.Contains(dom, "http://") && strings.Contains(dom, `src="http`) || strings.Contains(dom, `href="http`) && strings.Contains(dom, "stylesheet") {
		t.Error("the report loads external assets")
	}

	shot := filepath.Join(dir, "shot.png")
	runChromium(t, bin, page, "--window-size=1200,2400", "--screenshot="+shot)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	b := img.Bounds()
	if b.Dx() != 1200 || b.Dy() != 2400 {
		t.Errorf("screenshot is %dx%d", b.Dx(), b.Dy())
	}
	dark, colored := 0, 0
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, _ := img.At(x, y).RGBA()
			r, g, bl = r>>8, g>>8, bl>>8
			if r < 100 && g < 100 && bl < 100 {
				dark++
			}
			if max(r, g, bl)-min(r, g, bl) > 60 {
				colored++
			}
		}
	}
	total := (b.Dx() / 3) * (b.Dy() / 3)
	// Text is dark; tables, links and highlights have colour. A blank or
	// unstyled page would have neither in these amounts.
	if dark < total/200 || colored < total/500 {
		t.Errorf("the screenshot looks empty: %d dark and %d coloured of %d sampled pixels", dark, colored, total)
	}

	pdf := filepath.Join(dir, "print.pdf")
	runChromium(t, bin, page, "--no-pdf-header-footer", "--print-to-pdf="+pdf)
	pb, err := os.ReadFile(pdf)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pb, []byte("%PDF")) || len(pdfPageRe.FindAll(pb, -1)) < 3 {
		t.Errorf("printing to PDF gave %d bytes, %d pages", len(pb), len(pdfPageRe.FindAll(pb, -1)))
	}
}
