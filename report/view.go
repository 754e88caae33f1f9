package report

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tracewire/tracewire/adapters"
	"github.com/tracewire/tracewire/enrich"
	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/i18n"
	"github.com/tracewire/tracewire/match"
)

// The view is the report's content, in the report's language, computed
// once and written by each format's renderer, so HTML, Markdown and PDF
// always say the same.
type view struct {
	tr       *translator
	Lang     string
	Title    string
	Subtitle string
	MadeWith string

	SummaryLead string
	Summary     []kv
	Meta        []kv
	Inputs      []inputRow

	Matrix *matrix

	Timeline *figure
	Hosts    *figure

	Compare  *compareView
	Affected []affectedView

	Recipients []recipientView
	// Undecoded lists the requests to tracking companies that no adapter
	// decoded, by endpoint; no Title when the analysis does not say.
	Undecoded tableView
	Method    methodView
	Appendix  []appendixEntry
}

type kv struct{ K, V string }

type inputRow struct{ Name, Role, Size, SHA256 string }

type matrix struct {
	Cols []string
	Rows []matrixRow
}

type matrixRow struct {
	Label string
	Cells []string
}

type compareView struct {
	Lead   string
	Counts string
	Rows   []compareRowView
}

type compareRowView struct {
	Recipient, DataType, Status, StatusKey, Before, After, Values string
}

type affectedView struct {
	Title string
	Lines []string
	Rows  []affectedRowView
	None  string
}

type affectedRowView struct {
	Host, Recipient, Apps, First, Last, Hits string
}

type recipientView struct {
	Anchor      string
	Name        string
	Slug        string
	Description []string
	Adapters    []adapterView
	Txs         []txView
}

type adapterView struct {
	ID, Name    string
	Description string
	Paths       []pathView
}

type pathView struct{ DataType, Location, Reasoning string }

type txView struct {
	Anchor   string
	Heading  string
	Facts    []kv
	Findings []findingView
	Excerpts []excerptView
	// AppendixAnchor links to the full request, "" when it is not there.
	AppendixAnchor string
}

type findingView struct{ DataType, Value, Location, Decoding string }

type excerptView struct {
	Label string
	Lines []excerptLine
}

type methodView struct {
	Paragraphs  []string
	Enrichment  []string
	Undecrypted tableView
	NoEntries   tableView
	Skipped     listView
	Notes       listView
	Warnings    listView
	Limits      string
}

type tableView struct {
	Title string
	Lead  string
	Cols  []string
	Rows  [][]string
	More  string
}

type listView struct {
	Title string
	Lead  string
	Items []string
	More  string
}

type appendixEntry struct {
	Anchor      string
	Heading     string
	RequestLine string
	Headers     []kv
	BodyLabel   string
	Body        string
	BodyNote    string
	Missing     string
}

// Limits of what a report lists.
const (
	maxListed = 50
	// defaultMaxBody cuts long bodies in the appendix, as ReportHAR does:
	// one 128 KB crash report would otherwise fill 17 pages. The full
	// body's size and SHA-256 are given, and --max-body overrides it.
	defaultMaxBody = 4 << 10
	maxHostBars    = 25
)

// tx is one request that carried findings.
type tx struct {
	index    int
	ref      match.EntryRef
	rc       recipient
	findings []*match.Finding
	entry    *har.Entry
	time     time.Time
}

func entryTime(ref match.EntryRef, e *har.Entry) time.Time {
	if ref.Timestamp > 0 {
		return har.TimeOf(ref.Timestamp)
	}
	if e != nil {
		if e.Timestamp > 0 {
			return har.TimeOf(e.Timestamp)
		}
		if !e.StartedDateTime.IsZero() {
			return e.StartedDateTime.UTC()
		}
	}
	if t, err := time.Parse(time.RFC3339Nano, ref.StartedDateTime); err == nil {
		return t.UTC()
	}
	return time.Time{}
}

// transmissions groups the findings by request, in entry order.
func transmissions(a *Analysis) []*tx {
	var out []*tx
	byIndex := map[int]*tx{}
	for i := range a.Findings {
		f := &a.Findings[i]
		t := byIndex[f.Entry.Index]
		if t == nil {
			e := a.Entry(f.Entry.Index)
			t = &tx{index: f.Entry.Index, ref: f.Entry, rc: recipientOf(f), entry: e, time: entryTime(f.Entry, e)}
			byIndex[f.Entry.Index] = t
			out = append(out, t)
		}
		t.findings = append(t.findings, f)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].index < out[j].index })
	return out
}

func anchor(prefix, s string) string {
	var b strings.Builder
	b.WriteString(prefix)
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	return b.String()
}

func buildView(a *Analysis, o *Options) (*view, error) {
	lang := o.Lang
	if lang == "" {
		lang = "en"
	}
	known := false
	for _, l := range i18n.Languages {
		known = known || l == lang
	}
	if !known {
		return nil, fmt.Errorf("report: language %q: want one of %s", lang, strings.Join(i18n.Languages, ", "))
	}
	db := o.DB
	if db == nil {
		var err error
		if db, err = adapters.Default(); err != nil {
			return nil, err
		}
	}
	maxBody := o.MaxBody
	if maxBody == 0 {
		maxBody = defaultMaxBody
	} else if maxBody < 0 {
		maxBody = math.MaxInt
	}
	tr := newTranslator(lang)
	v := &view{tr: tr, Lang: lang}
	name := a.Name
	if name == "" {
		name = tr.t("report.unnamed")
	}
	v.Title = tr.t("report.title")
	v.Subtitle = tr.t("report.subtitle", "name", name)
	v.MadeWith = tr.t("report.madeWith", "tool", orDash(a.Tool.Name), "version", orDash(toolVersion(a.Tool, tr)))

	txs := transmissions(a)
	recips := map[string]*recipientView{}
	var recipOrder []string
	recipTx := map[string][]*tx{}
	props := map[string]map[string]map[int]bool{} // property → recipient → requests
	for _, t := range txs {
		id := t.rc.id
		if recips[id] == nil {
			recips[id] = &recipientView{Name: i18n.AdapterName(lang, t.rc.name), Slug: t.rc.slug, Anchor: anchor("r-", id)}
			recipOrder = append(recipOrder, id)
		}
		recipTx[id] = append(recipTx[id], t)
		for _, f := range t.findings {
			if props[f.Property] == nil {
				props[f.Property] = map[string]map[int]bool{}
			}
			if props[f.Property][id] == nil {
				props[f.Property][id] = map[int]bool{}
			}
			props[f.Property][id][t.index] = true
		}
	}
	sort.SliceStable(recipOrder, func(i, j int) bool {
		p, q := recips[recipOrder[i]], recips[recipOrder[j]]
		if pn, qn := strings.ToLower(p.Name), strings.ToLower(q.Name); pn != qn {
			return pn < qn
		}
		return recipOrder[i] < recipOrder[j]
	})

	// Summary.
	v.SummaryLead = tr.t("report.summary.lead")
	var names []string
	for _, id := range recipOrder {
		names = append(names, recips[id].Name)
	}
	v.Summary = []kv{
		{tr.t("report.summary.entries"), tr.num(a.EntriesRead)},
		{tr.t("report.summary.requests"), tr.num(len(txs))},
		{tr.t("report.summary.recipients"), joinOr(names, tr.t("report.none"))},
		{tr.t("report.summary.types"), tr.num(len(props))},
		{tr.t("report.summary.values"), tr.num(len(a.Findings))},
	}
	if a.Undecoded != nil {
		v.Summary = append(v.Summary, kv{tr.t("report.summary.undecoded"), tr.num(len(a.Undecoded))})
	}
	if len(txs) == 0 {
		v.SummaryLead += " " + tr.t("report.summary.none")
	}

	v.Meta = metaRows(a, tr)
	for _, in := range a.Inputs {
		v.Inputs = append(v.Inputs, inputRow{Name: in.Name, Role: tr.t("report.role." + in.Role), Size: tr.bytes(in.Size), SHA256: in.SHA256})
	}

	// Data types × recipients.
	if len(props) > 0 {
		m := &matrix{}
		for _, id := range recipOrder {
			m.Cols = append(m.Cols, recips[id].Name)
		}
		for _, p := range sortedByLabel(props, lang) {
			row := matrixRow{Label: i18n.Property(lang, p)}
			for _, id := range recipOrder {
				if n := len(props[p][id]); n > 0 {
					row.Cells = append(row.Cells, tr.num(n))
				} else {
					row.Cells = append(row.Cells, "")
				}
			}
			m.Rows = append(m.Rows, row)
		}
		v.Matrix = m
	}

	v.figures(a, txs, recipOrder, recips, recipTx)

	if o.Compare != nil {
		v.Compare = compareSection(o.Compare, a, tr, lang)
	}
	if len(o.DeviceReports) > 0 {
		hosts := map[string]string{}
		for _, t := range txs {
			if h := HostOf(t.ref.URL); h != "" {
				hosts[h] = i18n.AdapterName(lang, t.rc.name)
			}
		}
		for _, d := range o.DeviceReports {
			v.Affected = append(v.Affected, affectedSection(d, hosts, a, AnalysedApp(a, *o), tr))
		}
	}

	// Recipients with their evidence.
	for _, id := range recipOrder {
		rv := recips[id]
		if rv.Slug != "" {
			rv.Description = paragraphs(i18n.Tracker(lang, rv.Slug))
			if len(rv.Description) == 0 {
				rv.Description = []string{tr.t("report.recipient.noDescription")}
			}
		} else {
			rv.Description = []string{tr.t("report.recipient.unknown")}
		}
		rv.Adapters = adapterViews(recipTx[id], db, lang, tr)
		for _, t := range recipTx[id] {
			rv.Txs = append(rv.Txs, txViewOf(t, db, lang, tr))
		}
		v.Recipients = append(v.Recipients, *rv)
	}

	v.Undecoded = undecodedOf(a, tr)
	v.Method = methodOf(a, tr)

	// A body cut short is in the HAR read, or, for a capture, in the HAR
	// convert writes: there is no HAR file to point to.
	cut := "report.appendix.truncatedCapture"
	for _, in := range a.Inputs {
		if in.Role == RoleHAR {
			cut = "report.appendix.truncated"
		}
	}
	for _, t := range txs {
		v.Appendix = append(v.Appendix, appendixOf(t, tr, maxBody, cut))
	}
	return v, nil
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

func joinOr(ss []string, none string) string {
	if len(ss) == 0 {
		return none
	}
	return strings.Join(ss, ", ")
}

// sortedByLabel returns the keys (property names) sorted by their label.
func sortedByLabel[V any](m map[string]V, lang string) []string {
	keys := sortedKeys(m)
	sort.SliceStable(keys, func(i, j int) bool {
		return strings.ToLower(i18n.Property(lang, keys[i])) < strings.ToLower(i18n.Property(lang, keys[j]))
	})
	return keys
}

func metaRows(a *Analysis, tr *translator) []kv {
	var out []kv
	add := func(key, val string) {
		if val != "" {
			out = append(out, kv{tr.t(key), val})
		}
	}
	if s := a.Subject; s != nil {
		if ap := s.App; ap != nil {
			var parts []string
			if ap.Name != "" {
				parts = append(parts, ap.Name)
			}
			if ap.ID != "" {
				if len(parts) > 0 {
					parts[0] += " (" + ap.ID + ")"
				} else {
					parts = append(parts, ap.ID)
				}
			}
			if ap.Version != "" {
				ver := tr.t("report.meta.version", "version", ap.Version)
				if ap.VersionCode != "" {
					ver += " (" + ap.VersionCode + ")"
				}
				parts = append(parts, ver)
			}
			if ap.Platform != "" {
				parts = append(parts, platformName(tr, ap.Platform))
			}
			add("report.meta.app", strings.Join(parts, ", "))
			if ap.MD5 != "" {
				add("report.meta.appMD5", ap.MD5)
			}
		}
		if d := s.Device; d != nil {
			var parts []string
			if m := strings.TrimSpace(d.Manufacturer + " " + d.Model); m != "" {
				parts = append(parts, m)
			}
			if d.Platform != "" || d.OSVersion != "" {
				parts = append(parts, strings.TrimSpace(platformName(tr, d.Platform)+" "+d.OSVersion))
			}
			if d.OSBuild != "" {
				parts = append(parts, tr.t("report.meta.build", "build", d.OSBuild))
			}
			if d.RunTarget != "" {
				parts = append(parts, d.RunTarget)
			}
			add("report.meta.device", strings.Join(parts, ", "))
		}
		if b := s.Backend; b != nil {
			var parts []string
			for _, p := range []string{b.Name, b.Host, b.Version, b.Environment} {
				if p != "" {
					parts = append(parts, p)
				}
			}
			add("report.meta.backend", strings.Join(parts, ", "))
		}
		add("report.meta.recorder", s.Recorder)
		if s.RecordingStart != "" || s.RecordingEnd != "" {
			rec := orDash(s.RecordingStart) + " – " + orDash(s.RecordingEnd)
			if differsFromCapture(s, a.Period) {
				rec += " " + tr.t("report.meta.recordingDiffers")
			}
			add("report.meta.recording", rec)
		}
		var tools []string
		for _, t := range s.Tools {
			tools = append(tools, t.Name+" "+t.Value)
		}
		add("report.meta.tools", strings.Join(tools, ", "))
	}
	if p := a.Period; p != nil && !p.Start.IsZero() {
		add("report.meta.period", fmtTime(p.Start)+" – "+fmtTime(p.End)+" ("+fmtDuration(p.End.Sub(p.Start))+")")
	}
	add("report.meta.entries", tr.num(a.EntriesRead))
	add("report.meta.tool", strings.TrimSpace(a.Tool.Name+" "+toolVersion(a.Tool, tr)))
	if d := a.AdapterDB; d != nil {
		ver := d.Version
		// The built-in database is "embedded <tool version>" (analyze.go).
		if v, ok := strings.CutPrefix(ver, "embedded "); ok {
			ver = tr.t("report.meta.adaptersEmbedded", "version", v)
		}
		add("report.meta.adapters", tr.t("report.meta.adaptersValue", "version", ver,
			"trackers", tr.num(d.Trackers), "adapters", tr.num(d.Adapters)))
		add("report.meta.adaptersHash", d.SHA256)
	}
	if len(a.Indicators) > 0 {
		var parts []string
		for _, ic := range a.Indicators {
			p := i18n.Property(tr.lang, ic.Property) + " (" + tr.num(ic.Count) + ")"
			if ic.Source == "owner" {
				p += " " + tr.t("report.meta.fromProvenance")
			}
			parts = append(parts, p)
		}
		add("report.meta.indicators", strings.Join(parts, ", "))
	}
	add("report.meta.analysisId", a.ID)
	return out
}

// toolVersion is the exact build of the tool as people read it: the
// release and, in the report's language, the VCS revision (Tool.Version
// is "0.1.0-dev (revision …)", see internal/version).
func toolVersion(t Tool, tr *translator) string {
	base, rest, ok := strings.Cut(t.Version, " (")
	switch {
	case t.Revision != "" && t.Modified:
		return base + " (" + tr.t("report.tool.revisionModified", "revision", t.Revision) + ")"
	case t.Revision != "":
		return base + " (" + tr.t("report.tool.revision", "revision", t.Revision) + ")"
	case ok && rest == "revision unknown)":
		return base + " (" + tr.t("report.tool.revisionUnknown") + ")"
	}
	return t.Version
}

func platformName(tr *translator, p string) string {
	switch strings.ToLower(p) {
	case "android", "ios":
		return tr.t("report.platform." + strings.ToLower(p))
	}
	return p
}

func (v *view) figures(a *Analysis, txs []*tx, order []string, recips map[string]*recipientView, byRecip map[string][]*tx) {
	tr := v.tr
	if len(txs) == 0 {
		return
	}
	var start, end time.Time
	if a.Period != nil {
		start, end = a.Period.Start, a.Period.End
	}
	for _, t := range txs {
		if t.time.IsZero() {
			continue
		}
		if start.IsZero() || t.time.Before(start) {
			start = t.time
		}
		if t.time.After(end) {
			end = t.time
		}
	}
	var rows []timelineRow
	for _, id := range order {
		r := timelineRow{Label: recips[id].Name}
		for _, t := range byRecip[id] {
			if t.time.IsZero() {
				continue
			}
			r.Times = append(r.Times, t.time)
			r.Tips = append(r.Tips, tr.t("report.fig.timeline.tip", "index", requestNumber(t.index), "time", fmtTime(t.time)))
		}
		if len(r.Times) > 0 {
			rows = append(rows, r)
		}
	}
	if len(rows) > 0 {
		v.Timeline = timelineFigure(rows, start, end, tr.t("report.fig.timeline.caption"),
			tr.t("report.fig.timeline.desc", "requests", tr.num(len(txs)), "recipients", tr.num(len(rows))))
	}

	// Hosts that received personal data, with all their requests.
	total := map[string]int{}
	for _, h := range a.Hosts {
		total[h.Host] = h.Requests
	}
	marked := map[string]int{}
	color := map[string]string{}
	colorIdx := map[string]int{}
	for i, id := range order {
		colorIdx[id] = i
	}
	for _, t := range txs {
		h := HostOf(t.ref.URL)
		marked[h]++
		if _, ok := color[h]; !ok {
			color[h] = colorOf(colorIdx[t.rc.id])
		}
	}
	hosts := sortedKeys(marked)
	sort.SliceStable(hosts, func(i, j int) bool { return marked[hosts[i]] > marked[hosts[j]] })
	var bars []barRow
	for i, h := range hosts {
		if i == maxHostBars {
			break
		}
		bars = append(bars, barRow{Label: h, Total: max(total[h], marked[h]), Marked: marked[h], Color: color[h]})
	}
	v.Hosts = barFigure(bars, tr.t("report.fig.hosts.caption"), tr.t("report.fig.hosts.desc", "hosts", tr.num(len(hosts))),
		tr.t("report.fig.hosts.all"), tr.t("report.fig.hosts.marked"))
}

func compareSection(before, after *Analysis, tr *translator, lang string) *compareView {
	c := Compare(before, after)
	var names []string
	for _, in := range before.Inputs {
		if in.Role == RoleCapture || in.Role == RoleHAR {
			names = append(names, in.Name)
		}
	}
	name := strings.Join(names, ", ")
	if name == "" {
		name = before.Name
	}
	period := "–"
	if p := before.Period; p != nil && !p.Start.IsZero() {
		period = fmtTime(p.Start) + " – " + fmtTime(p.End)
	}
	lead := tr.t("report.compare.lead", "before", orDash(name), "id", orDash(before.ID), "period", period)
	// Analyses that may be of different apps are compared only when the
	// user says so; the report then says it first.
	for _, d := range compareDiffs(before, after) {
		lead = tr.t("report.compare.differs."+d.key, d.args...) + " " + lead
	}
	cv := &compareView{
		Lead: lead,
		Counts: tr.t("report.compare.counts", "persisted", tr.num(c.Count(Persisted)),
			"appeared", tr.num(c.Count(Appeared)), "disappeared", tr.num(c.Count(Disappeared))),
	}
	for _, r := range c.Rows {
		row := compareRowView{
			Recipient: i18n.AdapterName(lang, r.RecipientName), DataType: i18n.Property(lang, r.Property),
			Status: tr.t("report.status." + r.Status), StatusKey: r.Status,
			Before: tr.num(r.Before), After: tr.num(r.After), Values: "–",
		}
		if r.Status == Persisted {
			switch {
			case r.SameValues:
				row.Values = tr.t("report.values.same")
			case r.SharedValues > 0:
				row.Values = tr.t("report.values.partly", "n", tr.num(r.SharedValues))
			default:
				row.Values = tr.t("report.values.changed")
			}
		}
		cv.Rows = append(cv.Rows, row)
	}
	// Compare sorts by property name; people read labels.
	sort.SliceStable(cv.Rows, func(i, j int) bool {
		p, q := cv.Rows[i], cv.Rows[j]
		if pr, qr := strings.ToLower(p.Recipient), strings.ToLower(q.Recipient); pr != qr {
			return pr < qr
		}
		return strings.ToLower(p.DataType) < strings.ToLower(q.DataType)
	})
	return cv
}

func affectedSection(d *DeviceReport, hosts map[string]string, a *Analysis, appID string, tr *translator) affectedView {
	platform := ""
	if s := a.Subject; s != nil {
		if s.App != nil {
			platform = s.App.Platform
		}
		if platform == "" && s.Device != nil {
			platform = s.Device.Platform
		}
	}
	af := deviceEvidence(d, hosts, appID, platform)
	av := affectedView{Title: tr.t("report.affected.kind." + d.Kind)}
	av.Lines = append(av.Lines, tr.t("report.affected.file", "file", d.Name, "sha", d.SHA256,
		"first", fmtTime(af.First), "last", fmtTime(af.Last), "n", tr.num(len(d.Contacts))))
	if !af.Applicable {
		av.Lines = append(av.Lines, tr.t("report.affected.notApplicable",
			"platform", platformName(tr, d.Platform), "appPlatform", platformName(tr, platform)))
		return av
	}
	switch {
	case af.NoAppID:
		av.Lines = append(av.Lines, tr.t("report.affected.noAppId"))
		return av
	case af.AppMissing:
		av.Lines = append(av.Lines, tr.t("report.affected.appMissing", "app", appID))
		return av
	}
	av.Lines = append(av.Lines, tr.t("report.affected.appFiltered", "app", appID))
	for _, r := range af.Rows {
		av.Rows = append(av.Rows, affectedRowView{
			Host: r.Host, Recipient: r.Recipient, Apps: strings.Join(r.Apps, ", "),
			First: fmtTime(r.First), Last: fmtTime(r.Last), Hits: tr.num(r.Hits),
		})
	}
	if len(av.Rows) == 0 {
		av.None = tr.t("report.affected.none")
	}
	return av
}

// adapterViews lists the adapters that recognised a recipient's requests
// with the data paths that gave findings and their reasoning.
func adapterViews(txs []*tx, db *adapters.DB, lang string, tr *translator) []adapterView {
	type pathKey struct{ prop, ctx, path string }
	paths := map[string]map[pathKey]string{}
	for _, t := range txs {
		for _, f := range t.findings {
			if f.Source != match.SourceAdapter || f.Adapter == "" {
				continue
			}
			if paths[f.Adapter] == nil {
				paths[f.Adapter] = map[pathKey]string{}
			}
			tp := f.TemplatePath
			if tp == "" {
				tp = f.Path
			}
			paths[f.Adapter][pathKey{f.Property, f.Context, tp}] = f.Reasoning
		}
	}
	var out []adapterView
	for _, id := range sortedKeys(paths) {
		av := adapterView{ID: id}
		if a := db.Adapter(id); a != nil {
			av.Name = i18n.AdapterName(lang, a.Name)
			av.Description = a.Description[lang]
			if av.Description == "" {
				av.Description = a.Description["en"]
			}
		}
		var keys []pathKey
		for k := range paths[id] {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			p, q := keys[i], keys[j]
			if lp, lq := strings.ToLower(i18n.Property(lang, p.prop)), strings.ToLower(i18n.Property(lang, q.prop)); lp != lq {
				return lp < lq
			}
			if p.ctx != q.ctx {
				return contextRank(p.ctx) < contextRank(q.ctx)
			}
			return p.path < q.path
		})
		for _, k := range keys {
			av.Paths = append(av.Paths, pathView{
				DataType:  i18n.Property(lang, k.prop),
				Location:  location(lang, k.ctx, k.path),
				Reasoning: i18n.Reasoning(lang, paths[id][k]),
			})
		}
		out = append(out, av)
	}
	return out
}

func location(lang, ctx, path string) string {
	l := i18n.Context(lang, ctx)
	if path != "" {
		l += " › " + path
	}
	return l
}

func txViewOf(t *tx, db *adapters.DB, lang string, tr *translator) txView {
	tv := txView{Anchor: "tx-" + strconv.Itoa(t.index), Heading: tr.t("report.tx.heading", "index", requestNumber(t.index))}
	host := HostOf(t.ref.URL)
	tv.Facts = append(tv.Facts,
		kv{tr.t("report.tx.time"), fmtTime(t.time)},
		kv{tr.t("report.tx.request"), t.ref.Method + " " + host + clip(PathOf(t.ref.URL), 120)})
	if e := t.entry; e != nil {
		// What a reader needs to find the packets in Wireshark.
		if e.CommunityID != "" {
			tv.Facts = append(tv.Facts, kv{tr.t("report.tx.communityId"), e.CommunityID})
		}
		if c := connectionOf(e, tr); c != "" {
			tv.Facts = append(tv.Facts, kv{tr.t("report.tx.connection"), c})
		}
		if e.TLSServerName != "" {
			tv.Facts = append(tv.Facts, kv{tr.t("report.tx.tlsServerName"), e.TLSServerName})
		}
	}
	ads := map[string]bool{}
	for _, f := range t.findings {
		if f.Adapter != "" {
			ads[f.Adapter] = true
		}
	}
	if len(ads) > 0 {
		tv.Facts = append(tv.Facts, kv{tr.t("report.tx.adapter"), strings.Join(sortedKeys(ads), ", ")})
	}
	var req *adapters.Request
	if e := t.entry; e != nil {
		tv.AppendixAnchor = "a-" + strconv.Itoa(t.index)
		if p := processOf(e); p != "" {
			tv.Facts = append(tv.Facts, kv{tr.t("report.tx.process"), p})
		}
		if s := stackOf(e); s != "" {
			tv.Facts = append(tv.Facts, kv{tr.t("report.tx.stack"), s})
		}
		if o := ownersOf(e); len(o) > 0 {
			tv.Facts = append(tv.Facts, kv{tr.t("report.tx.owners"), strings.Join(o, ", ")})
		}
		req, _ = adapters.NewRequest(&e.Request)
	}
	for _, f := range t.findings {
		fv := findingView{
			DataType: i18n.Property(lang, f.Property),
			Value:    clip(f.Value, 200),
			Location: location(lang, f.Context, f.Path),
			Decoding: decodingOf(f, lang, tr),
		}
		if f.ValueEncoding == "base64" {
			fv.Value = tr.t("report.value.base64", "value", clip(f.Value, 200))
		}
		tv.Findings = append(tv.Findings, fv)
	}
	for _, ex := range excerpts(req, t.entry, t.findings, db) {
		key := "report.excerpt.raw"
		if ex.Decoded {
			key = "report.excerpt.decoded"
		}
		label := tr.t(key, "context", i18n.Context(lang, ex.Context))
		if m := ex.Message; m != nil {
			label = wsLabel(m, tr)
		}
		tv.Excerpts = append(tv.Excerpts, excerptView{Label: label, Lines: ex.Lines})
	}
	return tv
}

// wsLabel names the WebSocket message an excerpt is from: its index, who
// sent it when, and its kind.
func wsLabel(m *wsMessage, tr *translator) string {
	dir := tr.t("report.ws.receive")
	if m.Send {
		dir = tr.t("report.ws.send")
	}
	var kind string
	switch m.Opcode {
	case 1:
		kind = tr.t("report.ws.text")
	case 2:
		kind = tr.t("report.ws.binary")
	case 8:
		kind = tr.t("report.ws.close")
	case 9:
		kind = tr.t("report.ws.ping")
	case 10:
		kind = tr.t("report.ws.pong")
	default:
		kind = tr.t("report.ws.other")
	}
	if m.Binary && m.Opcode != 2 {
		kind += tr.t("report.ws.escaped")
	}
	return tr.t("report.excerpt.websocket", "index", strconv.Itoa(m.Index), "direction", dir,
		"time", fmtTime(m.Time), "kind", kind, "opcode", strconv.Itoa(m.Opcode))
}

func decodingOf(f *match.Finding, lang string, tr *translator) string {
	if f.Indicator != nil {
		s := tr.t("report.decoding.indicator", "property", f.Property, "encoding", i18n.Encoding(lang, f.Indicator.Encoding))
		if f.Indicator.Of != "" {
			s += " (" + f.Indicator.Of + ")"
		}
		return s
	}
	var parts []string
	for _, s := range f.Decoding {
		if s.Function == "ensureArray" {
			continue // a technicality of the adapter, nothing a reader needs
		}
		key := "report.step." + s.Function
		if !hasUIKey(tr.lang, key) {
			parts = append(parts, s.Function+"("+s.Input+")")
			continue
		}
		parts = append(parts, tr.t(key, "input", stepInput(s.Input, lang, tr)))
	}
	if len(parts) == 0 {
		return tr.t("report.decoding.none")
	}
	return sentence(strings.Join(parts, tr.t("report.step.then")) + ".")
}

// stepInput names what a decoding step read: a part of the request
// ("body"), or a field of what an earlier step decoded ("res.body.extinfo").
func stepInput(in, lang string, tr *translator) string {
	if rest, ok := strings.CutPrefix(in, "res."); ok {
		ctx, field, _ := strings.Cut(rest, ".")
		if field == "" {
			return tr.t("report.step.decoded", "context", contextNoun(i18n.Context(lang, ctx), lang))
		}
		return tr.t("report.step.field", "field", field, "context", contextNoun(i18n.Context(lang, ctx), lang))
	}
	return tr.t("report.step.part", "context", contextNoun(i18n.Context(lang, in), lang))
}

// contextNoun lowers an English context name for use inside a sentence
// ("the request body"); German nouns keep their capital.
func contextNoun(s, lang string) string {
	if lang != "en" || s == "" || strings.HasPrefix(s, "HTTP") || strings.HasPrefix(s, "URL") {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToLower(r)) + s[n:]
}

// sentence capitalises the first letter.
func sentence(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// requestNumber is how reports number requests: from 1, as HAR viewers
// do; the JSON's entry index counts from 0.
func requestNumber(index int) string { return strconv.Itoa(index + 1) }

// connectionOf says which connection carried an entry: both endpoints
// when conversion recorded them, else the server's address and the
// client's port as the HAR records them.
func connectionOf(e *har.Entry, tr *translator) string {
	switch {
	case e.ClientAddress != "" && e.ServerAddress != "":
		return tr.t("report.tx.connectionEnds", "client", e.ClientAddress, "server", e.ServerAddress)
	case e.ServerIPAddress != "" && e.Connection != "":
		return tr.t("report.tx.connectionBoth", "server", e.ServerIPAddress, "port", e.Connection)
	case e.ServerIPAddress != "":
		return tr.t("report.tx.connectionServer", "server", e.ServerIPAddress)
	}
	return ""
}

// processOf names the process that sent a request: the stack trace's
// process (PiRogue, eBPF) or ptcpdump's.
func processOf(e *har.Entry) string {
	if st, ok := e.Request.Extra["_stacktrace"].(map[string]any); ok {
		p, _ := st["process"].(string)
		pid := numString(st["pid"])
		switch {
		case p != "" && pid != "":
			return p + " (pid " + pid + ")"
		case p != "":
			return p
		case pid != "":
			return "pid " + pid
		}
	}
	if pr, ok := e.Extra["_process"].(map[string]any); ok {
		cmd, _ := pr["cmd"].(string)
		pid := numString(pr["pid"])
		s := cmd
		if pid != "" {
			s = strings.TrimSpace(s + " (pid " + pid + ")")
		}
		if c, ok := pr["container"].(map[string]any); ok {
			if n, _ := c["name"].(string); n != "" {
				s += ", container " + n
			}
		}
		return s
	}
	return ""
}

func numString(v any) string {
	switch x := v.(type) {
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case string:
		return x
	}
	return ""
}

// stackOf returns the compact form of a request's stack trace: the
// distinct classes, outermost call last.
func stackOf(e *har.Entry) string {
	st, ok := e.Request.Extra["_stacktrace"].(map[string]any)
	if !ok {
		return ""
	}
	list, _ := st["compact"].([]any)
	var parts []string
	for _, c := range list {
		if s, ok := c.(string); ok && s != "" {
			parts = append(parts, s)
		}
	}
	if len(parts) > 12 {
		parts = append(parts[:12], "…")
	}
	return strings.Join(parts, " ← ")
}

func ownersOf(e *har.Entry) []string {
	list, _ := e.Extra["_owners"].([]any)
	var out []string
	for _, o := range list {
		if s, ok := o.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// Limits of the undecoded requests' table: the request numbers and key
// names shown per endpoint (the JSON analysis has them all).
const (
	maxUndecodedRequests = 5
	maxUndecodedKeys     = 20
)

// undecodedOf lists the requests to tracking companies that no adapter
// decoded, one row per company and endpoint (host and path), sorted by
// company, host and path: the requests' count and first numbers, and the
// names of the keys that carried values in any of them.
func undecodedOf(a *Analysis, tr *translator) tableView {
	if a.Undecoded == nil {
		return tableView{}
	}
	t := tableView{Title: tr.t("report.section.undecoded")}
	type row struct {
		company, host, path string
		requests            []int
		keys                map[string]bool
	}
	byKey := map[[3]string]*row{}
	var rows []*row
	n := 0
	for _, u := range a.Undecoded {
		if u.Undecoded == nil {
			continue
		}
		n++
		company := ""
		if u.Company != nil {
			company = u.Company.Name
		}
		k := [3]string{company, u.Host, u.Path}
		r := byKey[k]
		if r == nil {
			r = &row{company: company, host: u.Host, path: u.Path, keys: map[string]bool{}}
			byKey[k] = r
			rows = append(rows, r)
		}
		r.requests = append(r.requests, u.Entry.Index)
		for _, key := range u.Keys {
			if key == "(body)" { // match's name for a body without keys
				key = tr.t("report.undecoded.body")
			}
			r.keys[key] = true
		}
	}
	if n == 0 {
		t.Lead = tr.t("report.undecoded.none")
		return t
	}
	t.Lead = tr.n("report.undecoded.lead", n, "endpoints", tr.num(len(rows)))
	sort.SliceStable(rows, func(i, j int) bool {
		p, q := rows[i], rows[j]
		if pc, qc := strings.ToLower(p.company), strings.ToLower(q.company); pc != qc {
			return pc < qc
		}
		if p.host != q.host {
			return p.host < q.host
		}
		return p.path < q.path
	})
	t.Cols = []string{tr.t("report.col.company"), tr.t("report.col.endpoint"), tr.t("report.col.requests"), tr.t("report.col.keys")}
	for i, r := range rows {
		if i == maxListed {
			t.More = tr.t("report.more", "n", tr.num(len(rows)-maxListed))
			break
		}
		sort.Ints(r.requests)
		var nums []string
		for j, idx := range r.requests {
			if j == maxUndecodedRequests {
				nums = append(nums, "…")
				break
			}
			nums = append(nums, "#"+requestNumber(idx))
		}
		keys := make([]string, 0, len(r.keys))
		for k := range r.keys {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if len(keys) > maxUndecodedKeys {
			keys = append(keys[:maxUndecodedKeys], tr.t("report.undecoded.moreKeys", "n", tr.num(len(keys)-maxUndecodedKeys)))
		}
		t.Rows = append(t.Rows, []string{orDash(r.company), r.host + r.path, tr.num(len(r.requests)) + " (" + strings.Join(nums, ", ") + ")", strings.Join(keys, ", ")})
	}
	return t
}

func methodOf(a *Analysis, tr *translator) methodView {
	var m methodView
	if c := a.Capture; c != nil {
		tls := c.TLSDecrypted + len(c.Undecrypted)
		p := tr.t("report.method.capture", "packets", tr.num(int(c.Packets)), "connections", tr.num(c.Connections), "entries", tr.num(c.Entries))
		if tls > 0 {
			p += " " + tr.t("report.method.tls", "decrypted", tr.num(c.TLSDecrypted), "tls", tr.num(tls))
		} else {
			p += " " + tr.t("report.method.noTLS")
		}
		m.Paragraphs = append(m.Paragraphs, p)
	} else {
		rec := ""
		if a.Subject != nil {
			rec = a.Subject.Recorder
		}
		if rec == "" {
			rec = tr.t("report.method.unknownRecorder")
		}
		m.Paragraphs = append(m.Paragraphs, tr.t("report.method.har", "recorder", rec, "entries", tr.num(a.EntriesRead)))
	}
	if d := a.AdapterDB; d != nil {
		m.Paragraphs = append(m.Paragraphs, tr.t("report.method.detect", "trackers", tr.num(d.Trackers), "adapters", tr.num(d.Adapters)))
	} else {
		m.Paragraphs = append(m.Paragraphs, tr.t("report.method.detectNoDB"))
	}
	n := 0
	for _, ic := range a.Indicators {
		n += ic.Count
	}
	if n > 0 {
		m.Paragraphs = append(m.Paragraphs, tr.t("report.method.indicators", "n", tr.num(n)))
	} else {
		m.Paragraphs = append(m.Paragraphs, tr.t("report.method.noIndicators"))
	}
	if s := a.Enrichment; s != nil && len(s.Sources) > 0 {
		m.Paragraphs = append(m.Paragraphs, tr.t("report.method.enrich"))
		for _, src := range s.Sources {
			var parts []string
			if rs := src.Read; rs != nil {
				parts = append(parts, tr.t("report.method.records", "read", tr.num(rs.Records), "used", tr.num(rs.Used)))
			}
			for _, c := range src.Counts {
				parts = append(parts, i18n.Enrichment(tr.lang, c.Name)+": "+tr.num(c.N))
			}
			if ts := src.TimeShift; ts != nil {
				parts = append(parts, timeShiftText(ts, tr))
			}
			line := i18n.Enrichment(tr.lang, src.Source)
			if src.Read != nil && src.Read.File != "" {
				line += " (" + src.Read.File + ")"
			}
			if len(parts) > 0 {
				line += ": " + strings.Join(parts, "; ")
			}
			m.Enrichment = append(m.Enrichment, line)
		}
	}
	if c := a.Capture; c != nil {
		m.Undecrypted = tableView{Title: tr.t("report.method.undecrypted.title")}
		switch {
		case c.TLSDecrypted+len(c.Undecrypted) == 0:
			m.Undecrypted = tableView{}
		case len(c.Undecrypted) == 0:
			m.Undecrypted.Lead = tr.t("report.method.undecrypted.none")
		default:
			m.Undecrypted.Lead = tr.n("report.method.undecrypted.lead", len(c.Undecrypted))
			m.Undecrypted.Cols = []string{tr.t("report.col.time"), tr.t("report.col.client"), tr.t("report.col.server"), tr.t("report.col.sni"), tr.t("report.col.reason")}
			for i, f := range c.Undecrypted {
				if i == maxListed {
					m.Undecrypted.More = tr.t("report.more", "n", tr.num(len(c.Undecrypted)-maxListed))
					break
				}
				m.Undecrypted.Rows = append(m.Undecrypted.Rows, []string{fmtTime(f.Time), f.Client, f.Server, orDash(f.SNI), i18n.Diagnostic(tr.lang, f.Reason)})
			}
		}
		m.NoEntries = tableView{Title: tr.t("report.method.noEntries.title")}
		if c.NoEntriesTotal == 0 {
			m.NoEntries.Lead = tr.t("report.method.noEntries.none")
		} else {
			m.NoEntries.Lead = tr.n("report.method.noEntries.lead", c.NoEntriesTotal)
			m.NoEntries.Cols = []string{tr.t("report.col.time"), tr.t("report.col.client"), tr.t("report.col.server"), tr.t("report.col.protocol"), tr.t("report.col.bytes")}
			for i, f := range c.NoEntries {
				if i == maxListed {
					break
				}
				m.NoEntries.Rows = append(m.NoEntries.Rows, []string{fmtTime(f.Time), f.Client, f.Server, orDash(f.Protocol), tr.num(int(f.Bytes))})
			}
			if shown := len(m.NoEntries.Rows); c.NoEntriesTotal > shown {
				m.NoEntries.More = tr.t("report.more", "n", tr.num(c.NoEntriesTotal-shown))
			}
		}
		if c.NotesTotal > 0 {
			m.Notes = listView{Title: tr.t("report.method.notes.title"), Lead: tr.n("report.method.notes.lead", c.NotesTotal)}
			for i, n := range c.Notes {
				if i == maxListed {
					break
				}
				m.Notes.Items = append(m.Notes.Items, n)
			}
			if shown := len(m.Notes.Items); c.NotesTotal > shown {
				m.Notes.More = tr.t("report.more", "n", tr.num(c.NotesTotal-shown))
			}
		}
	}
	if n := len(a.SkippedEntries); n > 0 {
		// Named apart from the warnings: these requests were not searched.
		m.Skipped = listView{Title: tr.t("report.method.skipped.title"), Lead: tr.n("report.method.skipped.lead", n)}
		for i, idx := range a.SkippedEntries {
			if i == maxListed {
				m.Skipped.More = tr.t("report.more", "n", tr.num(n-maxListed))
				break
			}
			m.Skipped.Items = append(m.Skipped.Items, tr.t("report.method.skipped.item", "index", strconv.Itoa(idx)))
		}
	}
	if len(a.Warnings) > 0 {
		m.Warnings = listView{Title: tr.t("report.method.warnings.title"), Lead: tr.n("report.method.warnings.lead", len(a.Warnings))}
		for i, w := range a.Warnings {
			if i == maxListed {
				m.Warnings.More = tr.t("report.more", "n", tr.num(len(a.Warnings)-maxListed))
				break
			}
			m.Warnings.Items = append(m.Warnings.Items, w)
		}
	}
	m.Limits = tr.t("report.method.limits")
	return m
}

// timeShiftText says in the report's language what enrich.TimeShift's
// String says in English.
func timeShiftText(s *enrich.TimeShift, tr *translator) string {
	d := time.Duration(s.Seconds * float64(time.Second))
	shift := "+" + d.String()
	if d < 0 {
		shift = "-" + (-d).String()
	}
	if s.Events == 0 {
		return tr.t("report.method.timeShift.byHand", "shift", shift)
	}
	return tr.t("report.method.timeShift.estimated", "shift", shift, "n", tr.num(s.Events))
}

func appendixOf(t *tx, tr *translator, maxBody int, cut string) appendixEntry {
	ae := appendixEntry{Anchor: "a-" + strconv.Itoa(t.index), Heading: tr.t("report.appendix.request", "index", requestNumber(t.index))}
	e := t.entry
	if e == nil {
		ae.RequestLine = t.ref.Method + " " + t.ref.URL
		ae.Missing = tr.t("report.appendix.missing")
		return ae
	}
	r := &e.Request
	ae.RequestLine = strings.TrimSpace(r.Method + " " + r.URL + " " + r.HTTPVersion)
	for _, h := range r.Headers {
		ae.Headers = append(ae.Headers, kv{h.Name, h.Value})
	}
	if len(r.Headers) == 0 {
		for _, c := range r.Cookies {
			ae.Headers = append(ae.Headers, kv{"Cookie", c.Name + "=" + c.Value})
		}
	}
	var body []byte
	if ar, err := adapters.NewRequest(r); err == nil {
		body = ar.Body
	} else if r.PostData != nil {
		body, _ = r.PostData.Body()
	}
	if len(body) == 0 {
		ae.BodyNote = tr.t("report.appendix.noBody")
		return ae
	}
	shown := body
	if len(shown) > maxBody {
		shown = shown[:maxBody]
	}
	if utf8.Valid(body) {
		ae.BodyLabel = tr.t("report.appendix.body", "n", tr.num(len(body)))
		ae.Body = validUTF8Prefix(string(shown))
	} else {
		ae.BodyLabel = tr.t("report.appendix.binary", "n", tr.num(len(body)))
		ae.Body = wrap(base64.StdEncoding.EncodeToString(shown), 76)
	}
	if len(body) > len(shown) {
		sum := sha256.Sum256(body)
		ae.BodyNote = tr.t(cut, "n", tr.num(len(body)-len(shown)),
			"size", tr.num(len(body)), "sha", hex.EncodeToString(sum[:]))
	}
	return ae
}

func wrap(s string, n int) string {
	var b strings.Builder
	for len(s) > n {
		b.WriteString(s[:n])
		b.WriteByte('\n')
		s = s[n:]
	}
	b.WriteString(s)
	return b.String()
}

// differsFromCapture tells whether the recorder's stated times and the
// capture's own timestamps disagree by more than a minute: recorders
// often write local time, or the time the app was started rather than the
// first packet.
func differsFromCapture(s *Subject, p *Period) bool {
	if p == nil || p.Start.IsZero() || s.RecordingStart == "" {
		return false
	}
	t, err := time.Parse(time.RFC3339Nano, s.RecordingStart)
	if err != nil {
		return true
	}
	d := t.Sub(p.Start)
	return d > time.Minute || d < -time.Minute
}
