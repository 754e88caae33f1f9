package main

import (
	"bytes"
	"github.com/tracewire/tracewire/har"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEnrichTrailingLogMembers: log properties that come after the
// entries in the input (browser, pages, comment, others) are written, and
// the output is the same on every run: the header no longer depends on how
// far the reader, on another goroutine, has read ahead.
func TestEnrichTrailingLogMembers(t *testing.T) {
	dir := t.TempDir()
	var entries []string
	for i := 0; i < 300; i++ {
		entries = append(entries, `{"startedDateTime":"2024-01-01T00:00:00Z","time":1,"request":{"method":"GET","url":"https://example.org/`+strings.Repeat("x", i%7)+`","httpVersion":"HTTP/1.1","cookies":[],"headers":[],"queryString":[],"headersSize":-1,"bodySize":0},"response":{"status":200,"statusText":"OK","httpVersion":"HTTP/1.1","cookies":[],"headers":[],"content":{"size":0,"mimeType":"text/plain"},"redirectURL":"","headersSize":-1,"bodySize":0},"cache":{},"timings":{"send":0,"wait":1,"receive":0}}`)
	}
	in := filepath.Join(dir, "in.har")
	body := `{"log":{"version":"1.2","creator":{"name":"x","version":"1"},"entries":[` + strings.Join(entries, ",") +
		`],"browser":{"name":"Firefox","version":"120"},"pages":[{"startedDateTime":"2024-01-01T00:00:00Z","id":"p1","title":"t","pageTimings":{}}],"comment":"late","_custom":"kept"}}`
	if err := os.WriteFile(in, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	var first []byte
	for run := 0; run < 8; run++ {
		out := filepath.Join(dir, "out.har")
		os.Remove(out)
		if _, stderr, err := runCLI(t, nil, "enrich", in, "-o", out); err != nil {
			t.Fatalf("%v\n%s", err, stderr)
		}
		b := mustRead(t, out)
		if run == 0 {
			first = b
			for _, w := range []string{`"browser":{"name":"Firefox"`, `"pages":[`, `"comment":"late"`, `"_custom":"kept"`} {
				if !bytes.Contains(b, []byte(w)) {
					t.Errorf("the output lacks %s", w)
				}
			}
			if got := len(harEntries(t, b)); got != len(entries) {
				t.Errorf("%d entries, want %d", got, len(entries))
			}
			continue
		}
		if !bytes.Equal(b, first) {
			t.Fatalf("run %d wrote another HAR than run 0", run)
		}
	}
}

func harEntries(t *testing.T, b []byte) []har.Entry {
	t.Helper()
	return entries(t, b)
}
