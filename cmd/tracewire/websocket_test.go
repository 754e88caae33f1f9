package main

import (
	"bytes"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	json "github.com/go-json-experiment/json/v1"
	"github.com/tracewire/tracewire/internal/gencap"
	"github.com/tracewire/tracewire/internal/testutil"
)

// Issue 13: a value the client sent in a WebSocket message is found by
// detect, named by the message's index in _webSocketMessages; what the
// server sent is not a transmission. The HAR with the messages passes
// har-validator.
func TestWebSocketIndicator(t *testing.T) {
	in := testutil.Corpus(t, "wireshark", "websocket.pcapng.gz")
	harPath := filepath.Join(t.TempDir(), "ws.har")
	if _, _, err := runCLI(t, nil, "convert", in, "-o", harPath); err != nil {
		t.Fatal(err)
	}
	testutil.ValidateHAR(t, harPath)
	b, err := os.ReadFile(harPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"_webSocketMessages":[{"data":"{\"type\":\"request\",\"data\":\"1265307447409499018\"}\n","opcode":1,`) {
		t.Errorf("HAR lacks the first message:\n%.2000s", b)
	}
	out, _, err := runCLI(t, nil, "detect", "--format", "json", "--indicator", "deviceId=7820623503489255511", harPath)
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Findings []struct {
			Property, Value, Context, Path string
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var got []string
	for _, f := range res.Findings {
		got = append(got, f.Property+" "+f.Value+" "+f.Context+" "+f.Path)
	}
	// Message 2 is the client's request; message 3, the server's echo,
	// holds the value too but was not sent by the app.
	want := "deviceId 7820623503489255511 websocket _webSocketMessages[2]"
	if strings.Join(got, "\n") != want {
		t.Errorf("findings\n%s\nwant\n%s", strings.Join(got, "\n"), want)
	}
}

// Issue 13: the generated WebSockets (gencap.WriteWebSockets), after
// HTTP/1.1 upgrades and over HTTP/2 extended CONNECT, plain, with
// permessage-deflate and context takeover and without it: detect finds
// the advertising ID in each client message that carries it (a
// fragmented compressed text with a ping between its fragments, a
// fragmented binary message, and a text that is with context takeover a
// back reference to the first), never in the server's echo, whether it
// reads the capture or the HAR convert wrote (which passes har-validator).
func TestWebSocketGeneratedIndicator(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "websockets.pcapng")
	var buf bytes.Buffer
	conns, err := gencap.WriteWebSockets(&buf, gencap.PCAPNG, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(in, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range conns {
		for _, msg := range []int{2, 5, 6} {
			want = append(want, fmt.Sprintf("ws%d.example advertisingId %s websocket _webSocketMessages[%d]", i, gencap.WSIndicator, msg))
		}
	}
	harPath := filepath.Join(dir, "ws.har")
	if _, _, err := runCLI(t, nil, "convert", in, "-o", harPath); err != nil {
		t.Fatal(err)
	}
	testutil.ValidateHAR(t, harPath)
	for _, src := range []string{in, harPath} {
		out, _, err := runCLI(t, nil, "detect", "--format", "json", "--indicator", "advertisingId="+gencap.WSIndicator, src)
		if err != nil {
			t.Fatal(err)
		}
		var res struct {
			Findings []struct {
				Entry                          struct{ URL string }
				Property, Value, Context, Path string
			} `json:"findings"`
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		var got []string
		for _, f := range res.Findings {
			u, err := url.Parse(f.Entry.URL)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, u.Host+" "+f.Property+" "+f.Value+" "+f.Context+" "+f.Path)
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: findings\n%s\nwant\n%s", filepath.Base(src), strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}
