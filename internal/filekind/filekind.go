// Package filekind tells what an input file is from its first bytes: a
// capture (pcap, pcapng, compressed or not), a HAR, other JSON, text,
// empty or unknown. Readers use it to choose how to read a file, and every
// command uses it to say what a file it cannot read looks like, and which
// command reads it, instead of a parser's first complaint ("magic
// 7b0a2020", "invalid character 'h'").
package filekind

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/klauspost/compress/zstd"
)

// Kind is the format of a file's content (after decompression).
type Kind int

// Kinds.
const (
	Unknown Kind = iota
	Empty        // no bytes, or only white space
	Pcap
	Pcapng
	HAR  // a JSON object whose first member is "log"
	JSON // other JSON: findings files, or a HAR with another first member
	Text
)

// HeadSize is how many first bytes Sniff needs to see: a zstd decoder
// gives nothing until it has a whole block (up to 128 KiB), so with 4 KiB
// every zstd-compressed capture whose first block was larger (any made
// with the zstd tool from more than a few KiB) was called "of unknown
// format" and refused.
const HeadSize = 256 << 10

// Info is what Sniff found.
type Info struct {
	Kind Kind
	// Compression is "gzip" or "zstd" for a compressed file, whose Kind
	// is that of its content (Unknown when the start does not
	// decompress).
	Compression string
	// Start is the file's (decompressed) start: the first bytes in hex
	// for an unknown kind, the first characters for text and JSON.
	Start string
}

// Capture reports whether the file is a pcap or pcapng capture.
func (i Info) Capture() bool { return i.Kind == Pcap || i.Kind == Pcapng }

// String describes the file for a message: "a pcapng capture", "a
// gzip-compressed text file", "an empty file", ...
func (i Info) String() string {
	var s string
	switch i.Kind {
	case Empty:
		s = "empty file"
	case Pcap:
		s = "pcap capture"
	case Pcapng:
		s = "pcapng capture"
	case HAR:
		s = "HAR file"
	case JSON:
		s = "JSON file (it starts " + i.Start + ")"
	case Text:
		s = "text file (it starts " + i.Start + ")"
	default:
		s = "file of unknown format"
		if i.Start != "" {
			s += " (its first bytes: " + i.Start + ")"
		}
	}
	if i.Compression != "" {
		if i.Kind == Empty {
			s = "file that decompresses to nothing"
		}
		s = i.Compression + "-compressed " + s
	}
	if strings.HasPrefix(s, "empty") {
		return "an " + s
	}
	return "a " + s
}

// ReadBy says which commands read such a file, "" for none.
func (i Info) ReadBy() string {
	switch {
	case i.Capture():
		return "convert, flows, detect, enrich, report and batch read captures"
	case i.Kind == HAR && i.Compression == "":
		return "detect, enrich, report and batch read HAR files"
	case i.Kind == JSON && i.Compression == "":
		return "detect, enrich, report and batch read HAR files, report reads findings files"
	}
	return ""
}

// Sniff tells what a file starting with head is; give it at least the
// first HeadSize bytes (or the whole file, when shorter).
func Sniff(head []byte) Info {
	var i Info
	ok := true
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		i.Compression = "gzip"
		head, ok = inflate(head, func(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) })
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		i.Compression = "zstd"
		head, ok = inflate(head, func(r io.Reader) (io.Reader, error) {
			return zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(64<<20))
		})
	}
	if ok {
		// The content is told by its first 4 KiB, as before HeadSize grew
		// for zstd: a HAR with a byte that is not UTF-8 further on is
		// still a HAR.
		i.Kind, i.Start = content(head[:min(len(head), contentSize)])
	}
	return i
}

// contentSize is how much of the (decompressed) start content looks at.
const contentSize = 4096

// SniffFile sniffs the file at path.
func SniffFile(path string) (Info, error) {
	if err := CheckPipe(path); err != nil {
		return Info{}, err // opening it could wait for a writer
	}
	f, err := os.Open(path)
	if err != nil {
		return Info{}, err
	}
	defer f.Close()
	head := make([]byte, HeadSize)
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return Info{}, fmt.Errorf("%s: %w", path, err)
	}
	return Sniff(head[:n]), nil
}

// SniffReader sniffs the start of r (standard input, say) and returns a
// reader that still has those bytes.
func SniffReader(r io.Reader) (Info, io.Reader) {
	br := bufio.NewReaderSize(r, 1<<20)
	head, _ := br.Peek(HeadSize)
	return Sniff(head), br
}

// inflate returns up to 4 KiB decompressed bytes of a compressed
// start; false when not even its beginning decompresses.
func inflate(head []byte, open func(io.Reader) (io.Reader, error)) ([]byte, bool) {
	r, err := open(bytes.NewReader(head))
	if err != nil {
		return nil, false
	}
	if c, ok := r.(io.Closer); ok {
		defer c.Close()
	} else if d, ok := r.(*zstd.Decoder); ok {
		defer d.Close()
	}
	out := make([]byte, contentSize)
	n, err := io.ReadFull(r, out)
	if n == 0 && err != io.EOF {
		return nil, false
	}
	return out[:n], true
}

// pcapMagics are classic pcap's magic numbers as the file's first bytes:
// microsecond, nanosecond and Kuznetsov's modified format, both byte
// orders.
var pcapMagics = [][]byte{
	{0xd4, 0xc3, 0xb2, 0xa1}, {0xa1, 0xb2, 0xc3, 0xd4},
	{0x4d, 0x3c, 0xb2, 0xa1}, {0xa1, 0xb2, 0x3c, 0x4d},
	{0x34, 0xcd, 0xb2, 0xa1}, {0xa1, 0xb2, 0xcd, 0x34},
}

func content(head []byte) (Kind, string) {
	if bytes.HasPrefix(head, []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
		return Pcapng, ""
	}
	for _, m := range pcapMagics {
		if bytes.HasPrefix(head, m) {
			return Pcap, ""
		}
	}
	body := bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		if len(body) == 0 || isText(body) {
			return Empty, ""
		}
	}
	if isText(head) {
		if len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') {
			if firstMember(trimmed) == "log" {
				return HAR, ""
			}
			return JSON, quoteStart(trimmed)
		}
		return Text, quoteStart(trimmed)
	}
	n := min(len(head), 8)
	return Unknown, fmt.Sprintf("% x", head[:n])
}

// firstMember is the name of the first member of the JSON object that b
// starts with, "" when there is none.
func firstMember(b []byte) string {
	if len(b) == 0 || b[0] != '{' {
		return ""
	}
	b = bytes.TrimLeft(b[1:], " \t\r\n")
	if len(b) == 0 || b[0] != '"' {
		return ""
	}
	end := bytes.IndexByte(b[1:], '"')
	if end < 0 {
		return ""
	}
	return string(b[1 : 1+end])
}

// isText reports whether b is UTF-8 without control characters other than
// tab, line breaks and form feed (a cut last character is allowed).
func isText(b []byte) bool {
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n <= 1 {
			return len(b) < utf8.UTFMax && !utf8.FullRune(b)
		}
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' && r != '\f' || r == 0x7f {
			return false
		}
		b = b[n:]
	}
	return true
}

// quoteStart quotes the first characters of the first line of b.
func quoteStart(b []byte) string {
	if i := bytes.IndexAny(b, "\r\n"); i >= 0 {
		b = b[:i]
	}
	s := string(b)
	const max = 24
	cut := false
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max])
		cut = true
	}
	q := strconv.Quote(s)
	if cut {
		q = q[:len(q)-1] + `…"`
	}
	return q
}
