package match

import (
	"net"
	"sort"

	"github.com/tracewire/tracewire/adapters"
	"github.com/tracewire/tracewire/adapters/decode"
)

// Undecoded is a request to a tracking company (by the host directory)
// that no adapter decodes but that carried data: it is listed, never
// turned into findings, so that a reader knows what was sent and not
// read.
type Undecoded struct {
	Company *adapters.Company `json:"company"`
	Host    string            `json:"host"`
	Path    string            `json:"path"`
	// Keys are the names of the query parameters and body keys (of a
	// JSON object or a form) whose values are not empty; "(body)" stands
	// for a body of another kind.
	Keys []string `json:"keys"`
}

// companyOf returns the tracking company of a host ("name" or
// "name:port"), or nil.
func (m *Matcher) companyOf(host string) *adapters.Company {
	if m.dir == nil {
		return nil
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return m.dir.Lookup(host)
}

// undecoded returns what to list about a request no adapter handled, or
// nil when its host is no tracking company's or it carried no data.
func (m *Matcher) undecoded(r *adapters.Request) *Undecoded {
	c := m.companyOf(r.Host)
	if c == nil {
		return nil
	}
	seen := map[string]bool{}
	add := func(obj map[string]any) {
		for k, v := range obj {
			if !decode.IsEmpty(v) {
				seen[k] = true
			}
		}
	}
	if r.HasQuery {
		add(decode.ParseQueryString(r.Query))
	}
	if len(r.Body) > 0 {
		if v, err := decode.ParseJSON(string(r.Body)); err == nil {
			if obj, ok := v.(map[string]any); ok {
				add(obj)
			} else if !decode.IsEmpty(v) {
				seen["(body)"] = true
			}
		} else if q := decode.ParseQueryString(string(r.Body)); len(q) > 0 && looksLikeForm(r.Body) {
			add(q)
		} else {
			seen["(body)"] = true
		}
	}
	if len(seen) == 0 {
		return nil
	}
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return &Undecoded{Company: c, Host: r.Host, Path: r.Path, Keys: keys}
}

// looksLikeForm reports whether a body is printable text with an "=",
// as form-encoded bodies are.
func looksLikeForm(b []byte) bool {
	eq := false
	for _, c := range b {
		switch {
		case c == '=':
			eq = true
		case c < 0x20 || c >= 0x7f:
			return false
		}
	}
	return eq
}
