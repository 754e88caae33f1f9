package report

import (
	"sort"
	"strconv"
	"strings"

	"github.com/tracewire/tracewire/match"
)

// Comparison statuses.
const (
	Persisted   = "persisted"
	Appeared    = "appeared"
	Disappeared = "disappeared"
)

// Comparison says how the transmissions of two analyses of the same app
// differ, e.g. before and after a notice to the controller.
type Comparison struct {
	Before, After *Analysis
	// Rows has one row per recipient and data type, sorted by recipient
	// and property.
	Rows []CompareRow
}

// CompareRow is one data type sent to one recipient, in either analysis.
// Transmissions are keyed by recipient (tracker, or host when no tracker
// is known) and property, not by value: values such as session IDs and
// timestamps change from run to run while the transmission is the same;
// SameValues says whether the values did too.
type CompareRow struct {
	// Recipient is the tracker slug, or the host for unknown recipients;
	// RecipientName is what people read.
	Recipient     string
	RecipientName string
	Property      string
	Status        string
	// Before and After count the requests that carried the property.
	Before, After int
	// Adapters are the adapters that found it, in either analysis.
	Adapters []string
	// SameValues is set when both analyses sent exactly the same values;
	// SharedValues counts the values sent in both.
	SameValues   bool
	SharedValues int
}

type compareKey struct{ recipient, property string }

type compareAcc struct {
	name     string
	requests map[int]bool
	values   map[string]bool
	adapters map[string]bool
}

func collect(a *Analysis) map[compareKey]*compareAcc {
	out := map[compareKey]*compareAcc{}
	for i := range a.Findings {
		f := &a.Findings[i]
		rc := recipientOf(f)
		k := compareKey{rc.id, f.Property}
		acc := out[k]
		if acc == nil {
			acc = &compareAcc{name: rc.name, requests: map[int]bool{}, values: map[string]bool{}, adapters: map[string]bool{}}
			out[k] = acc
		}
		acc.requests[f.Entry.Index] = true
		acc.values[f.Value] = true
		if f.Adapter != "" {
			acc.adapters[f.Adapter] = true
		}
	}
	return out
}

// Compare compares an earlier analysis (before) with a later one (after).
func Compare(before, after *Analysis) *Comparison {
	b, a := collect(before), collect(after)
	keys := map[compareKey]bool{}
	for k := range b {
		keys[k] = true
	}
	for k := range a {
		keys[k] = true
	}
	c := &Comparison{Before: before, After: after}
	for k := range keys {
		x, y := b[k], a[k]
		row := CompareRow{Recipient: k.recipient, Property: k.property}
		ads := map[string]bool{}
		switch {
		case x != nil && y != nil:
			row.Status = Persisted
		case y != nil:
			row.Status = Appeared
		default:
			row.Status = Disappeared
		}
		for _, acc := range []*compareAcc{x, y} {
			if acc == nil {
				continue
			}
			row.RecipientName = acc.name
			for ad := range acc.adapters {
				ads[ad] = true
			}
		}
		if x != nil {
			row.Before = len(x.requests)
		}
		if y != nil {
			row.After = len(y.requests)
		}
		if x != nil && y != nil {
			for v := range x.values {
				if y.values[v] {
					row.SharedValues++
				}
			}
			row.SameValues = row.SharedValues == len(x.values) && row.SharedValues == len(y.values)
		}
		row.Adapters = sortedKeys(ads)
		c.Rows = append(c.Rows, row)
	}
	sort.Slice(c.Rows, func(i, j int) bool {
		p, q := c.Rows[i], c.Rows[j]
		if pn, qn := strings.ToLower(p.RecipientName), strings.ToLower(q.RecipientName); pn != qn {
			return pn < qn
		}
		if p.Recipient != q.Recipient {
			return p.Recipient < q.Recipient
		}
		return p.Property < q.Property
	})
	return c
}

// Count returns the number of rows with the status.
func (c *Comparison) Count(status string) int {
	n := 0
	for _, r := range c.Rows {
		if r.Status == status {
			n++
		}
	}
	return n
}

// recipient is who received a transmission: a known tracking company, or
// the host when no adapter or tracker host names one.
type recipient struct {
	id   string // tracker slug, or "host:" + host
	slug string
	name string
	host string
}

func recipientOf(f *match.Finding) recipient {
	if f.Tracker != nil && f.Tracker.Slug != "" {
		name := f.Tracker.Name
		if name == "" {
			name = f.Tracker.Slug
		}
		return recipient{id: f.Tracker.Slug, slug: f.Tracker.Slug, name: name}
	}
	h := HostOf(f.Entry.URL)
	return recipient{id: "host:" + h, name: h, host: h}
}

// A compareDiff is one reason two analyses may not be of the same app.
type compareDiff struct {
	key  string // i18n key under report.compare.differs.
	args []string
}

// compareDiffs says why before and after may be analyses of different
// apps: both name an app and the IDs differ, or no host received requests
// in both. Nothing when nothing says they differ.
func compareDiffs(before, after *Analysis) []compareDiff {
	var out []compareDiff
	if b, a := appID(before), appID(after); b != "" && a != "" && !strings.EqualFold(a, b) {
		out = append(out, compareDiff{"appId", []string{"before", b, "after", a}})
	}
	hb, ha := hostsOf(before), hostsOf(after)
	common := false
	for h := range ha {
		if hb[h] {
			common = true
			break
		}
	}
	if !common {
		out = append(out, compareDiff{"noCommonHost", []string{"before", strconv.Itoa(len(hb)), "after", strconv.Itoa(len(ha))}})
	}
	return out
}

// CompareDifferences says, in English, why before and after may be
// analyses of different apps (see Compare): the app IDs differ, or no
// host received requests in both. Empty when nothing says so. A report
// comparing such analyses says it; tracewire report refuses them unless
// told --compare-any.
func CompareDifferences(before, after *Analysis) []string {
	var out []string
	for _, d := range compareDiffs(before, after) {
		out = append(out, newTranslator("en").t("report.compare.differs."+d.key, d.args...))
	}
	return out
}

func appID(a *Analysis) string {
	if a.Subject != nil && a.Subject.App != nil {
		return a.Subject.App.ID
	}
	return ""
}

// hostsOf is the set of hosts an analysis saw requests to: all of them
// when it counted them, else those of its findings (detect's JSON).
func hostsOf(a *Analysis) map[string]bool {
	out := map[string]bool{}
	for _, h := range a.Hosts {
		out[h.Host] = true
	}
	for i := range a.Findings {
		if h := HostOf(a.Findings[i].Entry.URL); h != "" {
			out[h] = true
		}
	}
	return out
}
