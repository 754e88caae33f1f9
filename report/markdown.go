package report

import (
	"bufio"
	"io"
	"strings"
)

// WriteMarkdown writes the report as Markdown (CommonMark with GitHub's
// tables). Marked values in excerpts are enclosed in »…«, since code
// blocks cannot highlight; figures are left to the HTML and PDF reports.
func WriteMarkdown(w io.Writer, a *Analysis, o Options) error {
	v, err := buildView(a, &o)
	if err != nil {
		return err
	}
	return v.writeMarkdown(w)
}

func (v *view) writeMarkdown(w io.Writer) error {
	bw := bufio.NewWriter(w)
	m := &mdWriter{w: bw, v: v}
	m.write()
	return bw.Flush()
}

type mdWriter struct {
	w *bufio.Writer
	v *view
}

func (m *mdWriter) p(s ...string) {
	for _, x := range s {
		m.w.WriteString(x)
	}
	m.w.WriteString("\n")
}

// mdText escapes text so Markdown shows it as is. Underscores inside a
// word and "#" after the start never act as markup, so they stay bare and
// the Markdown stays readable.
func mdText(s string) string {
	var b strings.Builder
	rs := []rune(s)
	alnum := func(i int) bool {
		if i < 0 || i >= len(rs) {
			return false
		}
		r := rs[i]
		return r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r > 127
	}
	for i, r := range rs {
		switch r {
		case '\\', '`', '*', '[', ']', '<', '|':
			b.WriteByte('\\')
		case '_':
			if !alnum(i-1) || !alnum(i+1) {
				b.WriteByte('\\')
			}
		case '#', '>', '-', '+':
			if i == 0 {
				b.WriteByte('\\')
			}
		case '\n':
			b.WriteByte(' ')
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// mdCode writes s as inline code, with a fence longer than any backtick
// run in it.
func mdCode(s string) string {
	if s == "" {
		return ""
	}
	s = strings.ReplaceAll(s, "\n", " ")
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	pad := ""
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		pad = " "
	}
	// A pipe ends a table cell even inside code.
	s = strings.ReplaceAll(s, "|", `\|`)
	return fence + pad + s + pad + fence
}

// mdBlock writes a fenced code block.
func (m *mdWriter) block(body string) {
	fence := "```"
	for strings.Contains(body, fence) {
		fence += "`"
	}
	m.p(fence)
	m.p(strings.TrimRight(body, "\n"))
	m.p(fence)
	m.p()
}

func (m *mdWriter) table(head []string, rows [][]string) {
	cells := func(cs []string) string {
		return "| " + strings.Join(cs, " | ") + " |"
	}
	m.p(cells(head))
	seps := make([]string, len(head))
	for i := range seps {
		seps[i] = "---"
	}
	m.p(cells(seps))
	for _, r := range rows {
		m.p(cells(r))
	}
	m.p()
}

func escAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = mdText(s)
	}
	return out
}

func (m *mdWriter) kvTable(kvs []kv) {
	rows := make([][]string, len(kvs))
	for i, x := range kvs {
		rows[i] = []string{"**" + mdText(x.K) + "**", mdText(x.V)}
	}
	m.table([]string{"", ""}, rows)
}

func (m *mdWriter) write() {
	v := m.v
	m.p("# ", mdText(v.Title))
	m.p()
	m.p("**", mdText(v.Subtitle), "**")
	m.p()
	m.p("*", mdText(v.MadeWith), "*")
	m.p()

	m.p("## ", mdText(v.L("report.section.summary")))
	m.p()
	m.p(mdText(v.SummaryLead))
	m.p()
	m.kvTable(v.Summary)

	m.p("## ", mdText(v.L("report.section.analysed")))
	m.p()
	m.kvTable(v.Meta)
	if len(v.Inputs) > 0 {
		m.p("### ", mdText(v.L("report.inputs.title")))
		m.p()
		var rows [][]string
		for _, in := range v.Inputs {
			rows = append(rows, []string{mdText(in.Name), mdText(in.Role), mdText(in.Size), mdCode(in.SHA256)})
		}
		m.table(escAll([]string{v.L("report.col.file"), v.L("report.col.role"), v.L("report.col.size"), v.L("report.col.sha256")}), rows)
	}

	if mx := v.Matrix; mx != nil {
		m.p("## ", mdText(v.L("report.section.overview")))
		m.p()
		m.p(mdText(v.L("report.overview.lead")))
		m.p()
		head := append([]string{mdText(v.L("report.col.dataType"))}, escAll(mx.Cols)...)
		var rows [][]string
		for _, r := range mx.Rows {
			row := []string{mdText(r.Label)}
			for _, c := range r.Cells {
				if c == "" {
					c = "–"
				}
				row = append(row, c)
			}
			rows = append(rows, row)
		}
		m.table(head, rows)
	}

	if c := v.Compare; c != nil {
		m.p("## ", mdText(v.L("report.section.compare")))
		m.p()
		m.p(mdText(c.Lead))
		m.p()
		m.p(mdText(c.Counts))
		m.p()
		var rows [][]string
		for _, r := range c.Rows {
			rows = append(rows, escAll([]string{r.Recipient, r.DataType, r.Status, r.Before, r.After, r.Values}))
		}
		m.table(escAll([]string{v.L("report.col.recipient"), v.L("report.col.dataType"), v.L("report.col.status"),
			v.L("report.col.before"), v.L("report.col.after"), v.L("report.col.values")}), rows)
	}

	if len(v.Affected) > 0 {
		m.p("## ", mdText(v.L("report.section.affected")))
		m.p()
		m.p(mdText(v.L("report.affected.lead")))
		m.p()
		for _, af := range v.Affected {
			m.p("### ", mdText(af.Title))
			m.p()
			for _, l := range af.Lines {
				m.p(mdText(l))
				m.p()
			}
			if len(af.Rows) > 0 {
				var rows [][]string
				for _, r := range af.Rows {
					rows = append(rows, escAll([]string{r.Host, r.Recipient, r.Apps, r.First, r.Last, r.Hits}))
				}
				m.table(escAll([]string{v.L("report.col.host"), v.L("report.col.recipient"), v.L("report.col.apps"),
					v.L("report.col.first"), v.L("report.col.last"), v.L("report.col.contacts")}), rows)
			} else if af.None != "" {
				m.p(mdText(af.None))
				m.p()
			}
		}
	}

	if len(v.Recipients) > 0 {
		m.p("## ", mdText(v.L("report.section.recipients")))
		m.p()
		m.p(mdText(v.L("report.recipients.lead")), " ", mdText(v.L("report.excerpt.legend")))
		m.p()
		for _, r := range v.Recipients {
			m.recipient(&r)
		}
	}

	if t := v.Undecoded; t.Title != "" {
		m.p("## ", mdText(t.Title))
		m.p()
		m.p(mdText(t.Lead))
		m.p()
		if len(t.Rows) > 0 {
			var rows [][]string
			for _, r := range t.Rows {
				rows = append(rows, []string{mdText(r[0]), mdCode(r[1]), mdText(r[2]), mdText(r[3])})
			}
			m.table(escAll(t.Cols), rows)
		}
		if t.More != "" {
			m.p(mdText(t.More))
			m.p()
		}
	}

	m.method()

	if len(v.Appendix) > 0 {
		m.p("## ", mdText(v.L("report.section.appendix")))
		m.p()
		m.p(mdText(v.L("report.appendix.lead")))
		m.p()
		for _, ae := range v.Appendix {
			// An explicit anchor: renderers name headings differently.
			m.p(`<a id="`, ae.Anchor, `"></a>`)
			m.p()
			m.p("### ", mdText(ae.Heading))
			m.p()
			var b strings.Builder
			b.WriteString(ae.RequestLine + "\n")
			for _, h := range ae.Headers {
				b.WriteString(h.K + ": " + h.V + "\n")
			}
			m.block(b.String())
			if ae.Missing != "" {
				m.p(mdText(ae.Missing))
				m.p()
			}
			if ae.BodyLabel != "" {
				m.p(mdText(ae.BodyLabel))
				m.p()
				m.block(ae.Body)
			}
			if ae.BodyNote != "" {
				m.p("*", mdText(ae.BodyNote), "*")
				m.p()
			}
		}
	}
}

func (m *mdWriter) recipient(r *recipientView) {
	v := m.v
	m.p("### ", mdText(r.Name))
	m.p()
	for _, d := range r.Description {
		m.p(mdText(d))
		m.p()
	}
	if len(r.Adapters) > 0 {
		m.p("#### ", mdText(v.L("report.adapters.title")))
		m.p()
		for _, a := range r.Adapters {
			line := mdCode(a.ID)
			if a.Name != "" {
				line += " – " + mdText(a.Name)
			}
			m.p(line)
			m.p()
			if a.Description != "" {
				m.p("*", mdText(a.Description), "*")
				m.p()
			}
			var rows [][]string
			for _, p := range a.Paths {
				rows = append(rows, []string{mdText(p.DataType), mdCode(p.Location), mdText(p.Reasoning)})
			}
			m.table(escAll([]string{v.L("report.col.dataType"), v.L("report.col.location"), v.L("report.col.reasoning")}), rows)
		}
	}
	m.p("#### ", mdText(v.L("report.transmissions.title")))
	m.p()
	for _, t := range r.Txs {
		m.p("##### ", mdText(t.Heading))
		m.p()
		for _, f := range t.Facts {
			m.p("- **", mdText(f.K), ":** ", mdText(f.V))
		}
		if t.AppendixAnchor != "" {
			m.p("- **", mdText(v.L("report.tx.full")), ":** [", mdText(v.L("report.tx.seeAppendix")), "](#", t.AppendixAnchor, ")")
		}
		m.p()
		var rows [][]string
		for _, f := range t.Findings {
			rows = append(rows, []string{mdText(f.DataType), mdCode(f.Value), mdCode(f.Location), mdText(f.Decoding)})
		}
		m.table(escAll([]string{v.L("report.col.dataType"), v.L("report.col.value"), v.L("report.col.location"), v.L("report.col.decoding")}), rows)
		for _, ex := range t.Excerpts {
			m.p("*", mdText(ex.Label), "*")
			m.p()
			m.block(excerptText(ex.Lines, "»", "«"))
		}
	}
}

// excerptText writes excerpt lines as text with the marks between open and
// close.
func excerptText(lines []excerptLine, open, close string) string {
	var b strings.Builder
	for _, l := range lines {
		if l.Gap {
			b.WriteString("…\n")
			continue
		}
		for _, s := range l.Segs {
			if s.Mark {
				b.WriteString(open + s.Text + close)
			} else {
				b.WriteString(s.Text)
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

func (m *mdWriter) method() {
	v := m.v
	me := &v.Method
	m.p("## ", mdText(v.L("report.section.method")))
	m.p()
	for _, p := range me.Paragraphs {
		m.p(mdText(p))
		m.p()
	}
	for _, e := range me.Enrichment {
		m.p("- ", mdText(e))
	}
	if len(me.Enrichment) > 0 {
		m.p()
	}
	for _, t := range []tableView{me.Undecrypted, me.NoEntries} {
		if t.Title == "" {
			continue
		}
		m.p("### ", mdText(t.Title))
		m.p()
		m.p(mdText(t.Lead))
		m.p()
		if len(t.Rows) > 0 {
			var rows [][]string
			for _, r := range t.Rows {
				rows = append(rows, escAll(r))
			}
			m.table(escAll(t.Cols), rows)
		}
		if t.More != "" {
			m.p(mdText(t.More))
			m.p()
		}
	}
	for _, l := range []listView{me.Skipped, me.Notes, me.Warnings} {
		if l.Title == "" {
			continue
		}
		m.p("### ", mdText(l.Title))
		m.p()
		m.p(mdText(l.Lead))
		m.p()
		for _, it := range l.Items {
			m.p("- ", mdText(it))
		}
		m.p()
		if l.More != "" {
			m.p(mdText(l.More))
			m.p()
		}
	}
	m.p("*", mdText(me.Limits), "*")
	m.p()
}
