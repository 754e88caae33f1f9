package match

import "github.com/tracewire/tracewire/adapters"

// MayMatch exposes the endpoint prefilter to the tests.
func (m *Matcher) MayMatch(u *adapters.RequestURL) bool { return m.filter.mayMatch(u) }
