package decode

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// MaxDecodedSize caps what one decoding (a decompression, a multipart part)
// may produce, against decompression bombs.
const MaxDecodedSize = 64 << 20

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

// DecodeURIComponent undoes %XX escapes like JavaScript's
// decodeURIComponent: "+" is kept, and a malformed escape or a result that
// is not UTF-8 is an error. Text without escapes is returned as it is,
// without the UTF-8 check (a JavaScript string cannot be invalid; a HAR
// string that is was read so on purpose). It is the one percent-decoder of
// adapters.
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

// DecodeHex decodes hexadecimal digits of either case, with an optional
// "0x" prefix; spaces, colons and line breaks between them are ignored.
func DecodeHex(s string) ([]byte, error) {
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
	return b, nil
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
