package decompress

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
)

// DefaultLimit is the output cap used when Decode is given a limit <= 0.
const DefaultLimit = 256 << 20

var (
	// ErrTooLarge is returned (wrapped) when the decoded output would exceed
	// the limit; the output returned with it holds the first limit bytes.
	ErrTooLarge = errors.New("decoded size exceeds the limit")
	// ErrTruncated is returned (wrapped) when the encoded input ends before
	// the end of its stream, typically a body cut off by the end of the
	// capture or a gap; the output returned with it is everything that
	// could be decoded.
	ErrTruncated = errors.New("encoded data ends early")
)

// UnknownEncodingError is returned for a content coding this package does
// not implement; nothing is decoded then.
type UnknownEncodingError struct {
	Encoding string
}

func (e *UnknownEncodingError) Error() string {
	return fmt.Sprintf("unsupported content encoding %q", e.Encoding)
}

// Codings splits a Content-Encoding header value into its codings, in the
// order they were applied, lower-cased, without "identity" and empty
// elements.
func Codings(contentEncoding string) []string {
	var out []string
	for _, c := range strings.Split(contentEncoding, ",") {
		c = strings.ToLower(strings.TrimSpace(c))
		if c == "" || c == "identity" {
			continue
		}
		out = append(out, c)
	}
	return out
}

// Supported reports whether every coding of contentEncoding can be decoded.
func Supported(contentEncoding string) bool {
	for _, c := range Codings(contentEncoding) {
		if !known(c) {
			return false
		}
	}
	return true
}

func known(c string) bool {
	switch c {
	case "gzip", "x-gzip", "deflate", "br", "zstd":
		return true
	}
	return false
}

// Decode undoes the content codings of a Content-Encoding header value
// ("gzip", "br", "gzip, br", ...) in reverse order of application and
// returns the decoded bytes, at most limit of them (DefaultLimit when limit
// <= 0). An empty value or "identity" returns body itself.
//
// On error the returned bytes are the best partial result:
//   - *UnknownEncodingError: nil, nothing was decoded;
//   - ErrTooLarge: the first limit bytes of the output;
//   - ErrTruncated or a corrupt stream: everything decoded before the
//     problem (possibly nothing), run through the remaining codings of a
//     chain.
//
// The error names the coding that failed.
func Decode(contentEncoding string, body []byte, limit int64) ([]byte, error) {
	if limit <= 0 {
		limit = DefaultLimit
	}
	codings := Codings(contentEncoding)
	for _, c := range codings {
		if !known(c) {
			return nil, &UnknownEncodingError{Encoding: c}
		}
	}
	out := body
	var first error
	for i := len(codings) - 1; i >= 0; i-- {
		dec, err := decodeOne(codings[i], out, limit)
		if err != nil {
			if first == nil {
				first = err
			}
			if len(dec) == 0 {
				return nil, first
			}
		}
		out = dec
	}
	return out, first
}

// decodeOne undoes one coding.
func decodeOne(coding string, body []byte, limit int64) ([]byte, error) {
	var (
		r   io.Reader
		err error
	)
	src := bytes.NewReader(body)
	switch coding {
	case "gzip", "x-gzip":
		var zr *gzip.Reader
		zr, err = gzip.NewReader(src)
		if err == nil {
			zr.Multistream(false)
			r = &gzipTolerant{zr: zr, src: src}
		}
	case "deflate":
		// RFC 9110 says zlib, but many servers send raw deflate
		// (zeek/http_missing-zlib-header.pcap); the zlib header tells them
		// apart.
		if zlibHeader(body) {
			out, err := readAll(coding, mustZlib(src), limit, len(body))
			if err == nil || len(out) > 0 || errors.Is(err, ErrTooLarge) {
				return out, err
			}
			// A two-byte raw deflate prefix can pass the header check by
			// chance; try raw before giving up.
			raw, rerr := readAll(coding, flate.NewReader(bytes.NewReader(body)), limit, len(body))
			if rerr == nil {
				return raw, nil
			}
			return out, err
		}
		r = flate.NewReader(src)
	case "br":
		r = brotli.NewReader(src)
	case "zstd":
		var zr *zstd.Decoder
		zr, err = zstd.NewReader(src,
			zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxWindow(zstdWindow(limit)))
		if err == nil {
			defer zr.Close()
			r = zr
		}
	default:
		return nil, &UnknownEncodingError{Encoding: coding}
	}
	if err != nil {
		return nil, wrap(coding, err)
	}
	return readAll(coding, r, limit, len(body))
}

func mustZlib(src io.Reader) io.Reader {
	zr, err := zlib.NewReader(src)
	if err != nil {
		return errReader{err}
	}
	return zr
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// zlibHeader reports whether b starts with a valid zlib header using the
// deflate method (RFC 1950: CM=8, CINFO<=7, header checksum).
func zlibHeader(b []byte) bool {
	if len(b) < 2 {
		return false
	}
	return b[0]&0x0f == 8 && b[0]>>4 <= 7 && (uint16(b[0])<<8|uint16(b[1]))%31 == 0
}

// zstdWindow bounds the memory a zstd frame may ask for: RFC 9659 lets
// HTTP decoders refuse windows over 8 MiB; larger ones (up to 128 MiB) are
// accepted only when the output limit is that large anyway.
func zstdWindow(limit int64) uint64 {
	const lo, hi = 8 << 20, 1 << 27
	switch {
	case limit < lo:
		return lo
	case limit > hi:
		return hi
	}
	return uint64(limit)
}

// readAll reads r up to limit bytes. The first guess of the output size is
// a few times the input, which saves most re-allocations.
func readAll(coding string, r io.Reader, limit int64, inLen int) ([]byte, error) {
	guess := int64(inLen)*4 + 512
	if guess > limit {
		guess = limit
	}
	buf := bytes.NewBuffer(make([]byte, 0, guess))
	n, err := buf.ReadFrom(io.LimitReader(r, limit+1))
	out := buf.Bytes()
	if n > limit {
		return out[:limit], fmt.Errorf("%s: %w (%d bytes)", coding, ErrTooLarge, limit)
	}
	if err != nil {
		return out, wrap(coding, err)
	}
	return out, nil
}

func wrap(coding string, err error) error {
	if errors.Is(err, zstd.ErrWindowSizeExceeded) {
		return fmt.Errorf("%s: %w: %w", coding, ErrTooLarge, err)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: %w", coding, ErrTruncated)
	}
	return fmt.Errorf("%s: %w", coding, err)
}

// gzipTolerant reads every gzip member (multistream, as gzip(1) does) and
// ignores trailing bytes after a complete member that do not start another
// member (zero padding some servers send), instead of failing the whole
// body for them.
type gzipTolerant struct {
	zr  *gzip.Reader
	src *bytes.Reader
}

func (g *gzipTolerant) Read(p []byte) (int, error) {
	n, err := g.zr.Read(p)
	if err != io.EOF {
		return n, err
	}
	// A member ended with a valid trailer. bytes.Reader is an
	// io.ByteReader, so gzip has not read past the member.
	if rest := g.src.Len(); rest < 2 {
		return n, io.EOF
	}
	var magic [2]byte
	at, _ := g.src.Seek(0, io.SeekCurrent)
	g.src.ReadAt(magic[:], at)
	if magic != [2]byte{0x1f, 0x8b} {
		return n, io.EOF
	}
	if rerr := g.zr.Reset(g.src); rerr != nil {
		return n, rerr
	}
	g.zr.Multistream(false)
	return n, nil
}
