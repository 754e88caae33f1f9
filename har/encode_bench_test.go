package har

import (
	"strings"
	"testing"
	"unicode/utf8"

	json "github.com/go-json-experiment/json/v1"
)

// Bodies dominate what conversion writes: HTML/JSON text, some non-ASCII,
// and base64 of binary bodies.
var benchStrings = map[string]string{
	"ascii-json": strings.Repeat(`{"id":"6a1c2a3e-8b4d","name":"Ansel Adams","tags":["a","b"],"n":12345}`+"\n", 2000),
	"german":     strings.Repeat("Grüße aus Köln – Straße, Übermaß, Äpfel. ", 3000),
	"base64":     strings.Repeat("ChZjb20uZXhhbXBsZS53ZWF0aGVyYXBwEiBmM2ExYzlkMjdiNWU0YzA4YTZkMmUxZjBiOWM4YTdkNh", 2000),
}

func BenchmarkAppendString(b *testing.B) {
	for name, s := range benchStrings {
		b.Run(name, func(b *testing.B) {
			buf := make([]byte, 0, 2*len(s))
			b.SetBytes(int64(len(s)))
			for b.Loop() {
				buf = appendString(buf[:0], s)
			}
		})
	}
}

// FuzzAppendString checks that every string is written as JSON that decodes
// to the string itself, each invalid UTF-8 byte replaced by U+FFFD.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "a\"b\\c\n\x01\x7f", "ä\u2028\xff\xfe", "12345678\"2345678", "1234567\xc3", benchStrings["german"][:100]} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := appendString(nil, s)
		var got string
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("%q gave invalid JSON %s: %v", s, out, err)
		}
		var want strings.Builder
		for i := 0; i < len(s); {
			r, size := utf8.DecodeRuneInString(s[i:])
			want.WriteRune(r) // RuneError for an invalid byte
			i += size
		}
		if got != want.String() {
			t.Fatalf("%q decoded to %q", s, got)
		}
	})
}
