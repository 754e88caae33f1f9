package httpmsg

import (
	"fmt"
	"testing"
)

type field struct{ n, v string }

func nv(f field) (string, string) { return f.n, f.v }

func fields(kv ...string) []field {
	var out []field
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, field{kv[i], kv[i+1]})
	}
	return out
}

// RequestFields, ResponseFields and StatusOf serve HTTP/2's and HTTP/3's
// field types alike.
func TestFields(t *testing.T) {
	req := []struct {
		in   []field
		want string
	}{
		{fields(":method", "GET", ":scheme", "https", ":authority", "a.example", ":path", "/x", "Accept", "*/*"),
			"GET https a.example /x [{Accept */*}]"},
		{fields(":method", "CONNECT", ":protocol", "websocket", ":scheme", "https", ":authority", "a.example", ":path", "/chat"),
			"CONNECT https a.example /chat [{:protocol websocket}]"},
		{fields(":method", "CONNECT", ":authority", "a.example:443"), "CONNECT  a.example:443 a.example:443 []"},
		{fields(":method", "GET", ":path", "/", ":path", "/again", "host", "h.example"), "GET  h.example / [{:path /again} {host h.example}]"},
	}
	for _, tt := range req {
		var m Message
		RequestFields(&m, tt.in, nv)
		var hs []string
		for _, h := range m.Headers {
			hs = append(hs, fmt.Sprintf("{%s %s}", h.Name, h.Value))
		}
		got := fmt.Sprintf("%s %s %s %s %v", m.Method, m.Scheme, m.Authority, m.Target, hs)
		if got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
		if len(m.Headers) == 0 && m.Headers != nil {
			t.Errorf("%q: empty headers not nil", got)
		}
	}
	resp := []struct {
		in     []field
		status int
		ok     bool
		hdrs   int
	}{
		{fields(":status", "204", "server", "x"), 204, true, 1},
		{fields(":status", "2000"), 0, false, 1},
		{fields("server", "x"), 0, false, 1},
	}
	for _, tt := range resp {
		var m Message
		ResponseFields(&m, tt.in, nv)
		s, ok := StatusOf(tt.in, nv)
		if m.Status != tt.status || s != tt.status || ok != tt.ok || len(m.Headers) != tt.hdrs {
			t.Errorf("%v: status %d/%d %v, %d headers", tt.in, m.Status, s, ok, len(m.Headers))
		}
	}
}
