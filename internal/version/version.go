// Package version holds tracewire's version, written into every output so a
// result can be traced to the exact build that made it.
package version

import "runtime/debug"

// Base is the release version of tracewire.
const Base = "0.1.0-dev"

// Name is the creator name written into HAR files and reports.
const Name = "tracewire"

// Revision is the VCS revision the binary was built from and Modified
// whether the working tree had uncommitted changes, as the Go toolchain
// recorded them in the build info; Revision is "" when the build has no
// VCS information (go test, go build -buildvcs=false, a build outside a
// checkout).
//
// Version names the exact build: Base with the revision (and ", modified"),
// e.g. "0.1.0-dev (revision 0123…, modified)", or "revision unknown" when
// the build has none. Same input and same Version give byte-identical
// output. Test binaries carry no VCS information, so in tests Version is
// "0.1.0-dev (revision unknown)" on every machine.
var Revision, Modified, Version = fromBuildInfo()

func fromBuildInfo() (string, bool, string) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "", false, Full("", false, "")
	}
	rev, mod := "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			mod = s.Value == "true"
		}
	}
	return rev, mod, Full(rev, mod, bi.Main.Version)
}

// Full is the Version of a build: Base and, in parentheses, "revision R"
// (with ", modified" when the tree was), else "module V" for a tagged
// module version built without VCS information (go install …@v1.2.3),
// else "revision unknown".
func Full(revision string, modified bool, module string) string {
	switch {
	case revision != "":
		s := "revision " + revision
		if modified {
			s += ", modified"
		}
		return Base + " (" + s + ")"
	case module != "" && module != "(devel)":
		return Base + " (module " + module + ")"
	}
	return Base + " (revision unknown)"
}
