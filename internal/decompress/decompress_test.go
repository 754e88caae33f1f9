package decompress

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
)

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func zl(b []byte) []byte {
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func rawDeflate(b []byte) []byte {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.DefaultCompression)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func br(b []byte) []byte {
	var buf bytes.Buffer
	w := brotli.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func zs(b []byte) []byte {
	w, _ := zstd.NewWriter(nil)
	defer w.Close()
	return w.EncodeAll(b, nil)
}

func cat(bs ...[]byte) []byte { return bytes.Join(bs, nil) }

var plain = []byte(strings.Repeat("The quick brown fox jumps over the lazy dog. ", 200))

func TestDecode(t *testing.T) {
	tests := []struct {
		name string
		enc  string
		in   []byte
		want []byte
	}{
		{"empty header", "", plain, plain},
		{"identity", "identity", plain, plain},
		{"gzip", "gzip", gz(plain), plain},
		{"x-gzip upper case", "X-GZIP", gz(plain), plain},
		{"gzip multi-member", "gzip", cat(gz(plain[:100]), gz(plain[100:])), plain},
		{"gzip trailing zero padding", "gzip", cat(gz(plain), make([]byte, 7)), plain},
		{"deflate zlib", "deflate", zl(plain), plain},
		{"deflate raw", "deflate", rawDeflate(plain), plain},
		{"deflate raw short", "deflate", rawDeflate([]byte("hi")), []byte("hi")},
		{"br", "br", br(plain), plain},
		{"zstd", "zstd", zs(plain), plain},
		{"chain gzip then br", "gzip, br", br(gz(plain)), plain},
		{"chain with identity and spaces", " identity ,gzip,  zstd ", zs(gz(plain)), plain},
		{"empty gzip body", "gzip", gz(nil), []byte{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(tt.enc, tt.in, 1<<20)
			if err != nil {
				t.Fatalf("Decode(%q): %v", tt.enc, err)
			}
			if !bytes.Equal(got, tt.want) {
				t.Fatalf("Decode(%q) = %d bytes %q..., want %d bytes", tt.enc, len(got), trunc(got), len(tt.want))
			}
		})
	}
}

func trunc(b []byte) []byte {
	if len(b) > 40 {
		return b[:40]
	}
	return b
}

func TestDecodeErrors(t *testing.T) {
	big := bytes.Repeat([]byte{'A'}, 10<<20)
	tests := []struct {
		name    string
		enc     string
		in      []byte
		limit   int64
		is      error
		unknown bool
		// wantPrefix: the partial output must be a non-empty prefix of
		// plain (or of big for bombs).
		wantPrefixOf []byte
		wantLen      int
	}{
		{name: "unknown coding", enc: "compress", in: plain, unknown: true},
		{name: "unknown in chain", enc: "gzip, snappy", in: plain, unknown: true},
		{name: "gzip bomb", enc: "gzip", in: gz(big), limit: 1 << 20, is: ErrTooLarge, wantPrefixOf: big, wantLen: 1 << 20},
		{name: "br bomb", enc: "br", in: br(big), limit: 1000, is: ErrTooLarge, wantPrefixOf: big, wantLen: 1000},
		{name: "zstd bomb", enc: "zstd", in: zs(big), limit: 5000, is: ErrTooLarge, wantPrefixOf: big, wantLen: 5000},
		{name: "deflate bomb", enc: "deflate", in: rawDeflate(big), limit: 77, is: ErrTooLarge, wantPrefixOf: big, wantLen: 77},
		{name: "gzip truncated", enc: "gzip", in: gz(plain)[:len(gz(plain))*2/3], is: ErrTruncated, wantPrefixOf: plain},
		{name: "gzip no trailer", enc: "gzip", in: gz(plain)[:len(gz(plain))-8], is: ErrTruncated, wantPrefixOf: plain},
		{name: "gzip header only", enc: "gzip", in: gz(plain)[:5], is: ErrTruncated},
		{name: "empty gzip input", enc: "gzip", in: nil, is: ErrTruncated},
		{name: "br truncated", enc: "br", in: br(plain)[:len(br(plain))/2], is: ErrTruncated},
		{name: "zlib truncated", enc: "deflate", in: zl(plain)[:len(zl(plain))/2], is: ErrTruncated, wantPrefixOf: plain},
		{name: "zstd truncated", enc: "zstd", in: zs(plain)[:len(zs(plain))-3], is: ErrTruncated},
		{name: "gzip corrupt", enc: "gzip", in: []byte("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03not deflate at all, really not")},
		{name: "not gzip", enc: "gzip", in: []byte("<html>hello</html>")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			limit := tt.limit
			if limit == 0 {
				limit = 1 << 20
			}
			got, err := Decode(tt.enc, tt.in, limit)
			if err == nil {
				t.Fatalf("Decode(%q) returned no error and %d bytes", tt.enc, len(got))
			}
			var ue *UnknownEncodingError
			if errors.As(err, &ue) != tt.unknown {
				t.Fatalf("unknown encoding error = %v, want %v (err %v)", !tt.unknown, tt.unknown, err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Fatalf("err = %v, want %v", err, tt.is)
			}
			if int64(len(got)) > limit {
				t.Fatalf("output %d bytes exceeds limit %d", len(got), limit)
			}
			if tt.wantPrefixOf != nil {
				if len(got) == 0 || !bytes.HasPrefix(tt.wantPrefixOf, got) {
					t.Fatalf("partial output (%d bytes) is not a non-empty prefix of the original", len(got))
				}
			}
			if tt.wantLen != 0 && len(got) != tt.wantLen {
				t.Fatalf("partial output %d bytes, want %d", len(got), tt.wantLen)
			}
			if !strings.Contains(err.Error(), strings.TrimSpace(strings.Split(tt.enc, ",")[0])) && !tt.unknown {
				t.Errorf("error %q does not name the coding", err)
			}
		})
	}
}

func TestCodings(t *testing.T) {
	got := fmt.Sprint(Codings(" GZip , identity,,br "))
	if got != "[gzip br]" {
		t.Fatalf("Codings = %s", got)
	}
	if !Supported("gzip, br, zstd, deflate, x-gzip, identity") || Supported("gzip, compress") {
		t.Fatal("Supported is wrong")
	}
}

func TestDefaultLimit(t *testing.T) {
	got, err := Decode("gzip", gz(plain), 0)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("limit 0 should mean DefaultLimit: %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	for _, enc := range []string{"gzip", "deflate", "br", "zstd", "gzip, br"} {
		small := plain[:300]
		var in []byte
		switch enc {
		case "gzip":
			in = gz(small)
		case "deflate":
			in = zl(small)
		case "br":
			in = br(small)
		case "zstd":
			in = zs(small)
		default:
			in = br(gz(small))
		}
		f.Add(enc, in)
	}
	f.Add("deflate", rawDeflate(plain[:50]))
	f.Fuzz(func(t *testing.T, enc string, in []byte) {
		const limit = 1 << 16
		out, err := Decode(enc, in, limit)
		if len(out) > limit {
			t.Fatalf("output %d > limit", len(out))
		}
		if err == nil && len(Codings(enc)) == 0 && !bytes.Equal(out, in) {
			t.Fatal("identity changed the body")
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	// 1 MiB of moderately compressible text, like HTML or JSON.
	r := rand.New(rand.NewPCG(1, 2))
	words := strings.Fields("the quick brown fox jumps over lazy dog user_id advertising tracking event json")
	var sb strings.Builder
	for sb.Len() < 1<<20 {
		sb.WriteString(words[r.IntN(len(words))])
		sb.WriteByte(' ')
	}
	data := []byte(sb.String())
	for _, c := range []struct {
		enc string
		in  []byte
	}{{"gzip", gz(data)}, {"deflate", zl(data)}, {"br", br(data)}, {"zstd", zs(data)}} {
		b.Run(c.enc, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Decode(c.enc, c.in, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
