package batch

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/tracewire/tracewire/report"
)

func TestProgress(t *testing.T) {
	var buf bytes.Buffer
	p := NewProgress(&buf, true)
	p.Start(4, nil)
	p.start = p.start.Add(-4e9) // 4 s ago: 2 s per analysis so far
	p.Result(Result{ID: "a", Status: OK})
	p.Result(Result{ID: "b", Status: Skipped})
	p.Result(Result{ID: "x", Status: Failed, Err: "y"})
	p.Done()
	out := buf.String()
	for _, want := range []string{"\r\033[K[###############...............] 2/4  done 1  skipped 1  failed 0 ETA ", "\r\033[Ktracewire: batch: FAILED x: y\n", "3/4  done 1  skipped 1  failed 1"} {
		if !strings.Contains(out, want) {
			t.Errorf("progress output lacks %q:\n%q", want, out)
		}
	}
	if strings.Contains(out, "ok a") {
		t.Errorf("routine line under a bar:\n%q", out)
	}
	// Not a terminal: plain lines, no bar.
	buf.Reset()
	p = NewProgress(&buf, false)
	p.Start(2, []string{"empty"})
	p.Result(Result{ID: "a", Status: OK, Findings: 1, Warnings: []string{"w"}})
	p.Done()
	if want := "tracewire: warning: batch: empty holds no capture, HAR file or experiment folder\ntracewire: batch: ok a (1 findings)\ntracewire: batch: warning: a: w\n"; buf.String() != want {
		t.Errorf("plain output %q, want %q", buf.String(), want)
	}
}

func TestSummaryText(t *testing.T) {
	for _, tc := range []struct {
		results []Result
		want    string
	}{
		{[]Result{{Status: OK}}, "tracewire: batch: 1 analysis: 1 done, 0 skipped (unchanged), 0 failed\n"},
		{[]Result{{Status: Rendered}, {Status: Failed}, {Status: FailedBefore}, {Status: OK, Truncated: true}},
			"tracewire: batch: 4 analyses: 1 done, 1 reports rendered again (analysis unchanged), 0 skipped (unchanged), 2 failed\n" +
				"tracewire: batch: input not read whole in 1 analysis: entries left out or a capture cut short (see the warnings)\n"},
	} {
		var b bytes.Buffer
		(&Summary{Results: tc.results}).WriteText(&b)
		if b.String() != tc.want {
			t.Errorf("got %q, want %q", b.String(), tc.want)
		}
	}
}

func TestParseLists(t *testing.T) {
	fs, err := ParseFormats([]string{"html, md", "", "pdf"})
	if err != nil || !slices.Equal(fs, []report.Format{report.HTML, report.Markdown, report.PDF}) {
		t.Errorf("ParseFormats = %v, %v", fs, err)
	}
	if _, err := ParseFormats([]string{"html,txt"}); err == nil {
		t.Error("ParseFormats(txt): no error")
	}
	ds, err := ParseDocuments([]string{"report,notice", "notice, complaint"})
	if err != nil || !slices.Equal(ds, []report.Document{report.DocNotice, report.DocComplaint}) {
		t.Errorf("ParseDocuments = %v, %v", ds, err)
	}
	if _, err := ParseDocuments([]string{"letter"}); err == nil {
		t.Error("ParseDocuments(letter): no error")
	}
	paths, err := ReadPaths(strings.NewReader(" a \n\n b/c\n"))
	if err != nil || !slices.Equal(paths, []string{"a", "b/c"}) {
		t.Errorf("ReadPaths = %q, %v", paths, err)
	}
}
