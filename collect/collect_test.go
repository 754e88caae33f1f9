package collect

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

func TestReadMaps(t *testing.T) {
	in := `00400000-00452000 r-xp 00000000 08:02 173521 /usr/bin/dbus-daemon
00651000-00652000 r--p 00051000 08:02 173521 /usr/bin/dbus-daemon
7f2c4a1d5000-7f2c4a37e000 r-xp 00028000 08:02 135522 /usr/lib/x86_64-linux-gnu/libc.so.6
7ffd1e1fe000-7ffd1e200000 r-xp 00000000 00:00 0 [vdso]
7f0000000000-7f0000001000 r-xp 00000000 08:02 1 /tmp/a file with spaces (deleted)
garbage
`
	ms, err := readMaps(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []mapping{
		{0x400000, 0x452000, 0, "/usr/bin/dbus-daemon"},
		{0x7f0000000000, 0x7f0000001000, 0, "/tmp/a file with spaces (deleted)"},
		{0x7f2c4a1d5000, 0x7f2c4a37e000, 0x28000, "/usr/lib/x86_64-linux-gnu/libc.so.6"},
		{0x7ffd1e1fe000, 0x7ffd1e200000, 0, "[vdso]"},
	}
	if !reflect.DeepEqual(ms, want) {
		t.Errorf("got %+v\nwant %+v", ms, want)
	}
	for _, c := range []struct {
		ip   uint64
		want string
	}{{0x400000, "/usr/bin/dbus-daemon"}, {0x451fff, "/usr/bin/dbus-daemon"}, {0x452000, ""}, {0x7f2c4a1d6000, "/usr/lib/x86_64-linux-gnu/libc.so.6"}, {0, ""}} {
		m := findMapping(ms, c.ip)
		got := ""
		if m != nil {
			got = m.path
		}
		if got != c.want {
			t.Errorf("findMapping(%#x) = %q, want %q", c.ip, got, c.want)
		}
	}
}

func TestNoteBuildID(t *testing.T) {
	note := func(name string, typ uint32, desc []byte) []byte {
		var b bytes.Buffer
		binary.Write(&b, binary.LittleEndian, [3]uint32{uint32(len(name) + 1), uint32(len(desc)), typ})
		b.WriteString(name + "\x00")
		for b.Len()%4 != 0 {
			b.WriteByte(0)
		}
		b.Write(desc)
		for b.Len()%4 != 0 {
			b.WriteByte(0)
		}
		return b.Bytes()
	}
	id := []byte{0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"GNU build ID", note("GNU", 3, id), "deadbeef0102030405060708090a0b0c0d0e0f10"},
		{"Go build ID first", append(note("Go", 4, []byte("abcdefgh")), note("GNU", 3, id)...), "deadbeef0102030405060708090a0b0c0d0e0f10"},
		{"no GNU note", note("Go", 4, []byte("abc")), ""},
		{"truncated", note("GNU", 3, id)[:20], ""},
		{"empty", nil, ""},
	} {
		if got := noteBuildID(c.data, binary.LittleEndian); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

//go:noinline
func symbolTarget() uintptr {
	pc, _, _, _ := runtime.Caller(0)
	return pc
}

// TestSymbolizeSelf symbolises an address of this test binary the way a
// frame with only an address is: through /proc/self/maps.
func TestSymbolizeSelf(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc/self/maps")
	}
	pc := uint64(symbolTarget())
	maps, err := readProcMaps(uint32(os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	s := newSymbolizer()
	// +1: frames are return addresses, looked up one byte before.
	f := s.frame(rawFrame{status: stackIP, off: pc + 1}, maps)
	if want := "github.com/tracewire/tracewire/collect.symbolTarget"; f.Function != want {
		t.Errorf("function %q, want %q (frame %+v)", f.Function, want, f)
	}
	if !strings.HasSuffix(f.File, "collect_test.go") || f.Line == 0 {
		t.Errorf("file:line %s:%d, want collect_test.go", f.File, f.Line)
	}
	exe, _ := os.Executable()
	if f.Module != exe {
		t.Errorf("module %q, want %q", f.Module, exe)
	}
	// The same frame by build ID and file offset, when the binary has one.
	if ef, err := elf.Open(exe); err == nil {
		id := gnuBuildID(ef)
		ef.Close()
		if id != "" {
			m := findMapping(maps, pc+1)
			var fr rawFrame
			fr.status = stackValid
			copy(fr.buildID[:], mustHex(t, id))
			fr.off = pc + 1 - m.start + m.off
			s.addPaths(maps)
			g := s.frame(fr, nil)
			if g.Function != f.Function || g.BuildID != id {
				t.Errorf("by build ID: %+v, want function %q", g, f.Function)
			}
		}
	}
	// An address in no mapping keeps only the address.
	if g := s.frame(rawFrame{status: stackIP, off: 8}, maps); g.Function != "" || g.Address != "0x8" {
		t.Errorf("unmapped frame: %+v", g)
	}
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b := make([]byte, len(s)/2)
	for i := range b {
		var v byte
		for _, c := range s[2*i : 2*i+2] {
			v <<= 4
			switch {
			case c >= '0' && c <= '9':
				v |= byte(c - '0')
			case c >= 'a' && c <= 'f':
				v |= byte(c-'a') + 10
			}
		}
		b[i] = v
	}
	return b
}

func TestDecodeEvent(t *testing.T) {
	b := make([]byte, offStack+2*frameSize)
	le := binary.LittleEndian
	le.PutUint64(b[offMono:], 123456789)
	le.PutUint32(b[offPid:], 42)
	le.PutUint32(b[offTid:], 43)
	le.PutUint32(b[offBytes:], 517)
	le.PutUint32(b[offStackBytes:], 2*frameSize)
	le.PutUint16(b[offProtocol:], 6)
	b[offDir] = dirOut
	le.PutUint16(b[offFamily:], afInet6)
	le.PutUint16(b[offLport:], 43210)
	le.PutUint16(b[offRport:], 443)
	copy(b[offLaddr:], netip.MustParseAddr("::ffff:10.0.0.2").AsSlice())
	copy(b[offRaddr:], netip.MustParseAddr("::ffff:93.184.216.34").AsSlice())
	copy(b[offComm:], "curl\x00junk")
	le.PutUint32(b[offStack:], stackValid)
	b[offStack+4] = 0xab
	le.PutUint64(b[offStack+24:], 0x1234)
	le.PutUint32(b[offStack+frameSize:], stackIP)
	le.PutUint64(b[offStack+frameSize+24:], 0x7f0000001000)
	e, err := decodeEvent(b)
	if err != nil {
		t.Fatal(err)
	}
	if e.pid != 42 || e.tid != 43 || e.bytes != 517 || e.comm != "curl" || e.dir != dirOut || e.mono != 123456789 {
		t.Errorf("fields: %+v", e)
	}
	// IPv4-mapped addresses are the IPv4 flow the capture saw.
	if e.local.String() != "10.0.0.2:43210" || e.remote.String() != "93.184.216.34:443" {
		t.Errorf("addresses %s → %s", e.local, e.remote)
	}
	if len(e.stack) != 2 || e.stack[0].status != stackValid || e.stack[0].buildID[0] != 0xab || e.stack[0].off != 0x1234 || e.stack[1].off != 0x7f0000001000 {
		t.Errorf("stack %+v", e.stack)
	}
	if _, err := decodeEvent(b[:offStack-1]); err == nil {
		t.Error("a short record decoded")
	}
	// A stack_bytes larger than the record is cut to the record.
	le.PutUint32(b[offStackBytes:], 40*frameSize)
	if e, err := decodeEvent(b); err != nil || len(e.stack) != 2 {
		t.Errorf("oversized stack_bytes: %v, %d frames", err, len(e.stack))
	}
	le.PutUint16(b[offFamily:], 1)
	if _, err := decodeEvent(b); err == nil {
		t.Error("family 1 decoded")
	}
}

// TestWriteCapture filters a capture to one flow and puts the key log
// first, as a Decryption Secrets Block.
func TestWriteCapture(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.pcapng")
	f, err := os.Create(in)
	if err != nil {
		t.Fatal(err)
	}
	w, err := pcapgo.NewNgWriterInterface(f, pcapgo.NgInterface{Name: "lo", LinkType: layers.LinkTypeEthernet, TimestampResolution: 9}, pcapgo.DefaultNgWriterOptions)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.AddInterface(pcapgo.NgInterface{Name: "eth0", LinkType: layers.LinkTypeEthernet, TimestampResolution: 9}); err != nil {
		t.Fatal(err)
	}
	pkt := func(intf int, src, dst string, sp, dp int) {
		eth := &layers.Ethernet{SrcMAC: make([]byte, 6), DstMAC: make([]byte, 6), EthernetType: layers.EthernetTypeIPv4}
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: netip.MustParseAddr(src).AsSlice(), DstIP: netip.MustParseAddr(dst).AsSlice()}
		tcp := &layers.TCP{SrcPort: layers.TCPPort(sp), DstPort: layers.TCPPort(dp), SYN: true}
		tcp.SetNetworkLayerForChecksum(ip)
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, tcp); err != nil {
			t.Fatal(err)
		}
		data := buf.Bytes()
		ci := gopacket.CaptureInfo{Timestamp: time.Unix(1700000000, 0), CaptureLength: len(data), Length: len(data), InterfaceIndex: intf}
		if err := w.WritePacket(ci, data); err != nil {
			t.Fatal(err)
		}
	}
	pkt(0, "127.0.0.1", "127.0.0.1", 40000, 80)
	pkt(0, "127.0.0.1", "127.0.0.1", 80, 40000)
	pkt(1, "10.0.0.2", "93.184.216.34", 50000, 443) // not traced
	pkt(1, "10.0.0.2", "93.184.216.34", 50001, 443)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	keep := map[flowKey]bool{
		keyOf(6, netip.MustParseAddrPort("127.0.0.1:80"), netip.MustParseAddrPort("127.0.0.1:40000")):     true,
		keyOf(6, netip.MustParseAddrPort("10.0.0.2:50001"), netip.MustParseAddrPort("93.184.216.34:443")): true,
	}
	out := filepath.Join(dir, "out.pcapng")
	keylog := []byte("CLIENT_RANDOM 00 11\n")
	read, kept, err := writeCapture(in, out, keylog, keep)
	if err != nil {
		t.Fatal(err)
	}
	if read != 4 || kept != 3 {
		t.Errorf("read %d, kept %d; want 4, 3", read, kept)
	}
	rf, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer rf.Close()
	r, err := pcapgo.NewNgReader(rf, pcapgo.DefaultNgReaderOptions)
	if err != nil {
		t.Fatal(err)
	}
	var intfs []int
	for {
		_, ci, err := r.ReadPacketData()
		if err != nil {
			break
		}
		intfs = append(intfs, ci.InterfaceIndex)
	}
	if !reflect.DeepEqual(intfs, []int{0, 0, 1}) {
		t.Errorf("packets on interfaces %v, want [0 0 1]", intfs)
	}
	b, _ := os.ReadFile(out)
	if i, j := bytes.Index(b, keylog), bytes.Index(b, []byte{0x0a, 0, 0, 0}); i < 0 || j < 0 {
		t.Errorf("no Decryption Secrets Block with the key log")
	}
	// Unfiltered: every packet.
	if _, kept, err := writeCapture(in, out, nil, nil); err != nil || kept != 4 {
		t.Errorf("unfiltered: kept %d, %v", kept, err)
	}
}
