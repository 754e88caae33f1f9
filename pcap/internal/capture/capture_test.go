package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/tracewire/tracewire/internal/testutil"
)

// want is the part of a Packet the tests compare.
type want struct {
	data     []byte
	origLen  int
	time     time.Time
	link     uint16
	iface    int
	section  int
	frame    uint64
	comments []string
}

func collect(t *testing.T, r *Reader) []want {
	t.Helper()
	var got []want
	for {
		p, err := r.Next()
		if errors.Is(err, io.EOF) {
			return got
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		got = append(got, want{
			data: slices.Clone(p.Data), origLen: p.OrigLen, time: p.Time, link: p.LinkType,
			iface: p.Interface, section: p.Section, frame: p.Frame, comments: p.Comments,
		})
	}
}

func comparePackets(t *testing.T, got, exp []want) {
	t.Helper()
	if len(got) != len(exp) {
		t.Fatalf("%d packets, want %d", len(got), len(exp))
	}
	for i := range exp {
		g, w := got[i], exp[i]
		switch {
		case !bytes.Equal(g.data, w.data):
			t.Errorf("packet %d: data %x, want %x", i, g.data, w.data)
		case g.origLen != w.origLen:
			t.Errorf("packet %d: original length %d, want %d", i, g.origLen, w.origLen)
		case !g.time.Equal(w.time):
			t.Errorf("packet %d: time %v, want %v", i, g.time, w.time)
		case g.link != w.link || g.iface != w.iface || g.section != w.section:
			t.Errorf("packet %d: link/interface/section %d/%d/%d, want %d/%d/%d", i, g.link, g.iface, g.section, w.link, w.iface, w.section)
		case g.frame != w.frame:
			t.Errorf("packet %d: frame %d, want %d", i, g.frame, w.frame)
		case !slices.Equal(g.comments, w.comments):
			t.Errorf("packet %d: comments %q, want %q", i, g.comments, w.comments)
		}
	}
}

func openBytes(t *testing.T, b []byte) (*Reader, error) {
	t.Helper()
	return NewReader("test", bytes.NewReader(b))
}

func TestPcapVariants(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 123_456_789)
	for _, tc := range []struct {
		name  string
		order binary.AppendByteOrder
		magic uint32
		link  uint32 // as written, with FCS bits
	}{
		{"le-micro", binary.LittleEndian, magicMicro, 1},
		{"be-micro", binary.BigEndian, magicMicro, 1},
		{"le-nano", binary.LittleEndian, magicNano, 101},
		{"be-nano", binary.BigEndian, magicNano, 101},
		{"le-modified", binary.LittleEndian, magicModified, 113},
		{"be-modified", binary.BigEndian, magicModified, 113},
		{"fcs-bits", binary.LittleEndian, magicMicro, 0x14000001}, // 4-byte FCS flagged
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newPcap(tc.order, tc.magic, 65535, tc.link)
			var exp []want
			for i, n := range []int{60, 0, 1514, 7} {
				ts := t0.Add(time.Duration(i) * 1500 * time.Millisecond)
				orig := n
				if i == 2 {
					orig = 9000 // cut by the snap length
				}
				b.record(ts, frameData(i, n), uint32(orig))
				if tc.magic != magicNano {
					ts = ts.Truncate(time.Microsecond)
				}
				exp = append(exp, want{data: frameData(i, n), origLen: orig, time: ts, link: uint16(tc.link), frame: uint64(i + 1)})
			}
			r, err := openBytes(t, b.buf.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			comparePackets(t, collect(t, r), exp)
			if w := r.Warnings(); len(w) != 0 {
				t.Errorf("warnings on a good file: %v", w)
			}
		})
	}
}

func TestPcapCaplenSanity(t *testing.T) {
	t0 := time.Unix(1_600_000_000, 0)
	for _, tc := range []struct {
		name     string
		snaplen  uint32
		caplen   uint32 // of the second record
		packets  int
		warnings int
	}{
		// Above the snap length but within Wireshark's 256 KiB bound: kept,
		// with a warning.
		{"above-snaplen", 1500, 3000, 3, 1},
		{"huge", 65535, 0x7fff_fff0, 1, 1},
		{"above-bound", 65535, 300_000, 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newPcap(binary.LittleEndian, magicMicro, tc.snaplen, 1)
			b.record(t0, frameData(1, 60), 60)
			if tc.caplen <= 262144 {
				b.record(t0, frameData(2, int(tc.caplen)), tc.caplen)
			} else {
				// A record header with a lying length and little data after it.
				h := binary.LittleEndian.AppendUint32(nil, uint32(t0.Unix()))
				h = binary.LittleEndian.AppendUint32(h, 0)
				h = binary.LittleEndian.AppendUint32(h, tc.caplen)
				h = binary.LittleEndian.AppendUint32(h, tc.caplen)
				b.buf.Write(h)
				b.buf.Write(frameData(2, 100))
			}
			b.record(t0, frameData(3, 60), 60)
			r, err := openBytes(t, b.buf.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			got := collect(t, r)
			if len(got) != tc.packets || len(r.Warnings()) != tc.warnings {
				t.Errorf("%d packets and warnings %v, want %d and %d warnings", len(got), r.Warnings(), tc.packets, tc.warnings)
			}
		})
	}
}

// syntheticNg builds a two-section pcapng exercising every block the reader
// handles, and returns it with the packets it holds.
func syntheticNg() (*ngBuilder, []want) {
	b := &ngBuilder{}
	var exp []want
	b.shb(binary.LittleEndian, opt{4, []byte("tracewire test")})
	b.idb(1, 65535, opt{2, []byte("eth0")}, opt{ifTSResol, []byte{9}})
	b.idb(101, 0, opt{ifTSResol, []byte{0x80 | 10}}, opt{ifTSOffset, binary.LittleEndian.AppendUint64(nil, 1000)})
	b.block(blockNRB, []byte{1, 0, 8, 0, 10, 0, 0, 1, 'h', 'o', 's', 't', 0, 0, 0, 0})
	b.epb(0, 1_700_000_000_123_456_789, frameData(1, 60), 60, opt{optComment, []byte("first")}, opt{optComment, []byte("ptcpdump: curl (pid 42)")})
	exp = append(exp, want{data: frameData(1, 60), origLen: 60, time: time.Unix(1_700_000_000, 123_456_789), link: 1, frame: 1,
		comments: []string{"first", "ptcpdump: curl (pid 42)"}})
	b.dsb(SecretsTLSKeyLog, []byte("CLIENT_RANDOM aa bb\n"))
	b.dsb(0x57474b4c, []byte("wireguard keys are not TLS key logs"))
	// 2^-10 s units: 1_700_000_000.5 s, plus the 1000 s offset.
	b.epb(1, 1_700_000_000<<10+512, frameData(2, 20), 1500)
	exp = append(exp, want{data: frameData(2, 20), origLen: 1500, time: time.Unix(1_700_001_000, 500_000_000), link: 101, iface: 1, frame: 2})
	b.block(blockISB, make([]byte, 12))
	b.block(blockCustom, []byte{0, 0, 0x7f, 0xff, 'x'}) // Wireshark counts it as frame 3
	b.block(0x12345, []byte("an unknown block"))

	b.shb(binary.BigEndian)
	b.idb(0, 8, opt{ifTSResol, []byte{3}})
	b.spb(frameData(4, 16), 16)
	exp = append(exp, want{data: frameData(4, 8), origLen: 16, link: 0, section: 1, frame: 4})
	b.pb(0, 1_700_000_001_250, frameData(5, 33), opt{optComment, []byte("obsolete block")})
	exp = append(exp, want{data: frameData(5, 33), origLen: 33, time: time.Unix(1_700_000_001, 250_000_000), section: 1, frame: 5,
		comments: []string{"obsolete block"}})
	b.dsb(SecretsTLSKeyLog, []byte("CLIENT_RANDOM cc dd\n"))
	return b, exp
}

func TestPcapngSynthetic(t *testing.T) {
	b, exp := syntheticNg()
	data := b.buf.Bytes()
	r, err := openBytes(t, data)
	if err != nil {
		t.Fatal(err)
	}
	comparePackets(t, collect(t, r), exp)
	if w := r.Warnings(); len(w) != 0 {
		t.Errorf("warnings on a good file: %v", w)
	}
	if r.Frames() != 5 {
		t.Errorf("%d frames, want 5 (4 packets and a custom block)", r.Frames())
	}

	// The same through gzip and zstd, and Secrets from a file.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(data)
	zw.Close()
	r, err = openBytes(t, gz.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	comparePackets(t, collect(t, r), exp)
	zw2, _ := zstd.NewWriter(nil)
	r, err = openBytes(t, zw2.EncodeAll(data, nil))
	if err != nil {
		t.Fatal(err)
	}
	comparePackets(t, collect(t, r), exp)
	path := filepath.Join(t.TempDir(), "x.pcapng.gz")
	if err := os.WriteFile(path, gz.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	secrets, err := Secrets(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(bytesToStrings(secrets), "|"); got != "CLIENT_RANDOM aa bb\n|CLIENT_RANDOM cc dd\n" {
		t.Errorf("secrets %q", got)
	}
}

func bytesToStrings(bs [][]byte) []string {
	var out []string
	for _, b := range bs {
		out = append(out, string(b))
	}
	return out
}

func TestPcapngBadBlocks(t *testing.T) {
	for _, tc := range []struct {
		name     string
		build    func(b *ngBuilder)
		packets  int
		warnings int
	}{
		{"no-shb", func(b *ngBuilder) {
			b.o = binary.LittleEndian
			b.buf.Write([]byte{0x0a, 0x0d, 0x0d, 0x0a}) // only looks like one
			b.buf.Write([]byte{8, 0, 0, 0, 0, 0, 0, 0})
		}, 0, 1},
		{"unknown-interface", func(b *ngBuilder) {
			b.shb(binary.LittleEndian)
			b.idb(1, 0)
			b.epb(3, 0, frameData(1, 10), 10)
			b.epb(0, 0, frameData(2, 10), 10)
		}, 1, 1},
		{"caplen-beyond-block", func(b *ngBuilder) {
			b.shb(binary.LittleEndian)
			b.idb(1, 0)
			b.epb(0, 0, frameData(1, 10), 10)
			// Patch the caplen to exceed the block.
			raw := b.buf.Bytes()
			binary.LittleEndian.PutUint32(raw[len(raw)-24:], 500)
			b.epb(0, 0, frameData(2, 10), 10)
		}, 1, 1},
		{"trailing-length-mismatch", func(b *ngBuilder) {
			b.shb(binary.LittleEndian)
			b.idb(1, 0)
			b.epb(0, 0, frameData(1, 10), 10)
			b.epb(0, 0, frameData(2, 10), 10)
			raw := b.buf.Bytes()
			binary.LittleEndian.PutUint32(raw[len(raw)-4:], 12)
		}, 1, 1},
		{"length-not-multiple-of-4", func(b *ngBuilder) {
			b.shb(binary.LittleEndian)
			b.idb(1, 0)
			b.buf.Write([]byte{6, 0, 0, 0, 33, 0, 0, 0})
		}, 0, 1},
		{"huge-length", func(b *ngBuilder) {
			b.shb(binary.LittleEndian)
			b.idb(1, 0)
			b.buf.Write([]byte{6, 0, 0, 0, 0xfc, 0xff, 0xff, 0x0f}) // 256 MiB - 4
			b.buf.Write(make([]byte, 1000))
		}, 0, 1},
		{"version-2", func(b *ngBuilder) {
			b.shb(binary.LittleEndian)
			b.idb(1, 0)
			b.epb(0, 0, frameData(1, 10), 10)
			b.shb(binary.LittleEndian)
			binary.LittleEndian.PutUint16(b.buf.Bytes()[b.blockEnds[2]+12:], 2)
			b.idb(1, 0)
			b.epb(0, 0, frameData(1, 10), 10)
		}, 1, 1},
		{"spb-without-idb", func(b *ngBuilder) {
			b.shb(binary.LittleEndian)
			b.spb(frameData(1, 10), 10)
		}, 0, 1},
		{"bad-tsresol", func(b *ngBuilder) {
			b.shb(binary.LittleEndian)
			b.idb(1, 0, opt{ifTSResol, []byte{0xff}})
			b.epb(0, 5_000_000, frameData(1, 10), 10)
		}, 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &ngBuilder{}
			tc.build(b)
			// Through gzip too: the reader then cannot know the file size.
			var gz bytes.Buffer
			zw := gzip.NewWriter(&gz)
			zw.Write(b.buf.Bytes())
			zw.Close()
			for _, data := range [][]byte{b.buf.Bytes(), gz.Bytes()} {
				r, err := openBytes(t, data)
				if err != nil {
					t.Fatal(err)
				}
				got := collect(t, r)
				if len(got) != tc.packets || len(r.Warnings()) != tc.warnings {
					t.Errorf("%d packets and warnings %v, want %d packets and %d warnings", len(got), r.Warnings(), tc.packets, tc.warnings)
				}
			}
		})
	}
}

// TestHugeLengthMemory checks a lying block length costs memory only for
// the data actually present, also when the file size is unknown (gzip).
func TestHugeLengthMemory(t *testing.T) {
	b := &ngBuilder{}
	b.shb(binary.LittleEndian)
	b.idb(1, 0)
	b.buf.Write([]byte{6, 0, 0, 0, 0xfc, 0xff, 0xff, 0x0f}) // 256 MiB - 4
	b.buf.Write(make([]byte, 3<<20))
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(b.buf.Bytes())
	zw.Close()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	r, err := openBytes(t, gz.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if got := collect(t, r); len(got) != 0 || len(r.Warnings()) != 1 {
		t.Errorf("%d packets, warnings %v", len(got), r.Warnings())
	}
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 32<<20 {
		t.Errorf("allocated %d MiB for a 3 MiB file", alloc>>20)
	}
}

// TestTruncatedEverywhere cuts the synthetic files at every byte: the
// reader returns exactly the packets wholly before the cut, warns unless
// the cut falls between blocks, and never fails otherwise.
func TestTruncatedEverywhere(t *testing.T) {
	ng, ngExp := syntheticNg()
	pc := newPcap(binary.BigEndian, magicNano, 65535, 1)
	var pcExp []want
	for i := range 5 {
		ts := time.Unix(1_650_000_000, int64(i)*7)
		pc.record(ts, frameData(i, 40+i), uint32(40+i))
		pcExp = append(pcExp, want{data: frameData(i, 40+i), origLen: 40 + i, time: ts, link: 1, frame: uint64(i + 1)})
	}
	for _, tc := range []struct {
		name       string
		data       []byte
		ends       []int
		boundaries []int
		exp        []want
		minHeader  int
	}{
		{"pcapng", ng.buf.Bytes(), ng.ends, ng.blockEnds, ngExp, 4},
		{"pcap", pc.buf.Bytes(), pc.ends, append([]int{24}, pc.ends...), pcExp, 24},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for i := 0; i <= 2*len(tc.data)+1; i++ {
				// First plain (the size is known), then gzipped (unknown).
				cut := i % (len(tc.data) + 1)
				data := tc.data[:cut]
				if i > len(tc.data) {
					var gz bytes.Buffer
					zw := gzip.NewWriter(&gz)
					zw.Write(data)
					zw.Close()
					data = gz.Bytes()
				}
				r, err := openBytes(t, data)
				if cut > 0 && cut < 4 {
					if !errors.Is(err, ErrNotCapture) {
						t.Fatalf("cut %d: %v, want ErrNotCapture", cut, err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("cut %d: %v", cut, err)
				}
				got := collect(t, r)
				n := 0
				for _, e := range tc.ends {
					if e <= cut {
						n++
					}
				}
				comparePackets(t, got, tc.exp[:n])
				clean := cut == len(tc.data) || slices.Contains(tc.boundaries, cut)
				if clean == (len(r.Warnings()) > 0) {
					t.Fatalf("cut %d of %d: warnings %v", cut, len(tc.data), r.Warnings())
				}
				for _, w := range r.Warnings() {
					if w.Offset < 0 || w.Offset > int64(cut) || w.File != "test" {
						t.Fatalf("cut %d: warning %+v has a wrong place", cut, w)
					}
				}
			}
		})
	}
}

func TestNotCapture(t *testing.T) {
	for _, data := range []string{"GET / HTTP/1.1\r\n", "\x1f\x8b\x08garbage", "\xd4\xc3\xb2\xa1\x03\x00\x04\x00" + strings.Repeat("\x00", 16)} {
		if _, err := openBytes(t, []byte(data)); err == nil {
			t.Errorf("%q: no error", data)
		}
	}
	if _, err := Open(filepath.Join(t.TempDir(), "missing.pcap")); err == nil {
		t.Error("missing file: no error")
	}
}

// keyLogLine is a line of an NSS key log (or a comment).
var keyLogLine = regexp.MustCompile(`^(#.*|[A-Z_0-9]+ [0-9a-fA-F]+ [0-9a-fA-F]+)?$`)

func TestCorpusSecrets(t *testing.T) {
	for _, tc := range []struct {
		path  []string
		dsbs  int
		lines int
	}{
		{[]string{"wireshark", "tls12-dsb.pcapng"}, 2, 3},
		{[]string{"wireshark", "http2-brotli.pcapng"}, 1, 1},
		{[]string{"wireshark", "quic-with-secrets.pcapng"}, 1, 10},
		{[]string{"tls-extra", "dsb-dump.pcapng"}, 1, 70},
		{[]string{"tls-extra", "dsb-tls3.cryptohack.org.pcapng"}, 1, 5},
		{[]string{"tls-extra", "test301-baidu-tls12-dsb.pcapng"}, 1, 1},
		{[]string{"wireshark", "http.pcap"}, 0, 0},
		{[]string{"wireshark", "comments.pcapng"}, 0, 0},
		{[]string{"wireshark", "grpc_web.pcapng.gz"}, 0, 0},
	} {
		t.Run(strings.Join(tc.path, "/"), func(t *testing.T) {
			secrets, err := Secrets(testutil.Corpus(t, tc.path...))
			if err != nil {
				t.Fatal(err)
			}
			if len(secrets) != tc.dsbs {
				t.Fatalf("%d DSBs, want %d", len(secrets), tc.dsbs)
			}
			lines := 0
			for _, s := range secrets {
				for _, l := range strings.Split(strings.TrimRight(string(s), "\n"), "\n") {
					if !keyLogLine.MatchString(l) {
						t.Errorf("not a key log line: %q", l)
					}
					lines++
				}
			}
			if lines != tc.lines {
				t.Errorf("%d key log lines, want %d", lines, tc.lines)
			}
		})
	}
}

// TestCorpusComments checks packet comments against tshark 4.0.17
// (`tshark -r comments.pcapng -T fields -e frame.number -e frame.comment`).
func TestCorpusComments(t *testing.T) {
	r, err := Open(testutil.Corpus(t, "wireshark", "comments.pcapng"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got := map[uint64][]string{}
	for _, p := range collectPackets(t, r) {
		if p.comments != nil {
			got[p.frame] = p.comments
		}
	}
	exp := map[uint64][]string{3: {"hello hello"}, 4: {"goodbye goodbye"}}
	if len(got) != len(exp) || !slices.Equal(got[3], exp[3]) || !slices.Equal(got[4], exp[4]) {
		t.Errorf("comments %v, want %v", got, exp)
	}
}

func collectPackets(t *testing.T, r *Reader) []want { return collect(t, r) }

// TestCorpusNanosecond checks the timestamps of a pcapng with nanosecond
// if_tsresol against tshark 4.0.17 (`-T fields -e frame.time_epoch`).
func TestCorpusNanosecond(t *testing.T) {
	r, err := Open(testutil.Corpus(t, "wireshark", "dhcp-nanosecond.pcapng"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got := collect(t, r)
	exp := []time.Time{
		time.Unix(1102274184, 317453000), time.Unix(1102274184, 317748000),
		time.Unix(1102274184, 387484000), time.Unix(1102274184, 387798000),
	}
	if len(got) != len(exp) {
		t.Fatalf("%d packets, want %d", len(got), len(exp))
	}
	for i, w := range exp {
		if !got[i].time.Equal(w) {
			t.Errorf("frame %d: %s, want %s", i+1, got[i].time.Format(time.RFC3339Nano), w.Format(time.RFC3339Nano))
		}
	}
}
