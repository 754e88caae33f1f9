package decode

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	json "github.com/go-json-experiment/json/v1"
	"github.com/tracewire/tracewire/communityid"
	"github.com/tracewire/tracewire/internal/testutil"
	"github.com/tracewire/tracewire/pcap/internal/capture"
)

// eachPacket decodes every packet of a capture, calling fn with the frame
// and the decode result.
func eachPacket(t testing.TB, path string, fn func(c *capture.Packet, p *Packet, err error)) {
	t.Helper()
	r, err := capture.Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer r.Close()
	d := NewDecoder()
	for {
		c, err := r.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		p, err := d.Decode(c)
		fn(c, p, err)
	}
}

func flowOf(p *Packet) communityid.Flow {
	return communityid.Flow{Proto: p.Proto, Src: p.Src, Dst: p.Dst, SrcPort: p.SrcPort, DstPort: p.DstPort}
}

type baselineRow struct {
	Proto       uint8   `json:"proto"`
	Saddr       string  `json:"saddr"`
	Daddr       string  `json:"daddr"`
	Sport       *uint16 `json:"sport"`
	Dport       *uint16 `json:"dport"`
	CommunityID string  `json:"communityid"`
}

// rowKey identifies a baseline row from a decoded packet. The baseline
// lists ICMP ports after the spec's type mapping (an echo request's dport
// is the reply type), so ICMP rows are keyed by type only; the test checks
// that this key stays unique.
func rowKey(proto uint8, src, dst netip.Addr, sport, dport uint16) string {
	switch proto {
	case communityid.ProtoICMP, communityid.ProtoICMPv6:
		return fmt.Sprintf("%d %s %s %d", proto, src, dst, sport)
	case communityid.ProtoTCP, communityid.ProtoUDP, communityid.ProtoSCTP:
		return fmt.Sprintf("%d %s %s %d %d", proto, src, dst, sport, dport)
	}
	return fmt.Sprintf("%d %s %s", proto, src, dst)
}

// TestCommunityIDSpec decodes every packet of the Community ID spec's
// captures and checks the ID computed from the decoded 5-tuple against
// every row of the spec's three baselines (and that every row is met).
func TestCommunityIDSpec(t *testing.T) {
	dir := testutil.Corpus(t, "community-id-spec")
	captures := []struct {
		file    string
		packets int // decodable to an IP flow
	}{
		{"icmp.pcap", 4}, {"icmp6.pcap", 20}, {"ipv6.pcap", 17}, {"rsvp.pcap", 2},
		{"sctp.pcap", 5}, {"tcp.pcap", 12}, {"udp.pcap", 2}, {"arp.pcap", 0},
		{"combined.pcap.gz", 62},
	}
	for _, base := range []struct {
		file string
		cfg  communityid.Config
	}{
		{"baseline_deflt.json", communityid.Config{}},
		{"baseline_seed1.json", communityid.Config{Seed: 1}},
		{"baseline_nob64.json", communityid.Config{NoB64: true}},
	} {
		t.Run(base.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(dir, base.file))
			if err != nil {
				t.Fatal(err)
			}
			var rows []baselineRow
			if err := json.Unmarshal(raw, &rows); err != nil {
				t.Fatal(err)
			}
			want := map[string]string{}
			ids := map[string]bool{}
			for _, r := range rows {
				var sp, dp uint16
				if r.Sport != nil {
					sp, dp = *r.Sport, *r.Dport
				}
				k := rowKey(r.Proto, netip.MustParseAddr(r.Saddr), netip.MustParseAddr(r.Daddr), sp, dp)
				if _, dup := want[k]; dup {
					t.Fatalf("baseline key %q is not unique", k)
				}
				want[k] = r.CommunityID
				ids[r.CommunityID] = true
			}
			if len(ids) != 14 {
				t.Fatalf("baseline has %d distinct IDs, the spec says 14", len(ids))
			}
			met := map[string]bool{}
			for _, c := range captures {
				n := 0
				eachPacket(t, filepath.Join(dir, c.file), func(cp *capture.Packet, p *Packet, err error) {
					if errors.Is(err, ErrSkip) {
						return
					}
					if err != nil {
						t.Errorf("%s frame %d: %v", c.file, cp.Frame, err)
						return
					}
					n++
					k := rowKey(p.Proto, p.Src, p.Dst, p.SrcPort, p.DstPort)
					w, ok := want[k]
					if !ok {
						t.Errorf("%s frame %d: tuple %q not in the baseline", c.file, cp.Frame, k)
						return
					}
					met[k] = true
					if got := base.cfg.ID(flowOf(p)); got != w {
						t.Errorf("%s frame %d (%s): ID %s, baseline %s", c.file, cp.Frame, k, got, w)
					}
				})
				if n != c.packets {
					t.Errorf("%s: %d packets with a flow, want %d", c.file, n, c.packets)
				}
			}
			for k := range want {
				if !met[k] {
					t.Errorf("baseline row %q met by no packet", k)
				}
			}
		})
	}
}

// TestCommunityIDWireshark compares the Community ID of every packet of
// Wireshark's communityid.pcap.gz with its baseline communityid.txt (one
// line per frame, made with `tshark --enable-protocol communityid -T fields
// -e communityid`; empty for frames without an IP flow).
func TestCommunityIDWireshark(t *testing.T) {
	path := testutil.Corpus(t, "wireshark", "communityid.pcap.gz")
	f, err := os.Open(testutil.Corpus(t, "wireshark", "communityid.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var want []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		want = append(want, strings.TrimSpace(sc.Text()))
	}
	frames := 0
	eachPacket(t, path, func(c *capture.Packet, p *Packet, err error) {
		frames++
		got := ""
		if err == nil {
			got = flowOf(p).ID()
		} else if !errors.Is(err, ErrSkip) {
			t.Errorf("frame %d: %v", c.Frame, err)
		}
		if int(c.Frame) > len(want) {
			t.Errorf("frame %d beyond the baseline's %d lines", c.Frame, len(want))
			return
		}
		if w := want[c.Frame-1]; got != w {
			t.Errorf("frame %d: ID %q, tshark %q (decoded %+v, err %v)", c.Frame, got, w, p, err)
		}
	})
	if frames != len(want) {
		t.Errorf("%d frames, baseline has %d lines", frames, len(want))
	}
}

// corpusCaptures lists every capture file of the corpus, sorted.
func corpusCaptures(t testing.TB, root string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		for _, ext := range []string{".pcap", ".pcapng", ".pcap.gz", ".pcapng.gz"} {
			if strings.HasSuffix(d.Name(), ext) {
				rel, _ := filepath.Rel(root, p)
				files = append(files, filepath.ToSlash(rel))
				break
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	return files
}

// TestCorpusDecode decodes every packet of every corpus capture: no panic,
// and no malformed packets except in files known to hold damaged ones.
func TestCorpusDecode(t *testing.T) {
	root := testutil.Corpus(t)
	// Files with packets we expect to be rejected as malformed, and why.
	expectMalformed := map[string]string{}
	for _, rel := range corpusCaptures(t, root) {
		t.Run(rel, func(t *testing.T) {
			var total, flows, tcp, skipped, bad int
			links := map[uint16]int{}
			eachPacket(t, filepath.Join(root, rel), func(c *capture.Packet, p *Packet, err error) {
				total++
				links[c.LinkType]++
				switch {
				case err == nil:
					flows++
					if p.TCP != nil {
						tcp++
					}
				case errors.Is(err, ErrSkip):
					skipped++
				default:
					bad++
					if _, ok := expectMalformed[rel]; !ok {
						t.Errorf("frame %d: %v", c.Frame, err)
					}
				}
			})
			t.Logf("%d packets (link types %v): %d flows (%d tcp), %d skipped, %d malformed", total, links, flows, tcp, skipped, bad)
		})
	}
}

// TestCorpusLinkTypes decodes one corpus capture per link type and
// encapsulation and looks for a known TCP segment in it: the flow, its
// first payload bytes and the tunnels around it (values read with tshark).
func TestCorpusLinkTypes(t *testing.T) {
	for _, tc := range []struct {
		file    string
		links   map[uint16]int // link type → packets
		frame   uint64
		flow    string // "src sport dst dport"
		prefix  string
		tunnels int
	}{
		{"zeek/http-vlan-0.pcap", map[uint16]int{LinkEthernet: 14}, 4, "141.142.228.5 59856 192.150.187.43 80", "GET /download", 0},
		{"zeek/http-qinq-0.pcap", map[uint16]int{LinkEthernet: 14}, 4, "141.142.228.5 59856 192.150.187.43 80", "GET /download", 0},
		{"zeek/tunnels_vxlan-encapsulated-http.pcap", map[uint16]int{LinkEthernet: 12}, 4, "172.16.11.201 40354 54.86.237.188 80", "GET /image/", 1},
		{"zeek/nflog-http.pcap", map[uint16]int{LinkNFLOG: 13}, 6, "10.0.2.15 49762 93.184.216.34 80", "GET / HTTP/1", 0},
		{"zeek/ipv6-http-atomic-frag.pcap", map[uint16]int{LinkEthernet: 38}, 8, "2001:db8:1::2 36951 2001:db8:1::1 80", "GET /bad.htm", 0},
		{"zeek/tcp-http-with-padding.pcap", map[uint16]int{LinkEthernet: 25}, 4, "167.221.30.181 59406 217.207.159.63 27272", "G", 0},
		{"zeek/http_261_variant-01-chunk_2pow64_overflow.pcap", map[uint16]int{LinkIPv4: 8}, 4, "192.168.1.100 40001 192.168.1.200 80", "POST / HTTP/", 0},
		{"wireshark/http-ooo.pcap", map[uint16]int{LinkIPv4: 16}, 6, "10.0.0.1 32323 10.0.0.2 80", "GET /2 HTTP/", 0},
		{"wireshark/http-ooo-fuzzed.pcapng", map[uint16]int{LinkIPv4: 16}, 6, "10.0.0.1 32323 10.0.0.2 80", "GET /2 HTTP/", 0},
		{"wireshark/tls12-dsb.pcapng", map[uint16]int{LinkIPv4: 17}, 1, "10.9.0.2 46800 93.184.216.34 443", "\x16\x03\x01", 0},
		{"wireshark/grpc_web.pcapng.gz", map[uint16]int{LinkNull: 408}, 4, "::1 54568 ::1 57226", "POST /greet.", 0},
		{"wireshark/grpc_stream_reassembly_sample.pcapng.gz", map[uint16]int{LinkEthernet: 139, LinkSLL: 34}, 145, "127.0.0.1 42088 127.0.0.1 44363", "PRI * HTTP/2.0", 0},
		{"wireshark/grpc_stream_reassembly_sample.pcapng.gz", map[uint16]int{LinkEthernet: 139, LinkSLL: 34}, 6, "192.168.65.1 63646 192.168.65.10 50051", "PRI * HTTP/2.0", 0},
		{"gopacket/pcap/test_loopback.pcap", map[uint16]int{LinkNull: 24}, 1, "::1 58799 ::1 8080", "GET /pkg/git", 0},
		{"tls-extra/dsb-tls3.cryptohack.org.pcapng", map[uint16]int{LinkSLL: 33}, 8, "172.16.112.134 53800 178.62.74.206 443", "\x16\x03\x01", 0},
	} {
		t.Run(fmt.Sprintf("%s#%d", tc.file, tc.frame), func(t *testing.T) {
			links := map[uint16]int{}
			found := false
			eachPacket(t, testutil.Corpus(t, strings.Split(tc.file, "/")...), func(c *capture.Packet, p *Packet, err error) {
				links[c.LinkType]++
				if c.Frame != tc.frame {
					return
				}
				if err != nil || p.TCP == nil {
					t.Fatalf("frame %d: %v (%s), want TCP", c.Frame, err, summary(p))
				}
				found = true
				if got := fmt.Sprintf("%s %d %s %d", p.Src, p.SrcPort, p.Dst, p.DstPort); got != tc.flow {
					t.Errorf("frame %d: flow %s, want %s", c.Frame, got, tc.flow)
				}
				if !strings.HasPrefix(string(p.Payload), tc.prefix) {
					t.Errorf("frame %d: payload starts %q, want %q", c.Frame, p.Payload[:min(len(p.Payload), len(tc.prefix))], tc.prefix)
				}
				if p.Tunnels != tc.tunnels {
					t.Errorf("frame %d: %d tunnels, want %d", c.Frame, p.Tunnels, tc.tunnels)
				}
			})
			if !found {
				t.Errorf("frame %d not found", tc.frame)
			}
			if fmt.Sprint(links) != fmt.Sprint(tc.links) {
				t.Errorf("link types %v, want %v", links, tc.links)
			}
		})
	}
}
