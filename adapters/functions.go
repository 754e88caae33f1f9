package adapters

import (
	"errors"
	"fmt"
	"mime"
	"strings"

	json "github.com/go-json-experiment/json/v1"
	"github.com/tracewire/tracewire/adapters/decode"
	"github.com/tracewire/tracewire/adapters/internal/jsonpath"
	"github.com/tracewire/tracewire/internal/decompress"
)

// fn is a decoding function over the values of the decode package's model.
type fn func(in any, o *StepOptions, r *Request) (any, error)

type funcSpec struct {
	f        fn
	options  []string
	required []string
}

// functions is the registry of decoding functions; FORMAT.md documents
// each one.
var functions = map[string]funcSpec{
	"getProperty":         {f: getProperty, options: []string{"path"}, required: []string{"path"}},
	"parseQueryString":    {f: textFn(func(s string) (map[string]any, error) { return decode.ParseQueryString(s), nil })},
	"parseJson":           {f: textFn(decode.ParseJSON)},
	"decodeBase64":        {f: bytesFn(decode.DecodeBase64)},
	"decodeUrl":           {f: textFn(decode.DecodeURIComponent)},
	"decodeProtobuf":      {f: decodeProtobufFn, options: []string{"schema"}},
	"decodeJwt":           {f: decodeJWTFn, options: []string{"part"}},
	"ensureArray":         {f: ensureArrayFn},
	"split":               {f: splitFn, options: []string{"separator"}, required: []string{"separator"}},
	"gunzip":              {f: codingFn("gzip")},
	"inflate":             {f: codingFn("deflate")},
	"decodeBrotli":        {f: codingFn("br")},
	"decodeZstd":          {f: codingFn("zstd")},
	"decodeHex":           {f: bytesFn(decode.DecodeHex)},
	"parsePathParameters": {f: textFn(func(s string) (map[string]any, error) { return decode.ParsePathParameters(s), nil })},
	"parseMultipart":      {f: parseMultipartFn, options: []string{"boundary"}},
}

// Apply runs a decoding function outside an adapter (for tests and tools).
func Apply(function string, in any, o StepOptions, r *Request) (any, error) {
	spec, ok := functions[function]
	if !ok {
		return nil, fmt.Errorf("unknown function %q", function)
	}
	if o.Path != "" && o.path == nil {
		p, err := jsonpath.Parse(o.Path)
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
	return "", fmt.Errorf("%w (%s)", errNotText, decode.TypeName(in))
}

// textFn makes a decoding function of one that reads text.
func textFn[T any](f func(string) (T, error)) fn {
	return func(in any, _ *StepOptions, _ *Request) (any, error) {
		s, err := asText(in)
		if err != nil {
			return nil, err
		}
		return f(s)
	}
}

// bytesFn makes a decoding function of one that reads text and gives
// bytes, which the value model holds as a string.
func bytesFn(f func(string) ([]byte, error)) fn {
	return textFn(func(s string) (string, error) {
		b, err := f(s)
		return string(b), err
	})
}

func getProperty(in any, o *StepOptions, _ *Request) (any, error) {
	return o.path.Get(in), nil
}

func decodeProtobufFn(in any, o *StepOptions, _ *Request) (any, error) {
	s, err := asText(in)
	if err != nil {
		return nil, err
	}
	return decode.DecodeProtobuf([]byte(s), o.Schema)
}

func decodeJWTFn(in any, o *StepOptions, _ *Request) (any, error) {
	s, err := asText(in)
	if err != nil {
		return nil, err
	}
	return decode.DecodeJWT(s, o.Part)
}

func parseMultipartFn(in any, o *StepOptions, r *Request) (any, error) {
	s, err := asText(in)
	if err != nil {
		return nil, err
	}
	boundary := o.Boundary
	if boundary == "" {
		ct := r.ContentType
		if ct == "" {
			return nil, errors.New("parseMultipart: no boundary (no Content-Type and no options.boundary)")
		}
		_, params, err := mime.ParseMediaType(ct)
		if err != nil || params["boundary"] == "" {
			return nil, fmt.Errorf("parseMultipart: no boundary in Content-Type %q", ct)
		}
		boundary = params["boundary"]
	}
	return decode.ParseMultipart([]byte(s), boundary)
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
		return nil, fmt.Errorf("split: %w (%s)", errNotText, decode.TypeName(in))
	default:
		s = decode.Stringify(v)
	}
	parts := strings.Split(s, o.Separator)
	out := make([]any, len(parts))
	for i, p := range parts {
		out[i] = p
	}
	return out, nil
}

func codingFn(coding string) fn {
	return bytesFn(func(s string) ([]byte, error) {
		return decompress.Decode(coding, []byte(s), decode.MaxDecodedSize)
	})
}
