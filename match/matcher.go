package match

import (
	"encoding/base64"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	json "github.com/go-json-experiment/json/v1"
	"github.com/tracewire/tracewire/adapters"
	"github.com/tracewire/tracewire/adapters/decode"
	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/internal/ahocorasick"
)

// Sources of findings.
const (
	SourceAdapter   = "adapter"
	SourceIndicator = "indicator"
)

// EntryRef identifies the HAR entry a finding comes from.
type EntryRef struct {
	// Index is the entry's position in the HAR's entries (from 0).
	Index int `json:"index"`
	// Timestamp is the entry's _timestamp (seconds since the epoch), 0 when
	// the HAR has none.
	Timestamp       float64 `json:"timestamp,omitempty"`
	StartedDateTime string  `json:"startedDateTime,omitempty"`
	Method          string  `json:"method"`
	URL             string  `json:"url"`
}

// TrackerRef names a tracking company.
type TrackerRef struct {
	Slug string `json:"slug"`
	Name string `json:"name"`
}

// IndicatorMatch says how an indicator was found.
type IndicatorMatch struct {
	// Value is the indicator as the user gave it.
	Value string `json:"value"`
	// Encoding is plain, url, base64, hex, json, md5, sha1 or sha256.
	Encoding string `json:"encoding"`
	// Of says which variant of the value was encoded when it was not the
	// value as given ("email normalized", "phone digits", "lowercase").
	Of string `json:"of,omitempty"`
	// Field is the header, cookie or query parameter name, if any.
	Field string `json:"field,omitempty"`
	// Offset is the byte offset of the match in the field's text (in the
	// body: in the decoded body).
	Offset int `json:"offset"`
}

// Finding is one piece of data a request transmitted.
type Finding struct {
	Entry EntryRef `json:"entry"`
	// Tracker is the tracking company, when known (always for adapter
	// findings; for indicator findings when the host is a known tracker's).
	Tracker *TrackerRef `json:"tracker,omitempty"`
	// Adapter is the adapter's ID ("google/app-measurement"), for adapter
	// findings.
	Adapter  string `json:"adapter,omitempty"`
	Source   string `json:"source"`
	Property string `json:"property"`
	// Value is the transmitted value as text (for indicator findings: the
	// text as it appears in the request, e.g. a hash).
	Value string `json:"value"`
	// ValueEncoding is "base64" when the value is bytes that are not text;
	// Value is then their base64.
	ValueEncoding string `json:"valueEncoding,omitempty"`
	// Context is header, cookie, path, query or body.
	Context string `json:"context"`
	// Path is the concrete location in the decoded context
	// ("batch[2].advertiser_id"); for indicator findings the field name.
	Path string `json:"path"`
	// TemplatePath is the adapter's path that matched ("batch.*.advertiser_id").
	TemplatePath string `json:"templatePath,omitempty"`
	// Reasoning says why the value is this property.
	Reasoning string `json:"reasoning"`
	// Decoding is the chain of decoding steps that produced the value.
	Decoding  []adapters.StepRecord `json:"decoding,omitempty"`
	Indicator *IndicatorMatch       `json:"indicator,omitempty"`
}

// Result is everything found in one entry.
type Result struct {
	Entry EntryRef `json:"entry"`
	// Adapter is the ID of the adapter that handled the entry, "" if none.
	Adapter  string    `json:"adapter,omitempty"`
	Findings []Finding `json:"findings"`
	// Steps records the adapter's decoding steps, failures included.
	Steps []adapters.StepRecord `json:"steps,omitempty"`
	// Warnings are problems with the entry (unparsable URL, undecodable
	// body).
	Warnings []string `json:"warnings,omitempty"`
	// Undecoded is set when the request went to a tracking company, no
	// adapter handled it, and it carried data.
	Undecoded *Undecoded `json:"undecoded,omitempty"`
	// Skipped is set when the entry could not be read at all (not a JSON
	// object, malformed JSON): it was not searched, and Warnings says why.
	Skipped bool `json:"skipped,omitempty"`
	// Parsed is the entry, so that a finding's row can name the process
	// and owners. From StreamHAR it is the entry as parsed (its request,
	// time, _process and _owners only), and nil when there are no
	// findings.
	Parsed *har.Entry `json:"-"`
	// Text is the entry's JSON text when StreamHAR read it, valid only
	// during its callback.
	Text []byte `json:"-"`
}

// Values returns the values-only view {property: [values]}, values in
// finding order without repeats.
func (r *Result) Values() map[string][]string {
	out := map[string][]string{}
	seen := map[string]bool{}
	for _, f := range r.Findings {
		k := f.Property + "\x00" + f.Value
		if seen[k] {
			continue
		}
		seen[k] = true
		out[f.Property] = append(out[f.Property], f.Value)
	}
	return out
}

// Options configure a Matcher.
type Options struct {
	// DB is the adapter database; nil means the embedded one.
	DB *adapters.DB
	// Indicators are searched in entries no adapter handled, or in all
	// entries with IndicatorsEverywhere.
	Indicators           []Indicator
	IndicatorsEverywhere bool
}

// Matcher finds transmissions in HAR entries. It holds no mutable state:
// one Matcher serves any number of goroutines.
type Matcher struct {
	db         *adapters.DB
	inds       *indicatorSet
	everywhere bool
	hosts      map[string]*adapters.Tracker
	filter     endpointFilter
	dir        *adapters.HostDirectory
}

// New returns a Matcher.
func New(o Options) (*Matcher, error) {
	db := o.DB
	if db == nil {
		var err error
		if db, err = adapters.Default(); err != nil {
			return nil, err
		}
	}
	var err error
	m := &Matcher{db: db, everywhere: o.IndicatorsEverywhere, hosts: map[string]*adapters.Tracker{}}
	for _, in := range o.Indicators {
		if in.Property == "" || in.Value == "" {
			return nil, fmt.Errorf("match: indicator with empty property or value")
		}
	}
	if len(o.Indicators) > 0 {
		m.inds = newIndicatorSet(o.Indicators)
	}
	for _, a := range db.Adapters {
		for _, e := range a.EndpointURLs {
			if e.Regex != "" {
				continue
			}
			if r, err := adapters.NewRequest(&har.Request{URL: e.URL}); err == nil {
				if _, dup := m.hosts[r.Host]; !dup {
					m.hosts[r.Host] = a.Tracker
				}
			}
		}
	}
	m.filter = newEndpointFilter(db)
	if m.dir, err = adapters.Hosts(); err != nil {
		return nil, err
	}
	return m, nil
}

// mayFind reports whether an entry with this request URL can have
// findings: when indicators are searched, any entry can; otherwise only one
// whose endpoint URL some adapter lists. It returns those adapters when it
// looked them up.
func (m *Matcher) mayFind(rawURL string) (bool, []*adapters.Adapter) {
	if m.inds != nil {
		return true, nil
	}
	u, err := adapters.ParseRequestURL(rawURL)
	if err != nil {
		return true, nil // parse fully, for the warning
	}
	if !m.filter.mayMatch(&u) {
		// Requests to tracking companies are parsed all the same, to
		// list them when no adapter decodes them.
		return m.companyOf(u.Host) != nil, nil
	}
	cands := m.db.Candidates(u.URL)
	return len(cands) > 0 || m.companyOf(u.Host) != nil, cands
}

// endpointFilter is a quick necessary test for DB.Candidates, which tries
// every endpoint regular expression: most requests go to hosts no adapter
// knows, and one map lookup and one scan of the URL tell so.
type endpointFilter struct {
	// exact holds the exact endpoint URLs without scheme and trailing
	// slash: a request whose URL, cut the same way, is not among them
	// matches none of them over either scheme.
	exact map[string]bool
	// lits finds the literals every match of an endpoint regular
	// expression contains, in the URL after its "scheme://".
	lits *ahocorasick.Automaton
	// all is set when some regular expression has no such literal.
	all bool
}

func newEndpointFilter(db *adapters.DB) endpointFilter {
	exact, lits := db.EndpointLiterals()
	f := endpointFilter{exact: map[string]bool{}}
	for _, e := range exact {
		// Candidates compares e (trailing slash removed) with the
		// request's scheme://host/path (trailing slash removed).
		if _, rest, ok := strings.Cut(e, "://"); ok {
			f.exact[rest] = true
		} // else it can never equal a request's endpoint URL
	}
	var pats [][]byte
	for _, l := range lits {
		// Candidates also tries the URL with the other scheme, so look
		// for the literal in the part both URLs share, after "://": a
		// literal that begins in the scheme ("s://api.example") is cut
		// to what follows its "://", and leading slashes (of "://" or of
		// the path) are dropped, which leaves text that the part after
		// "://" must contain whenever the literal is in either URL.
		if _, rest, ok := strings.Cut(l, "://"); ok {
			l = rest
		}
		l = strings.TrimLeft(l, "/")
		if l == "" {
			f.all = true
			continue
		}
		pats = append(pats, []byte(l))
	}
	if len(pats) > 0 {
		f.lits = ahocorasick.New(pats)
	}
	return f
}

// mayMatch is false only when Candidates(u.URL) is surely empty.
func (f *endpointFilter) mayMatch(u *adapters.RequestURL) bool {
	rest := u.URL[len(u.Scheme)+len("://"):]
	if f.all || f.exact[strings.TrimSuffix(rest, "/")] {
		return true
	}
	return f.lits != nil && f.lits.Contains(rest)
}

// DB returns the adapter database in use.
func (m *Matcher) DB() *adapters.DB { return m.db }

// Entry finds what the entry at index transmitted.
func (m *Matcher) Entry(index int, e *har.Entry) *Result {
	return m.entry(index, e, "", nil)
}

// entry is Entry; when candURL is the entry's request URL, cands are the
// adapters DB.Candidates gave for it (Stream's prefilter found them
// already), which spares looking them up again.
func (m *Matcher) entry(index int, e *har.Entry, candURL string, cands []*adapters.Adapter) *Result {
	res := &Result{Entry: EntryRef{
		Index:     index,
		Timestamp: e.Timestamp,
		Method:    e.Request.Method,
		URL:       e.Request.URL,
	}}
	if !e.StartedDateTime.IsZero() {
		res.Entry.StartedDateTime = e.StartedDateTime.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	if res.Entry.Timestamp == 0 {
		res.Entry.Timestamp = e.Request.Timestamp
	}
	r, err := adapters.NewRequest(&e.Request)
	if err != nil {
		res.Warnings = append(res.Warnings, err.Error())
		return res
	}
	if r.BodyError != "" {
		res.Warnings = append(res.Warnings, "request body: "+r.BodyError)
	}
	var a *adapters.Adapter
	if cands != nil && e.Request.URL == candURL {
		// What DB.Select does, over the same candidates.
		for _, c := range cands {
			if c.Match == nil || c.Match.Test(r) {
				a = c
				break
			}
		}
	} else {
		a = m.db.Select(r)
	}
	if a != nil {
		res.Adapter = a.ID()
		m.applyAdapter(res, a, r)
	} else {
		res.Undecoded = m.undecoded(r)
	}
	if m.inds != nil && (a == nil || m.everywhere) {
		tr := m.trackerFor(r, a)
		ind := m.indicatorFindings(res.Entry, r, tr)
		res.Findings = mergeFindings(res.Findings, ind)
	}
	if m.inds != nil {
		// No adapter decodes WebSocket messages: they are always searched.
		res.Findings = append(res.Findings, m.webSocketFindings(res.Entry, e, m.trackerFor(r, a))...)
	}
	if len(res.Findings) > 0 {
		res.Parsed = e
	}
	return res
}

func (m *Matcher) trackerFor(r *adapters.Request, a *adapters.Adapter) *TrackerRef {
	t := m.hosts[r.Host]
	if a != nil {
		t = a.Tracker
	}
	if t == nil {
		return nil
	}
	return &TrackerRef{Slug: t.Slug, Name: t.Name}
}

func (m *Matcher) applyAdapter(res *Result, a *adapters.Adapter, r *adapters.Request) {
	d := a.Decode(r)
	res.Steps = d.Steps
	tr := &TrackerRef{Slug: a.Tracker.Slug, Name: a.Tracker.Name}
	id := a.ID()
	// The matches first, so that the findings are allocated once.
	type found struct {
		dp *adapters.DataPath
		ms []adapters.Match
	}
	var founds []found
	n := 0
	for _, pp := range a.ContainedDataPaths {
		for _, dp := range pp.Paths {
			data, ok := d.Res[dp.Context]
			if !ok {
				continue
			}
			if ms := dp.Find(data); len(ms) > 0 {
				founds = append(founds, found{dp, ms})
				n += len(ms)
			}
		}
	}
	if n == 0 {
		return
	}
	res.Findings = slices.Grow(res.Findings, n)
	k := 0
	for _, pp := range a.ContainedDataPaths {
		// Two template paths of a property can reach the same value:
		// a finding is kept once per context and path.
		first := len(res.Findings)
		for _, dp := range pp.Paths {
			if k == len(founds) || founds[k].dp != dp {
				continue
			}
			for _, mt := range founds[k].ms {
				path := adapters.FormatLoc(mt.Loc)
				if seenFinding(res.Findings[first:], dp.Context, path) {
					continue
				}
				val := decode.Stringify(mt.Value)
				f := Finding{
					Entry:        res.Entry,
					Tracker:      tr,
					Adapter:      id,
					Source:       SourceAdapter,
					Property:     pp.Property,
					Value:        val,
					Context:      dp.Context,
					Path:         path,
					TemplatePath: dp.Path,
					Reasoning:    dp.Reasoning,
					Decoding:     d.Chain(dp.Context, mt.Loc),
				}
				if !utf8.ValidString(val) {
					f.Value = base64.StdEncoding.EncodeToString([]byte(val))
					f.ValueEncoding = "base64"
				}
				res.Findings = append(res.Findings, f)
			}
			k++
		}
	}
}

// seenFinding reports whether one of fs (findings of one property) is at
// this context and path.
func seenFinding(fs []Finding, context, path string) bool {
	for i := range fs {
		if fs[i].Path == path && fs[i].Context == context {
			return true
		}
	}
	return false
}

// field is one searched piece of a request.
type field struct {
	context string
	name    string
	text    []byte
}

func (m *Matcher) indicatorFindings(ref EntryRef, r *adapters.Request, tr *TrackerRef) []Finding {
	var fields []field
	for _, h := range r.Headers {
		if strings.EqualFold(h.Name, "cookie") {
			continue // searched cookie by cookie below
		}
		fields = append(fields, field{"header", h.Name, []byte(h.Value)})
	}
	seenCookie := map[string]bool{}
	for _, c := range r.Cookies {
		k := c.Name + "\x00" + c.Value
		if seenCookie[k] {
			continue
		}
		seenCookie[k] = true
		fields = append(fields, field{"cookie", c.Name, []byte(c.Value)})
	}
	fields = append(fields, field{"path", "", []byte(r.Path)})
	if r.HasQuery {
		fields = append(fields, field{"query", "", []byte(r.Query)})
	}
	if len(r.Body) > 0 {
		fields = append(fields, field{"body", "", r.Body})
	}
	var out []Finding
	for _, fl := range fields {
		for _, h := range m.inds.search(fl.text) {
			name, off := fl.name, h.start
			if fl.context == "query" {
				name, off = queryParamAt(fl.text, h.start)
			}
			f := m.indicatorFinding(ref, tr, h, fl.text, fl.context, name, off, "")
			if fl.context == "body" || fl.context == "path" {
				f.Path = "[" + strconv.Itoa(h.start) + "]"
			}
			out = append(out, f)
		}
	}
	return out
}

// indicatorFinding is the finding of hit h in text, a field of the request
// in context ctx named name, where off is the hit's offset in that field;
// where ends the reasoning.
func (m *Matcher) indicatorFinding(ref EntryRef, tr *TrackerRef, h hit, text []byte, ctx, name string, off int, where string) Finding {
	in := m.inds.indicators[h.form.ind]
	matched := string(text[h.start:h.end])
	f := Finding{
		Entry:     ref,
		Tracker:   tr,
		Source:    SourceIndicator,
		Property:  in.Property,
		Value:     matched,
		Context:   ctx,
		Path:      name,
		Reasoning: fmt.Sprintf("indicator %s=%q found %s%s%s", in.Property, in.Value, h.form.encoding, ofSuffix(h.form.of), where),
		Indicator: &IndicatorMatch{Value: in.Value, Encoding: h.form.encoding, Of: h.form.of, Field: name, Offset: off},
	}
	if !utf8.ValidString(matched) {
		f.Value = base64.StdEncoding.EncodeToString([]byte(matched))
		f.ValueEncoding = "base64"
	}
	return f
}

func ofSuffix(of string) string {
	if of == "" {
		return ""
	}
	return " (" + of + ")"
}

// queryParamAt returns the name of the query parameter holding offset off,
// and the offset within that parameter's value (or name).
func queryParamAt(q []byte, off int) (string, int) {
	start := 0
	for i := 0; i <= len(q); i++ {
		if i == len(q) || q[i] == '&' {
			if off < i {
				part := q[start:i]
				name := part
				valStart := start
				if eq := strings.IndexByte(string(part), '='); eq >= 0 {
					name = part[:eq]
					valStart = start + eq + 1
				}
				n := string(name)
				if d, err := decode.DecodeURIComponent(strings.ReplaceAll(n, "+", " ")); err == nil {
					n = d
				}
				if off >= valStart {
					return n, off - valStart
				}
				return n, off - start
			}
			start = i + 1
		}
	}
	return "", off
}

// mergeFindings appends indicator findings that an adapter finding does not
// already report (same property and context, and the adapter's value holds
// the matched text or the indicator).
func mergeFindings(adapterFindings, ind []Finding) []Finding {
	out := adapterFindings
	for _, f := range ind {
		dup := false
		for _, a := range adapterFindings {
			if a.Property == f.Property && a.Context == f.Context && sameField(&a, &f) {
				av := strings.ToLower(a.Value)
				if strings.Contains(av, strings.ToLower(f.Value)) || strings.Contains(av, strings.ToLower(f.Indicator.Value)) {
					dup = true
					break
				}
			}
		}
		if !dup {
			out = append(out, f)
		}
	}
	sort.SliceStable(out[len(adapterFindings):], func(i, j int) bool {
		x, y := out[len(adapterFindings)+i], out[len(adapterFindings)+j]
		if x.Context != y.Context {
			return contextOrder(x.Context) < contextOrder(y.Context)
		}
		if x.Indicator.Field != y.Indicator.Field {
			return x.Indicator.Field < y.Indicator.Field
		}
		if x.Indicator.Offset != y.Indicator.Offset {
			return x.Indicator.Offset < y.Indicator.Offset
		}
		return x.Property < y.Property
	})
	return out
}

// sameField reports whether an adapter finding and an indicator finding can
// be the same occurrence: in headers, cookies and the query the adapter's
// path starts with the field name; in the path and body positions cannot be
// compared, so any occurrence counts.
func sameField(a, ind *Finding) bool {
	switch a.Context {
	case "header", "cookie", "query":
		p := a.Path
		if i := strings.IndexAny(p, ".["); i > 0 {
			p = p[:i]
		}
		return strings.EqualFold(strings.Trim(p, "'\""), ind.Indicator.Field)
	}
	return true
}

func contextOrder(c string) int {
	for i, x := range adapters.Contexts {
		if x == c {
			return i
		}
	}
	return len(adapters.Contexts)
}

// webSocketFindings searches the messages the client sent on a WebSocket
// ("_webSocketMessages" of the handshake's entry, as tracewire and Chrome
// write them) for indicators. A finding's context is "websocket" and its
// path names the message: "_webSocketMessages[3]".
func (m *Matcher) webSocketFindings(ref EntryRef, e *har.Entry, tr *TrackerRef) []Finding {
	msgs, _ := e.Extra["_webSocketMessages"].([]any)
	var out []Finding
	for i, x := range msgs {
		o, _ := x.(map[string]any)
		if o == nil || o["type"] != "send" {
			continue
		}
		data, _ := o["data"].(string)
		text := []byte(data)
		enc, _ := o["_encoding"].(string)
		if op, _ := toInt(o["opcode"]); op != 1 || enc == "base64" {
			b, err := base64.StdEncoding.DecodeString(data)
			if err != nil {
				continue
			}
			text = b
		}
		name := "_webSocketMessages[" + strconv.Itoa(i) + "]"
		for _, h := range m.inds.search(text) {
			f := m.indicatorFinding(ref, tr, h, text, "websocket", name, h.start, " in WebSocket message "+strconv.Itoa(i))
			if !seenFinding(out, f.Context, f.Path) || !sameProperty(out, f) {
				out = append(out, f)
			}
		}
	}
	return out
}

// sameProperty reports whether fs has a finding of f's property at f's
// path.
func sameProperty(fs []Finding, f Finding) bool {
	for i := range fs {
		if fs[i].Path == f.Path && fs[i].Property == f.Property {
			return true
		}
	}
	return false
}

// toInt reads a JSON number as decoded into any.
func toInt(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case int64:
		return int(n), true
	case float64:
		return int(n), true
	case json.Number:
		i, err := n.Int64()
		return int(i), err == nil
	}
	return 0, false
}
