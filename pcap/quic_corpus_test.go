package pcap

// QUIC and HTTP/3 over the corpus: the captures' own Decryption Secrets
// Blocks decrypt them; tshark (when installed) lists the QUIC stream IDs
// that carried requests; every HAR goes through har-validator.

import (
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tracewire/tracewire/har"
	"github.com/tracewire/tracewire/internal/testutil"
)

func TestQUICCorpus(t *testing.T) {
	for _, tc := range []struct {
		name string
		file []string
		// h3 are the expected HTTP/3 entries (method and URL prefix), in
		// order; count when not all are listed.
		h3    []string
		count int
		// other is the number of entries of other protocols.
		other int
		// sni of the QUIC flow, and whether it is decrypted.
		sni       string
		decrypted bool
		tlsError  string
		// tshark compares the client's request stream IDs with tshark's.
		tshark bool
	}{
		{
			name: "quic-with-secrets", file: []string{"wireshark", "quic-with-secrets.pcapng"},
			h3: []string{"GET https://cloudflare-quic.com/"}, other: 1,
			sni: "cloudflare-quic.com", decrypted: true,
		},
		{
			name: "quic_follow_multistream", file: []string{"wireshark", "quic_follow_multistream.pcapng"},
			h3:    []string{"POST https://www.youtube.com/youtubei/v1/guide?key=", "GET https://www.youtube.com/getDatasyncIdsEndpoint"},
			count: 22, sni: "www.youtube.com", decrypted: true, tshark: true,
		},
		{
			name: "http3-qpack-reassembly", file: []string{"wireshark", "http3-qpack-reassembly-anon.pcapng"},
			h3:  []string{"POST https://rr2---sn-q4fzen7l.googlevideo.com/videoplayback?expire=1699666471&"},
			sni: "rr2---sn-q4fzen7l.googlevideo.com", decrypted: true,
		},
		{
			name: "zeek-no-keys", file: []string{"zeek", "quic_curl-8.1.2-dev-http3-www-google-de.pcap"},
			sni: "www.google.de", tlsError: "QUIC: no TLS 1.3 traffic secrets for client random",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := testutil.Corpus(t, tc.file...)
			out, sum := convertFiles(t, Options{ListFlows: true}, path)
			writeAndValidate(t, out)
			h := readHAR(t, out)
			var h3 []har.Entry
			for _, e := range h.Log.Entries {
				if e.Request.HTTPVersion == "HTTP/3" {
					h3 = append(h3, e)
				}
			}
			if n := len(h.Log.Entries) - len(h3); n != tc.other {
				t.Errorf("%d entries of other protocols, want %d", n, tc.other)
			}
			want := max(tc.count, len(tc.h3))
			if len(h3) != want {
				t.Errorf("%d HTTP/3 entries, want %d: %q", len(h3), want, entryURLs(h3))
			}
			for i, w := range tc.h3 {
				if i < len(h3) && !strings.HasPrefix(h3[i].Request.Method+" "+h3[i].Request.URL, w) {
					t.Errorf("entry %d: %s %s, want %s…", i, h3[i].Request.Method, h3[i].Request.URL, w)
				}
			}
			var quic *FlowInfo
			for i := range sum.Flows {
				if sum.Flows[i].Transport == "udp" && strings.HasPrefix(sum.Flows[i].Protocol, "quic") {
					quic = &sum.Flows[i]
				}
			}
			if quic == nil {
				t.Fatalf("no QUIC flow in %+v", sum.Flows)
			}
			if quic.SNI != tc.sni || quic.Decrypted != tc.decrypted {
				t.Errorf("QUIC flow: SNI %q, decrypted %v; want %q, %v", quic.SNI, quic.Decrypted, tc.sni, tc.decrypted)
			}
			for _, e := range h3 {
				if e.CommunityID != quic.CommunityID || e.Timestamp == 0 {
					t.Errorf("entry %s: community ID %q (flow %q), timestamp %v", e.Request.URL, e.CommunityID, quic.CommunityID, e.Timestamp)
				}
			}
			if tc.tlsError != "" {
				if len(sum.TLSErrors) != 1 || !strings.Contains(sum.TLSErrors[0].Reason, tc.tlsError) || sum.TLSErrors[0].SNI != tc.sni {
					t.Errorf("TLS errors %+v, want one with %q", sum.TLSErrors, tc.tlsError)
				}
				if !strings.Contains(warningsText(sum), "QUIC connection "+quic.Client.String()) {
					t.Errorf("warnings do not name the QUIC connection: %s", warningsText(sum))
				}
			} else if len(sum.TLSErrors) > 0 {
				t.Errorf("TLS errors %+v", sum.TLSErrors)
			}
			if tc.tshark {
				compareStreamIDs(t, path, h3)
			}
		})
	}
}

func warningsText(sum *Summary) string {
	var b strings.Builder
	for _, w := range sum.Warnings {
		b.WriteString(w.String() + "\n")
	}
	return b.String()
}

// compareStreamIDs checks that the entries are exactly the client-initiated
// bidirectional streams tshark finds data on.
func compareStreamIDs(t *testing.T, path string, es []har.Entry) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Log("tshark is not installed; stream IDs not compared")
		return
	}
	out, err := exec.Command("tshark", "-r", path, "-Y", "quic", "-T", "fields", "-e", "quic.stream.stream_id").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	var theirs []int64
	for _, f := range strings.FieldsFunc(string(out), func(r rune) bool { return r == '\n' || r == ',' }) {
		id, err := strconv.ParseInt(strings.TrimSpace(f), 10, 64)
		if err == nil && id%4 == 0 && !slices.Contains(theirs, id) {
			theirs = append(theirs, id)
		}
	}
	slices.Sort(theirs)
	var ours []int64
	for _, e := range es {
		if id, ok := e.Extra["_streamId"].(int64); ok {
			ours = append(ours, id)
		} else if f, ok := e.Extra["_streamId"].(float64); ok {
			ours = append(ours, int64(f))
		}
	}
	slices.Sort(ours)
	if !slices.Equal(ours, theirs) {
		t.Errorf("request stream IDs %v, tshark %v", ours, theirs)
	}
}
