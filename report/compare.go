package report

import (
	"sort"
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
