// The sample's TLS connections are reproducible only when crypto/ecdh uses
// tls.Config.Rand (see SeededRand).
//
//go:debug cryptocustomrand=1
package gencap

import (
	"bytes"
	"crypto/sha256"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tracewire/tracewire/internal/testutil"
)

var update = flag.Bool("update", false, "rewrite testdata/sample/tracking.pcapng")

func TestDeterministic(t *testing.T) {
	for _, f := range []Format{PCAP, PCAPNG} {
		var a, b bytes.Buffer
		sa, err := Write(&a, Config{Seed: 7, Size: 1 << 20, Format: f})
		if err != nil {
			t.Fatal(err)
		}
		sb, _ := Write(&b, Config{Seed: 7, Size: 1 << 20, Format: f})
		if !bytes.Equal(a.Bytes(), b.Bytes()) || sa != sb {
			t.Fatalf("format %d: two runs differ", f)
		}
		var c bytes.Buffer
		Write(&c, Config{Seed: 8, Size: 1 << 20, Format: f})
		if bytes.Equal(a.Bytes(), c.Bytes()) {
			t.Fatalf("format %d: the seed changes nothing", f)
		}
		if sa.Bytes != int64(a.Len()) || sa.Requests == 0 || sa.Posts == 0 || sa.Chunked == 0 || sa.Gzip == 0 {
			t.Errorf("format %d: stats %+v for %d bytes", f, sa, a.Len())
		}
	}
}

func TestSize(t *testing.T) {
	for _, size := range []int64{0, 64 << 10, 4 << 20} {
		var b bytes.Buffer
		st, err := Write(&b, Config{Seed: 1, Size: size, Concurrent: 16})
		if err != nil {
			t.Fatal(err)
		}
		// Connections open when the size is reached still finish their
		// current exchange, so the file overshoots by a bounded amount.
		if int64(b.Len()) < size || int64(b.Len()) > size+16*2<<20 {
			t.Errorf("size %d: wrote %d", size, b.Len())
		}
		if size == 0 && st.Conns != 0 {
			t.Errorf("size 0: %d connections", st.Conns)
		}
	}
}

// The committed sample is exactly what the generator writes.
func TestSampleIsGenerated(t *testing.T) {
	var b bytes.Buffer
	reqs, err := WriteTracking(&b)
	if err != nil {
		if strings.Contains(err.Error(), "TLS_AES_128_GCM_SHA256") {
			t.Skipf("this machine's crypto/tls negotiates another suite, so the sample cannot be reproduced here: %v", err)
		}
		t.Fatal(err)
	}
	if !slices.Equal(reqs, TrackingRequests()) || len(reqs) != 8 {
		t.Errorf("requests %v", reqs)
	}
	p := filepath.Join(testutil.RepoRoot(), "testdata", "sample", "tracking.pcapng")
	if *update {
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(old, b.Bytes()) {
		t.Errorf("%s (sha256 %x) differs from the generator's output (sha256 %x); "+
			"after a change to the generator or to Go's crypto/tls, run go test ./internal/gencap -run TestSampleIsGenerated -update",
			p, sha256.Sum256(old), sha256.Sum256(b.Bytes()))
	}
}

func TestParseFormat(t *testing.T) {
	if FormatOf("a.pcapng") != PCAPNG || FormatOf("a.pcap") != PCAP || FormatOf("x") != PCAP {
		t.Error("FormatOf")
	}
}
