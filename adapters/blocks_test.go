package adapters

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/tracewire/tracewire/adapters/decode"
)

const blocksCommon = `blocks:
  rtb:
    decodingSteps:
    - {function: parseJson, input: body, output: res.body}
    containedDataPaths:
      userAgent:
      - {context: body, path: device.ua, reasoning: from the block}
      - {context: header, path: user-agent, reasoning: from the block}
      referer:
      - {context: body, path: site.ref, reasoning: from the block}
  ext:
    containedDataPaths:
      language:
      - {context: body, path: device.language, reasoning: ext block}
  clash:
    containedDataPaths:
      referer:
      - {context: body, path: site.ref, reasoning: another block}
`

const blocksTracker = `tracker: {slug: example, name: Example}
adapters:
- slug: a
  name: A
  endpointUrls: [https://x.example/a]
  include: [INCLUDE]
  decodingSteps:
  - {function: parseJson, input: res.body.ext, output: res.body.ext}
  containedDataPaths:
    publicIp:
    - {context: body, path: device.ip, reasoning: own}
    userAgent:
    - {context: header, path: user-agent, reasoning: own wins}
    - {context: body, path: device.sua, reasoning: own}
`

func loadBlocks(t *testing.T, include, common string) (*DB, error) {
	t.Helper()
	fsys := fstest.MapFS{
		"example.yaml":  {Data: []byte(strings.Replace(blocksTracker, "INCLUDE", include, 1))},
		"common/x.yaml": {Data: []byte(common)},
	}
	return Load(fsys, ".")
}

// An adapter's include puts the blocks' steps before its own and the
// blocks' data paths before its own in each property; a (property,
// context, path) the adapter gives itself keeps the adapter's entry.
func TestIncludeMerges(t *testing.T) {
	db, err := loadBlocks(t, "rtb, ext", blocksCommon)
	if err != nil {
		t.Fatal(err)
	}
	a := db.Adapter("example/a")
	var steps []string
	for _, s := range a.DecodingSteps {
		steps = append(steps, s.Function+"("+s.Input+")")
	}
	if got, want := strings.Join(steps, " "), "parseJson(body) parseJson(res.body.ext)"; got != want {
		t.Errorf("steps %q, want %q", got, want)
	}
	var paths []string
	for _, pp := range a.ContainedDataPaths {
		for _, dp := range pp.Paths {
			paths = append(paths, pp.Property+":"+dp.Context+":"+dp.Path+":"+dp.Reasoning)
		}
	}
	want := []string{
		"userAgent:body:device.ua:from the block",
		"userAgent:header:user-agent:own wins",
		"userAgent:body:device.sua:own",
		"referer:body:site.ref:from the block",
		"language:body:device.language:ext block",
		"publicIp:body:device.ip:own",
	}
	if got := strings.Join(paths, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("paths:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	// The merged adapter decodes and finds like one written out in full.
	r := &Request{EndpointURL: "https://x.example/a", Body: []byte(`{"device":{"ua":"UA/1","ip":"10.0.0.1"}}`)}
	if db.Select(r) != a {
		t.Fatal("adapter not selected")
	}
	d := a.Decode(r)
	if got := decode.Stringify(d.Res["body"].(map[string]any)["device"].(map[string]any)["ua"]); got != "UA/1" {
		t.Errorf("decoded device.ua %q", got)
	}
}

func TestIncludeErrors(t *testing.T) {
	tests := []struct {
		name, include, common, want string
	}{
		{"unknown block", "rtb, nope", blocksCommon, `unknown block "nope"`},
		{"block twice", "rtb, rtb", blocksCommon, "given twice"},
		{"two blocks, same path", "rtb, clash", blocksCommon, "both give referer body"},
		{"empty block", "rtb", blocksCommon + "  empty: {}\n", "empty"},
		{"bad block name", "rtb", blocksCommon + "  Bad:\n    containedDataPaths: {referer: {context: body, path: r, reasoning: r}}\n", "block name"},
		{"unknown key", "rtb", blocksCommon + "  other:\n    match: {}\n", "match"},
		{"bad path in block", "ext", strings.Replace(blocksCommon, "device.language", "'a['", 1), "language"},
	}
	for _, tt := range tests {
		_, err := loadBlocks(t, tt.include, tt.common)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one mentioning %q", tt.name, err, tt.want)
		}
	}
	// A file parsed on its own knows no blocks.
	_, err := ParseFile("example.yaml", []byte(strings.Replace(blocksTracker, "INCLUDE", "rtb", 1)))
	if err == nil || !strings.Contains(err.Error(), "unknown block") {
		t.Errorf("ParseFile with include: error %v", err)
	}
}

// The embedded database uses the OpenRTB blocks: each including adapter
// has the block's paths, which are written once, in data/common.
func TestEmbeddedBlocks(t *testing.T) {
	db, err := Load(embedded, "data")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, a := range db.Adapters {
		for _, inc := range a.Include {
			if inc == "openrtb" {
				n++
			}
		}
	}
	if n < 10 {
		t.Errorf("%d adapters include openrtb, want the Prebid/OpenRTB bidders", n)
	}
	a := db.Adapter("openx/openrtbb-prebidjs")
	if a == nil {
		t.Fatal("openx/openrtbb-prebidjs missing")
	}
	found := false
	for _, pp := range a.ContainedDataPaths {
		for _, dp := range pp.Paths {
			found = found || (pp.Property == "userAgent" && dp.Path == "device.ua")
		}
	}
	if !found {
		t.Error("openx/openrtbb-prebidjs lacks the block's userAgent device.ua")
	}
}
