package report

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/tracewire/tracewire/i18n"
)

// Document is what `report` writes: the technical report, or one of the
// letters built on it (a notice to the controller, a complaint to the
// supervisory authority and its informal variant).
type Document string

// Documents.
const (
	DocReport            Document = "report"
	DocNotice            Document = "notice"
	DocComplaint         Document = "complaint"
	DocComplaintInformal Document = "complaint-informal"
)

// Documents lists every document.
var Documents = []Document{DocReport, DocNotice, DocComplaint, DocComplaintInformal}

// ParseDocument reads a document name.
func ParseDocument(s string) (Document, error) {
	for _, d := range Documents {
		if strings.EqualFold(strings.TrimSpace(s), string(d)) {
			return d, nil
		}
	}
	return "", fmt.Errorf("document %q: want report, notice, complaint or complaint-informal", s)
}

// ErrNoFindings is returned for a letter about an analysis without
// findings: a letter states only transmissions the analysis found.
var ErrNoFindings = errors.New("the analysis found no transmission of personal data to a tracking company, and a notice or complaint states only what was found: nothing to write")

// Details are what only the user knows, read from a details.yaml file (see
// testdata/details.yaml and the README).
type Details struct {
	Complainant   Person        `yaml:"complainant"`
	Controller    Controller    `yaml:"controller"`
	App           DetailsApp    `yaml:"app"`
	Authority     Authority     `yaml:"authority"`
	Dates         Dates         `yaml:"dates"`
	Circumstances Circumstances `yaml:"circumstances"`
	Notes         string        `yaml:"notes"`
}

// Person is the complainant.
type Person struct {
	Name    string `yaml:"name"`
	Address string `yaml:"address"`
	Email   string `yaml:"email"`
	// ActsForThemselves is false when the complainant acts for the data
	// subject (a parent, an association under Art. 80 GDPR); unset means
	// true.
	ActsForThemselves *bool `yaml:"actsForThemselves"`
}

// Controller is the company responsible for the app.
type Controller struct {
	Name           string `yaml:"name"`
	Address        string `yaml:"address"`
	Email          string `yaml:"email"`
	PrivacyContact string `yaml:"privacyContact"`
}

// DetailsApp names the app or website; empty fields are taken from the
// analysis's metadata.
type DetailsApp struct {
	Name    string `yaml:"name"`
	ID      string `yaml:"id"`
	Version string `yaml:"version"`
}

// Authority is the supervisory authority a complaint goes to.
type Authority struct {
	Name    string `yaml:"name"`
	Address string `yaml:"address"`
	// German adds § 25 TDDDG, the German transposition of Art. 5(3)
	// ePrivacy, to the legal assessment.
	German bool `yaml:"german"`
}

// Dates are YYYY-MM-DD.
type Dates struct {
	// Letter is the date written on the letter; unset leaves it to the
	// signer (the output stays the same whenever it is made).
	Letter     string   `yaml:"letter"`
	AppUsed    string   `yaml:"appUsed"`
	NoticeSent string   `yaml:"noticeSent"`
	Deadline   string   `yaml:"deadline"`
	Response   Response `yaml:"response"`
}

// Response is the controller's answer to the notice.
type Response struct {
	// Kind is none, denial or brokenPromise.
	Kind string `yaml:"kind"`
	Date string `yaml:"date"`
	// Said is what the controller answered, in brief.
	Said string `yaml:"said"`
}

// Circumstances make the complainant affected.
type Circumstances struct {
	AppStoreLoggedIn bool `yaml:"appStoreLoggedIn"`
	RegisteredSIM    bool `yaml:"registeredSim"`
	// NoInteraction says the recording was made without touching the app
	// after opening it, so no consent could have been given.
	NoInteraction bool `yaml:"noInteraction"`
}

// ReadDetails reads and checks a details file for document doc; name is
// used in errors. Unknown fields are errors (a misspelt field would
// otherwise be silently missing from a letter).
func ReadDetails(r io.Reader, name string, doc Document) (*Details, error) {
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	var d Details
	if err := dec.Decode(&d); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("details %s: empty file", name)
		}
		return nil, fmt.Errorf("details %s: %w", name, err)
	}
	if err := d.Check(doc); err != nil {
		return nil, fmt.Errorf("details %s: %w", name, err)
	}
	return &d, nil
}

// Check lists every missing or wrong field that doc needs, in one error.
func (d *Details) Check(doc Document) error {
	var bad []string
	need := func(field, v string) {
		if strings.TrimSpace(v) == "" {
			bad = append(bad, field+" is missing")
		}
	}
	date := func(field, v string) {
		if v == "" {
			return
		}
		if _, err := time.Parse("2006-01-02", v); err != nil {
			bad = append(bad, fmt.Sprintf("%s %q is not a date YYYY-MM-DD", field, v))
		}
	}
	need("complainant.name", d.Complainant.Name)
	if d.Complainant.Address == "" && d.Complainant.Email == "" {
		bad = append(bad, "complainant.address or complainant.email is missing")
	}
	need("controller.name", d.Controller.Name)
	if d.Controller.Address == "" && d.Controller.Email == "" {
		bad = append(bad, "controller.address or controller.email is missing")
	}
	need("dates.appUsed", d.Dates.AppUsed)
	if doc == DocComplaint || doc == DocComplaintInformal {
		need("authority.name", d.Authority.Name)
		if doc == DocComplaint {
			need("authority.address", d.Authority.Address)
		}
	}
	for _, f := range []struct{ name, v string }{
		{"dates.letter", d.Dates.Letter}, {"dates.appUsed", d.Dates.AppUsed},
		{"dates.noticeSent", d.Dates.NoticeSent}, {"dates.deadline", d.Dates.Deadline},
		{"dates.response.date", d.Dates.Response.Date},
	} {
		date(f.name, f.v)
	}
	switch d.Dates.Response.Kind {
	case "", "none":
	case "denial", "brokenPromise":
		if d.Dates.NoticeSent == "" {
			bad = append(bad, "dates.response is given but dates.noticeSent is missing")
		}
	default:
		bad = append(bad, fmt.Sprintf("dates.response.kind %q: want none, denial or brokenPromise", d.Dates.Response.Kind))
	}
	if len(bad) > 0 {
		return fmt.Errorf("the %s needs: %s", doc, strings.Join(bad, "; "))
	}
	return nil
}

// The letters' texts and the public guidance they cite are data.
//
//go:embed letters/en.yaml letters/de.yaml letters/guidance.yaml
var letterFiles embed.FS

type guidance struct {
	ID       string            `yaml:"id"`
	Kind     string            `yaml:"kind"`
	Issuer   map[string]string `yaml:"issuer"`
	Title    map[string]string `yaml:"title"`
	Number   string            `yaml:"number"`
	Date     string            `yaml:"date"`
	Supports string            `yaml:"supports"`
}

func letterTexts(lang string) (map[string]string, error) {
	b, err := letterFiles.ReadFile("letters/" + lang + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("letters: no texts in %q", lang)
	}
	m := map[string]string{}
	if err := yaml.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("letters/%s.yaml: %w", lang, err)
	}
	return m, nil
}

func guidanceList() ([]guidance, error) {
	b, err := letterFiles.ReadFile("letters/guidance.yaml")
	if err != nil {
		return nil, err
	}
	var g []guidance
	if err := yaml.Unmarshal(b, &g); err != nil {
		return nil, fmt.Errorf("letters/guidance.yaml: %w", err)
	}
	return g, nil
}

// letter is a document's content, written by each format's renderer.
type letter struct {
	Title    string
	From     []string
	To       []string
	Date     string
	Lead     []string
	Sections []letterSection
	Closing  []string
	// Footer names the tool, for the PDF's page footer.
	Footer string
	German bool
}

// letterSection is a heading and its blocks, in order.
type letterSection struct {
	Heading string
	Blocks  []letterBlock
}

// letterBlock is one paragraph, one list or one table.
type letterBlock struct {
	Para  string
	Items []string
	Table *tableView
}

func (s *letterSection) para(ps ...string) {
	for _, p := range ps {
		s.Blocks = append(s.Blocks, letterBlock{Para: p})
	}
}

func (s *letterSection) items(it ...string) {
	if len(it) > 0 {
		s.Blocks = append(s.Blocks, letterBlock{Items: it})
	}
}

func (s *letterSection) table(t *tableView) { s.Blocks = append(s.Blocks, letterBlock{Table: t}) }

// texts fills {placeholders}; a missing key is an error caught by tests.
type texts struct {
	m       map[string]string
	missing []string
}

func (t *texts) get(key string, kv ...string) string {
	s, ok := t.m[key]
	if !ok {
		t.missing = append(t.missing, key)
		return key
	}
	for i := 0; i+1 < len(kv); i += 2 {
		s = strings.ReplaceAll(s, "{"+kv[i]+"}", kv[i+1])
	}
	return s
}

// company is what one recipient received, from the findings only.
type company struct {
	Name     string
	Types    []string
	Dates    []string
	Hosts    []string
	Requests int
}

func observations(a *Analysis, lang string) []company {
	type acc struct {
		c                   company
		types, dates, hosts map[string]bool
		entries             map[int]bool
	}
	by := map[string]*acc{}
	var order []string
	for i := range a.Findings {
		f := &a.Findings[i]
		host := HostOf(f.Entry.URL)
		key, name := "host:"+host, host
		if f.Tracker != nil {
			key, name = "tracker:"+f.Tracker.Slug, i18n.AdapterName(lang, f.Tracker.Name)
		}
		x := by[key]
		if x == nil {
			x = &acc{c: company{Name: name}, types: map[string]bool{}, dates: map[string]bool{}, hosts: map[string]bool{}, entries: map[int]bool{}}
			by[key] = x
			order = append(order, key)
		}
		x.types[i18n.Property(lang, f.Property)] = true
		if t := entryTime(f.Entry, nil); !t.IsZero() {
			x.dates[t.UTC().Format("2006-01-02")] = true
		}
		if host != "" {
			x.hosts[host] = true
		}
		x.entries[f.Entry.Index] = true
	}
	out := make([]company, 0, len(order))
	for _, k := range order {
		x := by[k]
		x.c.Types, x.c.Dates, x.c.Hosts = sortedKeys(x.types), sortedKeys(x.dates), sortedKeys(x.hosts)
		x.c.Requests = len(x.entries)
		out = append(out, x.c)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Requests != out[j].Requests {
			return out[i].Requests > out[j].Requests
		}
		return strings.ToLower(out[i].Name) < strings.ToLower(out[j].Name)
	})
	return out
}

// buildLetter composes doc from the analysis, the details and the device
// reports. Facts come from a's findings only.
func buildLetter(doc Document, a *Analysis, d *Details, o *Options) (*letter, error) {
	if len(a.Findings) == 0 {
		return nil, ErrNoFindings
	}
	lang := o.Lang
	if lang == "" {
		lang = "en"
	}
	m, err := letterTexts(lang)
	if err != nil {
		return nil, err
	}
	t := &texts{m: m}
	app := d.App
	if s := a.Subject; s != nil && s.App != nil {
		if app.Name == "" {
			app.Name = s.App.Name
		}
		if app.ID == "" {
			app.ID = s.App.ID
		}
		if app.Version == "" {
			app.Version = s.App.Version
		}
	}
	if app.ID == "" {
		app.ID = o.AppID
	}
	appName := firstNonEmpty(app.Name, app.ID, d.Controller.Name)
	tool := a.Tool.Name + " " + a.Tool.Version
	obs := observations(a, lang)
	l := &letter{Title: t.get("title."+string(doc), "app", appName), Footer: tool, Date: fmtDate(d.Dates.Letter, lang), German: lang == "de"}
	l.From = personLines(d.Complainant.Name, d.Complainant.Address, d.Complainant.Email)
	switch doc {
	case DocNotice:
		l.To = personLines(d.Controller.Name, d.Controller.Address, d.Controller.Email)
		if d.Controller.PrivacyContact != "" {
			l.To = append(l.To, t.get("privacyContact", "contact", d.Controller.PrivacyContact))
		}
		l.Lead = []string{t.get("notice.lead", "app", appName, "used", fmtDate(d.Dates.AppUsed, lang))}
		l.Sections = append(l.Sections, observedSection(t, obs, d, lang, "section.observed", "observed.lead"))
		l.Sections = append(l.Sections, legalSection(t, d))
		dl := t.get("demands.deadlineNone")
		if d.Dates.Deadline != "" {
			dl = t.get("demands.deadline", "deadline", fmtDate(d.Dates.Deadline, lang))
		}
		demands := letterSection{Heading: t.get("section.demands")}
		demands.items(t.get("demands.stop"), t.get("demands.erase"), t.get("demands.access"))
		demands.para(dl)
		l.Sections = append(l.Sections, demands)
		l.Closing = []string{t.get("regards"), d.Complainant.Name, "", t.get("attachment", "tool", tool)}
	case DocComplaint:
		l.To = personLines(d.Authority.Name, d.Authority.Address, "")
		l.Lead = []string{t.get("complaint.lead", "app", appName)}
		parties := letterSection{Heading: t.get("section.parties")}
		parties.para(t.get("parties.complainant") + ": " + strings.Join(personLines(d.Complainant.Name, d.Complainant.Address, d.Complainant.Email), ", "))
		if d.Complainant.ActsForThemselves != nil && !*d.Complainant.ActsForThemselves {
			parties.para(t.get("actsForOther"))
		}
		ctl := strings.Join(personLines(d.Controller.Name, d.Controller.Address, d.Controller.Email), ", ")
		if d.Controller.PrivacyContact != "" {
			ctl += "; " + t.get("privacyContact", "contact", d.Controller.PrivacyContact)
		}
		parties.para(t.get("parties.controller")+": "+ctl, appLine(t, app, appName))
		l.Sections = append(l.Sections, parties)
		facts := letterSection{Heading: t.get("section.facts")}
		facts.para(t.get("facts.used", "app", appName, "used", fmtDate(d.Dates.AppUsed, lang)))
		facts.Blocks = append(facts.Blocks, observedSection(t, obs, d, lang, "", "facts.observedLead").Blocks...)
		facts.para(noticeFacts(t, d, lang)...)
		l.Sections = append(l.Sections, facts)
		l.Sections = append(l.Sections, affectedLetterSection(t, a, d, o, app.ID, appName))
		l.Sections = append(l.Sections, legalSection(t, d))
		req := letterSection{Heading: t.get("section.request")}
		req.items(t.get("request.investigate"), t.get("request.order"), t.get("request.fine"), t.get("request.inform"))
		l.Sections = append(l.Sections, req)
		if strings.TrimSpace(d.Notes) != "" {
			notes := letterSection{Heading: t.get("section.notes")}
			notes.para(strings.TrimSpace(d.Notes))
			l.Sections = append(l.Sections, notes)
		}
		annex, err := annexSection(t, d, lang, tool)
		if err != nil {
			return nil, err
		}
		l.Sections = append(l.Sections, annex)
		l.Closing = []string{t.get("regards"), d.Complainant.Name}
	case DocComplaintInformal:
		l.To = personLines(d.Authority.Name, d.Authority.Address, "")
		l.Lead = []string{t.get("informal.greeting"),
			t.get("informal.lead", "app", appName, "controller", d.Controller.Name, "used", fmtDate(d.Dates.AppUsed, lang))}
		s := letterSection{}
		var lines []string
		for _, c := range obs {
			lines = append(lines, t.get("informal.line", "company", c.Name, "types", joinAnd(t, c.Types), "requests", countRequests(t, c.Requests)))
		}
		s.items(lines...)
		if d.Dates.NoticeSent != "" {
			s.para(t.get("informal.notice", "date", fmtDate(d.Dates.NoticeSent, lang)))
			s.para(responseFacts(t, d, lang)...)
		}
		s.para(t.get("informal.legal"), t.get("informal.ask"))
		l.Sections = append(l.Sections, s)
		l.Closing = []string{t.get("regards"), d.Complainant.Name}
	default:
		return nil, fmt.Errorf("document %q is not a letter", doc)
	}
	if len(t.missing) > 0 {
		return nil, fmt.Errorf("letters/%s.yaml lacks %s", lang, strings.Join(t.missing, ", "))
	}
	return l, nil
}

func observedSection(t *texts, obs []company, d *Details, lang, heading, lead string) letterSection {
	s := letterSection{}
	if heading != "" {
		s.Heading = t.get(heading)
	}
	s.para(t.get(lead))
	tab := &tableView{Cols: []string{t.get("observed.head.company"), t.get("observed.head.types"), t.get("observed.head.dates"), t.get("observed.head.requests")}}
	var hosts []string
	for _, c := range obs {
		dates := make([]string, len(c.Dates))
		for i, x := range c.Dates {
			dates[i] = fmtDate(x, lang)
		}
		tab.Rows = append(tab.Rows, []string{c.Name, strings.Join(c.Types, ", "), strings.Join(dates, ", "), strconv.Itoa(c.Requests)})
		hosts = append(hosts, c.Hosts...)
	}
	s.table(tab)
	sort.Strings(hosts)
	s.para(t.get("observed.hosts", "hosts", strings.Join(hosts, ", ")))
	if d.Circumstances.NoInteraction {
		s.para(t.get("observed.noInteraction"))
	}
	return s
}

func legalSection(t *texts, d *Details) letterSection {
	s := letterSection{Heading: t.get("section.legal")}
	s.para(t.get("legal.terminal"))
	if d.Authority.German {
		s.para(t.get("legal.terminalDE"))
	}
	s.para(t.get("legal.basis"), t.get("legal.minimisation"), t.get("legal.burden"))
	return s
}

func noticeFacts(t *texts, d *Details, lang string) []string {
	if d.Dates.NoticeSent == "" {
		return []string{t.get("facts.noNotice")}
	}
	return append([]string{t.get("facts.noticeSent", "date", fmtDate(d.Dates.NoticeSent, lang))}, responseFacts(t, d, lang)...)
}

func responseFacts(t *texts, d *Details, lang string) []string {
	r := d.Dates.Response
	switch r.Kind {
	case "", "none":
		return []string{t.get("facts.response.none")}
	}
	if r.Date == "" {
		return []string{t.get("facts.responseNoDate."+r.Kind, "said", strings.TrimSpace(r.Said))}
	}
	return []string{t.get("facts.response."+r.Kind, "date", fmtDate(r.Date, lang), "said", strings.TrimSpace(r.Said))}
}

// affectedLetterSection lists the circumstances and, from each device
// report, only the recipients it confirms for this app.
func affectedLetterSection(t *texts, a *Analysis, d *Details, o *Options, appID, appName string) letterSection {
	s := letterSection{Heading: t.get("section.affected")}
	var circ []string
	if d.Circumstances.AppStoreLoggedIn {
		circ = append(circ, t.get("affected.appStore"))
	}
	if d.Circumstances.RegisteredSIM {
		circ = append(circ, t.get("affected.sim"))
	}
	if len(circ) > 0 {
		s.para(t.get("affected.lead"))
		s.items(circ...)
	}
	hosts := map[string]string{}
	for i := range a.Findings {
		f := &a.Findings[i]
		if h := HostOf(f.Entry.URL); h != "" && f.Tracker != nil {
			hosts[h] = i18n.AdapterName(o.Lang, f.Tracker.Name)
		}
	}
	platform := ""
	if a.Subject != nil && a.Subject.App != nil {
		platform = a.Subject.App.Platform
	}
	for _, dr := range o.DeviceReports {
		kind := i18n.UI(o.Lang, "report.affected.kind."+dr.Kind)
		if appID == "" {
			s.para(t.get("affected.deviceNoApp", "kind", kind, "file", dr.Name))
			continue
		}
		af := deviceEvidence(dr, hosts, appID, platform)
		if !af.Applicable || af.NoAppID || af.AppMissing || len(af.Rows) == 0 {
			s.para(t.get("affected.deviceNone", "kind", kind, "file", dr.Name, "app", appID))
			continue
		}
		s.para(t.get("affected.deviceLead", "kind", kind, "file", dr.Name, "sha", dr.SHA256, "app", appName))
		tab := &tableView{Cols: []string{t.get("affected.deviceHead.host"), t.get("affected.deviceHead.company"), t.get("affected.deviceHead.first"), t.get("affected.deviceHead.last")}}
		for _, r := range af.Rows {
			tab.Rows = append(tab.Rows, []string{r.Host, r.Recipient, fmtTime(r.First), fmtTime(r.Last)})
		}
		s.table(tab)
	}
	return s
}

func annexSection(t *texts, d *Details, lang, tool string) (letterSection, error) {
	s := letterSection{Heading: t.get("section.annexes")}
	s.para(t.get("annex.report", "tool", tool))
	if d.Dates.NoticeSent != "" {
		s.para(t.get("annex.notice", "date", fmtDate(d.Dates.NoticeSent, lang)))
		if r := d.Dates.Response; r.Kind != "" && r.Kind != "none" && r.Date != "" {
			s.para(t.get("annex.response", "date", fmtDate(r.Date, lang)))
		}
	}
	gs, err := guidanceList()
	if err != nil {
		return s, err
	}
	s.para(t.get("annex.guidanceLead"))
	var cites []string
	for _, g := range gs {
		key := "annex.guidance"
		if strings.Contains(g.Title[lang], g.Number) {
			key = "annex.guidanceNumbered" // the title names its number
		}
		cites = append(cites, t.get(key, "issuer", g.Issuer[lang], "title", g.Title[lang], "number", g.Number, "date", fmtDate(g.Date, lang)))
	}
	s.items(cites...)
	return s, nil
}

func appLine(t *texts, app DetailsApp, name string) string {
	switch {
	case app.ID == "":
		return name
	case app.Version == "":
		return t.get("appLineNoVersion", "app", name, "id", app.ID)
	}
	return t.get("appLine", "app", name, "id", app.ID, "version", app.Version)
}

func personLines(name, address, email string) []string {
	var out []string
	for _, s := range append([]string{name}, strings.Split(strings.TrimSpace(address), "\n")...) {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	if email != "" {
		out = append(out, email)
	}
	return out
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// fmtDate writes a YYYY-MM-DD date as people of the language write it.
func fmtDate(s, lang string) string {
	d, err := time.Parse("2006-01-02", s)
	if err != nil {
		return s
	}
	if lang == "de" {
		return d.Format("2.1.2006")
	}
	return d.Format("2 January 2006")
}

func joinAnd(t *texts, ss []string) string {
	if len(ss) <= 1 {
		return strings.Join(ss, "")
	}
	return strings.Join(ss[:len(ss)-1], ", ") + " " + t.get("and") + " " + ss[len(ss)-1]
}

func countRequests(t *texts, n int) string {
	if n == 1 {
		return t.get("requests.one")
	}
	return t.get("requests.other", "n", strconv.Itoa(n))
}

// WriteDocument writes doc in format f (html, md or pdf). DocReport is the
// technical report (Write); the letters need the user's details.
func WriteDocument(w io.Writer, f Format, doc Document, a *Analysis, d *Details, o Options) error {
	if doc == "" || doc == DocReport {
		return Write(w, f, a, o)
	}
	if d == nil {
		return fmt.Errorf("the %s needs --details (a details.yaml file)", doc)
	}
	if err := d.Check(doc); err != nil {
		return err
	}
	l, err := buildLetter(doc, a, d, &o)
	if err != nil {
		return err
	}
	switch f {
	case Markdown:
		return l.writeMarkdown(w)
	case HTML:
		return l.writeHTML(w)
	case PDF:
		return l.writePDF(w)
	}
	return fmt.Errorf("the %s is written as html, md or pdf, not %s", doc, f)
}

// writeMarkdown writes the letter as Markdown.
func (l *letter) writeMarkdown(w io.Writer) error {
	var b bytes.Buffer
	line := func(s string) { b.WriteString(s + "\n") }
	block := func(lines []string) {
		for i, s := range lines {
			if i < len(lines)-1 {
				s += "  " // a hard line break
			}
			line(mdText(s))
		}
		line("")
	}
	line("# " + mdText(l.Title))
	line("")
	if len(l.From) > 0 {
		block(l.From)
	}
	if len(l.To) > 0 {
		block(l.To)
	}
	if l.Date != "" {
		line(mdText(l.Date))
		line("")
	}
	for _, p := range l.Lead {
		line(mdText(p))
		line("")
	}
	for _, s := range l.Sections {
		if s.Heading != "" {
			line("## " + mdText(s.Heading))
			line("")
		}
		for _, bl := range s.Blocks {
			switch {
			case bl.Table != nil:
				line("| " + strings.Join(escAll(bl.Table.Cols), " | ") + " |")
				line(strings.Repeat("|---", len(bl.Table.Cols)) + "|")
				for _, r := range bl.Table.Rows {
					line("| " + strings.Join(escAll(r), " | ") + " |")
				}
			case len(bl.Items) > 0:
				for _, it := range bl.Items {
					line("- " + mdText(it))
				}
			default:
				line(mdText(bl.Para))
			}
			line("")
		}
	}
	if len(l.Closing) > 0 {
		block(l.Closing)
	}
	_, err := w.Write(b.Bytes())
	return err
}
