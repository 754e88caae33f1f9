package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	json "github.com/go-json-experiment/json/v1"
	"github.com/tracewire/tracewire/internal/testutil"
)

// Issue 10 item 8: traffic that is not analysed is named. A capture with
// only a QUIC connection (no keys) gives a flows row with its server name,
// a warning in the HAR, in detect's output and in the report, and the
// report's methodology no longer says there is no TLS.
func TestQUICOnlyNamed(t *testing.T) {
	in := testutil.Corpus(t, "zeek", "quic_curl-8.1.2-dev-http3-www-google-de.pcap")
	const cid = "1:HDie6SUuPBgW7kYXxlx1EIbYi0I="

	out, _, err := runCLI(t, nil, "flows", "--format", "json", in)
	if err != nil {
		t.Fatal(err)
	}
	var flows []flowJSON
	if err := json.Unmarshal([]byte(out), &flows); err != nil {
		t.Fatal(err)
	}
	if len(flows) != 1 {
		t.Fatalf("flows %+v", flows)
	}
	f := flows[0]
	if f.Transport != "udp" || f.Protocol != "quic" || f.SNI != "www.google.de" || f.CommunityID != cid ||
		f.Decrypted == nil || *f.Decrypted || f.BytesToServer != 3238 || f.BytesToClient != 26786 || f.Datagrams == 0 ||
		!strings.Contains(f.TLSError, "no TLS 1.3 traffic secrets") {
		t.Errorf("flow %+v", f)
	}

	dir := t.TempDir()
	harPath := filepath.Join(dir, "q.har")
	if _, _, err := runCLI(t, nil, "convert", in, "-o", harPath); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(harPath)
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		Log struct {
			TLSErrors []map[string]any `json:"_tlsErrors"`
			Warnings  []map[string]any `json:"_warnings"`
		} `json:"log"`
	}
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	if len(h.Log.TLSErrors) != 1 || h.Log.TLSErrors[0]["sni"] != "www.google.de" {
		t.Errorf("_tlsErrors %v", h.Log.TLSErrors)
	}
	want := "traffic not analysed: QUIC connection 172.17.0.2:34347→64.233.166.94:443 (" + cid + ") to www.google.de, 30024 bytes, not decrypted"
	if len(h.Log.Warnings) != 1 || h.Log.Warnings[0]["message"] != want {
		t.Errorf("_warnings %v, want %q", h.Log.Warnings, want)
	}

	out, _, _ = runCLI(t, nil, "detect", "--format", "json", in)
	if !strings.Contains(out, want) {
		t.Errorf("detect's JSON lacks the warning:\n%.2000s", out)
	}

	md := filepath.Join(dir, "r.md")
	if _, _, err := runCLI(t, nil, "report", in, "-o", md); err != nil {
		t.Fatal(err)
	}
	rb, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	r := string(rb)
	for _, w := range []string{"Of 1 TLS connections (QUIC included), 0 were decrypted", "www.google.de", "no TLS 1.3 traffic secrets"} {
		if !strings.Contains(r, w) {
			t.Errorf("report lacks %q", w)
		}
	}
	if strings.Contains(r, "holds no TLS") {
		t.Error("report says the capture holds no TLS")
	}
}

// DNS flows and TCP connections without HTTP are named with their byte
// counts; the UDP flows' Community IDs are the spec's baseline.
func TestUDPFlowsNamed(t *testing.T) {
	in := testutil.Corpus(t, "pcap2har", "dns_requests.pcap")
	out, errOut, err := runCLI(t, nil, "flows", "--format", "json", in)
	if err != nil {
		t.Fatal(err)
	}
	var flows []flowJSON
	if err := json.Unmarshal([]byte(out), &flows); err != nil {
		t.Fatal(err)
	}
	udp := 0
	for _, f := range flows {
		if f.Transport == "udp" {
			udp++
			if f.Protocol != "udp/dns" || f.Datagrams == 0 || f.BytesToServer == 0 {
				t.Errorf("flow %+v", f)
			}
		}
	}
	if udp != 7 {
		t.Errorf("%d UDP flows, want 7", udp)
	}
	for _, w := range []string{
		"traffic not analysed: DNS, 18 messages in 7 UDP flows, 680 bytes (",
		"traffic not analysed: 1 TCP connection without HTTP (unknown protocol), 432 bytes (192.168.1.103:50109→98.136.48.242:5050)",
	} {
		if !strings.Contains(errOut, w) {
			t.Errorf("stderr lacks %q:\n%s", w, errOut)
		}
	}

	out, _, err = runCLI(t, nil, "flows", "--format", "json", testutil.Corpus(t, "community-id-spec", "udp.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	// baseline_deflt.json of the Community ID spec.
	if !strings.Contains(out, `"communityId": "1:d/FP5EW3wiY1vCndhwleRRKHowQ="`) {
		t.Errorf("UDP Community ID not the baseline's:\n%s", out)
	}
}
