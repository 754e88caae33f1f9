package match

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"
	"unicode/utf8"

	json "github.com/go-json-experiment/json/v1"
	"github.com/tracewire/tracewire/adapters"
	"github.com/tracewire/tracewire/internal/ahocorasick"
)

// Indicator is a value known to belong to the test device or test user,
// searched for in requests.
type Indicator struct {
	// Property is what the value is (advertisingId, email, ...).
	Property string `json:"property"`
	Value    string `json:"value"`
}

// ParseIndicator parses "property=value".
func ParseIndicator(s string) (Indicator, error) {
	k, v, ok := strings.Cut(s, "=")
	k = strings.TrimSpace(k)
	if !ok || k == "" || v == "" {
		return Indicator{}, fmt.Errorf("indicator %q: want property=value", s)
	}
	if !adapters.IsProperty(k) {
		return Indicator{}, fmt.Errorf("indicator %q: %w", s, &UnknownPropertyError{Property: k})
	}
	return Indicator{Property: k, Value: v}, nil
}

// UnknownPropertyError is an indicator's property that is not one of the
// properties findings name (adapters.Properties); its message lists them.
type UnknownPropertyError struct {
	Property string
}

func (e *UnknownPropertyError) Error() string {
	return fmt.Sprintf("unknown property %q; the known properties are %s", e.Property, strings.Join(adapters.Properties(), ", "))
}

// ReadIndicators reads indicators as JSON: either an object mapping a
// property to a value or a list of values (TrackHAR's indicatorValues),
// or a list of {"property": ..., "value": ...}.
func ReadIndicators(r io.Reader) ([]Indicator, error) {
	b, err := io.ReadAll(io.LimitReader(r, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("indicators: %w", err)
	}
	b = bytes.TrimSpace(b)
	var out []Indicator
	if len(b) > 0 && b[0] == '[' {
		if err := json.Unmarshal(b, &out); err != nil {
			return nil, fmt.Errorf("indicators: %w", err)
		}
	} else {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("indicators: want a JSON object or list: %w", err)
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			var one any
			if err := json.Unmarshal(m[k], &one); err != nil {
				return nil, fmt.Errorf("indicators: %s: %w", k, err)
			}
			vals := []any{one}
			if l, ok := one.([]any); ok {
				vals = l
			}
			for _, v := range vals {
				switch v := v.(type) {
				case nil:
				case string:
					out = append(out, Indicator{Property: k, Value: v})
				case float64, bool:
					out = append(out, Indicator{Property: k, Value: fmt.Sprint(v)})
				default:
					return nil, fmt.Errorf("indicators: %s: values must be text or numbers", k)
				}
			}
		}
	}
	for i, in := range out {
		if in.Property == "" || in.Value == "" {
			return nil, fmt.Errorf("indicators: entry %d: property and value required", i)
		}
	}
	return out, nil
}

// Encodings of indicator forms, as findings name them.
const (
	EncPlain  = "plain"
	EncURL    = "url"
	EncBase64 = "base64"
	EncHex    = "hex"
	EncJSON   = "json"
	EncMD5    = "md5"
	EncSHA1   = "sha1"
	EncSHA256 = "sha256"
)

// minShiftedBase64 is the shortest base64 fragment searched for a value at
// an offset inside a longer base64 string; shorter ones would match by
// chance.
const minShiftedBase64 = 8

// form is one searched encoding of one indicator.
type form struct {
	ind      int // index into indicators
	encoding string
	// of says what was encoded when it is not the value as given: "email
	// normalized", "lowercase", ...
	of   string
	text []byte
	fold bool
}

// indicatorSet is the compiled search over all forms of all indicators.
type indicatorSet struct {
	indicators []Indicator
	folded     []form // searched case-insensitively (lowercase patterns)
	exact      []form
	acFold     *ahocorasick.Automaton
	acExact    *ahocorasick.Automaton
}

func newIndicatorSet(inds []Indicator) *indicatorSet {
	s := &indicatorSet{indicators: inds}
	seenF, seenE := map[string]bool{}, map[string]bool{}
	add := func(f form) {
		if len(f.text) == 0 {
			return
		}
		if f.fold {
			f.text = bytes.ToLower(f.text)
			k := fmt.Sprint(f.ind, "\x00", string(f.text))
			if seenF[k] {
				return
			}
			seenF[k] = true
			s.folded = append(s.folded, f)
		} else {
			k := fmt.Sprint(f.ind, "\x00", string(f.text))
			if seenE[k] {
				return
			}
			seenE[k] = true
			s.exact = append(s.exact, f)
		}
	}
	for i, in := range inds {
		v := in.Value
		texts := []struct{ of, v string }{{"", v}}
		if tr := strings.TrimSpace(v); tr != v && tr != "" {
			texts = append(texts, struct{ of, v string }{"trimmed", tr})
		}
		for _, t := range texts {
			add(form{ind: i, encoding: EncPlain, of: t.of, text: []byte(t.v), fold: true})
			for _, e := range []string{encodeURIComponent(t.v), url.QueryEscape(t.v), percentEncodeAll(t.v)} {
				if e != t.v {
					add(form{ind: i, encoding: EncURL, of: t.of, text: []byte(e), fold: true})
				}
			}
			for _, e := range jsonForms(t.v) {
				if e != t.v {
					add(form{ind: i, encoding: EncJSON, of: t.of, text: []byte(e), fold: true})
				}
			}
			add(form{ind: i, encoding: EncHex, of: t.of, text: []byte(hex.EncodeToString([]byte(t.v))), fold: true})
		}
		// Base64 is case-sensitive: also encode the case variants.
		variants := texts
		for _, t := range texts {
			if l := strings.ToLower(t.v); l != t.v {
				variants = append(variants, struct{ of, v string }{join(t.of, "lowercase"), l})
			}
			if u := strings.ToUpper(t.v); u != t.v {
				variants = append(variants, struct{ of, v string }{join(t.of, "uppercase"), u})
			}
		}
		for _, vv := range variants {
			for _, b := range base64Forms([]byte(vv.v)) {
				add(form{ind: i, encoding: EncBase64, of: vv.of, text: []byte(b)})
			}
		}
		for _, n := range normalizedForms(in) {
			for _, h := range []struct {
				enc string
				sum []byte
			}{
				{EncMD5, md5sum(n.v)}, {EncSHA1, sha1sum(n.v)}, {EncSHA256, sha256sum(n.v)},
			} {
				add(form{ind: i, encoding: h.enc, of: n.of, text: []byte(hex.EncodeToString(h.sum)), fold: true})
			}
		}
	}
	var pf, pe [][]byte
	for _, f := range s.folded {
		pf = append(pf, f.text)
	}
	for _, f := range s.exact {
		pe = append(pe, f.text)
	}
	if len(pf) > 0 {
		s.acFold = ahocorasick.New(pf)
	}
	if len(pe) > 0 {
		s.acExact = ahocorasick.New(pe)
	}
	return s
}

func md5sum(s string) []byte    { h := md5.Sum([]byte(s)); return h[:] }
func sha1sum(s string) []byte   { h := sha1.Sum([]byte(s)); return h[:] }
func sha256sum(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }

type normalized struct{ of, v string }

// normalizedForms are the texts whose hashes are searched: the value as
// given, trimmed and lowercased (how Conversions APIs normalize emails,
// names, cities), and for phone numbers the digits with the country code,
// with and without "+".
func normalizedForms(in Indicator) []normalized {
	out := []normalized{{"", in.Value}}
	seen := map[string]bool{in.Value: true}
	add := func(of, v string) {
		if v != "" && !seen[v] {
			seen[v] = true
			out = append(out, normalized{of, v})
		}
	}
	low := strings.ToLower(strings.TrimSpace(in.Value))
	if strings.Contains(low, "@") {
		add("email normalized", low)
	} else {
		add("trimmed and lowercased", low)
	}
	if p := strings.ToLower(in.Property); strings.Contains(p, "phone") || looksLikePhone(in.Value) {
		d := phoneDigits(in.Value)
		if len(d) >= 6 {
			add("phone digits", d)
			add("phone E.164", "+"+d)
		}
	}
	return out
}

func looksLikePhone(s string) bool {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "+") && !strings.HasPrefix(s, "00") {
		return false
	}
	digits := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case strings.ContainsRune("+ ()-./", r):
		default:
			return false
		}
	}
	return digits >= 7
}

// phoneDigits returns the digits of a phone number in international form
// without "+" or "00".
func phoneDigits(s string) string {
	s = strings.TrimSpace(s)
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	d := b.String()
	if !strings.HasPrefix(s, "+") {
		d = strings.TrimPrefix(d, "00")
	}
	return d
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + ", " + b
}

// percentEncodeAll escapes every byte but the unreserved characters of RFC
// 3986 (what strict URL encoders and path escaping produce).
func percentEncodeAll(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// encodeURIComponent escapes like JavaScript's encodeURIComponent.
func encodeURIComponent(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.!~*'()", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// jsonForms are the ways JSON encoders escape the value inside a string:
// minimal (JavaScript), HTML-safe (Go), with "\/", and ASCII-only.
func jsonForms(v string) []string {
	var out []string
	var minimal strings.Builder
	for _, r := range v {
		switch {
		case r == '"':
			minimal.WriteString(`\"`)
		case r == '\\':
			minimal.WriteString(`\\`)
		case r == '\n':
			minimal.WriteString(`\n`)
		case r == '\r':
			minimal.WriteString(`\r`)
		case r == '\t':
			minimal.WriteString(`\t`)
		case r < 0x20:
			fmt.Fprintf(&minimal, `\u%04x`, r)
		default:
			minimal.WriteRune(r)
		}
	}
	m := minimal.String()
	out = append(out, m)
	goJSON, _ := json.Marshal(v)
	out = append(out, string(goJSON[1:len(goJSON)-1]))
	out = append(out, strings.ReplaceAll(m, "/", `\/`))
	var ascii strings.Builder
	for _, r := range m {
		if r < utf8.RuneSelf {
			ascii.WriteRune(r)
			continue
		}
		for _, u := range utf16Encode(r) {
			fmt.Fprintf(&ascii, `\u%04x`, u)
		}
	}
	out = append(out, ascii.String(), strings.ReplaceAll(ascii.String(), "/", `\/`))
	return out
}

func utf16Encode(r rune) []uint16 {
	if r < 0x10000 {
		return []uint16{uint16(r)}
	}
	r -= 0x10000
	return []uint16{uint16(0xd800 + (r >> 10)), uint16(0xdc00 + (r & 0x3ff))}
}

// base64Forms returns the base64 texts that appear wherever b is encoded
// in base64, standard and URL-safe: for each of the three offsets at which
// b can start inside a longer encoded string, the characters that depend on
// b's bits alone.
func base64Forms(b []byte) []string {
	var out []string
	for k := 0; k < 3; k++ {
		buf := make([]byte, k+len(b))
		copy(buf[k:], b)
		enc := base64.RawStdEncoding.EncodeToString(buf)
		start := (8*k + 5) / 6
		end := 8 * (k + len(b)) / 6
		if end <= start {
			continue
		}
		frag := enc[start:end]
		if k > 0 && len(frag) < minShiftedBase64 {
			continue
		}
		out = append(out, frag)
		if u := strings.NewReplacer("+", "-", "/", "_").Replace(frag); u != frag {
			out = append(out, u)
		}
	}
	return out
}

// hit is one occurrence of an indicator form in a field.
type hit struct {
	form  *form
	start int
	end   int
}

// search finds all forms in text.
func (s *indicatorSet) search(text []byte) []hit {
	var hits []hit
	s.acFold.Scan(text, true, func(p, end int) {
		f := &s.folded[p]
		hits = append(hits, hit{form: f, start: end - len(f.text), end: end})
	})
	s.acExact.Scan(text, false, func(p, end int) {
		f := &s.exact[p]
		hits = append(hits, hit{form: f, start: end - len(f.text), end: end})
	})
	if len(hits) > maxHitsPerField {
		hits = hits[:maxHitsPerField]
	}
	return filterHits(hits)
}

// maxHitsPerField bounds the work on a field that repeats an indicator
// thousands of times; the first occurrences are evidence enough.
const maxHitsPerField = 200

// filterHits drops a hit that lies within another hit of the same
// indicator (the plain value inside its own longer JSON-escaped or URL
// form, a shorter base64 alignment inside a longer one) and sorts by
// position.
func filterHits(hits []hit) []hit {
	if len(hits) < 2 {
		return hits
	}
	sort.Slice(hits, func(i, j int) bool {
		if hits[i].start != hits[j].start {
			return hits[i].start < hits[j].start
		}
		return hits[i].end > hits[j].end
	})
	out := hits[:0]
	for i, h := range hits {
		inside := false
		for j, o := range hits {
			if i != j && o.form.ind == h.form.ind && o.start <= h.start && h.end <= o.end && (o.end-o.start > h.end-h.start || j < i) {
				inside = true
				break
			}
		}
		if !inside {
			out = append(out, h)
		}
	}
	return out
}
