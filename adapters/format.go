package adapters

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"

	"github.com/tracewire/tracewire/adapters/decode"
	"github.com/tracewire/tracewire/adapters/internal/jsonpath"
	"go.yaml.in/yaml/v3"
)

// File is one adapter file: a tracking company and its adapters.
type File struct {
	Tracker  Tracker    `yaml:"tracker"`
	Adapters []*Adapter `yaml:"adapters"`
}

// Tracker is a tracking company. Its human-readable description lives in
// i18n/trackers/<slug>.<lang>.md, not here.
type Tracker struct {
	// Slug identifies the tracker: lowercase letters, digits and hyphens.
	Slug string `yaml:"slug"`
	// Name is the legal name of the company.
	Name string `yaml:"name"`
	// ExodusID is the tracker's id in the Exodus Privacy database, 0 if none.
	ExodusID int `yaml:"exodusId,omitempty"`
	// DatenanfragenSlug is the company's slug on datenanfragen.de, if any.
	DatenanfragenSlug string `yaml:"datenanfragenSlug,omitempty"`
	// Website is the company's home page, if given.
	Website string `yaml:"website,omitempty"`
	// Adapters are the tracker's adapters, in file order.
	Adapters []*Adapter `yaml:"-"`
	// File is the name of the file the tracker came from.
	File string `yaml:"-"`
}

// Adapter describes one kind of request to a tracker's endpoint.
type Adapter struct {
	// Slug identifies the adapter within its tracker.
	Slug string `yaml:"slug"`
	// Name is a short human-readable name (English).
	Name string `yaml:"name"`
	// Description optionally explains the endpoint, per language (en, de).
	Description map[string]string `yaml:"description,omitempty"`
	// EndpointURLs are the URLs (scheme://host/path, no query) the adapter
	// handles: exact strings or regular expressions.
	EndpointURLs []Endpoint `yaml:"endpointUrls"`
	// Match narrows the requests further; nil matches every request to the
	// endpoints.
	Match *Condition `yaml:"match,omitempty"`
	// Include names shared blocks (blocks.go) whose decoding steps and data
	// paths the loader puts before the adapter's own; it is kept for
	// information only, the merged steps and paths are in DecodingSteps and
	// ContainedDataPaths.
	Include []string `yaml:"include,omitempty"`
	// DecodingSteps turn the raw request into the decoded state, in order.
	DecodingSteps []Step `yaml:"decodingSteps"`
	// ContainedDataPaths maps a property name to where it is found.
	ContainedDataPaths DataPaths `yaml:"containedDataPaths"`
	// Tracker is the adapter's tracker (set by the loader).
	Tracker *Tracker `yaml:"-"`

	id string // ID, set by the loader (every finding carries it)
}

// ID is "<tracker slug>/<adapter slug>", unique in a database.
func (a *Adapter) ID() string {
	if a.id != "" {
		return a.id
	}
	return a.Tracker.Slug + "/" + a.Slug
}

// Endpoint is an endpoint URL: an exact string, or a regular expression (Go
// RE2 syntax) when Regex is set.
type Endpoint struct {
	URL   string
	Regex string
	re    *regexp.Regexp
	lit   string // a literal every match contains, to skip the regex
}

// String returns the URL or the regular expression as /re/.
func (e Endpoint) String() string {
	if e.Regex != "" {
		return "/" + e.Regex + "/"
	}
	return e.URL
}

// UnmarshalYAML reads a string or {regex: ...}.
func (e *Endpoint) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		return n.Decode(&e.URL)
	}
	var v struct {
		Regex string `yaml:"regex"`
	}
	if err := strictDecode(n, &v); err != nil {
		return err
	}
	if v.Regex == "" {
		return fmt.Errorf("line %d: endpoint: empty regex", n.Line)
	}
	e.Regex = v.Regex
	return nil
}

// Condition is a declarative test on a request. Every field that is set
// must hold; an empty Condition holds for every request. "Body" is the
// request body after undoing its Content-Encoding and any base64 of the
// HAR, as text.
type Condition struct {
	// Method is compared case-insensitively.
	Method string `yaml:"method,omitempty"`
	// HasBody, when set, requires a non-empty (true) or empty (false) body.
	HasBody *bool `yaml:"hasBody,omitempty"`
	// BodyStartsWith requires the body to start with this text.
	BodyStartsWith string `yaml:"bodyStartsWith,omitempty"`
	// BodyContains requires the body to contain this text.
	BodyContains string `yaml:"bodyContains,omitempty"`
	// BodyMatches requires the body to match this regular expression.
	BodyMatches string `yaml:"bodyMatches,omitempty"`
	// ContentType requires the request's Content-Type (header, or the HAR's
	// postData.mimeType) to contain this text, case-insensitively.
	ContentType string `yaml:"contentType,omitempty"`
	// HasQuery, when set, requires the URL to have (true) or lack (false) a
	// query string ("?").
	HasQuery *bool `yaml:"hasQuery,omitempty"`
	// QueryHas requires a query parameter of this name.
	QueryHas string `yaml:"queryHas,omitempty"`
	// HeaderHas requires a request header of this name (case-insensitive).
	HeaderHas string `yaml:"headerHas,omitempty"`
	// Not requires its condition to fail.
	Not *Condition `yaml:"not,omitempty"`
	// AnyOf requires at least one of its conditions to hold.
	AnyOf []Condition `yaml:"anyOf,omitempty"`
	// AllOf requires all of its conditions to hold.
	AllOf []Condition `yaml:"allOf,omitempty"`

	bodyRe *regexp.Regexp
}

// Step is one decoding step: it reads Input (or each element of MapInput),
// applies Function with Options and writes the result to Output.
type Step struct {
	Function string `yaml:"function"`
	// Input is a path into the state (see FORMAT.md).
	Input string `yaml:"input,omitempty"`
	// MapInput is a path to an array; the function is applied to each
	// element and Output receives the array of results.
	MapInput string `yaml:"mapInput,omitempty"`
	// Output is a dotted path in the state; missing objects are created.
	Output  string      `yaml:"output"`
	Options StepOptions `yaml:"options,omitempty"`

	input, mapInput *jsonpath.Path
	output          []string
}

// StepOptions are the options of all functions; each function accepts only
// its own (see FORMAT.md).
type StepOptions struct {
	// Path is getProperty's path.
	Path string `yaml:"path,omitempty"`
	// Separator is split's separator.
	Separator string `yaml:"separator,omitempty"`
	// Part is decodeJwt's part: payload (default), header or both.
	Part string `yaml:"part,omitempty"`
	// Schema is decodeProtobuf's optional schema: field number → field.
	Schema decode.ProtoSchema `yaml:"schema,omitempty"`
	// Boundary is parseMultipart's boundary; by default it is taken from
	// the request's Content-Type.
	Boundary string `yaml:"boundary,omitempty"`

	path *jsonpath.Path
}

// DataPath says where one property is found.
type DataPath struct {
	// Context is header, cookie, path, query or body.
	Context string `yaml:"context"`
	// Path is a path into the context (see FORMAT.md).
	Path string `yaml:"path"`
	// KeyMatches, when set, keeps only values whose own key (object
	// property name) matches this regular expression.
	KeyMatches string `yaml:"keyMatches,omitempty"`
	// Reasoning says why the value is this property: a URL to
	// documentation or a short explanation.
	Reasoning string `yaml:"reasoning"`
	// NotIf drops values equal to (or matching) one of these.
	NotIf ValueTests `yaml:"notIf,omitempty"`
	// OnlyIf keeps only values equal to (or matching) one of these.
	OnlyIf ValueTests `yaml:"onlyIf,omitempty"`

	path  *jsonpath.Path
	keyRe *regexp.Regexp
}

// DataPaths maps properties to their paths, keeping the file's order.
type DataPaths []PropertyPaths

// PropertyPaths are the paths of one property.
type PropertyPaths struct {
	Property string
	Paths    []*DataPath
}

// UnmarshalYAML reads a mapping of property → one path or a list of paths.
func (d *DataPaths) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: containedDataPaths must be a mapping", n.Line)
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		prop := k.Value
		if seen[prop] {
			return fmt.Errorf("line %d: property %q given twice", k.Line, prop)
		}
		seen[prop] = true
		pp := PropertyPaths{Property: prop}
		items := []*yaml.Node{v}
		if v.Kind == yaml.SequenceNode {
			items = v.Content
		}
		for _, it := range items {
			dp := &DataPath{}
			if err := strictDecode(it, dp); err != nil {
				return fmt.Errorf("property %s: %w", prop, err)
			}
			pp.Paths = append(pp.Paths, dp)
		}
		*d = append(*d, pp)
	}
	return nil
}

// ValueTest is an exact value or a regular expression.
type ValueTest struct {
	Value string
	Regex string
	re    *regexp.Regexp
}

// ValueTests is a list of tests; in a file it is one test or a list.
type ValueTests []ValueTest

// UnmarshalYAML reads "text", {regex: ...} or a list of them.
func (t *ValueTests) UnmarshalYAML(n *yaml.Node) error {
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		items = n.Content
	}
	for _, it := range items {
		var vt ValueTest
		switch it.Kind {
		case yaml.ScalarNode:
			vt.Value = it.Value
		case yaml.MappingNode:
			var v struct {
				Regex string `yaml:"regex"`
			}
			if err := strictDecode(it, &v); err != nil {
				return err
			}
			if v.Regex == "" {
				return fmt.Errorf("line %d: empty regex", it.Line)
			}
			vt.Regex = v.Regex
		default:
			return fmt.Errorf("line %d: expected a string, {regex: ...} or a list", it.Line)
		}
		*t = append(*t, vt)
	}
	return nil
}

// Test reports whether any test accepts s.
func (t ValueTests) Test(s string) bool {
	for _, vt := range t {
		if vt.re != nil {
			if vt.re.MatchString(s) {
				return true
			}
		} else if vt.Value == s {
			return true
		}
	}
	return false
}

// strictDecode decodes n into v, rejecting keys that v has no field for
// (yaml's Node.Decode forgets the decoder's KnownFields setting).
func strictDecode(n *yaml.Node, v any) error {
	if err := checkKeys(n, reflect.TypeOf(v)); err != nil {
		return err
	}
	return n.Decode(v)
}

var unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()

func checkKeys(n *yaml.Node, t reflect.Type) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		return nil // checks itself
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return nil // n.Decode reports the type error
		}
		fields := map[string]reflect.Type{}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "" || name == "-" {
				continue
			}
			fields[name] = f.Type
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			ft, ok := fields[k.Value]
			if !ok {
				return fmt.Errorf("line %d: field %s not found in %s", k.Line, k.Value, t.Name())
			}
			if err := checkKeys(n.Content[i+1], ft); err != nil {
				return err
			}
		}
	case reflect.Slice:
		if n.Kind == yaml.SequenceNode {
			for _, c := range n.Content {
				if err := checkKeys(c, t.Elem()); err != nil {
					return err
				}
			}
		}
	case reflect.Map:
		if n.Kind == yaml.MappingNode {
			for i := 1; i < len(n.Content); i += 2 {
				if err := checkKeys(n.Content[i], t.Elem()); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
