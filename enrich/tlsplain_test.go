package enrich

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/tracewire/tracewire/har"
)

// tlsLine is one tls_plaintext.jsonl record on flowA (10.8.0.2:43210 →
// 93.184.216.34:443): of the client, or of the server when server; dir
// "out" for writes, "in" for reads.
func tlsLine(event string, server bool, dir, data string, extra string) string {
	local, lport, remote, rport := devV4.String(), 43210, srvA.String(), 443
	if server {
		local, lport, remote, rport = srvA.String(), 443, devV4.String(), 43210
	}
	return fmt.Sprintf(`{"ts_ns":1700000000000000000,"event":%q,"direction":%q,"ssl":"0x1","protocol":"tcp","local_addr":%q,"local_port":%d,"remote_addr":%q,"remote_port":%d,"community_id":%q,"pid":1,"tid":1,"comm":"c","bytes":%d,"captured":%d%s,"data":%q}`,
		event, dir, local, lport, remote, rport, flowA.ID(), len(data), len(data), extra, base64.StdEncoding.EncodeToString([]byte(data)))
}

// TestTLSPlaintextCheck checks request bodies against the plaintext the
// client gave libssl (or the server got from it).
func TestTLSPlaintextCheck(t *testing.T) {
	const body = `{"em":"ff8d9819fc0e12bf"}`
	head := "POST /events HTTP/1.1\r\nHost: example.com\r\nContent-Length: 25\r\n\r\n"
	for _, c := range []struct {
		name    string
		file    []string
		headers []har.NameValue
		version string
		flowB   bool // the entry is on another flow
		want    map[string]int
		note    string
	}{
		{"written in one call", []string{tlsLine("SSL_write", false, "out", head+body, "")}, nil, "", false,
			map[string]int{"found in the TLS plaintext": 1}, ""},
		{"written in two calls", []string{tlsLine("SSL_write_ex", false, "out", head, ""), tlsLine("SSL_write_ex", false, "out", body, "")}, nil, "", false,
			map[string]int{"found in the TLS plaintext": 1}, ""},
		{"read by the server", []string{tlsLine("SSL_read", true, "in", head+body, "")}, nil, "", false,
			map[string]int{"found in the TLS plaintext": 1}, ""},
		{"a different body", []string{tlsLine("SSL_write", false, "out", head+strings.Replace(body, "ff", "00", 1), "")}, nil, "", false,
			map[string]int{"not in the TLS plaintext": 1}, "WARNING: entry 0 (POST https://example.com/events, flow " + flowA.ID() + "): the request body decrypted from the capture (25 bytes) is not in the plaintext"},
		{"only the response direction", []string{tlsLine("SSL_read", false, "in", "HTTP/1.1 200 OK\r\n\r\n"+body, "")}, nil, "", false,
			map[string]int{"no TLS plaintext on their flow": 1}, ""},
		{"chunked", []string{tlsLine("SSL_write", false, "out", head+"19\r\n"+body[:10]+"\r\n", "")}, []har.NameValue{{Name: "Transfer-Encoding", Value: "chunked"}}, "", false,
			map[string]int{"not comparable (chunked, compressed, HTTP/2 or plaintext cut)": 1}, ""},
		{"HTTP/2", []string{tlsLine("SSL_write", false, "out", "frames", "")}, nil, "HTTP/2", false,
			map[string]int{"not comparable (chunked, compressed, HTTP/2 or plaintext cut)": 1}, ""},
		{"cut at 64 KiB", []string{tlsLine("SSL_write", false, "out", head, `,"truncated":true`)}, nil, "", false,
			map[string]int{"not comparable (chunked, compressed, HTTP/2 or plaintext cut)": 1}, ""},
		{"another flow", []string{tlsLine("SSL_write", false, "out", head+body, "")}, nil, "", true,
			map[string]int{"no TLS plaintext on their flow": 1}, ""},
		{"no socket", []string{`{"ts_ns":1700000000000000000,"event":"SSL_write","direction":"out","ssl":"0x1","pid":1,"tid":1,"comm":"c","bytes":3,"captured":3,"data":"YWJj"}`}, nil, "", false,
			map[string]int{"no TLS plaintext on their flow": 1}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			x, err := ReadTLSPlaintext(strings.NewReader(strings.Join(c.file, "\n")+"\n"), "tls_plaintext.jsonl")
			if err != nil {
				t.Fatal(err)
			}
			f := flowA
			if c.flowB {
				f = flowB
			}
			version := c.version
			if version == "" {
				version = "HTTP/1.1"
			}
			e := entry(f, baseSec, baseSec+0.1, version)
			e.Connection = "43210"
			e.Request.Method, e.Request.URL = "POST", "https://example.com/events"
			e.Request.Headers = c.headers
			e.Request.PostData = &har.PostData{MimeType: "application/json", Text: body}
			s := run(t, []*har.Entry{e}, x.Enricher())
			r := s.Sources[0]
			if r.Count("HTTPS request bodies") != 1 {
				t.Errorf("HTTPS request bodies %d, want 1", r.Count("HTTPS request bodies"))
			}
			for _, name := range []string{"found in the TLS plaintext", "not in the TLS plaintext", "not comparable (chunked, compressed, HTTP/2 or plaintext cut)", "no TLS plaintext on their flow"} {
				if got := r.Count(name); got != c.want[name] {
					t.Errorf("%s: %d, want %d", name, got, c.want[name])
				}
			}
			notes := strings.Join(r.Notes, "\n")
			if c.note != "" && !strings.Contains(notes, c.note) {
				t.Errorf("notes %q, want %q", notes, c.note)
			}
			if c.note == "" && notes != "" {
				t.Errorf("notes %q, want none", notes)
			}
			// The check changes no entry.
			if e.Request.PostData.Text != body || len(e.Request.Extra) != 0 {
				t.Errorf("the entry changed: %+v", e.Request)
			}
		})
	}
	// Records that cannot be used are counted, not fatal.
	x, err := ReadTLSPlaintext(strings.NewReader(`{"event":"SSL_write","direction":"sideways","local_addr":"1.2.3.4","local_port":1,"remote_addr":"1.2.3.5","remote_port":2,"community_id":"x","data":"YQ=="}`+"\n"+`{"data":7,"community_id":"x"}`+"\n"), "t.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if x.Stats.Records != 2 || x.Stats.Used != 0 || x.Stats.Skips(skipTLSMalformed) != 2 {
		t.Errorf("stats %+v", x.Stats)
	}
}
