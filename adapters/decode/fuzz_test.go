package decode

import (
	"encoding/base64"
	"net/url"
	"testing"
	"unicode/utf8"
)

// The fuzz targets check that no decoder panics or loops on any input, and
// that what a decoder returns is in the value model (Stringify handles it).

func FuzzParseJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.5,"x",null,true]}`, `{a:'b',}`, `/*c*/[0x1F,-Infinity]`, `"\ud83d\ude00\x41"`, `[[[[`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseJSON(s)
		if err == nil {
			_ = Stringify(v)
		}
	})
}

func FuzzDecodeProtobuf(f *testing.F) {
	f.Add([]byte{0x0a, 0x03, 0x08, 0x96, 0x01, 0x10, 0x01})
	f.Add([]byte{0x09, 1, 2, 3, 4, 5, 6, 7, 8, 0x15, 1, 2, 3, 4})
	f.Add([]byte{0x0a, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := DecodeProtobuf(b, nil)
		if err == nil {
			_ = Stringify(v)
		}
		sch := ProtoSchema{1: {Name: "a", Type: "message", Repeated: true, Fields: ProtoSchema{1: {Name: "x", Type: "sint64"}}}, 2: {Name: "d", Type: "double", Repeated: true}}
		if v, err := DecodeProtobuf(b, sch); err == nil {
			_ = Stringify(v)
		}
	})
}

func FuzzParseQueryString(f *testing.F) {
	for _, s := range []string{"a=1&a=2", "a[b][c]=1&a[]=2&a[0]=3", "x=%zz+y", "/p?q[1]=a&q[0]=b", "a=1&a[b]=2&a[]=3", "a=1&b&c=&a=2&[x]=3&d=%41+b&a=4"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_ = Stringify(ParseQueryString(s))
	})
}

func FuzzDecodeJWT(f *testing.F) {
	f.Add("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln")
	f.Add("a.b")
	f.Fuzz(func(t *testing.T, s string) {
		for _, part := range []string{"", "header", "both"} {
			if v, err := DecodeJWT(s, part); err == nil {
				_ = Stringify(v)
			}
		}
	})
}

func FuzzParseMultipart(f *testing.F) {
	f.Add([]byte("--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--B--\r\n"), "B")
	f.Fuzz(func(t *testing.T, b []byte, boundary string) {
		if boundary == "" {
			return
		}
		if v, err := ParseMultipart(b, boundary); err == nil {
			_ = Stringify(v)
		}
	})
}

func FuzzDecodeBase64(f *testing.F) {
	f.Add("aGVsbG8=")
	f.Add("a-_b")
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = DecodeBase64(s)
		_, _ = DecodeURIComponent(s)
		// Whatever the bytes, their base64 in each alphabet, padded or not,
		// decodes back to them, and percent-escaped UTF-8 unescapes to itself.
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
			if got, err := DecodeBase64(enc.EncodeToString([]byte(s))); err != nil || string(got) != s {
				t.Fatalf("%q: base64 %s decodes to %q, %v", s, enc.EncodeToString([]byte(s)), got, err)
			}
		}
		if utf8.ValidString(s) {
			if got, err := DecodeURIComponent(url.PathEscape(s)); err != nil || got != s {
				t.Fatalf("%q: %s decodes to %q, %v", s, url.PathEscape(s), got, err)
			}
		}
	})
}
