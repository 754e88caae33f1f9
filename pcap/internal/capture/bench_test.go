package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
)

// benchPackets is the size mix of the benchmark captures: mostly full
// segments and ACKs, like an HTTP download.
var benchSizes = []int{1514, 66, 1514, 1514, 66, 590, 1514, 66}

const benchCount = 40_000

func benchFile(b *testing.B, name string, data []byte) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		b.Fatal(err)
	}
	return path
}

func benchPcapng() []byte {
	ng := &ngBuilder{}
	ng.shb(binary.LittleEndian)
	ng.idb(1, 262144, opt{ifTSResol, []byte{9}})
	for i := range benchCount {
		n := benchSizes[i%len(benchSizes)]
		ng.epb(0, 1_700_000_000_000_000_000+uint64(i)*1000, frameData(i, n), uint32(n))
	}
	return ng.buf.Bytes()
}

func benchPcap() []byte {
	pc := newPcap(binary.LittleEndian, magicMicro, 262144, 1)
	t0 := time.Unix(1_700_000_000, 0)
	for i := range benchCount {
		n := benchSizes[i%len(benchSizes)]
		pc.record(t0.Add(time.Duration(i)*time.Microsecond), frameData(i, n), uint32(n))
	}
	return pc.buf.Bytes()
}

func gzipped(data []byte) []byte {
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.DefaultCompression)
	zw.Write(data)
	zw.Close()
	return gz.Bytes()
}

func runRead(b *testing.B, path string, rawSize int) {
	b.SetBytes(int64(rawSize))
	b.ReportAllocs()
	packets := 0
	for b.Loop() {
		r, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		for {
			_, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			packets++
		}
		r.Close()
	}
	b.ReportMetric(float64(packets)/b.Elapsed().Seconds(), "packets/s")
}

// BenchmarkRead reads ~30 MB captures from a file; MB/s counts the
// uncompressed capture bytes.
func BenchmarkRead(b *testing.B) {
	ng, pc := benchPcapng(), benchPcap()
	b.Run("pcapng", func(b *testing.B) { runRead(b, benchFile(b, "b.pcapng", ng), len(ng)) })
	b.Run("pcap", func(b *testing.B) { runRead(b, benchFile(b, "b.pcap", pc), len(pc)) })
	b.Run("pcapng.gz", func(b *testing.B) { runRead(b, benchFile(b, "b.pcapng.gz", gzipped(ng)), len(ng)) })
}

// BenchmarkSecrets walks the block headers of a capture for its DSBs.
func BenchmarkSecrets(b *testing.B) {
	ng := benchPcapng()
	path := benchFile(b, "b.pcapng", ng)
	b.SetBytes(int64(len(ng)))
	for b.Loop() {
		if _, err := Secrets(path); err != nil {
			b.Fatal(err)
		}
	}
}
