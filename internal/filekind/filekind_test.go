package filekind

import (
	"bytes"
	"compress/gzip"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func zst(b []byte) []byte {
	w, _ := zstd.NewWriter(nil)
	return w.EncodeAll(b, nil)
}

func TestSniff(t *testing.T) {
	pcapng := []byte{0x0a, 0x0d, 0x0d, 0x0a, 0x1c, 0, 0, 0}
	pcap := []byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0}
	for _, tc := range []struct {
		name    string
		head    []byte
		kind    Kind
		comp    string
		says    string
		capture bool
		readBy  string
	}{
		{"empty", nil, Empty, "", "an empty file", false, ""},
		{"blank", []byte(" \n\t"), Empty, "", "an empty file", false, ""},
		{"pcapng", pcapng, Pcapng, "", "a pcapng capture", true, "convert"},
		{"pcap", pcap, Pcap, "", "a pcap capture", true, "convert"},
		{"pcap big-endian ns", []byte{0xa1, 0xb2, 0x3c, 0x4d}, Pcap, "", "a pcap capture", true, "flows"},
		{"pcap modified", []byte{0x34, 0xcd, 0xb2, 0xa1}, Pcap, "", "a pcap capture", true, "flows"},
		{"HAR", []byte("{\"log\":{\"version\":\"1.2\""), HAR, "", "a HAR file", false, "detect"},
		{"HAR indented with BOM", []byte("\xef\xbb\xbf{\n  \"log\": {"), HAR, "", "a HAR file", false, "detect"},
		{"findings", []byte(`{"analysis_id":"x"}`), JSON, "", `a JSON file (it starts "{\"analysis_id\":\"x\"}")`, false, "report"},
		{"text", []byte("hello world\nsecond line"), Text, "", `a text file (it starts "hello world")`, false, ""},
		{"long text", []byte(strings.Repeat("é", 40)), Text, "", "…", false, ""},
		{"binary", []byte{0x50, 0x4b, 0x03, 0x04, 0x14, 0, 0, 0, 8, 0}, Unknown, "", "its first bytes: 50 4b 03 04 14 00 00 00", false, ""},
		{"gzip pcapng", gz(pcapng), Pcapng, "gzip", "a gzip-compressed pcapng capture", true, "convert"},
		{"gzip text", gz([]byte("hello world")), Text, "gzip", "a gzip-compressed text file", false, ""},
		{"gzip HAR", gz([]byte(`{"log":{}}`)), HAR, "gzip", "a gzip-compressed HAR file", false, ""},
		{"gzip empty", gz(nil), Empty, "gzip", "a gzip-compressed file that decompresses to nothing", false, ""},
		{"gzip cut", gz(bytes.Repeat([]byte("x"), 10000))[:12], Unknown, "gzip", "a gzip-compressed file of unknown format", false, ""},
		{"zstd pcap", zst(pcap), Pcap, "zstd", "a zstd-compressed pcap capture", true, "convert"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			i := Sniff(tc.head)
			if i.Kind != tc.kind || i.Compression != tc.comp || i.Capture() != tc.capture {
				t.Errorf("Sniff = %+v, want kind %d compression %q", i, tc.kind, tc.comp)
			}
			if !strings.Contains(i.String(), tc.says) {
				t.Errorf("String() = %q, want it to contain %q", i.String(), tc.says)
			}
			if rb := i.ReadBy(); tc.readBy == "" && rb != "" || !strings.Contains(rb, tc.readBy) {
				t.Errorf("ReadBy() = %q, want %q in it", rb, tc.readBy)
			}
		})
	}
}

// FuzzSniff: sniffing never panics, and a file compressed whole (gzip or
// zstd) is sniffed as its content is.
func FuzzSniff(f *testing.F) {
	f.Add([]byte("{\"log\":"))
	f.Add(gz([]byte("abc")))
	zw, err := zstd.NewWriter(nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		i := Sniff(b)
		_ = i.String()
		_ = i.ReadBy()
		if i.Compression != "" || len(b) > HeadSize {
			return
		}
		for _, c := range []struct {
			name string
			data []byte
		}{{"gzip", gz(b)}, {"zstd", zw.EncodeAll(b, nil)}} {
			want := i
			want.Compression = c.name
			if got := Sniff(c.data); got != want {
				t.Fatalf("%s of %q: %+v, uncompressed %+v", c.name, b, got, i)
			}
		}
	})
}
