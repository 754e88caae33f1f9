package report_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tracewire/tracewire"
	"github.com/tracewire/tracewire/internal/gencap"
	"github.com/tracewire/tracewire/match"
	"github.com/tracewire/tracewire/report"
)

// TestGoldenWebSocket reports on the generated WebSockets
// (gencap.WriteWebSockets: HTTP/1.1 upgrades and HTTP/2 extended CONNECT,
// with and without permessage-deflate): each finding in a WebSocket
// message comes with an excerpt of that message, labelled with its index,
// direction, time and kind, the value marked; a binary message is shown on
// one line with its other bytes escaped. English and German.
func TestGoldenWebSocket(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "websockets.pcapng")
	var buf bytes.Buffer
	if _, err := gencap.WriteWebSockets(&buf, gencap.PCAPNG, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(in, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	a, err := tracewire.Analyze(context.Background(), tracewire.Input{
		Files:      []string{in},
		Indicators: []match.Indicator{{Property: "advertisingId", Value: gencap.WSIndicator}},
	}, tracewire.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a.AdapterDB = &report.AdapterDB{Version: "embedded (golden test)", SHA256: strings.Repeat("0", 64), Trackers: 1, Adapters: 1}
	for _, lang := range []string{"en", "de"} {
		for _, f := range []report.Format{report.Markdown, report.HTML} {
			var out bytes.Buffer
			if err := report.Write(&out, f, a, report.Options{Lang: lang, MaxBody: goldenBody}); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, filepath.Join("testdata", "golden", "websocket."+lang+f.Ext()), out.Bytes())
		}
	}
}
