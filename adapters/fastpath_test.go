package adapters

import (
	"strings"
	"testing"

	"github.com/tracewire/tracewire/har"
)

// The tests here compare shortcuts taken for speed with the general code
// they stand for.

func FuzzContainsFold(f *testing.F) {
	for _, s := range [][2]string{
		{"application/JSON; charset=utf-8", "json"},
		{"text/plain", "TEXT/"},
		{"x", ""},
		{"", "x"},
		{"a\u017ftext", "STEXT"}, // ſ lowercases to itself, not to s
		{"\u212a", "k"},          // the Kelvin sign lowercases to k
		{"ÄPPLICATION", "äpp"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, s, sub string) {
		if got, want := containsFold(s, sub), strings.Contains(strings.ToLower(s), strings.ToLower(sub)); got != want {
			t.Fatalf("containsFold(%q, %q) = %v, want %v", s, sub, got, want)
		}
	})
}

func TestBodyString(t *testing.T) {
	for _, pd := range []*har.PostData{
		{MimeType: "application/json", Text: `{"a":1}`},
		{Text: "YWJj", Encoding: "base64"},
		{Text: "YWJj", Encoding: "BASE64"},
		{Text: ""},
		{Params: []har.Param{{Name: "a", Value: "b c"}}},
	} {
		r, err := NewRequest(&har.Request{Method: "POST", URL: "https://a.example/", PostData: pd})
		if err != nil {
			t.Fatal(err)
		}
		if got := r.bodyString(); got != string(r.Body) {
			t.Errorf("%+v: bodyString %q, Body %q", pd, got, r.Body)
		}
		st := InitialState(r)
		if b, _ := st["body"].(string); b != string(r.Body) {
			t.Errorf("%+v: state body %q, Body %q", pd, b, r.Body)
		}
	}
}
