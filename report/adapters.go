package report

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/tracewire/tracewire/adapters"
	"github.com/tracewire/tracewire/i18n"
)

// WriteAdapterList writes the table of db's adapters (ID, name, number of
// endpoints and of properties) and the counts of trackers and adapters,
// as "tracewire adapters list" shows them, in lang.
func WriteAdapterList(out io.Writer, db *adapters.DB, lang string) error {
	w := bufio.NewWriter(out)
	t := tablewriter.NewTable(w, tablewriter.WithRowAutoWrap(tw.WrapNone), tablewriter.WithHeaderAutoFormat(tw.Off))
	var head []string
	for _, c := range []string{"adapter", "name", "endpoints", "properties"} {
		head = append(head, i18n.UI(lang, "adapters.column."+c))
	}
	t.Header(head)
	var rows [][]string
	for _, a := range db.Adapters {
		rows = append(rows, []string{a.ID(), i18n.AdapterName(lang, a.Name), strconv.Itoa(len(a.EndpointURLs)), strconv.Itoa(len(a.ContainedDataPaths))})
	}
	if err := t.Bulk(rows); err != nil {
		return err
	}
	if err := t.Render(); err != nil {
		return err
	}
	fmt.Fprintf(w, i18n.UI(lang, "adapters.count")+"\n", len(db.Trackers), len(db.Adapters))
	return w.Flush()
}

// WriteAdapterInfo describes one adapter of db (slug is its ID, such as
// google/app-measurement) or one tracker with all its adapters (slug is
// its slug, such as google) in lang: endpoints, match condition, decoding
// steps and the data paths with their reasoning.
func WriteAdapterInfo(out io.Writer, db *adapters.DB, slug, lang string) error {
	w := bufio.NewWriter(out)
	if a := db.Adapter(slug); a != nil {
		writeAdapter(w, lang, a)
		return w.Flush()
	}
	tr := db.Tracker(slug)
	if tr == nil {
		return fmt.Errorf("no tracker or adapter %q (see \"tracewire adapters list\")", slug)
	}
	fmt.Fprintf(w, "%s — %s\n", tr.Slug, i18n.AdapterName(lang, tr.Name))
	if tr.ExodusID != 0 {
		fmt.Fprintf(w, "Exodus ID: %d\n", tr.ExodusID)
	}
	if tr.DatenanfragenSlug != "" {
		fmt.Fprintf(w, "datenanfragen.de: %s\n", tr.DatenanfragenSlug)
	}
	if tr.Website != "" {
		fmt.Fprintf(w, "Website: %s\n", tr.Website)
	}
	if d := i18n.Tracker(lang, tr.Slug); d != "" {
		fmt.Fprintf(w, "\n%s\n", d)
	}
	for _, a := range tr.Adapters {
		fmt.Fprintln(w)
		writeAdapter(w, lang, a)
	}
	return w.Flush()
}

func writeAdapter(w *bufio.Writer, lang string, a *adapters.Adapter) {
	fmt.Fprintf(w, "adapter %s: %s\n", a.ID(), i18n.AdapterName(lang, a.Name))
	if d := a.Description[lang]; d != "" {
		fmt.Fprintf(w, "  %s\n", d)
	} else if d := a.Description["en"]; d != "" {
		fmt.Fprintf(w, "  %s\n", d)
	}
	fmt.Fprintln(w, "  endpoints:")
	for _, e := range a.EndpointURLs {
		fmt.Fprintf(w, "    %s\n", e)
	}
	if a.Match != nil {
		fmt.Fprintf(w, "  match: %s\n", describeCondition(a.Match))
	}
	if len(a.DecodingSteps) > 0 {
		fmt.Fprintln(w, "  decoding:")
		for _, s := range a.DecodingSteps {
			in := s.Input
			if s.MapInput != "" {
				in = "each of " + s.MapInput
			}
			opts := ""
			if s.Options.Path != "" {
				opts = " path=" + s.Options.Path
			}
			if s.Options.Separator != "" {
				opts += " separator=" + strconv.Quote(s.Options.Separator)
			}
			fmt.Fprintf(w, "    %s(%s)%s → %s\n", s.Function, in, opts, s.Output)
		}
	}
	fmt.Fprintln(w, "  data:")
	for _, pp := range a.ContainedDataPaths {
		fmt.Fprintf(w, "    %s (%s):\n", pp.Property, i18n.Property(lang, pp.Property))
		for _, dp := range pp.Paths {
			extra := ""
			if dp.KeyMatches != "" {
				extra += " keyMatches=/" + dp.KeyMatches + "/"
			}
			if len(dp.OnlyIf) > 0 {
				extra += " onlyIf=" + describeTests(dp.OnlyIf)
			}
			if len(dp.NotIf) > 0 {
				extra += " notIf=" + describeTests(dp.NotIf)
			}
			fmt.Fprintf(w, "      %s %s%s — %s\n", dp.Context, dp.Path, extra, i18n.Reasoning(lang, dp.Reasoning))
		}
	}
}

func describeTests(ts adapters.ValueTests) string {
	var parts []string
	for _, t := range ts {
		if t.Regex != "" {
			parts = append(parts, "/"+t.Regex+"/")
		} else {
			parts = append(parts, strconv.Quote(t.Value))
		}
	}
	return strings.Join(parts, "|")
}

func describeCondition(c *adapters.Condition) string {
	var parts []string
	if c.Method != "" {
		parts = append(parts, "method "+c.Method)
	}
	if c.HasBody != nil {
		parts = append(parts, "hasBody "+strconv.FormatBool(*c.HasBody))
	}
	if c.BodyStartsWith != "" {
		parts = append(parts, "body starts with "+strconv.Quote(c.BodyStartsWith))
	}
	if c.BodyContains != "" {
		parts = append(parts, "body contains "+strconv.Quote(c.BodyContains))
	}
	if c.BodyMatches != "" {
		parts = append(parts, "body matches /"+c.BodyMatches+"/")
	}
	if c.ContentType != "" {
		parts = append(parts, "content type contains "+strconv.Quote(c.ContentType))
	}
	if c.HasQuery != nil {
		parts = append(parts, "hasQuery "+strconv.FormatBool(*c.HasQuery))
	}
	if c.QueryHas != "" {
		parts = append(parts, "query has "+c.QueryHas)
	}
	if c.HeaderHas != "" {
		parts = append(parts, "header "+c.HeaderHas)
	}
	if c.Not != nil {
		parts = append(parts, "not ("+describeCondition(c.Not)+")")
	}
	for i := range c.AnyOf {
		parts = append(parts, "any of ("+describeCondition(&c.AnyOf[i])+")")
	}
	for i := range c.AllOf {
		parts = append(parts, "("+describeCondition(&c.AllOf[i])+")")
	}
	if len(parts) == 0 {
		return "always"
	}
	return strings.Join(parts, " and ")
}
