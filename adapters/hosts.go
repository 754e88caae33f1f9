package adapters

import (
	_ "embed" // hosts/hosts.yaml
	"fmt"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// The host directory says which tracking company a host belongs to, so that
// a request to a tracking company that no adapter decodes is listed rather
// than dropped. It is data (hosts/hosts.yaml, MIT, written for tracewire;
// the file says why no public block list is embedded).
//
//go:embed hosts/hosts.yaml
var hostsYAML []byte

// Company is a tracking company of the host directory.
type Company struct {
	// Slug is the tracker's slug in the adapter database, "" when it has
	// no adapters.
	Slug string `yaml:"slug" json:"slug,omitempty"`
	Name string `yaml:"name" json:"name"`
	// Domains match the host and its subdomains; Hosts match exactly.
	Domains []string `yaml:"domains" json:"-"`
	Hosts   []string `yaml:"hosts" json:"-"`
}

// HostDirectory maps hosts to tracking companies.
type HostDirectory struct {
	Companies []*Company
	domains   map[string]*Company
	hosts     map[string]*Company
}

// Hosts returns the embedded host directory, loaded once.
var Hosts = sync.OnceValues(func() (*HostDirectory, error) { return ParseHosts(hostsYAML) })

// ParseHosts reads a host directory in the format of hosts/hosts.yaml.
func ParseHosts(b []byte) (*HostDirectory, error) {
	var f struct {
		Companies []*Company `yaml:"companies"`
	}
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("adapters: host directory: %w", err)
	}
	d := &HostDirectory{Companies: f.Companies, domains: map[string]*Company{}, hosts: map[string]*Company{}}
	for i, c := range f.Companies {
		if c == nil {
			return nil, fmt.Errorf("adapters: host directory: company %d of %d is empty", i+1, len(f.Companies))
		}
		if c.Name == "" || len(c.Domains)+len(c.Hosts) == 0 {
			return nil, fmt.Errorf("adapters: host directory: company %q without name or hosts", c.Name)
		}
		for _, m := range []struct {
			names []string
			into  map[string]*Company
		}{{c.Domains, d.domains}, {c.Hosts, d.hosts}} {
			for _, h := range m.names {
				h = strings.ToLower(h)
				if o := m.into[h]; o != nil {
					return nil, fmt.Errorf("adapters: host directory: %s listed for %s and %s", h, o.Name, c.Name)
				}
				m.into[h] = c
			}
		}
	}
	return d, nil
}

// Lookup returns the company a host (lowercase, without port) belongs to,
// or nil.
func (d *HostDirectory) Lookup(host string) *Company {
	if c := d.hosts[host]; c != nil {
		return c
	}
	for h := host; h != ""; {
		if c := d.domains[h]; c != nil {
			return c
		}
		i := strings.IndexByte(h, '.')
		if i < 0 {
			break
		}
		h = h[i+1:]
	}
	return nil
}
