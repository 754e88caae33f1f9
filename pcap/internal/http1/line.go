package http1

import (
	"bytes"
)

// This file recognises the first line of a message: request lines, status
// lines and HTTP/0.9 simple requests, strictly (resynchronising inside
// arbitrary bytes) or leniently (where a message must start).

// tchar reports whether c may appear in a token (RFC 9110 §5.6.2).
var tchar = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

func isToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !tchar[c] {
			return false
		}
	}
	return true
}

// knownMethods are the methods accepted on request lines that lack a
// version (HTTP/0.9 style, or malformed 1.x clients) and in partial first
// packets, where an arbitrary token would give false positives. The list
// follows what Wireshark accepts: RFC 9110, WebDAV and its extensions,
// SSDP/GENA, and a few vendor methods seen in captures.
var knownMethods = func() map[string]bool {
	m := map[string]bool{}
	for _, s := range []string{
		"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
		"PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "SEARCH",
		"REPORT", "CHECKOUT", "CHECKIN", "UNCHECKOUT", "MERGE", "VERSION-CONTROL",
		"MKWORKSPACE", "UPDATE", "LABEL", "MKACTIVITY", "BASELINE-CONTROL", "ORDERPATCH",
		"ACL", "BIND", "UNBIND", "REBIND", "MKCALENDAR", "MKREDIRECTREF", "UPDATEREDIRECTREF",
		"POLL", "BMOVE", "BDELETE", "BPROPFIND", "BPROPPATCH", "BCOPY", "SUBSCRIBE",
		"UNSUBSCRIBE", "NOTIFY", "M-SEARCH", "PURGE", "LINK", "UNLINK", "QUERY",
		"CCM_POST", "RPC_IN_DATA", "RPC_OUT_DATA", "RPC_CONNECT",
	} {
		m[s] = true
	}
	return m
}()

// version reports whether b is an HTTP/1 version ("HTTP/1.1"); lenient
// also accepts what malformed clients send ("HTTP/1.", "HTTP/1").
func version(b []byte, lenient bool) bool {
	if len(b) < 6 || !bytes.HasPrefix(b, []byte("HTTP/")) || !isDigit(b[5]) {
		return false
	}
	if len(b) == 8 && b[6] == '.' && isDigit(b[7]) {
		return true
	}
	if !lenient || len(b) > 8 {
		return false
	}
	for _, c := range b[6:] {
		if c != '.' && !isDigit(c) {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// reqLine is a parsed request line.
type reqLine struct {
	method, target, version []byte
	// noVersion marks a line without a version: HTTP/0.9, or a 1.x
	// client that got it wrong (zeek/http_methods.pcap).
	noVersion bool
}

// parseRequestLine parses a request line (without its line end). Strict
// parsing, for resynchronisation inside arbitrary bytes, wants a proper
// version and a target that looks like one; lenient parsing, where a
// message must start, also takes malformed versions and, for known methods,
// lines without a version.
func parseRequestLine(line []byte, lenient bool) (reqLine, bool) {
	sp := bytes.IndexByte(line, ' ')
	if sp < 0 {
		// "OPTIONS" alone.
		if lenient && knownMethods[string(line)] {
			return reqLine{method: line, noVersion: true}, true
		}
		return reqLine{}, false
	}
	method := line[:sp]
	if len(method) > 64 || !isToken(method) {
		return reqLine{}, false
	}
	rest := line[sp+1:]
	last := bytes.LastIndexByte(rest, ' ')
	if last >= 0 && version(rest[last+1:], lenient) {
		target := bytes.Trim(rest[:last], " \t")
		if len(target) == 0 && !lenient {
			return reqLine{}, false
		}
		if !lenient && !plausibleTarget(target) {
			return reqLine{}, false
		}
		return reqLine{method: method, target: target, version: rest[last+1:]}, true
	}
	if lenient && knownMethods[string(method)] {
		return reqLine{method: method, target: bytes.TrimRight(rest, " \t"), noVersion: true}, true
	}
	return reqLine{}, false
}

// plausibleTarget checks a request target's first byte: origin form,
// asterisk, absolute form or authority form start like this.
func plausibleTarget(t []byte) bool {
	if len(t) == 0 {
		return false
	}
	c := t[0]
	return c == '/' || c == '*' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || isDigit(c) || c == '['
}

// statusLine is a parsed status line.
type statusLine struct {
	version []byte
	status  int
	reason  []byte
}

// parseStatusLine parses "HTTP/1.1 200 OK" (without its line end); the
// reason may be missing.
func parseStatusLine(line []byte) (statusLine, bool) {
	if len(line) < 12 || !version(line[:8], false) || line[8] != ' ' {
		return statusLine{}, false
	}
	code := line[9:12]
	if !isDigit(code[0]) || !isDigit(code[1]) || !isDigit(code[2]) {
		return statusLine{}, false
	}
	if len(line) > 12 && line[12] != ' ' && line[12] != '\t' {
		return statusLine{}, false
	}
	st := statusLine{version: line[:8], status: int(code[0]-'0')*100 + int(code[1]-'0')*10 + int(code[2]-'0')}
	if len(line) > 13 {
		st.reason = bytes.TrimSpace(line[13:])
	}
	return st, true
}

// findStatusLine finds a status line in a line of arbitrary bytes (a
// response glued to the end of a body of unknown length) and returns its
// offset.
func findStatusLine(line []byte) int {
	for off := 0; ; {
		i := bytes.Index(line[off:], []byte("HTTP/1."))
		if i < 0 {
			return -1
		}
		if _, ok := parseStatusLine(line[off+i:]); ok {
			return off + i
		}
		off += i + 1
	}
}

// findRequestLine finds a request line in a line of arbitrary bytes: at
// its start, or glued behind other bytes, where the method must be a known
// one ("...garbageGET / HTTP/1.1"). It returns the offset of the method.
func findRequestLine(line []byte) int {
	if _, ok := parseRequestLine(line, false); ok {
		return 0
	}
	last := bytes.LastIndexByte(line, ' ')
	if last < 0 || !version(line[last+1:], false) {
		return -1
	}
	first := bytes.IndexByte(line[:last], ' ')
	for first >= 0 {
		// The method ends at first; try the known methods that end there.
		tok := line[:first]
		start := first
		for start > 0 && tchar[tok[start-1]] {
			start--
		}
		for s := start; s < first; s++ {
			if knownMethods[string(tok[s:])] {
				if _, ok := parseRequestLine(line[s:], false); ok {
					return s
				}
			}
		}
		n := bytes.IndexByte(line[first+1:last], ' ')
		if n < 0 {
			break
		}
		first += n + 1
	}
	return -1
}

// LooksLikeRequest reports whether b starts like an HTTP/1 request line
// (enough bytes to say so; false when unsure). A complete first line must
// be a request line; a partial one must start with a known method and a
// plausible target, in printable ASCII.
func LooksLikeRequest(b []byte) bool {
	// Clients may send a stray CRLF before a request.
	for i := 0; i < 4 && len(b) > 0 && (b[0] == '\r' || b[0] == '\n'); i++ {
		b = b[1:]
	}
	if len(b) == 0 {
		return false
	}
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		line := bytes.TrimSuffix(b[:i], []byte("\r"))
		rl, ok := parseRequestLine(line, true)
		if !ok {
			return false
		}
		// A version-less line is HTTP only with a known method and a
		// printable target.
		return !rl.noVersion || printable(rl.target)
	}
	sp := bytes.IndexByte(b, ' ')
	if sp < 0 || !knownMethods[string(b[:sp])] || sp+1 >= len(b) {
		return false
	}
	return plausibleTarget(b[sp+1:]) && printable(b[sp+1:])
}

// LooksLikeResponse reports whether b starts like an HTTP/1 status line:
// "HTTP/1.x " and as many digits of the status code as b holds.
func LooksLikeResponse(b []byte) bool {
	if len(b) < 9 || !version(b[:8], false) || b[8] != ' ' || b[5] != '1' {
		return false
	}
	for _, c := range b[9:min(len(b), 12)] {
		if !isDigit(c) {
			return false
		}
	}
	return true
}

func printable(b []byte) bool {
	for _, c := range b {
		if c < 0x20 && c != '\t' && c != '\r' || c == 0x7f {
			return false
		}
	}
	return true
}
