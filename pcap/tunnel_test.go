package pcap

import (
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tracewire/tracewire/internal/gencap"
)

// HTTP inside tunnels: the generator wraps every packet of keep-alive
// connections in the tunnel (GTP-U with the inner IP packets fragmented);
// every exchange comes out, paired, and tshark (when installed) finds the
// same requests.
func TestTunnels(t *testing.T) {
	const requests = 6
	for _, tt := range []struct {
		name   string
		tunnel gencap.Tunnel
	}{
		{"gtp-u", gencap.TunnelGTPU},
		{"ayiya", gencap.TunnelAYIYA},
		{"geneve", gencap.TunnelGeneve},
		{"gre-in-udp", gencap.TunnelGREinUDP},
		{"aruba-802.11", gencap.TunnelArubaGRE},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), tt.name+".pcap")
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			cw, err := gencap.NewConnWriter(f, gencap.PCAP, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
			if err != nil {
				t.Fatal(err)
			}
			cw.Tunnel = tt.tunnel
			k := gencap.KeepAlive{Requests: requests, BodySize: 1000, LostResponse: -1}
			c := k
			c.Client = netip.MustParseAddrPort("10.0.0.7:40001")
			c.Server = netip.MustParseAddrPort("192.0.2.80:80")
			if err := cw.WriteConn(c.Conn()); err != nil {
				t.Fatal(err)
			}
			if err := cw.Flush(); err != nil {
				t.Fatal(err)
			}
			f.Close()
			b, _ := convertFiles(t, Options{}, path)
			h := readHAR(t, b)
			if len(h.Log.Entries) != requests {
				t.Fatalf("%d entries, want %d", len(h.Log.Entries), requests)
			}
			for i, e := range h.Log.Entries {
				if !strings.HasSuffix(e.Request.URL, gencap.KeepAlivePath(i)) || !strings.HasPrefix(e.Response.Content.Text, gencap.KeepAliveMarker(i)) || e.Incomplete {
					t.Errorf("entry %d: %s → %.20q (incomplete %v)", i, e.Request.URL, e.Response.Content.Text, e.Incomplete)
				}
			}
			if _, err := exec.LookPath("tshark"); err != nil {
				t.Log("tshark not installed: not compared")
				return
			}
			out, err := exec.Command("tshark", "-n", "-r", path, "-Y", "http.request", "-T", "fields", "-e", "http.request.uri").Output()
			if err != nil {
				t.Fatalf("tshark: %v", err)
			}
			if got := strings.Fields(string(out)); len(got) != requests {
				t.Errorf("tshark finds %d requests (%v), we %d", len(got), got, requests)
			}
		})
	}
}
