package tcp

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tracewire/tracewire/internal/gencap"
	"github.com/tracewire/tracewire/internal/testutil"
	"github.com/tracewire/tracewire/pcap/internal/capture"
	"github.com/tracewire/tracewire/pcap/internal/decode"
	"github.com/tracewire/tracewire/pcap/internal/stream"
)

// reassemble returns the bytes of each connection of a capture, per
// direction, in connection order.
func reassemble(t *testing.T, path string) []*recorder {
	r, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var recs []*recorder
	a := New(Config{
		Factory: func(c *stream.Conn, _ stream.Sink) stream.Parser {
			rec := &recorder{conn: c}
			recs = append(recs, rec)
			return rec
		},
		Sink: nopSink{},
	})
	dec := decode.NewDecoder()
	for {
		p, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		d, err := dec.Decode(p)
		if err != nil || d.TCP == nil {
			continue
		}
		a.Add(&Packet{Src: d.Src, Dst: d.Dst, TCP: d.TCP, Time: p.Time, Frame: p.Frame})
	}
	a.Close()
	return recs
}

// follow is what tshark's "Follow TCP stream" shows for one stream: its
// first sender (node 0) and the bytes each node sent.
type follow struct {
	node0  string
	c0, c1 bytes.Buffer
}

// tsharkFollow runs tshark once for streams 0..n-1.
func tsharkFollow(t *testing.T, path string, n int) []*follow {
	args := []string{"-r", path, "-q"}
	for i := 0; i < n; i++ {
		args = append(args, "-z", "follow,tcp,raw,"+strconv.Itoa(i))
	}
	out, err := exec.Command("tshark", args...).Output()
	if err != nil && len(out) == 0 {
		// tshark exits 2 on a capture cut short, after its output.
		t.Fatalf("tshark: %v", err)
	}
	// The streams come out in any order; each says which it is.
	fs := make([]*follow, n)
	var cur *follow
	inBody := false
	for _, l := range strings.Split(string(out), "\n") {
		switch {
		case strings.HasPrefix(l, "Filter: tcp.stream eq "):
			i, err := strconv.Atoi(strings.TrimPrefix(l, "Filter: tcp.stream eq "))
			if err != nil || i < 0 || i >= n {
				t.Fatalf("tshark: %q", l)
			}
			cur = &follow{}
			fs[i] = cur
			inBody = false
			continue
		case cur == nil:
			continue
		case strings.HasPrefix(l, "Node 0: "):
			cur.node0 = strings.TrimSpace(strings.TrimPrefix(l, "Node 0: "))
			continue
		case strings.HasPrefix(l, "Node 1:"):
			inBody = true
			continue
		}
		if strings.HasPrefix(l, "====") || strings.HasPrefix(l, "Follow:") {
			inBody = false
			continue
		}
		if !inBody || l == "" {
			continue
		}
		dst := &cur.c0
		if strings.HasPrefix(l, "\t") {
			dst = &cur.c1
		}
		b, err := hex.DecodeString(strings.TrimSpace(l))
		if err != nil {
			t.Fatalf("tshark line %q: %v", l, err)
		}
		dst.Write(b)
	}
	return fs
}

// The reassembled bytes of each connection are those tshark's Follow TCP
// Stream shows, for captures with reordered, retransmitted and overlapping
// segments (our generator's, with half the messages disordered, and the
// corpus's). tshark is the oracle; the test skips without it.
func TestMatchesTsharkFollow(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("skipping: tshark is not installed")
	}
	gen := filepath.Join(t.TempDir(), "gen.pcap")
	f, err := os.Create(gen)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gencap.Write(f, gencap.Config{Seed: 9, Size: 300 << 10, Concurrent: 8, Disorder: 0.5}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	for _, rel := range [][]string{
		{"", gen},
		{"wireshark", "http-ooo.pcap"},
		{"pcap2har", "out-of-order.pcap"},
		{"pcap2har", "fhs.pcap"},
		{"zeek", "http_pipelined-requests.pcap"},
		{"zeek", "http_m57-long-49583-80.pcap"},
	} {
		p := rel[1]
		if rel[0] != "" {
			p = testutil.Corpus(t, rel...)
		}
		t.Run(filepath.Base(rel[1]), func(t *testing.T) {
			recs := reassemble(t, p)
			if len(recs) == 0 {
				t.Fatal("no connections")
			}
			fs := tsharkFollow(t, p, len(recs))
			for i, r := range recs {
				f := fs[i]
				if f == nil {
					t.Fatalf("tshark has no stream %d", i)
				}
				// tshark's node 0 is the first sender.
				gc, gs := r.data(stream.ClientToServer), r.data(stream.ServerToClient)
				if r.conn.Client.String() != f.node0 {
					gc, gs = gs, gc
				}
				if rel[1] == "out-of-order.pcap" && i == 10 {
					// The server answers the retransmitted SYN with a
					// second SYN/ACK carrying a new ISN (frame 468) and
					// sends from there. tshark's follow then shows nothing
					// from the server; we follow the new ISN, and the
					// server's bytes are its responses.
					if gc != f.c0.String() || f.c1.Len() != 0 || len(gs) < 300000 || !strings.HasPrefix(gs, "HTTP/1.0 200 OK\r\nServer: Microsoft-IIS/5.0\r\n") {
						t.Errorf("stream 10: %d/%d bytes; tshark %d/%d", len(gc), len(gs), f.c0.Len(), f.c1.Len())
					}
					continue
				}
				if gc != f.c0.String() || gs != f.c1.String() {
					t.Errorf("stream %d (%v→%v): %d/%d bytes, tshark %d/%d", i, r.conn.Client, r.conn.Server, len(gc), len(gs), f.c0.Len(), f.c1.Len())
				}
			}
		})
	}
}
