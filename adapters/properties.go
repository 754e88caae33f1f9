package adapters

import (
	"sync"

	"github.com/tracewire/tracewire/i18n"
)

// The standardized names of the data an adapter can find are the keys of
// the properties section of i18n/en.yaml, where each has its English label
// (and i18n/de.yaml its German one, checked by go test ./i18n/). So a new
// property is added in those data files, not here. The names TrackHAR uses
// are among them, so findings compare one to one; the others are
// tracewire's own, mostly for server-side tracking APIs (Conversions APIs)
// and indicator matching.
var properties = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	for _, p := range i18n.Keys("en", "properties") {
		m[p] = true
	}
	return m
})

// IsProperty reports whether name is a known property.
func IsProperty(name string) bool { return properties()[name] }

// Properties returns every known property name, sorted.
func Properties() []string { return i18n.Keys("en", "properties") }
