package decode

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tracewire/tracewire/internal/testutil"
	"github.com/tracewire/tracewire/pcap/internal/capture"
)

var update = flag.Bool("update", false, "rewrite testdata/tshark-tcp.txt by running tshark")

// tsharkFiles are the corpus captures whose TCP packets are compared with
// tshark, one per link type and encapsulation we decode (see
// TestCorpusLinkTypes for which is which).
var tsharkFiles = []string{
	"zeek/http-vlan-0.pcap",
	"zeek/http-qinq-0.pcap",
	"zeek/tunnels_vxlan-encapsulated-http.pcap",
	"zeek/nflog-http.pcap",
	"zeek/ipv6-http-atomic-frag.pcap",
	"zeek/tcp-http-with-padding.pcap",
	"zeek/http_261_variant-01-chunk_2pow64_overflow.pcap",
	"wireshark/http-ooo.pcap",
	"wireshark/http-ooo-fuzzed.pcapng",
	"wireshark/tls12-dsb.pcapng",
	"wireshark/trunc.pcap",
	"wireshark/grpc_web.pcapng.gz",
	"wireshark/grpc_stream_reassembly_sample.pcapng.gz",
	"gopacket/pcap/test_loopback.pcap",
	"tls-extra/dsb-tls3.cryptohack.org.pcapng",
	"community-id-spec/ipv6.pcap",
}

const tsharkCmd = `tshark -n -r FILE -Y 'tcp && !icmp && !icmpv6' -T fields -E separator=/t -e frame.number -e ip.src -e ip.dst -e ipv6.src -e ipv6.dst -e tcp.srcport -e tcp.dstport -e tcp.len -e tcp.seq_raw`

const goldenPath = "testdata/tshark-tcp.txt"

// last returns the innermost value of a tshark field (tunnels list the
// outer header first).
func last(field string) string {
	return field[strings.LastIndexByte(field, ',')+1:]
}

func writeGolden(t *testing.T, root string) {
	var out strings.Builder
	fmt.Fprintf(&out, "# Made by `go test ./pcap/internal/decode -run TestCorpusTCPAgainstTshark -update` with TShark 4.0.17:\n# %s\n# file|frame|src|dst|sport|dport|tcp.len|tcp.seq_raw (innermost IP header)\n", tsharkCmd)
	for _, rel := range tsharkFiles {
		args := []string{"-n", "-r", filepath.Join(root, rel), "-Y", "tcp && !icmp && !icmpv6", "-T", "fields", "-E", "separator=/t"}
		for _, e := range []string{"frame.number", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst", "tcp.srcport", "tcp.dstport", "tcp.len", "tcp.seq_raw"} {
			args = append(args, "-e", e)
		}
		cmd := exec.Command("tshark", args...)
		raw, err := cmd.Output()
		if err != nil {
			// trunc.pcap makes tshark exit 2 after printing its packets.
			if len(raw) == 0 {
				t.Fatalf("tshark %s: %v", rel, err)
			}
			t.Logf("tshark %s: %v", rel, err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
			if line == "" {
				continue
			}
			f := strings.Split(line, "\t")
			src, dst := last(f[1]), last(f[2])
			if f[3] != "" {
				src, dst = last(f[3]), last(f[4])
			}
			fmt.Fprintf(&out, "%s|%s|%s|%s|%s|%s|%s|%s\n", rel, f[0], src, dst, last(f[5]), last(f[6]), last(f[7]), last(f[8]))
		}
	}
	if err := os.WriteFile(goldenPath, []byte(out.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCorpusTCPAgainstTshark decodes the captures in tsharkFiles and
// compares every TCP packet (innermost addresses, ports, payload length
// and sequence number) with what tshark dissected, recorded in
// testdata/tshark-tcp.txt; both sides must see the same TCP frames.
func TestCorpusTCPAgainstTshark(t *testing.T) {
	root := testutil.Corpus(t)
	if *update {
		writeGolden(t, root)
	}
	f, err := os.Open(goldenPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := map[string]map[uint64][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "#") {
			continue
		}
		fields := strings.Split(sc.Text(), "|")
		frame, _ := strconv.ParseUint(fields[1], 10, 64)
		if want[fields[0]] == nil {
			want[fields[0]] = map[uint64][]string{}
		}
		want[fields[0]][frame] = fields[2:]
	}
	for _, rel := range tsharkFiles {
		t.Run(rel, func(t *testing.T) {
			exp := want[rel]
			if len(exp) == 0 {
				t.Fatalf("no tshark lines for %s in %s", rel, goldenPath)
			}
			seen := 0
			eachPacket(t, filepath.Join(root, rel), func(c *capture.Packet, p *Packet, err error) {
				w, isTCP := exp[c.Frame]
				if err != nil || p.TCP == nil {
					if isTCP {
						t.Errorf("frame %d: tshark sees TCP, we get %v (%s)", c.Frame, err, summary(p))
					}
					return
				}
				if !isTCP {
					t.Errorf("frame %d: we decode TCP (%s), tshark does not", c.Frame, summary(p))
					return
				}
				seen++
				got := []string{p.Src.String(), p.Dst.String(), strconv.Itoa(int(p.SrcPort)), strconv.Itoa(int(p.DstPort)),
					strconv.Itoa(len(p.Payload)), strconv.FormatUint(uint64(p.TCP.Seq), 10)}
				if p.Truncated {
					// The snap length cut the payload; tshark gives the length
					// the IP header announces.
					n, _ := strconv.Atoi(w[4])
					if len(p.Payload) > n {
						t.Errorf("frame %d: truncated payload of %d bytes, more than tshark's %d", c.Frame, len(p.Payload), n)
					}
					got[4] = w[4]
				}
				if strings.Join(got, "|") != strings.Join(w, "|") {
					t.Errorf("frame %d: got %s, tshark %s", c.Frame, strings.Join(got, "|"), strings.Join(w, "|"))
				}
			})
			if seen != len(exp) {
				t.Errorf("%d TCP frames matched, tshark has %d", seen, len(exp))
			}
		})
	}
}
