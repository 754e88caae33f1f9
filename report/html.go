package report

import (
	"bufio"
	_ "embed"
	"html/template"
	"io"
)

//go:embed templates/report.html.tmpl
var htmlTemplate string

//go:embed templates/report.css
var htmlCSS string

var htmlTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"svg": func(f *figure) template.HTML {
		// The SVG is built from escaped text by figure.svg.
		return template.HTML(f.svg())
	},
	"css":   func() template.CSS { return template.CSS(htmlCSS) },
	"list2": func(a, b tableView) []tableView { return []tableView{a, b} },
	"lists": func(ls ...listView) []listView { return ls },
}).Parse(htmlTemplate))

// WriteHTML writes the report as one self-contained HTML file: styles and
// figures are inline, nothing is loaded from elsewhere, and it prints on
// paper (A4 or Letter) with a print style sheet.
func WriteHTML(w io.Writer, a *Analysis, o Options) error {
	v, err := buildView(a, &o)
	if err != nil {
		return err
	}
	return v.writeHTML(w)
}

func (v *view) writeHTML(w io.Writer) error {
	bw := bufio.NewWriter(w)
	if err := htmlTmpl.Execute(bw, v); err != nil {
		return err
	}
	return bw.Flush()
}

// L returns a label of the report's language (for templates).
func (v *view) L(key string) string { return v.tr.t(key) }
