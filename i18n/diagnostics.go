package i18n

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// diagnostic is one compiled pattern of the diagnostics section.
type diagnostic struct {
	re    *regexp.Regexp
	parts []string // the translation split at its {}
}

// compileDiagnostics turns the patterns into anchored regular expressions,
// longest pattern first, so a specific message wins over a general one.
func compileDiagnostics(m map[string]string) ([]diagnostic, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if len(keys[i]) != len(keys[j]) {
			return len(keys[i]) > len(keys[j])
		}
		return keys[i] < keys[j]
	})
	out := make([]diagnostic, 0, len(keys))
	for _, k := range keys {
		lits := strings.Split(k, "{}")
		parts := strings.Split(m[k], "{}")
		if len(parts) != len(lits) {
			return nil, fmt.Errorf("diagnostics %q: the translation has %d {}, the pattern %d", k, len(parts)-1, len(lits)-1)
		}
		for i, l := range lits {
			lits[i] = regexp.QuoteMeta(l)
		}
		re, err := regexp.Compile("^" + strings.Join(lits, "(.+?)") + "$")
		if err != nil {
			return nil, fmt.Errorf("diagnostics %q: %w", k, err)
		}
		out = append(out, diagnostic{re: re, parts: parts})
	}
	return out, nil
}

// Diagnostic returns a message of the capture readers (a reason a TLS
// connection was not decrypted, a note about a connection) in lang when a
// pattern of the language's diagnostics section matches the whole
// message; otherwise, and in English, the message as written.
func Diagnostic(lang, msg string) string {
	if lang == Languages[0] {
		return msg
	}
	c := cat(lang)
	if c == nil {
		return msg
	}
	for _, d := range c.diagnostics {
		m := d.re.FindStringSubmatch(msg)
		if m == nil {
			continue
		}
		var b strings.Builder
		for i, p := range d.parts {
			if i > 0 {
				b.WriteString(m[i])
			}
			b.WriteString(p)
		}
		return b.String()
	}
	return msg
}
