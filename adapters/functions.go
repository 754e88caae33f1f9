package adapters

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/tracewire/tracewire/internal/decompress"
)

// MaxDecodedSize caps what one decompression step may produce, against
// decompression bombs.
const MaxDecodedSize = 64 << 20

// fn is a decoding function. Values are the decoded-data model: nil, bool,
// string (text, or raw bytes after a binary decoding), int64, float64,
// json.Number (numbers that fit neither exactly), []any and
// map[string]any.
type fn func(in any, o *StepOptions, r *Request) (any, error)

type funcSpec struct {
	f        fn
	options  []string
	required []string
	doc      string
}

func (s funcSpec) allows(name string) bool {
	for _, o := range s.options {
		if o == name {
			return true
		}
	}
	return false
}

// functions is the registry of decoding functions; FORMAT.md documents
// each one.
var functions = map[string]funcSpec{
	"getProperty":         {f: getProperty, options: []string{"path"}, required: []string{"path"}, doc: "select with a path (options.path); one value, or a list when the path can select several"},
	"parseQueryString":    {f: parseQueryStringFn, doc: "parse a query string (or the query of a URL): nested a[b][c] keys, a[]= and a[0]= arrays, + as space, repeated keys as lists"},
	"parseJson":           {f: parseJSONFn, doc: "parse JSON, also JavaScript object literals (unquoted keys, single quotes, trailing commas, comments)"},
	"decodeBase64":        {f: decodeBase64Fn, doc: "decode base64, standard or URL-safe alphabet, padding optional, whitespace ignored"},
	"decodeUrl":           {f: decodeURLFn, doc: "undo percent-encoding (%XX; + stays +); fails on malformed escapes or invalid UTF-8"},
	"decodeProtobuf":      {f: decodeProtobufFn, options: []string{"schema"}, doc: "decode protobuf without a schema (keys are field numbers) or with options.schema"},
	"decodeJwt":           {f: decodeJWTFn, options: []string{"part"}, doc: "decode a JSON Web Token's payload (options.part: payload, header or both); the signature is not checked"},
	"ensureArray":         {f: ensureArrayFn, doc: "wrap a value that is not a list into a list of one"},
	"split":               {f: splitFn, options: []string{"separator"}, required: []string{"separator"}, doc: "split text at options.separator"},
	"gunzip":              {f: codingFn("gzip"), doc: "decompress gzip"},
	"inflate":             {f: codingFn("deflate"), doc: "decompress deflate (zlib-wrapped or raw)"},
	"decodeBrotli":        {f: codingFn("br"), doc: "decompress brotli"},
	"decodeZstd":          {f: codingFn("zstd"), doc: "decompress zstd"},
	"decodeHex":           {f: decodeHexFn, doc: "decode hexadecimal (either case; spaces and colons ignored)"},
	"parsePathParameters": {f: parsePathParametersFn, doc: "parse ;key=value parameters of a URL path (DoubleClick Floodlight's /activityi;src=1;type=x) into {key: value}"},
	"parseMultipart":      {f: parseMultipartFn, options: []string{"boundary"}, doc: "parse multipart/form-data into {field: value} (repeated fields as lists); the boundary comes from options.boundary or the request's Content-Type"},
}

// Functions returns the names of the decoding functions, sorted.
func Functions() []string {
	out := make([]string, 0, len(functions))
	for n := range functions {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// FunctionDoc returns a one-line description of a decoding function and its
// options.
func FunctionDoc(name string) (doc string, options []string, ok bool) {
	s, ok := functions[name]
	return s.doc, s.options, ok
}

// Apply runs a decoding function outside an adapter (for tests and tools).
func Apply(function string, in any, o StepOptions, r *Request) (any, error) {
	spec, ok := functions[function]
	if !ok {
		return nil, fmt.Errorf("unknown function %q", function)
	}
	if o.Path != "" && o.path == nil {
		p, err := ParsePath(o.Path)
		if err != nil {
			return nil, err
		}
		o.path = p
	}
	if r == nil {
		r = &Request{}
	}
	return spec.f(in, &o, r)
}

var errNotText = errors.New("input is not text")

func asText(in any) (string, error) {
	switch v := in.(type) {
	case string:
		return v, nil
	case json.Number:
		return string(v), nil
	}
	return "", fmt.Errorf("%w (%s)", errNotText, typeName(in))
}

func typeName(v any) string {
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

func getProperty(in any, o *StepOptions, _ *Request) (any, error) {
	return o.path.Get(in), nil
}

func parsePathParametersFn(in any, _ *StepOptions, _ *Request) (any, error) {
	s, err := asText(in)
	if err != nil {
		return nil, err
	}
	return ParsePathParameters(s), nil
}

// ParsePathParameters reads the key=value pairs that some URL paths carry
// between semicolons, in any segment: "/activityi;src=1;cat=x" and
// "/ddm/activity/src=1;cat=x" both give {src: "1", cat: "x"}. A query
// after "?" is left out; values are percent-decoded as query values are
// (kept as they are when malformed); a repeated key keeps its last value;
// parts without "=" (the segment's name) are skipped.
func ParsePathParameters(path string) map[string]any {
	path, _, _ = strings.Cut(path, "?")
	out := map[string]any{}
	for _, seg := range strings.Split(path, "/") {
		for _, part := range strings.Split(seg, ";") {
			k, v, ok := strings.Cut(part, "=")
			if !ok || k == "" {
				continue
			}
			out[qsDecode(k)] = qsDecode(v)
		}
	}
	return out
}

func parseQueryStringFn(in any, _ *StepOptions, _ *Request) (any, error) {
	s, err := asText(in)
	if err != nil {
		return nil, err
	}
	return ParseQueryString(s), nil
}

func parseJSONFn(in any, _ *StepOptions, _ *Request) (any, error) {
	s, err := asText(in)
	if err != nil {
		return nil, err
	}
	return ParseJSON(s)
}

func decodeBase64Fn(in any, _ *StepOptions, _ *Request) (any, error) {
	s, err := asText(in)
	if err != nil {
		return nil, err
	}
	b, err := DecodeBase64(s)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// DecodeBase64 decodes standard or URL-safe base64, with or without
// padding; whitespace is ignored. Text after the first "=" is ignored, as
// browsers' atob-like decoders do.
func DecodeBase64(s string) ([]byte, error) {
	if i := strings.IndexByte(s, '='); i >= 0 {
		s = s[:i]
	}
	buf := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '+', c == '/':
			buf = append(buf, c)
		case c == '-':
			buf = append(buf, '+')
		case c == '_':
			buf = append(buf, '/')
		case c == ' ', c == '\t', c == '\r', c == '\n':
		default:
			return nil, fmt.Errorf("base64: invalid character %q at %d", c, i)
		}
	}
	if len(buf)%4 == 1 {
		return nil, fmt.Errorf("base64: invalid length %d", len(buf))
	}
	out, err := base64.RawStdEncoding.DecodeString(string(buf))
	if err != nil {
		return nil, fmt.Errorf("base64: %w", err)
	}
	return out, nil
}

func decodeURLFn(in any, _ *StepOptions, _ *Request) (any, error) {
	s, err := asText(in)
	if err != nil {
		return nil, err
	}
	return DecodeURIComponent(s)
}

// DecodeURIComponent undoes %XX escapes like JavaScript's
// decodeURIComponent: "+" is kept, and a malformed escape or a result that
// is not UTF-8 is an error. It is the one percent-decoder of adapters.
func DecodeURIComponent(s string) (string, error) {
	if strings.IndexByte(s, '%') < 0 {
		return s, nil
	}
	d, err := url.PathUnescape(s)
	if err != nil {
		return "", fmt.Errorf("decodeUrl: malformed escape: %w", err)
	}
	if !utf8.ValidString(d) {
		return "", errors.New("decodeUrl: escapes are not UTF-8")
	}
	return d, nil
}

// isHex reports whether c is a hexadecimal digit.
func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func decodeJWTFn(in any, o *StepOptions, _ *Request) (any, error) {
	s, err := asText(in)
	if err != nil {
		return nil, err
	}
	return DecodeJWT(s, o.Part)
}

// DecodeJWT decodes the payload (part "" or "payload"), the header, or both
// ({"header":…, "payload":…}) of a JSON Web Token without checking its
// signature.
func DecodeJWT(token, part string) (any, error) {
	token = strings.TrimSpace(token)
	token = strings.TrimPrefix(strings.TrimPrefix(token, "Bearer "), "bearer ")
	parts := strings.Split(token, ".")
	if len(parts) < 2 {
		return nil, errors.New("decodeJwt: not a JWT (no '.')")
	}
	dec := func(i int) (any, error) {
		b, err := DecodeBase64(parts[i])
		if err != nil {
			return nil, fmt.Errorf("decodeJwt: part %d: %w", i+1, err)
		}
		if !utf8.Valid(b) {
			return nil, fmt.Errorf("decodeJwt: part %d is not UTF-8", i+1)
		}
		v, err := ParseJSON(string(b))
		if err != nil {
			return nil, fmt.Errorf("decodeJwt: part %d: %w", i+1, err)
		}
		return v, nil
	}
	switch part {
	case "header":
		return dec(0)
	case "both":
		h, err := dec(0)
		if err != nil {
			return nil, err
		}
		p, err := dec(1)
		if err != nil {
			return nil, err
		}
		return map[string]any{"header": h, "payload": p}, nil
	}
	return dec(1)
}

func ensureArrayFn(in any, _ *StepOptions, _ *Request) (any, error) {
	if a, ok := in.([]any); ok {
		return a, nil
	}
	return []any{in}, nil
}

func splitFn(in any, o *StepOptions, _ *Request) (any, error) {
	var s string
	switch v := in.(type) {
	case string:
		s = v
	case []any, map[string]any, nil:
		return nil, fmt.Errorf("split: %w (%s)", errNotText, typeName(in))
	default:
		s = Stringify(v)
	}
	parts := strings.Split(s, o.Separator)
	out := make([]any, len(parts))
	for i, p := range parts {
		out[i] = p
	}
	return out, nil
}

func codingFn(coding string) fn {
	return func(in any, _ *StepOptions, _ *Request) (any, error) {
		s, err := asText(in)
		if err != nil {
			return nil, err
		}
		b, err := decompress.Decode(coding, []byte(s), MaxDecodedSize)
		if err != nil {
			return nil, err
		}
		return string(b), nil
	}
}

func decodeHexFn(in any, _ *StepOptions, _ *Request) (any, error) {
	s, err := asText(in)
	if err != nil {
		return nil, err
	}
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == ':' || r == '\n' || r == '\r' || r == '\t' {
			return -1
		}
		return r
	}, s)
	s = strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("decodeHex: %w", err)
	}
	return string(b), nil
}

// isHexText reports whether s is all hexadecimal digits.
func isHexText(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return false
		}
	}
	return true
}
