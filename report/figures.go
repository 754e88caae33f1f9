package report

import (
	"fmt"
	"html"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// A figure is a drawing in a small shape language that is written as inline
// SVG (HTML) and drawn natively in the PDF, so both show the same picture.
// Coordinates are in figure units, y downwards.
type figure struct {
	W, H    float64
	Caption string
	// Desc describes the figure in words, for screen readers.
	Desc   string
	Shapes []shape
}

type shapeKind int

const (
	shapeRect shapeKind = iota
	shapeCircle
	shapeLine
	shapeText
)

type shape struct {
	Kind       shapeKind
	X, Y, W, H float64 // rect; circle: X, Y centre, W radius; line: X,Y → W,H
	Text       string
	// Anchor is "start", "middle" or "end" (text).
	Anchor string
	Size   float64
	Bold   bool
	Fill   string
	Stroke string
	// Opacity of the fill, 0 means 1.
	Opacity float64
	// Title is a tooltip (SVG only).
	Title string
}

// palette is Okabe and Ito's colour-blind-safe set (without yellow, which
// is hard to see on white paper).
var palette = []string{"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"}

func colorOf(i int) string { return palette[i%len(palette)] }

const (
	figWidth   = 720.0
	figLabelW  = 190.0
	figRight   = 24.0
	figRowH    = 24.0
	figFont    = 11.0
	figSmall   = 9.5
	figAxisPad = 34.0
)

// timelineRow is one recipient's transmissions.
type timelineRow struct {
	Label string
	Times []time.Time
	// Tips are the tooltips of the points (request numbers).
	Tips []string
}

// timelineFigure draws one row per recipient with a dot per transmission
// over [start, end].
func timelineFigure(rows []timelineRow, start, end time.Time, caption, desc string) *figure {
	if len(rows) == 0 {
		return nil
	}
	if !end.After(start) {
		start = start.Add(-500 * time.Millisecond)
		end = start.Add(time.Second)
	}
	f := &figure{W: figWidth, Caption: caption, Desc: desc}
	x0, x1 := figLabelW, figWidth-figRight
	span := end.Sub(start).Seconds()
	xOf := func(t time.Time) float64 {
		return x0 + (x1-x0)*t.Sub(start).Seconds()/span
	}
	top := 8.0
	for i, r := range rows {
		y := top + float64(i)*figRowH + figRowH/2
		if i%2 == 0 {
			f.Shapes = append(f.Shapes, shape{Kind: shapeRect, X: 0, Y: y - figRowH/2, W: figWidth, H: figRowH, Fill: "#f3f4f6"})
		}
		f.Shapes = append(f.Shapes, shape{Kind: shapeText, X: x0 - 8, Y: y + 4, Text: clip(r.Label, 30), Anchor: "end", Size: figFont})
		for j, t := range r.Times {
			sh := shape{Kind: shapeCircle, X: xOf(t), Y: y, W: 4.5, Fill: colorOf(i), Opacity: 0.75}
			if j < len(r.Tips) {
				sh.Title = r.Tips[j]
			}
			f.Shapes = append(f.Shapes, sh)
		}
	}
	axisY := top + float64(len(rows))*figRowH + 4
	f.Shapes = append(f.Shapes, shape{Kind: shapeLine, X: x0, Y: axisY, W: x1, H: axisY, Stroke: "#555555"})
	for _, t := range ticks(start, end, 5) {
		x := xOf(t)
		f.Shapes = append(f.Shapes,
			shape{Kind: shapeLine, X: x, Y: axisY, W: x, H: axisY + 4, Stroke: "#555555"},
			shape{Kind: shapeText, X: x, Y: axisY + 16, Text: tickLabel(t, start, end), Anchor: "middle", Size: figSmall})
	}
	f.Shapes = append(f.Shapes, shape{Kind: shapeText, X: x1, Y: axisY + 29, Text: "UTC", Anchor: "end", Size: figSmall, Fill: "#555555"})
	f.H = axisY + figAxisPad
	return f
}

// ticks returns about n round times between start and end.
func ticks(start, end time.Time, n int) []time.Time {
	span := end.Sub(start)
	steps := []time.Duration{
		time.Millisecond, 2 * time.Millisecond, 5 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond,
		50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond, 500 * time.Millisecond,
		time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
		time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
		time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour,
	}
	step := steps[len(steps)-1]
	for _, s := range steps {
		if span/s <= time.Duration(n) {
			step = s
			break
		}
	}
	for span/step > time.Duration(n) {
		step *= 2
	}
	var out []time.Time
	for t := start.Truncate(step); !t.After(end); t = t.Add(step) {
		if !t.Before(start) {
			out = append(out, t)
		}
	}
	return out
}

func tickLabel(t, start, end time.Time) string {
	t = t.UTC()
	switch span := end.Sub(start); {
	case span > 48*time.Hour:
		return t.Format("2006-01-02")
	case span > 12*time.Hour:
		return t.Format("01-02 15:04")
	case span < 5*time.Second:
		return t.Format("15:04:05.000")
	}
	return t.Format("15:04:05")
}

// barRow is one host with its requests and those that carried findings.
type barRow struct {
	Label         string
	Total, Marked int
	Color         string
}

// barFigure draws one bar per host: all requests in grey, those that
// transmitted personal data in colour.
func barFigure(rows []barRow, caption, desc, legendAll, legendMarked string) *figure {
	if len(rows) == 0 {
		return nil
	}
	f := &figure{W: figWidth, Caption: caption, Desc: desc}
	x0, x1 := 230.0, figWidth-70
	maxV := 1
	for _, r := range rows {
		maxV = max(maxV, r.Total, r.Marked)
	}
	top := 26.0
	// Legend.
	f.Shapes = append(f.Shapes,
		shape{Kind: shapeRect, X: x0, Y: 6, W: 10, H: 10, Fill: "#c9ccd1"},
		shape{Kind: shapeText, X: x0 + 14, Y: 15, Text: legendAll, Size: figSmall},
		shape{Kind: shapeRect, X: x0 + 180, Y: 6, W: 10, H: 10, Fill: palette[0]},
		shape{Kind: shapeText, X: x0 + 194, Y: 15, Text: legendMarked, Size: figSmall})
	const barH = 14.0
	rowH := 20.0
	for i, r := range rows {
		y := top + float64(i)*rowH
		f.Shapes = append(f.Shapes, shape{Kind: shapeText, X: x0 - 8, Y: y + barH - 3, Text: clip(r.Label, 36), Anchor: "end", Size: figFont})
		wAll := (x1 - x0) * float64(r.Total) / float64(maxV)
		wMark := (x1 - x0) * float64(r.Marked) / float64(maxV)
		f.Shapes = append(f.Shapes,
			shape{Kind: shapeRect, X: x0, Y: y, W: math.Max(wAll, 1), H: barH, Fill: "#c9ccd1", Title: r.Label + ": " + strconv.Itoa(r.Total)},
			shape{Kind: shapeRect, X: x0, Y: y, W: math.Max(wMark, 1), H: barH, Fill: r.Color, Title: r.Label + ": " + strconv.Itoa(r.Marked)},
			shape{Kind: shapeText, X: x0 + math.Max(wAll, wMark) + 6, Y: y + barH - 3, Text: strconv.Itoa(r.Marked) + " / " + strconv.Itoa(r.Total), Size: figSmall})
	}
	f.H = top + float64(len(rows))*rowH + 6
	return f
}

// svg writes the figure as an inline SVG element.
func (f *figure) svg() string {
	var b strings.Builder
	num := func(v float64) string { return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64) }
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %s %s" width="100%%" role="img" aria-label="%s" font-family="system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif">`,
		num(f.W), num(f.H), html.EscapeString(f.Desc))
	b.WriteString("\n")
	for _, s := range f.Shapes {
		title := ""
		if s.Title != "" {
			title = "<title>" + html.EscapeString(s.Title) + "</title>"
		}
		fill := s.Fill
		if fill == "" {
			fill = "none"
		}
		op := ""
		if s.Opacity > 0 && s.Opacity < 1 {
			op = ` fill-opacity="` + num(s.Opacity) + `"`
		}
		switch s.Kind {
		case shapeRect:
			fmt.Fprintf(&b, `<rect x="%s" y="%s" width="%s" height="%s" fill="%s"%s>%s</rect>`, num(s.X), num(s.Y), num(s.W), num(s.H), fill, op, title)
		case shapeCircle:
			fmt.Fprintf(&b, `<circle cx="%s" cy="%s" r="%s" fill="%s"%s>%s</circle>`, num(s.X), num(s.Y), num(s.W), fill, op, title)
		case shapeLine:
			fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s"/>`, num(s.X), num(s.Y), num(s.W), num(s.H), s.Stroke)
		case shapeText:
			color := s.Fill
			if color == "" {
				color = "#1f2328"
			}
			weight := ""
			if s.Bold {
				weight = ` font-weight="bold"`
			}
			fmt.Fprintf(&b, `<text x="%s" y="%s" font-size="%s" text-anchor="%s" fill="%s"%s>%s</text>`, num(s.X), num(s.Y), num(s.Size), anchorOr(s.Anchor), color, weight, html.EscapeString(s.Text))
		}
		b.WriteString("\n")
	}
	b.WriteString("</svg>")
	return b.String()
}

func anchorOr(a string) string {
	if a == "" {
		return "start"
	}
	return a
}

// sortedKeys returns the keys of m sorted.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
