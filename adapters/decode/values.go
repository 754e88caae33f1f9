package decode

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	json "github.com/go-json-experiment/json/v1"
)

// Stringify turns a decoded value into the text a finding reports: text as
// it is, numbers in JavaScript's notation, true/false, and lists and
// objects as compact JSON with sorted keys. It matches what TrackHAR
// reports, so the two tools' findings compare.
func Stringify(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return "null"
	case bool:
		if x {
			return "true"
		}
		return "false"
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case float64:
		return jsNumber(x)
	case json.Number:
		return string(x)
	}
	// Lists, objects and anything outside the decoded-value model (a
	// function's own result type, say): JSON as JSON.stringify writes it
	// (no HTML escapes), keys sorted, or Go's notation for what has none.
	if b, err := jsonv2.Marshal(v, stringifyOptions); err == nil {
		return string(b)
	}
	return fmt.Sprint(v)
}

// stringifyOptions write JSON as Stringify reports it: sorted keys, and
// numbers as JavaScript writes them (NaN and infinities as null, as
// JSON.stringify does).
var stringifyOptions = jsonv2.JoinOptions(
	jsonv2.Deterministic(true),
	jsontext.AllowInvalidUTF8(true),
	jsonv2.WithMarshalers(jsonv2.MarshalToFunc(func(enc *jsontext.Encoder, f float64) error {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return enc.WriteToken(jsontext.Null)
		}
		return enc.WriteValue(jsontext.Value(jsNumber(f)))
	})),
)

// jsNumber formats like JavaScript's Number.prototype.toString.
func jsNumber(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		return "0"
	}
	a := math.Abs(f)
	if a >= 1e21 || a < 1e-6 {
		s := strconv.FormatFloat(f, 'e', -1, 64)
		// Go writes e+21 / e-07; JavaScript e+21 / e-7.
		mant, exp, _ := strings.Cut(s, "e")
		sign := exp[0]
		exp = strings.TrimLeft(exp[1:], "0")
		return mant + "e" + string(sign) + exp
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// emptyValues are values that mean "nothing" (compared case-insensitively
// after trimming): a tracker that sends them transmits no data.
var emptyValues = map[string]bool{
	"":                                     true,
	"unknown":                              true,
	"null":                                 true,
	"undefined":                            true,
	"none":                                 true,
	"n/a":                                  true,
	"nan":                                  true,
	"00000000-0000-0000-0000-000000000000": true,
	`""`:                                   true,
	"''":                                   true,
	"[object object]":                      true,
}

// IsEmpty reports whether a found value means "nothing" and is dropped: nil,
// text that is empty or only whitespace, and (case-insensitively, trimmed)
// "unknown", "null", "undefined", "none", "n/a", "NaN", the all-zero UUID,
// quotes with nothing between, and "[object Object]".
func IsEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case bool, int64, int:
		return false // "true", "false" and digits mean something
	case float64:
		return math.IsNaN(x) // other numbers are digits or "Infinity"
	}
	s := strings.TrimSpace(Stringify(v))
	return len(s) <= 40 && emptyValues[strings.ToLower(s)]
}

// TypeName names a value's type in the words of FORMAT.md: null, boolean,
// text, number, list or object.
func TypeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "text"
	case int64, float64, json.Number:
		return "number"
	case []any:
		return "list"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}
