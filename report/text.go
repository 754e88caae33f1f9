package report

import (
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tracewire/tracewire/i18n"
)

// translator looks up the report's strings in i18n and fills their
// {placeholders}. Keys missing in the language are collected, so tests can
// make sure every string the report uses exists in every language.
type translator struct {
	lang    string
	missing map[string]bool
}

var (
	uiKeysOnce sync.Once
	uiKeys     map[string]map[string]bool
)

func hasUIKey(lang, key string) bool {
	uiKeysOnce.Do(func() {
		uiKeys = map[string]map[string]bool{}
		for _, l := range i18n.Languages {
			m := map[string]bool{}
			for _, k := range i18n.Keys(l, "ui") {
				m[k] = true
			}
			uiKeys[l] = m
		}
	})
	return uiKeys[lang][key]
}

func newTranslator(lang string) *translator {
	return &translator{lang: lang, missing: map[string]bool{}}
}

// t returns the string for key with each {name} replaced by the value
// following name in kv.
func (t *translator) t(key string, kv ...string) string {
	if !hasUIKey(t.lang, key) {
		t.missing[key] = true
	}
	s := i18n.UI(t.lang, key)
	if len(kv) == 0 {
		return s
	}
	pairs := make([]string, 0, len(kv))
	for i := 0; i+1 < len(kv); i += 2 {
		pairs = append(pairs, "{"+kv[i]+"}", kv[i+1])
	}
	return strings.NewReplacer(pairs...).Replace(s)
}

// n picks the singular or plural form: key+".one" or key+".other", with
// {n} filled in.
func (t *translator) n(key string, n int, kv ...string) string {
	form := ".other"
	if n == 1 {
		form = ".one"
	}
	return t.t(key+form, append([]string{"n", t.num(n)}, kv...)...)
}

// num formats a count with the language's digit grouping.
func (t *translator) num(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	if len(s) > 3 {
		sep := ","
		if t.lang == "de" {
			sep = "."
		}
		var b strings.Builder
		pre := len(s) % 3
		if pre > 0 {
			b.WriteString(s[:pre])
		}
		for i := pre; i < len(s); i += 3 {
			if b.Len() > 0 {
				b.WriteString(sep)
			}
			b.WriteString(s[i : i+3])
		}
		s = b.String()
	}
	if neg {
		s = "-" + s
	}
	return s
}

// bytes formats a size.
func (t *translator) bytes(n int64) string {
	return t.t("report.bytes", "n", t.num(int(n)))
}

// missingKeys returns the keys looked up but absent, sorted.
func (t *translator) missingKeys() []string {
	out := make([]string, 0, len(t.missing))
	for k := range t.missing {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// fmtTime formats a capture time; the report is in UTC so it reads the
// same wherever it is opened.
func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.UTC().Format("2006-01-02 15:04:05.000") + " UTC"
}

// fmtDuration formats a span of capture time.
func fmtDuration(d time.Duration) string {
	if d < time.Second {
		return strconv.FormatInt(d.Milliseconds(), 10) + " ms"
	}
	d = d.Round(time.Second)
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	switch {
	case h > 0:
		return strconv.Itoa(h) + " h " + strconv.Itoa(m) + " min " + strconv.Itoa(s) + " s"
	case m > 0:
		return strconv.Itoa(m) + " min " + strconv.Itoa(s) + " s"
	}
	return strconv.Itoa(s) + " s"
}

// clip shortens s to at most n runes, marking the cut.
func clip(s string, n int) string {
	if n <= 0 {
		return s
	}
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos] + "…"
		}
		i++
	}
	return s
}

// paragraphs splits Markdown-ish text into paragraphs (blank lines), each
// joined into one line.
func paragraphs(s string) []string {
	var out []string
	for _, p := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n\n") {
		p = strings.Join(strings.Fields(p), " ")
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}
