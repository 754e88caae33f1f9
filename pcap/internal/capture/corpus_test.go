package capture

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/klauspost/compress/gzip"

	"github.com/tracewire/tracewire/internal/testutil"
)

// CorpusCaptures returns every capture file under the corpus directory,
// sorted by slash path relative to it.
func corpusCaptures(t testing.TB, root string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		name := d.Name()
		for _, ext := range []string{".pcap", ".pcapng", ".pcap.gz", ".pcapng.gz"} {
			if strings.HasSuffix(name, ext) {
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

// tsharkCounts maps corpus-relative paths to the pk= column of
// tshark-4.0.17-counts.txt. The file names only base names, and some repeat
// across folders (http.pcap, empty.pcap); its lines without extra tshark
// arguments follow the sorted order of the relative paths, so each line is
// matched to the next file in that order with the same base name.
func tsharkCounts(t testing.TB, root string, files []string) map[string]int {
	t.Helper()
	f, err := os.Open(filepath.Join(root, "tshark-4.0.17-counts.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]int{}
	next := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "|")
		if len(fields) < 12 || !strings.HasPrefix(fields[1], "pk=") {
			continue // a stray note line
		}
		if fields[11] != "args=" {
			continue // a re-count with dissector options; pk is the same
		}
		pk, err := strconv.Atoi(strings.TrimPrefix(fields[1], "pk="))
		if err != nil {
			t.Fatalf("counts line %q: %v", sc.Text(), err)
		}
		i := next
		for i < len(files) && filepath.Base(files[i]) != fields[0] {
			i++
		}
		if i == len(files) {
			// A repeated line (the file ends with one): it must agree.
			if prev, ok := countFor(out, fields[0]); ok && prev == pk {
				continue
			}
			t.Fatalf("counts line for %s matches no corpus file after %s", fields[0], files[max(next-1, 0)])
		}
		out[files[i]] = pk
		next = i + 1
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func countFor(counts map[string]int, base string) (int, bool) {
	for rel, pk := range counts {
		if filepath.Base(rel) == base {
			return pk, true
		}
	}
	return 0, false
}

// readAll reads a capture to the end and returns its frame count as
// Wireshark numbers frames (packets plus custom blocks).
func readAll(t testing.TB, path string) (frames int, warnings []Warning, err error) {
	t.Helper()
	r, err := Open(path)
	if err != nil {
		return 0, nil, err
	}
	defer r.Close()
	var last uint64
	n := 0
	for {
		p, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: Next returned %v, want only io.EOF", path, err)
		}
		if p.Frame <= last {
			t.Fatalf("%s: frame %d after %d", path, p.Frame, last)
		}
		if len(p.Data) > p.OrigLen && p.OrigLen != 0 {
			// Allowed by the formats but worth knowing when it happens.
			t.Logf("%s: frame %d has %d captured bytes > original length %d", path, p.Frame, len(p.Data), p.OrigLen)
		}
		last = p.Frame
		n++
	}
	if uint64(n) != r.Frames() {
		t.Logf("%s: %d packets, %d frames (custom blocks count as frames)", path, n, r.Frames())
	}
	return int(r.Frames()), r.Warnings(), nil
}

// extraCounts are tshark 4.0.17's packet counts for the corpus captures the
// counts file does not list, made with
// `tshark -r F -T fields -e frame.number | wc -l` (the same in le/ and be/).
// test901 has a version 2 section after its first packet: tshark reads the
// packet, then stops with "contains record data that TShark doesn't
// support", as we do.
var extraCounts = map[string]int{
	"test001.pcapng": 4, "test002.pcapng": 0, "test003.pcapng": 0, "test004.pcapng": 4,
	"test005.pcapng": 4, "test006.pcapng": 5, "test007.pcapng": 1, "test008.pcapng": 4,
	"test009.pcapng": 2, "test010.pcapng": 4, "test011.pcapng": 4, "test012.pcapng": 4,
	"test013.pcapng": 0, "test014.pcapng": 0, "test015.pcapng": 0, "test016.pcapng": 4,
	"test017.pcapng": 4, "test018.pcapng": 8, "test100.pcapng": 5, "test101.pcapng": 4,
	"test102.pcapng": 8, "test200.pcapng": 0, "test201.pcapng": 4, "test202.pcapng": 11,
	"test901.pcapng": 1, "test902.pcapng": 1,
	"dsb-dump.pcapng": 1095, "dsb-tls3.cryptohack.org.pcapng": 33, "test301-baidu-tls12-dsb.pcapng": 276,
}

// TestCorpusPacketCounts reads every capture in the corpus and compares the
// number of packets with tshark's.
func TestCorpusPacketCounts(t *testing.T) {
	root := testutil.Corpus(t)
	files := corpusCaptures(t, root)
	want := tsharkCounts(t, root, files)
	if len(want) < 88 {
		t.Fatalf("only %d files matched the tshark counts", len(want))
	}
	for _, rel := range files {
		t.Run(rel, func(t *testing.T) {
			frames, warnings, err := readAll(t, filepath.Join(root, rel))
			for _, w := range warnings {
				t.Logf("warning: %s", w)
			}
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			pk, ok := want[rel]
			if !ok {
				pk, ok = extraCounts[filepath.Base(rel)]
			}
			if !ok {
				t.Fatalf("%d frames, but no tshark count for %s", frames, rel)
			}
			if frames != pk {
				t.Errorf("%d frames, tshark counts %d", frames, pk)
			}
		})
	}
}

// oracleReader reads a capture with gopacket's pcapgo, the independent
// implementation the packet data, lengths, timestamps, link types and
// comments are compared with.
type oracleReader struct {
	pcap *pcapgo.Reader
	ng   *pcapgo.NgReader
}

func openOracle(t *testing.T, path string) (*oracleReader, func()) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var rd io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		rd = zr
	}
	br := bufio.NewReader(rd)
	magic, _ := br.Peek(4)
	o := &oracleReader{}
	if string(magic) == "\n\r\r\n" {
		o.ng, err = pcapgo.NewNgReader(br, pcapgo.NgReaderOptions{WantMixedLinkType: true})
	} else {
		o.pcap, err = pcapgo.NewReader(br)
	}
	if err != nil {
		f.Close()
		return nil, nil
	}
	return o, func() { f.Close() }
}

type oraclePacket struct {
	data     []byte
	ci       gopacket.CaptureInfo
	link     uint16
	comments []string
}

func (o *oracleReader) next() (oraclePacket, error) {
	if o.pcap != nil {
		data, ci, err := o.pcap.ReadPacketData()
		return oraclePacket{data: data, ci: ci, link: uint16(o.pcap.LinkType())}, err
	}
	data, ci, opts, err := o.ng.ReadPacketDataWithOptions()
	p := oraclePacket{data: data, ci: ci, comments: opts.Comments}
	if err == nil && len(ci.AncillaryData) > 0 {
		if lt, ok := ci.AncillaryData[0].(layers.LinkType); ok {
			p.link = uint16(lt)
		}
	}
	return p, err
}

// TestCorpusAgainstPcapgo compares every packet we read from every corpus
// capture with what gopacket's pcapgo reads, for as long as pcapgo can read
// the file (it stops at damage and at blocks it does not know, where we go
// on).
func TestCorpusAgainstPcapgo(t *testing.T) {
	root := testutil.Corpus(t)
	compared := 0
	for _, rel := range corpusCaptures(t, root) {
		t.Run(rel, func(t *testing.T) {
			path := filepath.Join(root, rel)
			o, done := openOracle(t, path)
			if o == nil {
				t.Skip("pcapgo cannot open it")
			}
			defer done()
			r, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			for {
				want, oerr := o.next()
				if oerr != nil {
					if !errors.Is(oerr, io.EOF) {
						t.Logf("pcapgo stops: %v", oerr)
					}
					return
				}
				got, err := r.Next()
				if err != nil {
					t.Fatalf("we stop (%v) where pcapgo reads a packet", err)
				}
				compared++
				switch {
				case !bytes.Equal(got.Data, want.data):
					t.Fatalf("frame %d: data differs", got.Frame)
				case got.OrigLen != want.ci.Length:
					t.Fatalf("frame %d: original length %d, pcapgo %d", got.Frame, got.OrigLen, want.ci.Length)
				case !got.Time.Equal(want.ci.Timestamp):
					t.Fatalf("frame %d: time %v, pcapgo %v", got.Frame, got.Time, want.ci.Timestamp)
				case got.LinkType != want.link:
					t.Fatalf("frame %d: link type %d, pcapgo %d", got.Frame, got.LinkType, want.link)
				case o.ng != nil && !slices.Equal(got.Comments, want.comments):
					t.Fatalf("frame %d: comments %q, pcapgo %q", got.Frame, got.Comments, want.comments)
				case o.ng != nil && got.Interface != want.ci.InterfaceIndex:
					t.Fatalf("frame %d: interface %d, pcapgo %d", got.Frame, got.Interface, want.ci.InterfaceIndex)
				}
			}
		})
	}
	t.Logf("%d packets compared", compared)
}
