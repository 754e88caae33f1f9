package httpmsg

import (
	"slices"
	"strconv"

	"github.com/tracewire/tracewire/har"
)

// Header field sections of HTTP/2 (HPACK) and HTTP/3 (QPACK) decode into
// each library's own field type; nv reads a field's name and value.

// RequestFields maps a request's header fields onto m: the first of each
// request pseudo-header (:method, :scheme, :authority, :path) fills its
// field; every other field (regular headers, unknown or repeated
// pseudo-headers such as :protocol) is kept as a header, in order and case
// as sent. A CONNECT without :path targets its :authority, and a request
// without :authority takes its Host header.
func RequestFields[F any](m *Message, fields []F, nv func(F) (name, value string)) {
	m.Headers = slices.Grow(m.Headers, len(fields))
	var seen [4]bool
	for _, f := range fields {
		name, value := nv(f)
		var i int
		var dst *string
		switch name {
		case ":method":
			i, dst = 0, &m.Method
		case ":scheme":
			i, dst = 1, &m.Scheme
		case ":authority":
			i, dst = 2, &m.Authority
		case ":path":
			i, dst = 3, &m.Target
		}
		if dst != nil && !seen[i] {
			seen[i] = true
			*dst = value
			continue
		}
		m.Headers = append(m.Headers, har.NameValue{Name: name, Value: value})
	}
	if !seen[3] && m.Method == "CONNECT" {
		m.Target = m.Authority
	}
	if !seen[2] {
		if host, ok := har.Header(m.Headers, "host"); ok {
			m.Authority = host
		}
	}
	if len(m.Headers) == 0 {
		m.Headers = nil
	}
}

// ResponseFields maps a response's header fields onto m like
// RequestFields: the first :status fills Status when it is three digits;
// otherwise it stays a header and Status 0.
func ResponseFields[F any](m *Message, fields []F, nv func(F) (name, value string)) {
	m.Headers = slices.Grow(m.Headers, len(fields))
	seen := false
	for _, f := range fields {
		name, value := nv(f)
		if name == ":status" && !seen {
			seen = true
			if n, err := strconv.Atoi(value); err == nil && len(value) == 3 {
				m.Status = n
				continue
			}
		}
		m.Headers = append(m.Headers, har.NameValue{Name: name, Value: value})
	}
	if len(m.Headers) == 0 {
		m.Headers = nil
	}
}

// StatusOf returns the first :status of fields as a number; ok is false
// when there is none or it is not three digits.
func StatusOf[F any](fields []F, nv func(F) (name, value string)) (status int, ok bool) {
	for _, f := range fields {
		if name, value := nv(f); name == ":status" {
			n, err := strconv.Atoi(value)
			if err != nil || len(value) != 3 {
				return 0, false
			}
			return n, true
		}
	}
	return 0, false
}
