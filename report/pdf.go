package report

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/signintech/gopdf"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goitalic"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/goregular"
)

// WritePDF writes the report as PDF, in pure Go: the Go fonts are embedded
// (subset) in the file, so it needs nothing installed and looks the same
// everywhere. The content is that of the HTML report; figures are drawn
// natively.
func WritePDF(w io.Writer, a *Analysis, o Options) error {
	v, err := buildView(a, &o)
	if err != nil {
		return err
	}
	return v.writePDF(w)
}

func (v *view) writePDF(w io.Writer) error {
	d, err := newPDF(v)
	if err != nil {
		return err
	}
	d.write()
	if d.err != nil {
		return fmt.Errorf("report PDF: %w", d.err)
	}
	if _, err := d.gp.WriteTo(w); err != nil {
		return fmt.Errorf("report PDF: %w", err)
	}
	return nil
}

// Page geometry in points (A4).
const (
	pdfPageW   = 595.28
	pdfPageH   = 841.89
	pdfMarginL = 46.0
	pdfMarginR = 46.0
	pdfMarginT = 52.0
	pdfMarginB = 58.0
	pdfWidth   = pdfPageW - pdfMarginL - pdfMarginR
	pdfBottom  = pdfPageH - pdfMarginB
)

type fontKey struct {
	name string
	size float64
}

type pdfDoc struct {
	gp     *gopdf.GoPdf
	v      *view
	y      float64
	font   fontKey
	widths map[fontKey]map[rune]float64
	glyphs map[string]map[rune]bool
	err    error
}

func newPDF(v *view) (*pdfDoc, error) {
	gp := &gopdf.GoPdf{}
	gp.Start(gopdf.Config{PageSize: *gopdf.PageSizeA4})
	gp.SetInfo(gopdf.PdfInfo{Title: v.Title + " – " + v.Subtitle, Creator: v.MadeWith, Producer: "tracewire"})
	for _, f := range []struct {
		name string
		ttf  []byte
	}{{"reg", goregular.TTF}, {"bold", gobold.TTF}, {"italic", goitalic.TTF}, {"mono", gomono.TTF}} {
		if err := gp.AddTTFFontData(f.name, f.ttf); err != nil {
			return nil, fmt.Errorf("report PDF: font %s: %w", f.name, err)
		}
	}
	d := &pdfDoc{gp: gp, v: v, widths: map[fontKey]map[rune]float64{}, glyphs: map[string]map[rune]bool{}}
	gp.AddFooter(d.footer)
	return d, nil
}

func (d *pdfDoc) setErr(err error) {
	if err != nil && d.err == nil {
		d.err = err
	}
}

func (d *pdfDoc) setFont(name string, size float64) {
	d.font = fontKey{name, size}
	d.setErr(d.gp.SetFont(name, "", size))
}

// clean replaces what the font cannot show (and control characters).
func (d *pdfDoc) clean(s string) string {
	g := d.glyphs[d.font.name]
	if g == nil {
		g = map[rune]bool{}
		d.glyphs[d.font.name] = g
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\t':
			b.WriteString("    ")
			continue
		case r < 0x20 || r == 0x7f || r == utf8.RuneError:
			b.WriteRune('?')
			continue
		}
		ok, seen := g[r]
		if !seen {
			has, err := d.gp.IsCurrFontContainGlyph(r)
			ok = err == nil && has
			g[r] = ok
		}
		if ok {
			b.WriteRune(r)
		} else {
			b.WriteRune('?')
		}
	}
	return b.String()
}

func (d *pdfDoc) runeWidth(r rune) float64 {
	m := d.widths[d.font]
	if m == nil {
		m = map[rune]float64{}
		d.widths[d.font] = m
	}
	if w, ok := m[r]; ok {
		return w
	}
	w, err := d.gp.MeasureTextWidth(string(r))
	if err != nil {
		w = d.font.size * 0.6
	}
	m[r] = w
	return w
}

func (d *pdfDoc) width(s string) float64 {
	w := 0.0
	for _, r := range s {
		w += d.runeWidth(r)
	}
	return w
}

// wrap breaks s into lines no wider than w: at spaces where it can. A word
// wider than a line (a hash, a URL) is broken after a separator (. / ? & =
// , ; : ( ) _ -) where there is one, and never so that a piece of fewer
// than minPiece runes stands alone ("parseJson(body" / ")").
func (d *pdfDoc) wrap(s string, w float64) []string {
	s = d.clean(s)
	var lines []string
	for _, para := range strings.Split(s, "\n") {
		var line []rune
		lineW := 0.0
		flush := func() {
			lines = append(lines, string(line))
			line, lineW = nil, 0
		}
		for i, word := range strings.Split(para, " ") {
			rs := []rune(word)
			ww := d.runesWidth(rs)
			if i > 0 {
				if sp := d.runeWidth(' '); lineW+sp+ww <= w {
					line = append(append(line, ' '), rs...)
					lineW += sp + ww
					continue
				}
				flush()
			}
			if ww <= w {
				line, lineW = rs, ww
				continue
			}
			for j, piece := range d.splitWord(rs, w) {
				if j > 0 {
					flush()
				}
				line, lineW = piece, d.runesWidth(piece)
			}
		}
		lines = append(lines, string(line))
	}
	return lines
}

const minPiece = 4

// splitWord cuts a word wider than w into pieces no wider than w.
func (d *pdfDoc) splitWord(rs []rune, w float64) [][]rune {
	var out [][]rune
	for len(rs) > 0 {
		n, width := 0, 0.0
		for n < len(rs) && width+d.runeWidth(rs[n]) <= w {
			width += d.runeWidth(rs[n])
			n++
		}
		if n == 0 {
			n = 1 // a rune wider than the column still goes somewhere
		}
		if n < len(rs) {
			// Prefer a separator, leaving neither piece tiny.
			for k := n; k >= minPiece; k-- {
				if strings.ContainsRune("./?&=,;:()_-", rs[k-1]) && len(rs)-k >= minPiece {
					n = k
					break
				}
			}
			if len(rs)-n < minPiece && n > minPiece {
				n -= minPiece - (len(rs) - n)
			}
		}
		out = append(out, rs[:n])
		rs = rs[n:]
	}
	return out
}

func (d *pdfDoc) runesWidth(rs []rune) float64 {
	w := 0.0
	for _, r := range rs {
		w += d.runeWidth(r)
	}
	return w
}

func (d *pdfDoc) newPage() {
	d.gp.AddPage()
	d.y = pdfMarginT
}

// ensure starts a new page unless h more points fit on this one.
func (d *pdfDoc) ensure(h float64) {
	if d.y+h > pdfBottom {
		d.newPage()
	}
}

func (d *pdfDoc) footer() {
	d.gp.SetFont("reg", "", 8)
	d.gp.SetTextColor(110, 118, 129)
	d.gp.SetXY(pdfMarginL, pdfPageH-34)
	n := d.gp.GetNumberOfPages()
	text := d.clean(d.v.Title + " – " + d.v.Subtitle)
	d.setErr(d.gp.Cell(nil, clip(text, 90)))
	num := strconv.Itoa(n)
	d.gp.SetXY(pdfPageW-pdfMarginR-d.width(num), pdfPageH-34)
	d.setErr(d.gp.Cell(nil, num))
	d.gp.SetTextColor(0, 0, 0)
	if d.font.name != "" {
		d.setErr(d.gp.SetFont(d.font.name, "", d.font.size))
	}
}

func (d *pdfDoc) text(x, y float64, s string) {
	d.gp.SetXY(x, y)
	if s != "" {
		d.setErr(d.gp.Cell(nil, s))
	}
}

func rgb(hex string) (uint8, uint8, uint8) {
	if len(hex) != 7 || hex[0] != '#' {
		return 0, 0, 0
	}
	v, err := strconv.ParseUint(hex[1:], 16, 32)
	if err != nil {
		return 0, 0, 0
	}
	return uint8(v >> 16), uint8(v >> 8), uint8(v)
}

func (d *pdfDoc) fill(hex string) {
	r, g, b := rgb(hex)
	d.gp.SetFillColor(r, g, b)
}

func (d *pdfDoc) color(hex string) {
	r, g, b := rgb(hex)
	d.gp.SetTextColor(r, g, b)
}

// heading writes a section heading, kept together with what follows.
func (d *pdfDoc) heading(level int, s string) {
	size := map[int]float64{1: 20, 2: 15, 3: 12.5, 4: 11, 5: 10}[level]
	before := map[int]float64{1: 0, 2: 18, 3: 12, 4: 9, 5: 6}[level]
	d.setFont("bold", size)
	lines := d.wrap(s, pdfWidth)
	lh := size * 1.25
	d.ensure(before + lh*float64(len(lines)) + 60)
	if d.y > pdfMarginT {
		d.y += before
	}
	if level <= 2 {
		d.gp.AddOutline(d.clean(s))
	}
	d.color("#1f2328")
	for _, l := range lines {
		d.text(pdfMarginL, d.y, l)
		d.y += lh
	}
	if level == 2 {
		d.gp.SetStrokeColor(208, 215, 222)
		d.gp.SetLineWidth(1)
		d.gp.Line(pdfMarginL, d.y+1, pdfMarginL+pdfWidth, d.y+1)
		d.y += 6
	}
	d.y += 2
}

// para writes wrapped text.
func (d *pdfDoc) para(s, font string, size float64, color string) {
	d.paraAt(pdfMarginL, pdfWidth, s, font, size, color)
}

func (d *pdfDoc) paraAt(x, w float64, s, font string, size float64, color string) {
	if s == "" {
		return
	}
	d.setFont(font, size)
	d.color(color)
	lh := size * 1.4
	for _, l := range d.wrap(s, w) {
		d.ensure(lh)
		d.text(x, d.y, l)
		d.y += lh
	}
	d.y += size * 0.5
	d.color("#1f2328")
}

// table draws a table with wrapped cells; weights set the column widths.
// The header row is repeated on each new page.
func (d *pdfDoc) table(head []string, rows [][]string, weights []float64, mono map[int]bool) {
	const size, pad = 8.5, 3.0
	lh := size * 1.3
	total := 0.0
	for _, w := range weights {
		total += w
	}
	cols := make([]float64, len(weights))
	for i, w := range weights {
		cols[i] = pdfWidth * w / total
	}
	fontOf := func(i int, header bool) string {
		switch {
		case header:
			return "bold"
		case mono[i]:
			return "mono"
		}
		return "reg"
	}
	layout := func(cells []string, header bool) ([][]string, float64) {
		out := make([][]string, len(cols))
		h := 0.0
		for i := range cols {
			c := ""
			if i < len(cells) {
				c = cells[i]
			}
			fs := size
			if fontOf(i, header) == "mono" {
				fs = size - 0.5
			}
			d.setFont(fontOf(i, header), fs)
			out[i] = d.wrap(c, cols[i]-2*pad)
			h = math.Max(h, float64(len(out[i]))*lh+2*pad)
		}
		return out, h
	}
	drawRow := func(cells [][]string, h float64, header bool) {
		if header {
			d.fill("#f0f2f5")
			d.gp.RectFromUpperLeftWithStyle(pdfMarginL, d.y, pdfWidth, h, "F")
		}
		x := pdfMarginL
		for i := range cols {
			fs := size
			if fontOf(i, header) == "mono" {
				fs = size - 0.5
			}
			d.setFont(fontOf(i, header), fs)
			for j, l := range cells[i] {
				d.text(x+pad, d.y+pad+float64(j)*lh, l)
			}
			x += cols[i]
		}
		d.gp.SetStrokeColor(208, 215, 222)
		d.gp.SetLineWidth(0.5)
		d.gp.Line(pdfMarginL, d.y+h, pdfMarginL+pdfWidth, d.y+h)
		d.y += h
	}
	d.color("#1f2328")
	var hc [][]string
	var hh float64
	if len(head) > 0 {
		hc, hh = layout(head, true)
	}
	d.ensure(hh + lh*2 + 2*pad)
	if hc != nil {
		drawRow(hc, hh, true)
	}
	maxRow := pdfBottom - pdfMarginT - hh - 4
	for _, r := range rows {
		cells, h := layout(r, false)
		if h > maxRow {
			// A row taller than a page: cut its cells to fit.
			keep := int((maxRow - 2*pad) / lh)
			for i := range cells {
				if len(cells[i]) > keep {
					cells[i] = append(cells[i][:keep-1], "…")
				}
			}
			h = maxRow
		}
		if d.y+h > pdfBottom {
			d.newPage()
			if hc != nil {
				drawRow(hc, hh, true)
			}
		}
		drawRow(cells, h, false)
	}
	d.y += 8
}

func (d *pdfDoc) kvTable(kvs []kv) {
	rows := make([][]string, len(kvs))
	for i, x := range kvs {
		rows[i] = []string{x.K, x.V}
	}
	d.table(nil, rows, []float64{1, 2.2}, nil)
}

// code draws monospaced lines on a grey background, with marked segments
// on yellow.
func (d *pdfDoc) code(lines []excerptLine) {
	const size = 7.5
	lh := size * 1.35
	d.setFont("mono", size)
	cw := d.runeWidth('m')
	perLine := int((pdfWidth - 8) / cw)
	type piece struct {
		segs []segment
		gap  bool
	}
	var pieces []piece
	for _, l := range lines {
		if l.Gap {
			pieces = append(pieces, piece{gap: true})
			continue
		}
		// Wrap the line's segments at perLine characters.
		var cur []segment
		n := 0
		for _, s := range l.Segs {
			t := []rune(d.clean(s.Text))
			for len(t) > 0 {
				room := perLine - n
				if room <= 0 {
					pieces = append(pieces, piece{segs: cur})
					cur, n, room = nil, 0, perLine
				}
				k := min(room, len(t))
				cur = append(cur, segment{Text: string(t[:k]), Mark: s.Mark})
				n += k
				t = t[k:]
			}
		}
		pieces = append(pieces, piece{segs: cur})
	}
	d.ensure(lh*float64(min(len(pieces), 4)) + 6)
	d.y += 2
	for _, p := range pieces {
		d.ensure(lh)
		d.fill("#f6f8fa")
		d.gp.RectFromUpperLeftWithStyle(pdfMarginL, d.y, pdfWidth, lh, "F")
		x := pdfMarginL + 4
		d.setFont("mono", size)
		if p.gap {
			d.color("#6e7781")
			d.text(x, d.y+1, "…")
			d.color("#1f2328")
			d.y += lh
			continue
		}
		for _, s := range p.segs {
			w := float64(utf8.RuneCountInString(s.Text)) * cw
			if s.Mark {
				d.fill("#ffe08a")
				d.gp.RectFromUpperLeftWithStyle(x, d.y, w, lh, "F")
				d.setFont("mono", size)
			}
			d.text(x, d.y+1, s.Text)
			x += w
		}
		d.y += lh
	}
	d.y += 6
}

// plainCode draws text as a code block.
func (d *pdfDoc) plainCode(text string) {
	var lines []excerptLine
	for _, l := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		lines = append(lines, excerptLine{Segs: []segment{{Text: l}}})
	}
	d.code(lines)
}

// figure draws a figure scaled to the text width.
func (d *pdfDoc) figure(f *figure) {
	if f == nil {
		return
	}
	s := pdfWidth / f.W
	h := f.H * s
	d.ensure(h + 30)
	x0, y0 := pdfMarginL, d.y
	for _, sh := range f.Shapes {
		switch sh.Kind {
		case shapeRect:
			d.fill(sh.Fill)
			d.gp.RectFromUpperLeftWithStyle(x0+sh.X*s, y0+sh.Y*s, sh.W*s, sh.H*s, "F")
		case shapeCircle:
			d.fill(sh.Fill)
			var pts []gopdf.Point
			for k := 0; k < 12; k++ {
				a := 2 * math.Pi * float64(k) / 12
				pts = append(pts, gopdf.Point{X: x0 + (sh.X+sh.W*math.Cos(a))*s, Y: y0 + (sh.Y+sh.W*math.Sin(a))*s})
			}
			d.gp.Polygon(pts, "F")
		case shapeLine:
			r, g, b := rgb(sh.Stroke)
			d.gp.SetStrokeColor(r, g, b)
			d.gp.SetLineWidth(0.6)
			d.gp.Line(x0+sh.X*s, y0+sh.Y*s, x0+sh.W*s, y0+sh.H*s)
		case shapeText:
			font := "reg"
			if sh.Bold {
				font = "bold"
			}
			size := sh.Size * s
			d.setFont(font, size)
			t := d.clean(sh.Text)
			w := d.width(t)
			x := x0 + sh.X*s
			switch sh.Anchor {
			case "middle":
				x -= w / 2
			case "end":
				x -= w
			}
			c := sh.Fill
			if c == "" {
				c = "#1f2328"
			}
			d.color(c)
			// SVG places text by its baseline; Cell by its top.
			d.text(x, y0+sh.Y*s-size*0.78, t)
		}
	}
	d.color("#1f2328")
	d.y += h + 4
	d.para(f.Caption, "italic", 8.5, "#57606a")
}

func (d *pdfDoc) write() {
	v := d.v
	d.newPage()
	d.heading(1, v.Title)
	d.para(v.Subtitle, "bold", 12, "#1f2328")
	d.para(v.MadeWith, "italic", 9, "#57606a")

	d.heading(2, v.L("report.section.summary"))
	d.para(v.SummaryLead, "reg", 10, "#1f2328")
	d.kvTable(v.Summary)

	d.heading(2, v.L("report.section.analysed"))
	d.kvTable(v.Meta)
	if len(v.Inputs) > 0 {
		d.heading(3, v.L("report.inputs.title"))
		var rows [][]string
		for _, in := range v.Inputs {
			rows = append(rows, []string{in.Name, in.Role, in.Size, in.SHA256})
		}
		d.table([]string{v.L("report.col.file"), v.L("report.col.role"), v.L("report.col.size"), v.L("report.col.sha256")},
			rows, []float64{1.6, 1.3, 0.8, 2.6}, map[int]bool{3: true})
	}

	if mx := v.Matrix; mx != nil {
		d.heading(2, v.L("report.section.overview"))
		d.para(v.L("report.overview.lead"), "reg", 10, "#1f2328")
		// Six recipients fit beside the labels; more go to further
		// tables of about the same width.
		groups := (len(mx.Cols) + 5) / 6
		per := (len(mx.Cols) + groups - 1) / groups
		for start := 0; start < len(mx.Cols); start += per {
			end := min(start+per, len(mx.Cols))
			head := append([]string{v.L("report.col.dataType")}, mx.Cols[start:end]...)
			weights := []float64{2.4}
			for range mx.Cols[start:end] {
				weights = append(weights, 1)
			}
			var rows [][]string
			for _, r := range mx.Rows {
				row := []string{r.Label}
				for _, c := range r.Cells[start:end] {
					if c == "" {
						c = "–"
					}
					row = append(row, c)
				}
				rows = append(rows, row)
			}
			d.table(head, rows, weights, nil)
		}
	}

	if v.Timeline != nil {
		d.heading(2, v.L("report.section.figures"))
		d.figure(v.Timeline)
		d.figure(v.Hosts)
	}

	if c := v.Compare; c != nil {
		d.heading(2, v.L("report.section.compare"))
		d.para(c.Lead, "reg", 10, "#1f2328")
		d.para(c.Counts, "reg", 10, "#1f2328")
		var rows [][]string
		for _, r := range c.Rows {
			rows = append(rows, []string{r.Recipient, r.DataType, r.Status, r.Before, r.After, r.Values})
		}
		d.table([]string{v.L("report.col.recipient"), v.L("report.col.dataType"), v.L("report.col.status"),
			v.L("report.col.before"), v.L("report.col.after"), v.L("report.col.values")}, rows, []float64{1.3, 1.8, 1, 0.8, 0.8, 1}, nil)
	}

	if len(v.Affected) > 0 {
		d.heading(2, v.L("report.section.affected"))
		d.para(v.L("report.affected.lead"), "reg", 10, "#1f2328")
		for _, af := range v.Affected {
			d.heading(3, af.Title)
			for _, l := range af.Lines {
				d.para(l, "reg", 9.5, "#1f2328")
			}
			if len(af.Rows) > 0 {
				var rows [][]string
				for _, r := range af.Rows {
					rows = append(rows, []string{r.Host, r.Recipient, r.Apps, r.First, r.Last, r.Hits})
				}
				d.table([]string{v.L("report.col.host"), v.L("report.col.recipient"), v.L("report.col.apps"),
					v.L("report.col.first"), v.L("report.col.last"), v.L("report.col.contacts")}, rows, []float64{1.6, 1.1, 1.4, 1.3, 1.3, 0.7}, nil)
			} else if af.None != "" {
				d.para(af.None, "reg", 9.5, "#1f2328")
			}
		}
	}

	if len(v.Recipients) > 0 {
		d.heading(2, v.L("report.section.recipients"))
		d.para(v.L("report.recipients.lead"), "reg", 10, "#1f2328")
		for i := range v.Recipients {
			d.recipient(&v.Recipients[i])
		}
	}

	if t := v.Undecoded; t.Title != "" {
		d.heading(2, t.Title)
		d.para(t.Lead, "reg", 10, "#1f2328")
		if len(t.Rows) > 0 {
			d.table(t.Cols, t.Rows, []float64{1.3, 2.2, 1.0, 2.0}, map[int]bool{1: true})
		}
		d.para(t.More, "reg", 9.5, "#1f2328")
	}

	d.method()

	if len(v.Appendix) > 0 {
		d.newPage()
		d.heading(2, v.L("report.section.appendix"))
		d.para(v.L("report.appendix.lead"), "reg", 10, "#1f2328")
		for _, ae := range v.Appendix {
			d.heading(3, ae.Heading)
			var b strings.Builder
			b.WriteString(ae.RequestLine + "\n")
			for _, h := range ae.Headers {
				b.WriteString(h.K + ": " + h.V + "\n")
			}
			d.plainCode(b.String())
			if ae.Missing != "" {
				d.para(ae.Missing, "italic", 9, "#57606a")
			}
			if ae.BodyLabel != "" {
				d.para(ae.BodyLabel, "bold", 9, "#1f2328")
				d.plainCode(ae.Body)
			}
			if ae.BodyNote != "" {
				d.para(ae.BodyNote, "italic", 9, "#57606a")
			}
		}
	}
}

func (d *pdfDoc) recipient(r *recipientView) {
	v := d.v
	d.heading(3, r.Name)
	for _, p := range r.Description {
		d.para(p, "reg", 9.5, "#1f2328")
	}
	if len(r.Adapters) > 0 {
		d.heading(4, v.L("report.adapters.title"))
		for _, a := range r.Adapters {
			t := a.ID
			if a.Name != "" {
				t += " – " + a.Name
			}
			d.para(t, "bold", 9.5, "#1f2328")
			d.para(a.Description, "italic", 9, "#57606a")
			var rows [][]string
			for _, p := range a.Paths {
				rows = append(rows, []string{p.DataType, p.Location, p.Reasoning})
			}
			d.table([]string{v.L("report.col.dataType"), v.L("report.col.location"), v.L("report.col.reasoning")},
				rows, []float64{1.2, 1.6, 2.4}, map[int]bool{1: true})
		}
	}
	d.heading(4, v.L("report.transmissions.title"))
	for _, t := range r.Txs {
		d.heading(5, t.Heading)
		d.kvTable(t.Facts)
		var rows [][]string
		for _, f := range t.Findings {
			rows = append(rows, []string{f.DataType, f.Value, f.Location, f.Decoding})
		}
		d.table([]string{v.L("report.col.dataType"), v.L("report.col.value"), v.L("report.col.location"), v.L("report.col.decoding")},
			rows, []float64{1.2, 1.7, 1.4, 1.5}, map[int]bool{1: true, 2: true})
		for _, ex := range t.Excerpts {
			// Keep the label with the first lines of its excerpt.
			d.ensure(8.5*1.4 + 4*7.5*1.35 + 8)
			d.para(ex.Label, "italic", 8.5, "#57606a")
			d.code(ex.Lines)
		}
	}
}

func (d *pdfDoc) method() {
	v := d.v
	m := &v.Method
	d.heading(2, v.L("report.section.method"))
	for _, p := range m.Paragraphs {
		d.para(p, "reg", 9.5, "#1f2328")
	}
	for _, e := range m.Enrichment {
		d.paraAt(pdfMarginL+10, pdfWidth-10, "• "+e, "reg", 9, "#1f2328")
	}
	for _, t := range []tableView{m.Undecrypted, m.NoEntries} {
		if t.Title == "" {
			continue
		}
		d.heading(3, t.Title)
		d.para(t.Lead, "reg", 9.5, "#1f2328")
		if len(t.Rows) > 0 {
			d.table(t.Cols, t.Rows, []float64{1.3, 1.3, 1.3, 1.1, 1.4}, nil)
		}
		d.para(t.More, "reg", 9.5, "#1f2328")
	}
	for _, l := range []listView{m.Skipped, m.Notes, m.Warnings} {
		if l.Title == "" {
			continue
		}
		d.heading(3, l.Title)
		d.para(l.Lead, "reg", 9.5, "#1f2328")
		for _, it := range l.Items {
			d.paraAt(pdfMarginL+10, pdfWidth-10, "• "+it, "reg", 8.5, "#1f2328")
		}
		d.para(l.More, "reg", 9.5, "#1f2328")
	}
	d.para(m.Limits, "italic", 9, "#57606a")
}
