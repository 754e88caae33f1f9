package report

import (
	"strings"
	"testing"
)

// TestWrapKeepsTokens: lines break at spaces; a word wider than the
// column breaks after a separator and never leaves a tiny piece alone.
func TestWrapKeepsTokens(t *testing.T) {
	d, err := newPDF(&view{Title: "t"})
	if err != nil {
		t.Fatal(err)
	}
	d.setFont("reg", 8.5)
	for _, tc := range []struct {
		text  string
		width float64
	}{
		{"parseJson(body)", 0},
		{"graph.facebook.com", 0},
		{"https://www.google-analytics.com/r/collect?v=1&_v=j101&a=123456789&t=pageview", 0},
		{"the request body read as JSON, then the field “extinfo” of the decoded request body read as JSON.", 0},
	} {
		w := tc.width
		if w == 0 {
			w = d.width(tc.text) * 0.8 // the token overflows a little
		}
		lines := d.wrap(tc.text, w)
		if got := strings.Join(lines, ""); strings.ReplaceAll(got, " ", "") != strings.ReplaceAll(tc.text, " ", "") {
			t.Errorf("%q: wrap lost text: %q", tc.text, lines)
		}
		for _, l := range lines {
			if d.width(l) > w+0.01 {
				t.Errorf("%q: line %q is wider than %.1f", tc.text, l, w)
			}
			if n := len([]rune(strings.TrimSpace(l))); n > 0 && n < minPiece && len(lines) > 1 {
				t.Errorf("%q: a piece of %d runes stands alone: %q", tc.text, n, lines)
			}
		}
	}
	// "graph.facebook." + "com" would leave three runes alone.
	if got := d.wrap("graph.facebook.com", d.width("graph.facebook.c")); strings.Join(got, "|") != "graph.|facebook.com" {
		t.Errorf("graph.facebook.com broke as %q, want graph. | facebook.com", got)
	}
}
