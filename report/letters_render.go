package report

import (
	"bufio"
	"fmt"
	"html/template"
	"io"
)

// The letters are plain documents: an address block, paragraphs, lists
// and a table or two. They share the report's styles and PDF primitives.
var letterTmpl = template.Must(template.New("letter").Funcs(template.FuncMap{
	"css": func() template.CSS { return template.CSS(htmlCSS) },
}).Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.L.Title}}</title>
<style>{{css}}
.letter-address { margin: 0 0 1.2em 0; }
.letter-date { text-align: right; }
</style>
</head>
<body>
<main>
{{with .L}}
{{if .From}}<p class="letter-address">{{range $i, $s := .From}}{{if $i}}<br>{{end}}{{$s}}{{end}}</p>{{end}}
{{if .To}}<p class="letter-address">{{range $i, $s := .To}}{{if $i}}<br>{{end}}{{$s}}{{end}}</p>{{end}}
{{if .Date}}<p class="letter-date">{{.Date}}</p>{{end}}
<h1>{{.Title}}</h1>
{{range .Lead}}<p>{{.}}</p>
{{end}}
{{range .Sections}}<section>
{{if .Heading}}<h2>{{.Heading}}</h2>{{end}}
{{range .Blocks}}{{if .Table}}{{with .Table}}<table>
<thead><tr>{{range .Cols}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>{{range .Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</tbody>
</table>{{end}}{{else if .Items}}<ul>{{range .Items}}<li>{{.}}</li>{{end}}</ul>{{else}}<p>{{.Para}}</p>{{end}}
{{end}}
</section>
{{end}}
{{if .Closing}}<p>{{range $i, $s := .Closing}}{{if $i}}<br>{{end}}{{$s}}{{end}}</p>{{end}}
{{end}}
</main>
</body>
</html>
`))

func (l *letter) writeHTML(w io.Writer) error {
	bw := bufio.NewWriter(w)
	if err := letterTmpl.Execute(bw, struct {
		Lang string
		L    *letter
	}{l.lang(), l}); err != nil {
		return err
	}
	return bw.Flush()
}

// lang is only used for the HTML lang attribute.
func (l *letter) lang() string {
	if l.German {
		return "de"
	}
	return "en"
}

func (l *letter) writePDF(w io.Writer) error {
	d, err := newPDF(&view{Title: l.Title, Subtitle: l.Footer, MadeWith: l.Footer})
	if err != nil {
		return err
	}
	d.newPage()
	block := func(lines []string) {
		for _, s := range lines {
			d.para(s, "reg", 10.5, "#1f2328")
			d.y -= 10.5 * 0.5 // lines of one block, not paragraphs
		}
		d.y += 10
	}
	block(l.From)
	block(l.To)
	if l.Date != "" {
		d.para(l.Date, "reg", 10.5, "#1f2328")
	}
	d.heading(1, l.Title)
	for _, p := range l.Lead {
		d.para(p, "reg", 10.5, "#1f2328")
	}
	for _, s := range l.Sections {
		if s.Heading != "" {
			d.heading(2, s.Heading)
		}
		for _, bl := range s.Blocks {
			switch {
			case bl.Table != nil:
				weights := make([]float64, len(bl.Table.Cols))
				for i := range weights {
					weights[i] = 1
				}
				if len(weights) == 4 {
					weights = []float64{1.3, 2.6, 1.2, 0.7}
				}
				d.table(bl.Table.Cols, bl.Table.Rows, weights, nil)
				d.y += 6
			case len(bl.Items) > 0:
				for _, it := range bl.Items {
					d.paraAt(pdfMarginL+12, pdfWidth-12, "• "+it, "reg", 10.5, "#1f2328")
				}
			default:
				d.para(bl.Para, "reg", 10.5, "#1f2328")
			}
		}
	}
	d.y += 8
	block(l.Closing)
	if d.err != nil {
		return fmt.Errorf("letter PDF: %w", d.err)
	}
	if _, err := d.gp.WriteTo(w); err != nil {
		return fmt.Errorf("letter PDF: %w", err)
	}
	return nil
}
