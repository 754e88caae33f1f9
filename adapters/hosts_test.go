package adapters

import (
	"net/url"
	"strings"
	"testing"
)

// TestHostsCoverDatabase checks that every tracker of the adapter database
// is in the host directory under its slug, and that the host of every
// exact endpoint URL of its adapters is that company's.
func TestHostsCoverDatabase(t *testing.T) {
	db, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := Hosts()
	if err != nil {
		t.Fatal(err)
	}
	bySlug := map[string]*Company{}
	for _, c := range dir.Companies {
		if c.Slug != "" {
			if db.Tracker(c.Slug) == nil {
				t.Errorf("host directory: %s (%s) is not a tracker of the database", c.Slug, c.Name)
			}
			bySlug[c.Slug] = c
		}
	}
	for _, tr := range db.Trackers {
		if bySlug[tr.Slug] == nil {
			t.Errorf("tracker %s is not in the host directory", tr.Slug)
		}
	}
	for _, a := range db.Adapters {
		for _, e := range a.EndpointURLs {
			if e.Regex != "" {
				continue
			}
			u, err := url.Parse(e.URL)
			if err != nil {
				t.Fatal(err)
			}
			if c := dir.Lookup(u.Hostname()); c == nil || c.Slug != a.Tracker.Slug {
				t.Errorf("%s: endpoint host %s is not %s's in the host directory (%v)", a.ID(), u.Hostname(), a.Tracker.Slug, c)
			}
		}
	}
}

func TestHostsLookup(t *testing.T) {
	dir, err := ParseHosts([]byte(`companies:
- {name: A, domains: [a.com]}
- {name: B, hosts: [x.b.com]}
`))
	if err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]string{"a.com": "A", "x.y.a.com": "A", "ba.com": "", "x.b.com": "B", "y.x.b.com": "", "b.com": ""} {
		got := ""
		if c := dir.Lookup(host); c != nil {
			got = c.Name
		}
		if got != want {
			t.Errorf("%s: %q, want %q", host, got, want)
		}
	}
}

func TestParseHostsErrors(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"domain twice", "companies:\n- {name: A, domains: [a.com]}\n- {name: B, domains: [a.com]}\n", "a.com listed for A and B"},
		{"no name", "companies:\n- {domains: [a.com]}\n", `company "" without name or hosts`},
		{"no hosts", "companies:\n- {name: A}\n", `company "A" without name or hosts`},
		// found by FuzzParseFile: a list item with nothing in it is a nil *Company
		{"empty item", "companies:\n-", "company 1 of 1 is empty"},
		{"empty item after one", "companies:\n- {name: A, domains: [a.com]}\n-\n", "company 2 of 2 is empty"},
		{"unknown field", "companies:\n- {name: A, domain: [a.com]}\n", "field domain not found"},
	} {
		_, err := ParseHosts([]byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}
