package har_test

import (
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	"github.com/tracewire/tracewire/har"
)

// A Reader streams a HAR's entries one at a time, in bounded memory
// whatever the file's size; problems it works around are warnings, and an
// entry that is not an object is left out and named.
func ExampleReader() {
	const file = `{"log": {"version": "1.2", "creator": {"name": "browser", "version": "1"},
	"entries": [
		{"startedDateTime": "2024-05-06T07:08:09Z", "request": {"method": "GET", "url": "https://example.org/?q=1", "headers": []}, "response": {"status": 200}},
		"not an entry",
		{"startedDateTime": "2024-05-06T07:08:10Z", "request": {"method": "POST", "url": "https://tracker.example/collect", "headers": [],
		 "postData": {"mimeType": "application/json", "text": "{\"id\":42}"}}, "response": {"status": 204}}
	]}}`
	r := har.NewReader(strings.NewReader(file))
	for e, err := range r.Entries() {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s %s\n", e.Request.Method, e.Request.URL)
	}
	for _, w := range r.Warnings() {
		fmt.Printf("warning: %s (skipped: %v)\n", w, w.Skipped)
	}
	fmt.Println("creator:", r.Log().Creator.Name)
	// Output:
	// GET https://example.org/?q=1
	// POST https://tracker.example/collect
	// warning: entries[1].: entry is not an object; skipped (skipped: true)
	// creator: browser
}

// A Writer streams entries out as a valid HAR 1.2 file; Close ends the
// document.
func ExampleWriter() {
	w := har.NewWriter(os.Stdout, &har.Log{Creator: har.Creator{Name: "my-tool", Version: "1.0"}})
	e := &har.Entry{
		StartedDateTime: time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC),
		Request:         har.Request{Method: "GET", URL: "https://example.org/", HTTPVersion: "HTTP/1.1", HeadersSize: -1, BodySize: 0},
		Response:        har.Response{Status: 204, HTTPVersion: "HTTP/1.1", HeadersSize: -1, BodySize: 0},
	}
	if err := w.Write(e); err != nil {
		log.Fatal(err)
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}
	// Output:
	// {"log":{"version":"1.2","creator":{"name":"my-tool","version":"1.0"},"entries":[
	// {"startedDateTime":"2024-05-06T07:08:09.000000000Z","time":0,"request":{"method":"GET","url":"https://example.org/","httpVersion":"HTTP/1.1","cookies":[],"headers":[],"queryString":[],"headersSize":-1,"bodySize":0},"response":{"status":204,"statusText":"","httpVersion":"HTTP/1.1","cookies":[],"headers":[],"content":{"size":0,"mimeType":""},"redirectURL":"","headersSize":-1,"bodySize":0},"cache":{},"timings":{"blocked":0,"dns":0,"connect":0,"send":0,"wait":0,"receive":0,"ssl":0}}
	// ]}}
}
