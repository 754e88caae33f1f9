package httpmsg

import (
	"strconv"
	"strings"
	"time"

	"github.com/tracewire/tracewire/har"
)

// requestCookies parses every Cookie header ("a=1; b=2"; HTTP/2 may split
// them over several headers). Values are kept as sent.
func requestCookies(hs []har.NameValue) []har.Cookie {
	var out []har.Cookie
	for _, h := range hs {
		if !strings.EqualFold(h.Name, "Cookie") {
			continue
		}
		for _, piece := range strings.Split(h.Value, ";") {
			piece = strings.TrimSpace(piece)
			if piece == "" {
				continue
			}
			name, value, _ := strings.Cut(piece, "=")
			out = append(out, har.Cookie{Name: strings.TrimSpace(name), Value: strings.TrimSpace(value)})
			if len(out) >= maxParams {
				return out
			}
		}
	}
	return out
}

// responseCookies parses every Set-Cookie header with its attributes.
// Max-Age wins over Expires (RFC 6265 §5.3) and is counted from the
// response's capture time. An Expires value that is not a date is kept in
// the cookie's comment, since the HAR schema wants a date-time there.
func responseCookies(hs []har.NameValue, at time.Time) []har.Cookie {
	out := []har.Cookie{}
	for _, h := range hs {
		if !strings.EqualFold(h.Name, "Set-Cookie") {
			continue
		}
		parts := strings.Split(h.Value, ";")
		first := strings.TrimSpace(parts[0])
		if first == "" {
			continue
		}
		name, value, _ := strings.Cut(first, "=")
		httpOnly, secure := false, false
		c := har.Cookie{Name: strings.TrimSpace(name), Value: strings.TrimSpace(value), HTTPOnly: &httpOnly, Secure: &secure}
		var maxAge *int64
		var comments []string
		for _, attr := range parts[1:] {
			k, v, _ := strings.Cut(strings.TrimSpace(attr), "=")
			k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
			switch k {
			case "path":
				c.Path = v
			case "domain":
				c.Domain = v
			case "expires":
				if t, ok := parseCookieDate(v); ok {
					c.Expires = t.UTC().Format(time.RFC3339)
				} else {
					comments = append(comments, "expires="+v)
				}
			case "max-age":
				if n, err := strconv.ParseInt(v, 10, 64); err == nil {
					maxAge = &n
				}
			case "httponly":
				httpOnly = true
			case "secure":
				secure = true
			case "samesite", "partitioned", "priority":
				comments = append(comments, strings.TrimSpace(attr))
			}
		}
		if maxAge != nil && !at.IsZero() {
			n := *maxAge
			t := time.Unix(0, 0).UTC()
			// Bound the seconds so the year stays a 4-digit one.
			if n > 0 {
				n = min(n, 200*365*24*3600)
				t = at.Add(time.Duration(n) * time.Second)
			}
			c.Expires = t.UTC().Format(time.RFC3339)
		}
		c.Comment = strings.Join(comments, "; ")
		out = append(out, c)
		if len(out) >= maxParams {
			break
		}
	}
	return out
}

var cookieDateLayouts = []string{
	time.RFC1123,
	"Mon, 02-Jan-2006 15:04:05 MST",
	time.RFC850,
	"Mon, 02-Jan-06 15:04:05 MST",
	time.ANSIC,
	time.RFC1123Z,
	"Mon, 2 Jan 2006 15:04:05 MST",
	"Mon, 02 Jan 06 15:04:05 MST",
	"Monday, 02 Jan 2006 15:04:05 MST",
}

// parseCookieDate parses the date formats servers send in Expires. Years
// outside 1601..9999 are refused: the HAR schema wants a 4-digit year.
func parseCookieDate(s string) (time.Time, bool) {
	for _, l := range cookieDateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			if y := t.UTC().Year(); y < 1601 || y > 9999 {
				return time.Time{}, false
			}
			return t, true
		}
	}
	return time.Time{}, false
}
