package adapters

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/tracewire/tracewire/adapters/decode"
	"github.com/tracewire/tracewire/har"
)

const testFile = `
tracker:
  slug: example
  name: Example Tracking Ltd.
adapters:
- slug: json
  name: JSON batch
  endpointUrls:
  - https://t.example.com/batch
  - regex: ^https://(eu|us)\.t\.example\.com/v\d+/batch$
  match:
    method: POST
    anyOf: [{bodyStartsWith: '{'}, {contentType: json}]
  decodingSteps:
  - {function: parseJson, input: body, output: res.body}
  - {function: getProperty, input: header, output: res.header, options: {path: $}}
  - {function: getProperty, input: cookie, output: res.cookie, options: {path: $}}
  - {function: decodeBase64, mapInput: res.body.batch.*.blob, output: blobs}
  - {function: parseJson, mapInput: blobs, output: res.body.blobs}
  - {function: parseJson, input: res.body.missing, output: res.body.never}
  - {function: parseJson, input: res.body.notjson, output: res.body.nj}
  containedDataPaths:
    advertisingId:
    - {context: body, path: batch.*.advertiser_id, reasoning: documented, notIf: '0'}
    - {context: body, path: blobs.*.ifa, reasoning: documented}
    userAgent: {context: header, path: User-Agent, reasoning: obvious}
    userId:
    - {context: cookie, path: $.*, keyMatches: '^uid_', reasoning: observed}
    osName:
    - {context: body, path: os, onlyIf: {regex: '(?i)^(android|ios)$'}, reasoning: observed}
- slug: fallback
  name: Anything else to the batch endpoint
  endpointUrls: [https://t.example.com/batch/]
  decodingSteps:
  - {function: parseQueryString, input: query, output: res.query}
  containedDataPaths:
    appId: {context: query, path: app, reasoning: observed}
`

func testDB(t *testing.T) *DB {
	t.Helper()
	f, err := ParseFile("example.yaml", []byte(testFile))
	if err != nil {
		t.Fatal(err)
	}
	db, err := NewDB(f)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestDecodeChainAndFailures(t *testing.T) {
	db := testDB(t)
	blob := base64.StdEncoding.EncodeToString([]byte(`{"ifa":"6a1c-blob"}`))
	body := `{"os":"Android","notjson":"{oops","batch":[{"advertiser_id":"a-1","blob":"` + blob + `"},{"advertiser_id":0},{"blob":"!!!"}]}`
	hr := &har.Request{
		Method: "POST", URL: "https://EU.t.example.com:443/v2/batch?app=x",
		Headers:  []har.NameValue{{Name: "User-Agent", Value: "UA/1"}, {Name: "Cookie", Value: "uid_a=42; other=1"}},
		PostData: &har.PostData{MimeType: "application/json", Text: body},
	}
	r, err := NewRequest(hr)
	if err != nil {
		t.Fatal(err)
	}
	if r.EndpointURL != "https://eu.t.example.com/v2/batch" {
		t.Fatalf("endpoint URL %q", r.EndpointURL)
	}
	a := db.Select(r)
	if a == nil || a.ID() != "example/json" {
		t.Fatalf("selected %v", a)
	}
	d := a.Decode(r)
	status := map[int]string{}
	for _, s := range d.Steps {
		status[s.Index] = s.Status
	}
	if status[3] != "ok" || status[5] != "skipped" || status[6] != "failed" {
		t.Errorf("step statuses %v", status)
	}
	if !strings.Contains(d.Steps[3].Error, "1 of 2 elements failed") {
		t.Errorf("mapInput failure not recorded: %q", d.Steps[3].Error)
	}
	var got []string
	for _, pp := range a.ContainedDataPaths {
		for _, dp := range pp.Paths {
			for _, m := range dp.Find(d.Res[dp.Context]) {
				got = append(got, pp.Property+" "+dp.Context+" "+FormatLoc(m.Loc)+"="+decode.Stringify(m.Value))
			}
		}
	}
	want := []string{
		"advertisingId body batch[0].advertiser_id=a-1",
		"advertisingId body blobs[0].ifa=6a1c-blob",
		"userAgent header User-Agent=UA/1",
		"userId cookie uid_a=42",
		"osName body os=Android",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	chain := d.Chain("body", []any{"blobs", 0, "ifa"})
	var fns []string
	for _, c := range chain {
		fns = append(fns, c.Function+":"+c.Output)
	}
	if strings.Join(fns, " ") != "parseJson:res.body decodeBase64:blobs parseJson:res.body.blobs" {
		t.Errorf("chain %v", fns)
	}

	// Same endpoint, other method: the second adapter (exact URL with a
	// trailing slash) handles it.
	r2, _ := NewRequest(&har.Request{Method: "GET", URL: "https://t.example.com/batch?app=com.example"})
	if a := db.Select(r2); a == nil || a.ID() != "example/fallback" {
		t.Fatalf("GET selected %v", a)
	}
	r3, _ := NewRequest(&har.Request{Method: "GET", URL: "https://other.example.com/batch"})
	if a := db.Select(r3); a != nil {
		t.Errorf("unrelated host selected %s", a.ID())
	}
}

func TestLoaderRejects(t *testing.T) {
	base := "tracker: {slug: example, name: X}\nadapters:\n- slug: a\n  name: A\n  endpointUrls: [https://x.example/a]\n  containedDataPaths: {appId: {context: body, path: a, reasoning: r}}\n"
	tests := []struct{ name, yaml, want string }{
		{"unknown key", strings.Replace(base, "name: A", "name: A\n  nmae: typo", 1), "nmae"},
		{"unknown key in path", strings.Replace(base, "reasoning: r}", "reasoning: r, contxt: x}", 1), "contxt"},
		{"bad regex", strings.Replace(base, "[https://x.example/a]", "[{regex: '('}]", 1), "regex"},
		{"unknown property", strings.Replace(base, "appId", "appID", 1), "unknown property"},
		{"unknown context", strings.Replace(base, "context: body", "context: bdy", 1), "context"},
		{"bad path", strings.Replace(base, "path: a,", "path: 'a[',", 1), "path"},
		{"no reasoning", strings.Replace(base, "reasoning: r", "reasoning: ''", 1), "reasoning"},
		{"unknown function", strings.Replace(base, "  containedDataPaths", "  decodingSteps: [{function: parseXml, input: body, output: res.body}]\n  containedDataPaths", 1), "unknown function"},
		{"missing option", strings.Replace(base, "  containedDataPaths", "  decodingSteps: [{function: getProperty, input: body, output: res.body}]\n  containedDataPaths", 1), "required"},
		{"wrong option", strings.Replace(base, "  containedDataPaths", "  decodingSteps: [{function: parseJson, input: body, output: res.body, options: {separator: x}}]\n  containedDataPaths", 1), "unknown option"},
		{"read-only output", strings.Replace(base, "  containedDataPaths", "  decodingSteps: [{function: parseJson, input: body, output: body}]\n  containedDataPaths", 1), "read-only"},
		{"query in endpoint", strings.Replace(base, "[https://x.example/a]", "['https://x.example/a?b=1']", 1), "query"},
		{"file name", base, "must be in"},
	}
	for _, tt := range tests {
		name := "example.yaml"
		if tt.name == "file name" {
			name = "other.yaml"
		}
		_, err := ParseFile(name, []byte(tt.yaml))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one mentioning %q", tt.name, err, tt.want)
		}
	}
	if _, err := ParseFile("example.yaml", []byte(base)); err != nil {
		t.Errorf("valid file rejected: %v", err)
	}
}

// A request to a tracker's endpoint over the other scheme is the same
// transmission; an unrelated host or path is not.
func TestCandidatesAcrossSchemes(t *testing.T) {
	db := testDB(t)
	tests := []struct {
		url  string
		want string
	}{
		{"https://t.example.com/batch", "example/json"},
		{"http://t.example.com/batch", "example/json"},
		{"http://t.example.com/batch/", "example/json"},
		{"http://eu.t.example.com/v2/batch", "example/json"},
		{"http://t.example.com:8080/batch", ""},
		{"http://t.example.com/other", ""},
		{"ftp://t.example.com/batch", ""},
	}
	for _, tt := range tests {
		var got []string
		for _, a := range db.Candidates(tt.url) {
			got = append(got, a.ID())
		}
		first := ""
		if len(got) > 0 {
			first = got[0]
		}
		if first != tt.want {
			t.Errorf("%s: candidates %v, want first %q", tt.url, got, tt.want)
		}
	}
}
