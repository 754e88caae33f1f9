package batch

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/tracewire/tracewire/internal/listflag"
	"github.com/tracewire/tracewire/report"
)

// Progress reports a run as "tracewire batch" shows it: on a terminal a
// progress bar with counts and an estimate of the time left, with
// failures and warnings above it; elsewhere one line per analysis. Its
// Start and Result methods are an Options.Started and Ended.
type Progress struct {
	w      io.Writer
	tty    bool
	total  int
	n      int
	counts map[Status]int
	start  time.Time
	shown  bool
}

// NewProgress reports a run on w, a terminal when tty.
func NewProgress(w io.Writer, tty bool) *Progress {
	return &Progress{w: w, tty: tty, counts: map[Status]int{}, start: time.Now()}
}

// Start warns of the folders given that hold nothing to analyse, and
// starts the count of total analyses.
func (p *Progress) Start(total int, emptyFolders []string) {
	for _, d := range emptyFolders {
		fmt.Fprintf(p.w, "tracewire: warning: batch: %s holds no capture, HAR file or experiment folder\n", d)
	}
	p.total, p.start = total, time.Now()
}

// line prints a line that must be seen (a failure), above the bar.
func (p *Progress) line(s string) {
	if p.tty && p.shown {
		fmt.Fprint(p.w, "\r\033[K")
	}
	fmt.Fprintln(p.w, s)
	p.draw()
}

// log prints a routine line, only when there is no bar.
func (p *Progress) log(s string) {
	if !p.tty {
		fmt.Fprintln(p.w, s)
	}
}

// Result reports an analysis that ended.
func (p *Progress) Result(r Result) {
	switch r.Status {
	case Failed:
		p.line(fmt.Sprintf("tracewire: batch: FAILED %s: %s", r.ID, r.Err))
	case FailedBefore:
		p.line(fmt.Sprintf("tracewire: batch: FAILED %s (in an earlier run; --retry-failed runs it again): %s", r.ID, r.Err))
	default:
		p.log(fmt.Sprintf("tracewire: batch: %s %s (%d findings)", r.Status, r.ID, r.Findings))
	}
	for _, w := range r.Warnings {
		p.line(fmt.Sprintf("tracewire: batch: warning: %s: %s", r.ID, w))
	}
	p.n++
	p.counts[r.Status]++
	p.draw()
}

func (p *Progress) draw() {
	if !p.tty || p.total == 0 {
		return
	}
	const width = 30
	filled := width * p.n / p.total
	eta := ""
	if p.n > 0 && p.n < p.total {
		// Wall-clock time only paces the display; it never reaches output.
		left := time.Since(p.start) / time.Duration(p.n) * time.Duration(p.total-p.n)
		eta = " ETA " + left.Round(time.Second).String()
	}
	fmt.Fprintf(p.w, "\r\033[K[%s%s] %d/%d  done %d  skipped %d  failed %d%s",
		strings.Repeat("#", filled), strings.Repeat(".", width-filled), p.n, p.total,
		p.counts[OK]+p.counts[Rendered], p.counts[Skipped], p.counts[Failed]+p.counts[FailedBefore], eta)
	p.shown = true
}

// Done ends the bar.
func (p *Progress) Done() {
	if p.tty && p.shown {
		fmt.Fprintln(p.w)
	}
}

// WriteText writes what a run did, as "tracewire batch" ends: the
// analyses done, rendered again, skipped and failed, and a line naming
// how many were not read whole.
func (s *Summary) WriteText(w io.Writer) {
	line := fmt.Sprintf("tracewire: batch: %s: %d done", plural(len(s.Results), "analysis", "analyses"), s.Count(OK))
	if n := s.Count(Rendered); n > 0 {
		line += fmt.Sprintf(", %d reports rendered again (analysis unchanged)", n)
	}
	fmt.Fprintf(w, "%s, %d skipped (unchanged), %d failed\n", line, s.Count(Skipped), s.Count(Failed, FailedBefore))
	if n := s.Incomplete(); n > 0 {
		fmt.Fprintf(w, "tracewire: batch: input not read whole in %s: entries left out or a capture cut short (see the warnings)\n", plural(n, "analysis", "analyses"))
	}
}

// plural writes a count with the noun's singular or plural.
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// ReadPaths reads the paths of a run from r, one per line (blank lines
// and surrounding space ignored), as a map step of a distributed engine
// gets them.
func ReadPaths(r io.Reader) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			out = append(out, l)
		}
	}
	return out, sc.Err()
}

// ParseFormats reads the values of a list option of report formats,
// each one format or several separated by commas.
func ParseFormats(values []string) ([]report.Format, error) {
	var out []report.Format
	for _, x := range listflag.Split(values) {
		f, err := report.ParseFormat(x)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// ParseDocuments reads the values of a list option of letters, as
// ParseFormats; "report" (always written) and repeats are dropped.
func ParseDocuments(values []string) ([]report.Document, error) {
	var out []report.Document
	for _, x := range listflag.Split(values) {
		d, err := report.ParseDocument(x)
		if err != nil {
			return nil, err
		}
		if d != report.DocReport && !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out, nil
}
