package har_test

import (
	"strings"
	"testing"

	"github.com/tracewire/tracewire/har"
)

// TestPostDataEncodingRule: "encoding" and tracewire's older "_encoding"
// may both be there; a non-empty "encoding" wins whatever the order.
func TestPostDataEncodingRule(t *testing.T) {
	for _, tc := range []struct{ postData, want string }{
		{`{"text":"eA==","encoding":"base64","_encoding":""}`, "base64"},
		{`{"text":"eA==","_encoding":"","encoding":"base64"}`, "base64"},
		{`{"text":"eA==","encoding":"","_encoding":"base64"}`, "base64"},
		{`{"text":"eA==","_encoding":"base64","encoding":""}`, "base64"},
		{`{"text":"eA==","_encoding":"base64"}`, "base64"},
		{`{"text":"x","encoding":"a","_encoding":"b"}`, "a"},
		{`{"text":"x","_encoding":"b","encoding":"a"}`, "a"},
		{`{"text":"x"}`, ""},
	} {
		raw := `{"request":{"method":"POST","url":"http://a/","postData":` + tc.postData + `}}`
		e, ws, err := har.ParseEntry([]byte(raw), 0)
		if err != nil || len(ws) > 0 {
			t.Fatalf("%s: %v %v", raw, err, ws)
		}
		pd := e.Request.PostData
		if pd.Encoding != tc.want || len(pd.Extra) != 0 {
			t.Errorf("%s: encoding %q, extra %v; want %q and no extra", tc.postData, pd.Encoding, pd.Extra, tc.want)
		}
	}
}

// TestLenientValues checks what each kind of wrong value becomes, and the
// warning it gives.
func TestLenientValues(t *testing.T) {
	for _, tc := range []struct {
		raw   string
		check func(e *har.Entry) bool
		warns string
	}{
		{`{"time":"12.5"}`, func(e *har.Entry) bool { return e.Time == 12.5 }, "entries[0].time: number written as a string"},
		{`{"time":null,"timings":{"blocked":null,"send":null}}`, func(e *har.Entry) bool { return e.Time == 0 && e.Timings.Blocked == -1 && e.Timings.Send == 0 }, ""},
		{`{"request":{"headersSize":{},"bodySize":"7","method":5,"url":true}}`, func(e *har.Entry) bool {
			return e.Request.HeadersSize == -1 && e.Request.BodySize == 7 && e.Request.Method == "5" && e.Request.URL == "true"
		}, "entries[0].request.bodySize: number written as a string\nentries[0].request.headersSize: expected a number, found an object"},
		{`{"response":{"status":200.0,"content":{"size":1e3,"compression":null}}}`, func(e *har.Entry) bool {
			return e.Response.Status == 200 && e.Response.Content.Size == 1000 && e.Response.Content.Compression == nil
		}, ""},
		{`{"request":{"headers":[{"name":"a","value":1.50},null,7]}}`, func(e *har.Entry) bool {
			h := e.Request.Headers
			return len(h) == 3 && h[0].Value == "1.5" && h[1] == (har.NameValue{}) && h[2] == (har.NameValue{})
		}, "entries[0].request.headers[2]: expected an object, found a number"},
		{`{"request":"x","startedDateTime":"yesterday"}`, func(e *har.Entry) bool { return e.Request.HeadersSize == -1 && e.StartedDateTime.IsZero() },
			"entries[0].request: expected an object, found a string\nentries[0].startedDateTime: unreadable date \"yesterday\""},
		{`{"request":{"cookies":[{"name":"c","httpOnly":"yes","secure":true}]},"_incomplete":1}`, func(e *har.Entry) bool {
			c := e.Request.Cookies[0]
			return c.HTTPOnly == nil && c.Secure != nil && *c.Secure && !e.Incomplete
		}, ""},
		{`{"serverIPAddress":"[::1]","_x":{"n":12345678901234567,"f":1.5,"l":[null,true]}}`, func(e *har.Entry) bool {
			x := e.Extra["_x"].(map[string]any)
			return e.ServerIPAddress == "::1" && x["n"] == int64(12345678901234567) && x["f"] == 1.5 && len(x["l"].([]any)) == 2
		}, ""},
	} {
		e, ws, err := har.ParseEntry([]byte(tc.raw), 0)
		if err != nil {
			t.Fatalf("%s: %v", tc.raw, err)
		}
		var got []string
		for _, w := range ws {
			got = append(got, w.String())
		}
		if !tc.check(e) {
			t.Errorf("%s: decoded as %+v", tc.raw, e)
		}
		if strings.Join(got, "\n") != tc.warns {
			t.Errorf("%s: warnings\n%s\nwant\n%s", tc.raw, strings.Join(got, "\n"), tc.warns)
		}
	}
}

func TestWarningPathsInArrays(t *testing.T) {
	raw := `{"request":{"headers":[{"name":1},{"name":{}},["x"]],"cookies":[{"name":"a"},{"value":"1","expires":[]}]},"startedDateTime":""}`
	_, ws, err := har.ParseEntry([]byte(raw), 3)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range ws {
		got = append(got, w.String())
	}
	want := []string{
		"entries[3].request.cookies[1].expires: expected a string, found an array",
		"entries[3].request.headers[1].name: expected a string, found an object",
		"entries[3].request.headers[2]: expected an object, found an array",
		"entries[3].startedDateTime: empty date",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
