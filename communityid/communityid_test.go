package communityid

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	json "github.com/go-json-experiment/json/v1"
)

// The examples of the spec's baseline README, which are independent of any
// capture.
func TestSpecTable(t *testing.T) {
	a4, b4 := netip.MustParseAddr("1.2.3.4"), netip.MustParseAddr("5.6.7.8")
	a6 := netip.MustParseAddr("fe80:0001:0203:0405:0607:0809:0A0B:0C0D")
	b6 := netip.MustParseAddr("fe80:1011:1213:1415:1617:1819:1A1B:1C1D")
	tests := []struct {
		name string
		f    Flow
		want string
		seed uint16
	}{
		{"tcp out", Flow{ProtoTCP, a4, b4, 1122, 3344}, "1:wCb3OG7yAFWelaUydu0D+125CLM=", 0},
		{"tcp back", Flow{ProtoTCP, b4, a4, 3344, 1122}, "1:wCb3OG7yAFWelaUydu0D+125CLM=", 0},
		{"udp", Flow{ProtoUDP, a4, b4, 1122, 3344}, "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg=", 0},
		{"sctp", Flow{ProtoSCTP, b4, a4, 3344, 1122}, "1:EKt4MsxuyaE6mL+hmrEkQ9csDD8=", 0},
		{"icmp echo", Flow{ProtoICMP, a4, b4, 8, 0}, "1:crodRHL2FEsHjbv3UkRrfbs4bZ0=", 0},
		{"icmp reply", Flow{ProtoICMP, b4, a4, 0, 0}, "1:crodRHL2FEsHjbv3UkRrfbs4bZ0=", 0},
		{"icmp one-way", Flow{ProtoICMP, a4, b4, 11, 0}, "1:f/YiSyWqczrTgfUCZlBUnvHRcPk=", 0},
		{"icmp6 echo", Flow{ProtoICMPv6, a6, b6, 128, 0}, "1:0bf7hyMJUwt3fMED7z8LIfRpBeo=", 0},
		{"icmp6 reply", Flow{ProtoICMPv6, b6, a6, 129, 0}, "1:0bf7hyMJUwt3fMED7z8LIfRpBeo=", 0},
		{"icmp6 one-way", Flow{ProtoICMPv6, a6, b6, 146, 0}, "1:fYC8+pz24E+EhANP1EZhpX0Dw10=", 0},
		{"rsvp", Flow{Proto: 46, Src: b4, Dst: a4}, "1:ikv3kmf89luf73WPz1jOs49S768=", 0},
		{"rsvp6", Flow{Proto: 46, Src: a6, Dst: b6}, "1:wQ/2mwrnXP4lmJcHdGL5ePjR+e0=", 0},
		{"tcp seed 1", Flow{ProtoTCP, a4, b4, 1122, 3344}, "1:HhA1B+6CoLbiKPEs5nhNYN4XWfk=", 1},
		{"icmp6 seed 1", Flow{ProtoICMPv6, a6, b6, 146, 0}, "1:Cv4IKJe56BNkF0MBW2YxQ3Nwc3s=", 1},
	}
	for _, tt := range tests {
		if got := (Config{Seed: tt.seed}).ID(tt.f); got != tt.want {
			t.Errorf("%s: got %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestMappedAddressesAreUnmapped(t *testing.T) {
	f := Flow{ProtoTCP, netip.MustParseAddr("::ffff:1.2.3.4"), netip.MustParseAddr("5.6.7.8"), 1122, 3344}
	if got := f.ID(); got != "1:wCb3OG7yAFWelaUydu0D+125CLM=" {
		t.Fatalf("got %s", got)
	}
	if got := (Flow{ProtoTCP, netip.MustParseAddr("1.2.3.4"), netip.MustParseAddr("::1"), 1, 2}).ID(); got != "" {
		t.Fatalf("mixed families: got %q, want empty", got)
	}
}

// TestBaselineTuples checks every tuple of the spec's baseline JSON files.
// The same files are checked end to end from the spec's pcaps in package
// pcap.
func TestBaselineTuples(t *testing.T) {
	dir := filepath.Join("..", "..", "shared", "corpus", "community-id-spec")
	if _, err := os.Stat(dir); err != nil {
		t.Skip("../shared/corpus is absent: skipping the Community ID baseline comparison")
	}
	for _, tc := range []struct {
		file string
		cfg  Config
	}{
		{"baseline_deflt.json", Config{}},
		{"baseline_seed1.json", Config{Seed: 1}},
		{"baseline_nob64.json", Config{NoB64: true}},
	} {
		b, err := os.ReadFile(filepath.Join(dir, tc.file))
		if err != nil {
			t.Fatal(err)
		}
		var rows []struct {
			Proto       uint8  `json:"proto"`
			Saddr       string `json:"saddr"`
			Daddr       string `json:"daddr"`
			Sport       uint16 `json:"sport"`
			Dport       uint16 `json:"dport"`
			CommunityID string `json:"communityid"`
		}
		if err := json.Unmarshal(b, &rows); err != nil {
			t.Fatal(err)
		}
		// One row per packet; the spec counts 14 distinct flows.
		flows := map[string]bool{}
		for _, r := range rows {
			flows[r.CommunityID] = true
		}
		if len(flows) != 14 {
			t.Fatalf("%s: %d flows, want 14", tc.file, len(flows))
		}
		for i, r := range rows {
			f := Flow{r.Proto, netip.MustParseAddr(r.Saddr), netip.MustParseAddr(r.Daddr), r.Sport, r.Dport}
			if got := tc.cfg.ID(f); got != r.CommunityID {
				t.Errorf("%s row %d (%+v): got %s, want %s", tc.file, i, r, got, r.CommunityID)
			}
		}
	}
}
