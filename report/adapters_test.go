package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/tracewire/tracewire/adapters"
)

func TestDescribeCondition(t *testing.T) {
	yes, no := true, false
	for _, tc := range []struct {
		c    adapters.Condition
		want string
	}{
		{adapters.Condition{}, "always"},
		{adapters.Condition{Method: "POST", HasBody: &yes}, "method POST and hasBody true"},
		{adapters.Condition{BodyStartsWith: `{"`, HasQuery: &no}, `body starts with "{\"" and hasQuery false`},
		{adapters.Condition{Not: &adapters.Condition{QueryHas: "id"}}, "not (query has id)"},
		{adapters.Condition{AnyOf: []adapters.Condition{{HeaderHas: "X-A"}, {ContentType: "json"}}},
			`any of (header X-A) and any of (content type contains "json")`},
		{adapters.Condition{AllOf: []adapters.Condition{{BodyMatches: "a+"}, {BodyContains: "b"}}},
			`(body matches /a+/) and (body contains "b")`},
	} {
		if got := describeCondition(&tc.c); got != tc.want {
			t.Errorf("describeCondition(%+v) = %q, want %q", tc.c, got, tc.want)
		}
	}
	if got := describeTests(adapters.ValueTests{{Regex: "^a"}, {Value: "b"}}); got != `/^a/|"b"` {
		t.Errorf("describeTests = %q", got)
	}
}

func TestWriteAdapterInfo(t *testing.T) {
	db, err := adapters.Default()
	if err != nil {
		t.Fatal(err)
	}
	var list bytes.Buffer
	if err := WriteAdapterList(&list, db, "en"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(list.String(), "branch-io/v1") || !strings.HasSuffix(list.String(), " adapters\n") {
		t.Errorf("list:\n%s", list.String())
	}
	for _, tc := range []struct {
		slug, lang string
		want       []string
	}{
		{"branch-io", "de", []string{"branch-io — Branch", "Werbe-ID", "advertising_ids.aaid", "adapter branch-io/v1:"}},
		{"branch-io/v1", "en", []string{"adapter branch-io/v1:", `body starts with "{\""`, "  endpoints:\n", "  data:\n"}},
	} {
		var b bytes.Buffer
		if err := WriteAdapterInfo(&b, db, tc.slug, tc.lang); err != nil {
			t.Fatalf("%s: %v", tc.slug, err)
		}
		for _, w := range tc.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s (%s): no %q in\n%s", tc.slug, tc.lang, w, b.String())
			}
		}
	}
	var b bytes.Buffer
	if err := WriteAdapterInfo(&b, db, "no-such-tracker", "en"); err == nil || b.Len() != 0 {
		t.Errorf("unknown slug: err %v, output %q", err, b.String())
	}
}
