// The sample's TLS connections are reproducible only when crypto/ecdh uses
// tls.Config.Rand (see SeededRand).
//
//go:debug cryptocustomrand=1
package gencap

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
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
		if errors.Is(err, ErrOtherSuite) {
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

// Two runs in one process give the same bytes too, and the file is small.
func TestSampleDeterministic(t *testing.T) {
	var a, b bytes.Buffer
	if _, err := WriteTracking(&a); errors.Is(err, ErrOtherSuite) {
		t.Skip(err)
	} else if err != nil {
		t.Fatal(err)
	}
	if _, err := WriteTracking(&b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("two runs differ")
	}
	if a.Len() > 64<<10 {
		t.Errorf("the sample has grown to %d bytes", a.Len())
	}
}

// The keys go first, in a Decryption Secrets Block after the section and
// interface headers, and only pcapng can hold them.
func TestSecrets(t *testing.T) {
	var b bytes.Buffer
	cw, err := NewConnWriter(&b, PCAPNG, DefaultStart)
	if err != nil {
		t.Fatal(err)
	}
	kl := []byte("CLIENT_TRAFFIC_SECRET_0 00 11\n")
	if err := cw.Secrets(kl); err != nil {
		t.Fatal(err)
	}
	if err := cw.Flush(); err != nil {
		t.Fatal(err)
	}
	hdr := b.Len() - 20 - len(kl) - (4-len(kl)%4)%4
	blk := b.Bytes()[hdr:]
	if le := binary.LittleEndian; le.Uint32(blk) != 10 || le.Uint32(blk[4:]) != uint32(len(blk)) || le.Uint32(blk[len(blk)-4:]) != uint32(len(blk)) ||
		le.Uint32(blk[8:]) != 0x544c534b || le.Uint32(blk[12:]) != uint32(len(kl)) || !bytes.Equal(blk[16:16+len(kl)], kl) {
		t.Errorf("block %x", blk)
	}
	cw, _ = NewConnWriter(io.Discard, PCAP, DefaultStart)
	if err := cw.Secrets(kl); err == nil {
		t.Error("secrets in a pcap file")
	}
}

func TestParseFormat(t *testing.T) {
	if FormatOf("a.pcapng") != PCAPNG || FormatOf("a.pcap") != PCAP || FormatOf("x") != PCAP {
		t.Error("FormatOf")
	}
}
