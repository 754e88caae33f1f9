package adapters

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"
	"github.com/tracewire/tracewire/adapters/decode"
)

func TestCompressionFunctions(t *testing.T) {
	plain := strings.Repeat("advertisingId=6a1c; ", 20)
	var gz, zl bytes.Buffer
	gw := gzip.NewWriter(&gz)
	gw.Write([]byte(plain))
	gw.Close()
	zw := zlib.NewWriter(&zl)
	zw.Write([]byte(plain))
	zw.Close()
	var br bytes.Buffer
	bw := brotli.NewWriter(&br)
	bw.Write([]byte(plain))
	bw.Close()
	enc, _ := zstd.NewWriter(nil)
	zs := enc.EncodeAll([]byte(plain), nil)
	for _, tt := range []struct {
		fn string
		in []byte
	}{{"gunzip", gz.Bytes()}, {"inflate", zl.Bytes()}, {"decodeBrotli", br.Bytes()}, {"decodeZstd", zs}} {
		got, err := Apply(tt.fn, string(tt.in), StepOptions{}, nil)
		if err != nil || got != plain {
			t.Errorf("%s: %v, %v", tt.fn, got, err)
		}
		if _, err := Apply(tt.fn, "not compressed at all", StepOptions{}, nil); err == nil {
			t.Errorf("%s accepted garbage", tt.fn)
		}
	}
}

func TestSmallFunctions(t *testing.T) {
	tests := []struct {
		fn   string
		in   any
		opts StepOptions
		want string
		err  bool
	}{
		{fn: "split", in: "a b  c", opts: StepOptions{Separator: " "}, want: `["a","b","","c"]`},
		{fn: "split", in: int64(12), opts: StepOptions{Separator: "1"}, want: `["","2"]`},
		{fn: "split", in: []any{"x"}, opts: StepOptions{Separator: " "}, err: true},
		{fn: "ensureArray", in: "x", want: `["x"]`},
		{fn: "ensureArray", in: []any{"x"}, want: `["x"]`},
		{fn: "decodeHex", in: "48:65 6C6c6f", want: "Hello"},
		{fn: "decodeHex", in: "0x4869", want: "Hi"},
		{fn: "decodeHex", in: "4g", err: true},
		{fn: "decodeUrl", in: "a%2Fb", want: "a/b"},
		{fn: "getProperty", in: map[string]any{"a": []any{map[string]any{"b": "1"}, map[string]any{"b": "2"}}}, opts: StepOptions{Path: "a.*.b"}, want: `["1","2"]`},
		{fn: "getProperty", in: map[string]any{"a": map[string]any{"b": "1"}}, opts: StepOptions{Path: "a.b"}, want: `1`},
		{fn: "parseJson", in: map[string]any{}, err: true},
		{fn: "parseQueryString", in: int64(5), err: true},
	}
	for _, tt := range tests {
		got, err := Apply(tt.fn, tt.in, tt.opts, nil)
		if tt.err {
			if err == nil {
				t.Errorf("%s(%v) = %v, want an error", tt.fn, tt.in, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s(%v): %v", tt.fn, tt.in, err)
			continue
		}
		if s := decode.Stringify(got); s != tt.want {
			t.Errorf("%s(%v) = %s, want %s", tt.fn, tt.in, s, tt.want)
		}
	}
}

func TestParseMultipart(t *testing.T) {
	body := "--XyZ\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\na@example.org\r\n" +
		"--XyZ\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\nb@example.org\r\n" +
		"--XyZ\r\nContent-Disposition: form-data; name=\"log\"; filename=\"l.txt\"\r\nContent-Type: text/plain\r\n\r\nid=42\r\n" +
		"--XyZ--\r\n"
	got, err := Apply("parseMultipart", body, StepOptions{}, &Request{ContentType: `multipart/form-data; boundary="XyZ"`})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"email":["a@example.org","b@example.org"],"log":"id=42","log.contentType":"text/plain","log.filename":"l.txt"}`
	if s := decode.Stringify(got); s != want {
		t.Errorf("got %s\nwant %s", s, want)
	}
	if _, err := Apply("parseMultipart", body, StepOptions{}, &Request{}); err == nil {
		t.Error("no boundary: no error")
	}
	if _, err := Apply("parseMultipart", "garbage", StepOptions{Boundary: "XyZ"}, nil); err == nil {
		t.Error("garbage: no error")
	}
}
