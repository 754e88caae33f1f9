package httpmsg

import (
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/pcap/internal/stream"
)

// textOf returns s when it is UTF-8 and otherwise decodes it as ISO-8859-1,
// so that no byte turns into U+FFFD in the JSON output.
func textOf(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var sb strings.Builder
	sb.Grow(len(s) + len(s)/2)
	for i := 0; i < len(s); i++ {
		sb.WriteRune(rune(s[i]))
	}
	return sb.String()
}

// escapeNonUTF8 percent-encodes the bytes of s from 0x80 up when s is not
// valid UTF-8: the URL then still says exactly which bytes were sent.
func escapeNonUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x80 {
			sb.WriteByte(c)
			continue
		}
		sb.WriteByte('%')
		sb.WriteByte("0123456789ABCDEF"[c>>4])
		sb.WriteByte("0123456789ABCDEF"[c&15])
	}
	return sb.String()
}

// absoluteForm reports whether target is an absolute URI ("http://h/p"),
// as sent to proxies.
func absoluteForm(target string) bool {
	i := strings.Index(target, "://")
	if i <= 0 {
		return false
	}
	for j := 0; j < i; j++ {
		c := target[j]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case j > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return true
}

// requestURL builds the full URL of a request. The path and query are kept
// as sent (only bytes that are not UTF-8 are percent-encoded; the HAR
// writer escapes white space).
func requestURL(c *stream.Conn, m *Message, tls bool) string {
	target := m.Target
	if absoluteForm(target) {
		return escapeNonUTF8(target)
	}
	scheme := strings.ToLower(m.Scheme)
	if scheme == "" {
		scheme = "http"
		if tls {
			scheme = "https"
		}
	}
	host := m.Authority
	if host == "" {
		host, _ = har.Header(m.Headers, "Host")
		host = strings.TrimSpace(host)
	}
	if strings.EqualFold(m.Method, "CONNECT") && !strings.HasPrefix(target, "/") {
		// Authority form: the target is the host.
		if target != "" {
			host = target
		}
		target = ""
	}
	if host == "" {
		host = serverHost(c.Server, scheme)
	}
	path := target
	if !strings.HasPrefix(path, "/") {
		// Asterisk form ("OPTIONS *") and malformed targets: a URL's path
		// must start with a slash.
		path = "/" + path
	}
	return escapeNonUTF8(scheme + "://" + host + path)
}

// serverHost is the host part of a URL made from the server's address,
// without the scheme's default port.
func serverHost(ap netip.AddrPort, scheme string) string {
	if !ap.IsValid() {
		return "unknown"
	}
	a := ap.Addr().Unmap().WithZone("")
	h := a.String()
	if a.Is6() {
		h = "[" + h + "]"
	}
	p := ap.Port()
	if (scheme == "http" && p == 80) || (scheme == "https" && p == 443) {
		return h
	}
	return h + ":" + strconv.Itoa(int(p))
}

// queryString splits the query of a URL into its parameters, decoded from
// percent-encoding with '+' as a space (as browsers export them). Empty
// pieces ("a&&b") are skipped; invalid escapes are kept as they are.
func queryString(url string) []har.NameValue {
	out := []har.NameValue{}
	i := strings.IndexByte(url, '?')
	if i < 0 {
		return out
	}
	q := url[i+1:]
	if i := strings.IndexByte(q, '#'); i >= 0 {
		q = q[:i]
	}
	return appendForm(out, q)
}

// maxParams bounds the parameters taken from one query string or form.
const maxParams = 10000

// appendForm appends the name=value pairs of an application/x-www-form-
// urlencoded string.
func appendForm(out []har.NameValue, q string) []har.NameValue {
	for q != "" && len(out) < maxParams {
		var piece string
		piece, q, _ = strings.Cut(q, "&")
		if piece == "" {
			continue
		}
		name, value, _ := strings.Cut(piece, "=")
		out = append(out, har.NameValue{Name: textOf(unescape(name)), Value: textOf(unescape(value))})
	}
	return out
}

// unescape decodes percent-escapes and '+' leniently: a malformed escape
// stays as sent, where net/url's QueryUnescape would reject the whole
// value and the HAR would lose what the request carried.
func unescape(s string) string {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '+':
			b = append(b, ' ')
		case c == '%' && i+2 < len(s):
			if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b = append(b, byte(v))
				i += 2
				continue
			}
			b = append(b, c)
		default:
			b = append(b, c)
		}
	}
	return string(b)
}
