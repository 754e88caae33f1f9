package i18n

import (
	"fmt"
	"io/fs"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"
)

// adapterTexts is one adapters/<name>.<lang>.yaml file: the translations of
// the English texts of the adapter database (adapters/data), keyed by the
// English text itself, so a translation survives reordering and is found
// for every adapter that uses the same words.
type adapterTexts struct {
	// Reasoning translates reasoning texts without their trailing URL
	// (see ReasoningKey).
	Reasoning map[string]string `yaml:"reasoning"`
	// Names translates whole adapter names, or the text in parentheses of
	// a name, or one of its comma-separated parts ("query string").
	Names map[string]string `yaml:"names"`
}

// loadAdapterTexts merges the adapters/*.<lang>.yaml files. The same English
// text translated differently in two files is an error, so no translation
// silently wins.
func loadAdapterTexts() error {
	ents, err := fs.ReadDir(files, "adapters")
	if err != nil {
		return err
	}
	from := map[string]string{} // lang + section + key → file
	for _, e := range ents {
		n := e.Name()
		base, ok := strings.CutSuffix(n, ".yaml")
		if !ok {
			continue
		}
		i := strings.LastIndexByte(base, '.')
		if i < 0 {
			return fmt.Errorf("i18n: adapters/%s: want <tracker slug or common>.<lang>.yaml", n)
		}
		lang := base[i+1:]
		c := catalogs[lang]
		if c == nil || lang == Languages[0] {
			return fmt.Errorf("i18n: adapters/%s: %q is not a language to translate into", n, lang)
		}
		b, err := files.ReadFile("adapters/" + n)
		if err != nil {
			return err
		}
		var t adapterTexts
		dec := yaml.NewDecoder(strings.NewReader(string(b)))
		dec.KnownFields(true)
		if err := dec.Decode(&t); err != nil {
			return fmt.Errorf("i18n: adapters/%s: %w", n, err)
		}
		for _, sec := range []struct {
			name     string
			src, dst map[string]string
		}{{"reasoning", t.Reasoning, c.reasoning}, {"names", t.Names, c.names}} {
			for k, v := range sec.src {
				if strings.TrimSpace(v) == "" {
					return fmt.Errorf("i18n: adapters/%s: %s %q has no translation", n, sec.name, k)
				}
				if old, dup := sec.dst[k]; dup && old != v {
					return fmt.Errorf("i18n: adapters/%s: %s %q is translated differently in adapters/%s", n, sec.name, k, from[lang+sec.name+k])
				}
				sec.dst[k] = v
				from[lang+sec.name+k] = n
			}
		}
	}
	return nil
}

// ReasoningKey is the part of an adapter's reasoning text that is
// translated: the text without a URL that ends it (and the ": ", ", " or
// " (" before that URL), which stays as written. It is "" when the text is
// only a URL. A key that is only a field name ("user.ip") needs no
// translation either (see codeLike).
func ReasoningKey(text string) string {
	k, _ := splitTrailingURL(text)
	return k
}

func splitTrailingURL(text string) (prose, tail string) {
	i := strings.LastIndexAny(text, " \t\n") + 1 // the last word
	i += len(text[i:]) - len(strings.TrimLeft(text[i:], "("))
	if !strings.HasPrefix(text[i:], "https://") && !strings.HasPrefix(text[i:], "http://") {
		return text, ""
	}
	prose = strings.TrimRight(text[:i], " :,;(")
	return prose, text[len(prose):]
}

// Reasoning returns an adapter's reasoning text (why a value is the
// property it is reported as) in lang: the translation of its ReasoningKey
// followed by its URL as written. English, and texts with no translation,
// come back unchanged.
func Reasoning(lang, text string) string {
	s, _ := reasoning(lang, text)
	return s
}

// HasReasoning reports whether the reasoning text reads in lang: it is
// English, only a URL, or translated.
func HasReasoning(lang, text string) bool {
	_, ok := reasoning(lang, text)
	return ok
}

func reasoning(lang, text string) (string, bool) {
	prose, tail := splitTrailingURL(text)
	if lang == Languages[0] || prose == "" || codeLike(prose) {
		return text, true
	}
	if c := cat(lang); c != nil {
		if s, ok := c.reasoning[prose]; ok {
			return s + tail, true
		}
	}
	return text, false
}

// AdapterName returns an adapter's name in lang: its whole translation if
// there is one, else the name with the text in each pair of parentheses
// translated, whole or by its comma-separated parts ("Facebook Graph App
// Events API (query string)" → "… (Query-String)"). Untranslated parts stay
// as they are.
func AdapterName(lang, name string) string {
	s, _ := adapterName(lang, name)
	return s
}

// UntranslatedNameParts lists the parts of an adapter name that have no
// translation into lang (nil when the name reads in lang). Parts that are
// one word that is a path, file, host or field name or an identifier
// (see codeLike) need none.
func UntranslatedNameParts(lang, name string) []string {
	_, missing := adapterName(lang, name)
	return missing
}

func adapterName(lang, name string) (string, []string) {
	c := cat(lang)
	if lang == Languages[0] || c == nil {
		return name, nil
	}
	if s, ok := c.names[name]; ok {
		return s, nil
	}
	var b strings.Builder
	var missing []string
	rest := name
	for {
		i := strings.IndexByte(rest, '(')
		j := strings.IndexByte(rest[i+1:], ')') + i + 1
		if i < 0 || j <= i {
			b.WriteString(rest)
			return b.String(), missing
		}
		b.WriteString(rest[:i+1])
		inner := rest[i+1 : j]
		if s, ok := c.names[inner]; ok {
			b.WriteString(s)
		} else {
			for k, part := range strings.Split(inner, ", ") {
				if k > 0 {
					b.WriteString(", ")
				}
				if s, ok := c.names[part]; ok {
					b.WriteString(s)
					continue
				}
				b.WriteString(part)
				if !codeLike(part) {
					missing = append(missing, part)
				}
			}
		}
		b.WriteByte(')')
		rest = rest[j+1:]
	}
}

// codeLike: one word that is a path, file, host or field name, or an
// identifier in camel case or capitals (getAccountInfo, JSON): it reads the
// same in every language.
func codeLike(s string) bool {
	if s == "" || strings.ContainsAny(s, " \t\n") {
		return false
	}
	if strings.ContainsAny(s, "/._-0123456789[]") {
		return true
	}
	for _, r := range s[1:] {
		if unicode.IsUpper(r) {
			return true
		}
	}
	return false
}
