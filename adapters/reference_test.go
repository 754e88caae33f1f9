package adapters

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	json "github.com/go-json-experiment/json/v1"
	"github.com/tracewire/tracewire/adapters/internal/jsonpath"
	"github.com/tracewire/tracewire/internal/testutil"
)

// translateTrackHARPath turns a jsonpath-plus path of TrackHAR into a data
// path of ours, following the table in FORMAT.md.
func translateTrackHARPath(p string) (DataPath, error) {
	dp := DataPath{Path: p}
	if m := regexp.MustCompile(`^\$\[\?\(@property\.startsWith\("([^"]*)"\)\)\]$`).FindStringSubmatch(p); m != nil {
		dp.Path, dp.KeyMatches = "$.*", "^"+regexp.QuoteMeta(m[1])
		return dp, nil
	}
	if m := regexp.MustCompile(`^\$\[\?\(@property\.match\(/(.*)/(\w*)\)\)\]$`).FindStringSubmatch(p); m != nil {
		dp.Path, dp.KeyMatches = "$.*", flags(m[2])+m[1]
		return dp, nil
	}
	if m := regexp.MustCompile(`^\$\[\?\(@property === "(\w+)" && (!?)@\.match\(/(.*)/(\w*)\)\)\]$`).FindStringSubmatch(p); m != nil {
		dp.Path = m[1]
		t := ValueTests{{Regex: flags(m[4]) + m[3]}}
		if m[2] == "!" {
			dp.NotIf = t
		} else {
			dp.OnlyIf = t
		}
		return dp, nil
	}
	if strings.Contains(p, "@property") || strings.Contains(p, "@root") {
		return dp, fmt.Errorf("untranslated form")
	}
	dp.Path = translateFilters(p)
	return dp, nil
}

func flags(f string) string {
	if f == "" {
		return ""
	}
	return "(?" + f + ")"
}

// translateFilters rewrites the filter expressions TrackHAR uses.
func translateFilters(p string) string {
	if m := regexp.MustCompile(`^\$\.(\w+)\.\*\.(\w+)\[\?\(@parent\.(\w+) === '([^']*)'\)\]\.(\w+)$`).FindStringSubmatch(p); m != nil {
		return fmt.Sprintf("$.%s[?(@.%s == '%s')].%s[*].%s", m[1], m[3], m[4], m[2], m[5])
	}
	p = strings.ReplaceAll(p, "===", "==")
	p = regexp.MustCompile(`@\[(\d+)\]`).ReplaceAllString(p, "@['$1']")
	p = regexp.MustCompile(`@\.startsWith\('([^']*)'\)`).ReplaceAllStringFunc(p, func(s string) string {
		lit := regexp.MustCompile(`'([^']*)'`).FindStringSubmatch(s)[1]
		return "@ =~ /^" + strings.ReplaceAll(regexp.QuoteMeta(lit), "/", `\/`) + "/"
	})
	return p
}

// TestReferencePathsParse translates and compiles every path of TrackHAR's
// adapters: data paths, step inputs and getProperty paths, and every
// regular expression (endpoints, notIf, onlyIf).
func TestReferencePathsParse(t *testing.T) {
	file := testutil.Shared(t, "reference", "trackhar-adapters.json")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var ref []struct {
		Slug         string `json:"slug"`
		EndpointURLs []any  `json:"endpointUrls"`
		Steps        []struct {
			Function string `json:"function"`
			Input    string `json:"input"`
			MapInput string `json:"mapInput"`
			Output   string `json:"output"`
			Options  struct {
				Path string `json:"path"`
			} `json:"options"`
		} `json:"decodingSteps"`
		Paths map[string]json.RawMessage `json:"containedDataPaths"`
	}
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	type rawPath struct {
		Context string          `json:"context"`
		Path    string          `json:"path"`
		NotIf   json.RawMessage `json:"notIf"`
		OnlyIf  json.RawMessage `json:"onlyIf"`
	}
	regexOf := func(raw json.RawMessage) (string, bool) {
		var r struct {
			Regex string `json:"$regex"`
			Flags string `json:"flags"`
		}
		if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &r) != nil {
			return "", false
		}
		return flags(r.Flags) + r.Regex, true
	}
	n := 0
	for _, a := range ref {
		for _, e := range a.EndpointURLs {
			if m, ok := e.(map[string]any); ok {
				re := flags(fmt.Sprint(m["flags"])) + fmt.Sprint(m["$regex"])
				if _, err := regexp.Compile(re); err != nil {
					t.Errorf("%s: endpoint regex %q: %v", a.Slug, re, err)
				}
			}
		}
		for _, s := range a.Steps {
			if _, ok := functions[s.Function]; !ok {
				t.Errorf("%s: function %s missing", a.Slug, s.Function)
			}
			for _, p := range []string{s.Input, s.MapInput, s.Options.Path} {
				if p == "" {
					continue
				}
				n++
				if _, err := jsonpath.Parse(translateFilters(p)); err != nil {
					t.Errorf("%s: step path %q: %v", a.Slug, p, err)
				}
			}
		}
		for prop, raw := range a.Paths {
			if !IsProperty(prop) {
				t.Errorf("%s: property %s unknown", a.Slug, prop)
			}
			var list []rawPath
			if err := json.Unmarshal(raw, &list); err != nil {
				var one rawPath
				if err := json.Unmarshal(raw, &one); err != nil {
					t.Fatalf("%s %s: %v", a.Slug, prop, err)
				}
				list = []rawPath{one}
			}
			for _, rp := range list {
				n++
				dp, err := translateTrackHARPath(rp.Path)
				if err != nil {
					t.Errorf("%s %s: %q: %v", a.Slug, prop, rp.Path, err)
					continue
				}
				dp.Context, dp.Reasoning = rp.Context, "x"
				for _, raw := range []json.RawMessage{rp.NotIf, rp.OnlyIf} {
					if re, ok := regexOf(raw); ok {
						dp.NotIf = append(dp.NotIf, ValueTest{Regex: re})
					}
				}
				if err := dp.compileWith(newCompiler()); err != nil {
					t.Errorf("%s %s: %q → %q: %v", a.Slug, prop, rp.Path, dp.Path, err)
				}
			}
		}
	}
	if n < 2800 {
		t.Errorf("only %d paths checked; the reference has about 3100", n)
	}
	t.Logf("%d paths of %d adapters compiled", n, len(ref))
}
