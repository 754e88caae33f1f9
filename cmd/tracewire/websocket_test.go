package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
