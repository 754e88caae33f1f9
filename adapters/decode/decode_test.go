package decode

import (
	"bytes"
	"encoding/base64"
	"math"
	"strings"
	"testing"

	json "github.com/go-json-experiment/json/v1"
)

func TestParseQueryString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a=1&b=2", `{"a":"1","b":"2"}`},
		{"a=1&a=2&a=3", `{"a":["1","2","3"]}`},
		{"a+b=c+d%20e", `{"a b":"c d e"}`},
		{"a[b][c]=1&a[b][d]=2", `{"a":{"b":{"c":"1","d":"2"}}}`},
		{"a[]=1&a[]=2", `{"a":["1","2"]}`},
		{"a[1]=y&a[0]=x", `{"a":["x","y"]}`},
		{"a[21]=x", `{"a":{"21":"x"}}`},
		{"flag&b=", `{"b":"","flag":""}`},
		{"/path?x=1&y=2", `{"x":"1","y":"2"}`},
		{"https://h/p?q=1", `{"q":"1"}`},
		{"a=1&r=/x?y=2", `{"a":"1","r":"/x?y=2"}`},
		{"bad=%zz&ok=%41", `{"bad":"%zz","ok":"A"}`},
		{"notutf8=%ff", `{"notutf8":"%ff"}`},
		{"a=1&a[b]=2", `{"a":["1",{"b":"2"}]}`},
		{"a[b][c][d][e][f][g]=1", `{"a":{"b":{"c":{"d":{"e":{"f":{"[g]":"1"}}}}}}}`},
		{"x=a=b", `{"x":"a=b"}`},
		{"&&=1&", `{}`},
		{"batch[0][relative_url]=u&batch[1][relative_url]=v", `{"batch":[{"relative_url":"u"},{"relative_url":"v"}]}`},
	}
	for _, tt := range tests {
		if got := Stringify(ParseQueryString(tt.in)); got != tt.want {
			t.Errorf("ParseQueryString(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestParseJSON(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"a":1,"b":[true,false,null],"c":"x"}`, `{"a":1,"b":[true,false,null],"c":"x"}`},
		{`{a: 1, 'b': 'two', c: [1,2,],}`, `{"a":1,"b":"two","c":[1,2]}`},
		{`// comment
		{"a": /* inline */ 1}`, `{"a":1}`},
		{`{"big": 12345678901234567890123}`, `{"big":12345678901234567890123}`},
		{`{"n": 9007199254740993}`, `{"n":9007199254740993}`},
		{`{"f": 1.50, "e": 1e21, "neg": -0.5, "h": 0x1F}`, `{"e":1e+21,"f":1.5,"h":31,"neg":-0.5}`},
		{`"\u00e9\ud83d\ude00\n\x41"`, `é😀` + "\n" + `A`},
		{`{"a":1,"a":2}`, `{"a":2}`},
		{`{"u": undefined, "nan": NaN}`, `{"nan":null,"u":null}`},
		{"\ufeff[1]", `[1]`},
		{`{"$weird-key": 1, 2: "x"}`, `{"$weird-key":1,"2":"x"}`},
	}
	for _, tt := range tests {
		v, err := ParseJSON(tt.in)
		if err != nil {
			t.Errorf("ParseJSON(%q): %v", tt.in, err)
			continue
		}
		if got := Stringify(v); got != tt.want {
			t.Errorf("ParseJSON(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
	for _, bad := range []string{``, `{`, `{"a":}`, `[1 2]`, `{"a":1} x`, `"unterminated`, `{a b}`, strings.Repeat("[", 2000) + strings.Repeat("]", 2000), `tru`} {
		if v, err := ParseJSON(bad); err == nil {
			t.Errorf("ParseJSON(%q) = %v, want an error", bad, v)
		}
	}
	if _, err := ParseJSON(`{"a": [1, }`); err == nil || !strings.Contains(err.Error(), "byte") {
		t.Errorf("error does not give the position: %v", err)
	}
}

func TestDecodeBase64(t *testing.T) {
	want := "hello world?>"
	for _, in := range []string{
		base64.StdEncoding.EncodeToString([]byte(want)),
		base64.RawStdEncoding.EncodeToString([]byte(want)),
		base64.URLEncoding.EncodeToString([]byte(want)),
		base64.RawURLEncoding.EncodeToString([]byte(want)),
		"aGVsbG8g\nd29ybGQ/Pg==",
	} {
		got, err := DecodeBase64(in)
		if err != nil || string(got) != want {
			t.Errorf("DecodeBase64(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"a", "ab!c", "%%%%"} {
		if _, err := DecodeBase64(bad); err == nil {
			t.Errorf("DecodeBase64(%q) did not fail", bad)
		}
	}
}

func TestDecodeURIComponent(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{"a%20b+c", "a b+c", ""},
		{"%C3%A9", "é", ""},
		{"%E0%A4%A", "", "malformed"},
		{"%ff", "", "UTF-8"},
		{"plain", "plain", ""},
	}
	for _, tt := range tests {
		got, err := DecodeURIComponent(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("DecodeURIComponent(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("DecodeURIComponent(%q) = %q, %v", tt.in, got, err)
		}
	}
}

// protoVarint and protoField build protobuf by hand (from the encoding's
// documentation), so the tests do not depend on a protobuf library.
func protoVarint(u uint64) []byte {
	var b []byte
	for u >= 0x80 {
		b = append(b, byte(u)|0x80)
		u >>= 7
	}
	return append(b, byte(u))
}

func protoField(num, wire uint64, payload []byte) []byte {
	b := protoVarint(num<<3 | wire)
	if wire == 2 {
		b = append(b, protoVarint(uint64(len(payload)))...)
	}
	return append(b, payload...)
}

func TestDecodeProtobuf(t *testing.T) {
	inner := append(protoField(14, 2, []byte("com.example.app")), protoField(19, 2, []byte("6a1c2f6e-0d5c-4f3b-9a7e-0123456789ab"))...)
	msg := append(protoField(1, 2, inner), protoField(1, 2, inner)...)
	msg = append(msg, protoField(2, 0, protoVarint(math.MaxUint64))...)                  // 2^64-1 stays exact
	msg = append(msg, protoField(3, 1, []byte{1, 0, 0, 0, 0, 0, 0, 0x80})...)            // fixed64 above 2^63
	msg = append(msg, protoField(4, 5, []byte{0xff, 0xff, 0xff, 0xff})...)               // fixed32
	msg = append(msg, protoField(5, 2, []byte("plain text that is not protobuf: é"))...) // string
	msg = append(msg, protoField(6, 0, protoVarint(uint64(1<<53+1)))...)                 // beyond doubles
	msg = append(msg, protoField(7, 2, nil)...)                                          // empty bytes
	got, err := DecodeProtobuf(msg, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"1":[{"14":"com.example.app","19":"6a1c2f6e-0d5c-4f3b-9a7e-0123456789ab"},{"14":"com.example.app","19":"6a1c2f6e-0d5c-4f3b-9a7e-0123456789ab"}],"2":18446744073709551615,"3":9223372036854775809,"4":4294967295,"5":"plain text that is not protobuf: é","6":9007199254740993,"7":""}`
	if s := Stringify(got); s != want {
		t.Errorf("got  %s\nwant %s", s, want)
	}

	// With a schema.
	sch := ProtoSchema{
		1: {Name: "bundle", Repeated: true, Type: "message", Fields: ProtoSchema{14: {Name: "appId", Type: "string"}}},
		2: {Name: "big", Type: "uint64"},
		4: {Name: "neg", Type: "sfixed32"},
		6: {Name: "six", Type: "int64"},
	}
	got, err = DecodeProtobuf(msg, sch)
	if err != nil {
		t.Fatal(err)
	}
	want = `{"3":9223372036854775809,"5":"plain text that is not protobuf: é","7":"","big":18446744073709551615,"bundle":[{"19":"6a1c2f6e-0d5c-4f3b-9a7e-0123456789ab","appId":"com.example.app"},{"19":"6a1c2f6e-0d5c-4f3b-9a7e-0123456789ab","appId":"com.example.app"}],"neg":-1,"six":9007199254740993}`
	if s := Stringify(got); s != want {
		t.Errorf("schema: got  %s\nwant %s", s, want)
	}
	// Zigzag and packed.
	packed := protoField(1, 2, append(protoVarint(1), protoVarint(3)...)) // sint32 -1, -2
	got, err = DecodeProtobuf(packed, ProtoSchema{1: {Name: "s", Type: "sint32", Repeated: true}})
	if err != nil || Stringify(got) != `{"s":[-1,-2]}` {
		t.Errorf("packed sint32: %s, %v", Stringify(got), err)
	}

	for _, bad := range [][]byte{
		nil,
		{0x0a, 0x05, 'a'},              // length beyond the end
		{0x08},                         // truncated varint
		{0x0b},                         // group (wire type 3)
		{0x09, 1, 2, 3},                // truncated fixed64
		bytes.Repeat([]byte{0xff}, 11), // overlong varint
	} {
		if v, err := DecodeProtobuf(bad, nil); err == nil {
			t.Errorf("DecodeProtobuf(%x) = %v, want an error", bad, v)
		}
	}
}

func TestDecodeJWT(t *testing.T) {
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	tok := enc(`{"alg":"RS256","typ":"JWT"}`) + "." + enc(`{"sub":"user-42","email":"a@example.org","firebase":{"identities":{"email":["a@example.org"]}}}`) + ".c2ln"
	got, err := DecodeJWT(tok, "")
	if err != nil {
		t.Fatal(err)
	}
	if s := Stringify(got); s != `{"email":"a@example.org","firebase":{"identities":{"email":["a@example.org"]}},"sub":"user-42"}` {
		t.Errorf("payload: %s", s)
	}
	got, err = DecodeJWT("Bearer "+tok, "both")
	if err != nil || !strings.Contains(Stringify(got), `"header":{"alg":"RS256"`) {
		t.Errorf("both: %s, %v", Stringify(got), err)
	}
	for _, bad := range []string{"", "nodots", "a.b.c", enc("x") + "." + enc("{not json") + ".s"} {
		if _, err := DecodeJWT(bad, ""); err == nil {
			t.Errorf("DecodeJWT(%q) did not fail", bad)
		}
	}
}

func TestStringifyAndEmpty(t *testing.T) {
	tests := []struct {
		v     any
		s     string
		empty bool
	}{
		{"x", "x", false},
		{"  ", "  ", true},
		{"Unknown", "Unknown", true},
		{" N/A ", " N/A ", true},
		{"nan", "nan", true},
		{math.NaN(), "NaN", true},
		{"00000000-0000-0000-0000-000000000000", "00000000-0000-0000-0000-000000000000", true},
		{int64(0), "0", false},
		{1.5, "1.5", false},
		{1e21, "1e+21", false},
		{1e-7, "1e-7", false},
		{123456789.0, "123456789", false},
		{json.Number("12345678901234567890"), "12345678901234567890", false},
		{[]any{}, "[]", false},
		{map[string]any{"b": int64(1), "a": "x"}, `{"a":"x","b":1}`, false},
		// As JSON.stringify: no HTML escapes, JavaScript's numbers,
		// NaN as null.
		{map[string]any{"u": "https://x.example/?a=1&b=<2>", "n": []any{1e-7, 1e21, math.NaN(), math.Copysign(0, -1)}}, `{"n":[1e-7,1e+21,null,0],"u":"https://x.example/?a=1&b=<2>"}`, false},
		{nil, "null", true},
		{false, "false", false},
		// Outside the decoded-value model, also nested: JSON, no endless
		// recursion.
		{[]string{"a", "b"}, `["a","b"]`, false},
		{[]any{uint8(3), struct{ A int }{1}}, `[3,{"A":1}]`, false},
		{make(chan int), "", false},
	}
	for _, tt := range tests {
		if tt.s == "" {
			// Not JSON at all: Go's notation, whatever it is.
			if Stringify(tt.v) == "" {
				t.Errorf("Stringify(%#v) is empty", tt.v)
			}
			continue
		}
		if got := Stringify(tt.v); got != tt.s {
			t.Errorf("Stringify(%#v) = %q, want %q", tt.v, got, tt.s)
		}
		if got := IsEmpty(tt.v); got != tt.empty {
			t.Errorf("IsEmpty(%#v) = %v", tt.v, got)
		}
	}
}
