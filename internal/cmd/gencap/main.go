// Command gencap writes deterministic synthetic captures (see
// internal/gencap), for benchmarks and fixtures: cleartext HTTP/1.1 traffic
// of any size, or the README's tracking sample (cleartext and TLS 1.3 with
// its keys embedded):
//
//	go run ./internal/cmd/gencap -size 1GiB -o testdata/bench/big.pcap
//	go run ./internal/cmd/gencap -sample -o testdata/sample/tracking.pcapng
//	go run ./internal/cmd/gencap -keepalive 1000 -lose-response 2 -copies 150 -o gaps.pcap
//	go run ./internal/cmd/gencap -websocket -o websockets.pcapng
//
// The format follows the extension: .pcapng or pcap otherwise.
//
// The sample's TLS connections are reproducible only when crypto/ecdh uses
// the seeded tls.Config.Rand (gencap.SeededRand), hence:
//
//go:debug cryptocustomrand=1
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/tracewire/tracewire/internal/atomicfile"
	"github.com/tracewire/tracewire/internal/gencap"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "gencap:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("gencap", flag.ContinueOnError)
	out := fs.String("o", "", "output file (.pcap or .pcapng)")
	size := fs.String("size", "10MiB", "approximate size: bytes, or with a KiB, MiB or GiB suffix")
	seed := fs.Uint64("seed", 1, "random seed")
	conc := fs.Int("concurrent", 64, "connections open at a time")
	disorder := fs.Float64("disorder", 0.05, "probability of swapped and retransmitted segments per message (negative: none)")
	sample := fs.Bool("sample", false, "write the tracking sample instead (testdata/sample/tracking.pcapng)")
	keepalive := fs.Int("keepalive", 0, "write copies of one keep-alive connection of this many requests instead (see -lose-response)")
	loseResp := fs.Int("lose-response", 0, "with -keepalive: the response (0-based) one of whose segments the capture lost (negative: none)")
	loseSeg := fs.Int("lose-segment", 1, "with -keepalive: which segment of that response was lost (0: the one with the headers)")
	bodySize := fs.Int("body", 3000, "with -keepalive: response body size")
	copies := fs.Int("copies", 1, "with -keepalive: number of copies, each from another client address")
	step := fs.Duration("step", 20*time.Second, "with -keepalive: time between the starts of two copies")
	openFlows := fs.Int("open-flows", 0, "write this many connections that each send a partial request and never close, instead")
	websocket := fs.Bool("websocket", false, "write WebSocket connections instead: HTTP/1.1 upgrades and HTTP/2 extended CONNECTs, with and without permessage-deflate")
	start := fs.String("start", "2024-01-01T00:00:00Z", "with -keepalive or -websocket: time of the first packet (RFC 3339)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() > 0 {
		return fmt.Errorf("usage: gencap [-size N] [-seed N] [-sample] -o FILE")
	}
	n, err := parseSize(*size)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		return err
	}
	f, err := atomicfile.Create(*out, 0o644)
	if err != nil {
		return err
	}
	defer f.Abort()
	if *openFlows > 0 {
		t0, err := time.Parse(time.RFC3339Nano, *start)
		if err != nil {
			return fmt.Errorf("-start: %w", err)
		}
		if err := gencap.WriteOpenFlows(f, gencap.FormatOf(*out), t0, *openFlows); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "%s: %d open connections\n", *out, *openFlows)
		return f.Commit()
	}
	if *keepalive > 0 {
		t0, err := time.Parse(time.RFC3339Nano, *start)
		if err != nil {
			return fmt.Errorf("-start: %w", err)
		}
		k := gencap.KeepAlive{Requests: *keepalive, BodySize: *bodySize, LostResponse: *loseResp, LostSegment: *loseSeg}
		if err := gencap.WriteKeepAlives(f, gencap.FormatOf(*out), t0, *step, *copies, k); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "%s: %d keep-alive connections of %d requests\n", *out, *copies, *keepalive)
		return f.Commit()
	}
	if *websocket {
		t0, err := time.Parse(time.RFC3339Nano, *start)
		if err != nil {
			return fmt.Errorf("-start: %w", err)
		}
		conns, err := gencap.WriteWebSockets(f, gencap.FormatOf(*out), t0)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "%s: %d WebSocket connections\n", *out, len(conns))
		return f.Commit()
	}
	if *sample {
		reqs, err := gencap.WriteTracking(f)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "%s: %d requests\n", *out, len(reqs))
		return f.Commit()
	}
	st, err := gencap.Write(f, gencap.Config{
		Seed: *seed, Size: n, Format: gencap.FormatOf(*out),
		Concurrent: *conc, Disorder: *disorder,
	})
	if err != nil {
		return err
	}
	if err := f.Commit(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%s: %d bytes, %d packets, %d connections, %d requests (%d POST), %d chunked, %d gzip responses\n",
		*out, st.Bytes, st.Packets, st.Conns, st.Requests, st.Posts, st.Chunked, st.Gzip)
	return nil
}

func parseSize(s string) (int64, error) {
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSuffix(s, u.suffix), u.m
			break
		}
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return int64(v * float64(mult)), nil
}
