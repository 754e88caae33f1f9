package decode

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/tracewire/tracewire/pcap/internal/capture"
)

// segment is a TCP segment big enough to need three fragments.
// v4c sends a fragment with the same ID: a different datagram.
var v4c = netip.MustParseAddr("10.9.9.9")

var segment = tcp(49152, 80, 7, bytes.Repeat([]byte("0123456789abcdef"), 200))

type frag struct {
	off  int
	n    int // bytes of the segment from off; -1 for the rest
	more bool
	dt   time.Duration
	// corrupt changes the fragment's first byte (a conflicting overlap).
	corrupt bool
	src     netip.Addr // default v4a
	id      uint16
}

func fragments4(t *testing.T, frags []frag) []*capture.Packet {
	t.Helper()
	var pkts []*capture.Packet
	t0 := time.Unix(1_700_000_000, 0)
	for _, f := range frags {
		end := len(segment)
		if f.n >= 0 {
			end = f.off + f.n
		}
		data := bytes.Clone(segment[f.off:end])
		if f.corrupt {
			data[0] ^= 0xff
		}
		src := f.src
		if !src.IsValid() {
			src = v4a
		}
		id := f.id
		if id == 0 {
			id = 4242
		}
		pkts = append(pkts, &capture.Packet{Data: ipv4Frag(src, v4b, protoTCP, id, f.off, f.more, nil, data), LinkType: LinkRaw, Time: t0.Add(f.dt)})
	}
	return pkts
}

func TestDefragIPv4(t *testing.T) {
	whole := expect{src: v4a, dst: v4b, proto: 6, sport: 49152, dport: 80, payload: segment[20:], reassembled: true}
	for _, tc := range []struct {
		name  string
		frags []frag
		// outcomes per fragment
		want []outcome
	}{
		{"in-order", []frag{{0, 1600, true, 0, false, netip.Addr{}, 0}, {1600, 1600, true, 0, false, netip.Addr{}, 0}, {3200, -1, false, 0, false, netip.Addr{}, 0}}, []outcome{skip, skip, ok}},
		{"reversed", []frag{{3200, -1, false, 0, false, netip.Addr{}, 0}, {1600, 1600, true, 0, false, netip.Addr{}, 0}, {0, 1600, true, 0, false, netip.Addr{}, 0}}, []outcome{skip, skip, ok}},
		{"duplicate-and-consistent-overlap", []frag{{0, 1600, true, 0, false, netip.Addr{}, 0}, {0, 1600, true, 0, false, netip.Addr{}, 0}, {800, 1600, true, 0, false, netip.Addr{}, 0}, {1600, -1, false, 0, false, netip.Addr{}, 0}}, []outcome{skip, skip, skip, ok}},
		{"conflicting-overlap", []frag{{0, 1600, true, 0, false, netip.Addr{}, 0}, {800, 1600, true, 0, true, netip.Addr{}, 0}, {1600, -1, false, 0, false, netip.Addr{}, 0}}, []outcome{skip, bad, skip}},
		{"other-source-same-id", []frag{{0, 1600, true, 0, false, netip.Addr{}, 0}, {1600, -1, false, 0, false, v4c, 0}, {1600, -1, false, 0, false, netip.Addr{}, 0}}, []outcome{skip, skip, ok}},
		{"timed-out", []frag{{0, 1600, true, 0, false, netip.Addr{}, 0}, {1600, -1, false, 2 * time.Minute, false, netip.Addr{}, 0}}, []outcome{skip, skip}},
		{"not-multiple-of-8", []frag{{0, 1601, true, 0, false, netip.Addr{}, 0}}, []outcome{bad}},
		{"lengths-disagree", []frag{{1600, 800, false, 0, false, netip.Addr{}, 0}, {1600, -1, false, 0, false, netip.Addr{}, 0}}, []outcome{skip, bad}},
		{"beyond-last", []frag{{1600, 800, false, 0, false, netip.Addr{}, 0}, {2400, 800, true, 0, false, netip.Addr{}, 0}}, []outcome{skip, bad}},
		{"last-before-data", []frag{{2400, 800, true, 0, false, netip.Addr{}, 0}, {1600, 800, false, 0, false, netip.Addr{}, 0}}, []outcome{skip, bad}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDecoder()
			for i, pkt := range fragments4(t, tc.frags) {
				p, err := d.Decode(pkt)
				check(t, tc.name, p, err, tc.want[i], whole)
			}
		})
	}
}

func TestDefragIPv4Beyond64K(t *testing.T) {
	d := NewDecoder()
	pkt := ipv4Frag(v4a, v4b, protoUDP, 1, 65528, false, nil, make([]byte, 100))
	_, err := d.Decode(&capture.Packet{Data: pkt, LinkType: LinkRaw})
	check(t, "beyond 64 KiB", nil, err, bad, expect{})
}

func TestDefragIPv6(t *testing.T) {
	// The fragmentable part starts with a destination options header.
	payload := cat(ext6(protoTCP, 0), segment)
	const id = 0xabcdef
	mk := func(off, end int, more bool) *capture.Packet {
		return &capture.Packet{LinkType: LinkRaw, Data: ipv6(v6a, v6b, protoHopByHop,
			cat(ext6(protoFragment, 0), frag6(protoDstOpts, off, more, id), payload[off:end]))}
	}
	d := NewDecoder()
	whole := expect{src: v6a, dst: v6b, proto: 6, sport: 49152, dport: 80, payload: segment[20:], reassembled: true}
	for i, tc := range []struct {
		pkt  *capture.Packet
		want outcome
	}{
		{mk(1448, len(payload), false), skip},
		{mk(0, 1448, true), ok},
	} {
		p, err := d.Decode(tc.pkt)
		check(t, "ipv6 fragment "+string(rune('0'+i)), p, err, tc.want, whole)
	}
}

// TestDefragLimits floods the decoder with first fragments that never
// complete: pending state stays bounded.
func TestDefragLimits(t *testing.T) {
	d := NewDecoder()
	for i := range 3 * maxPending {
		pkt := ipv4Frag(v4a, v4b, protoUDP, uint16(i), 0, true, nil, make([]byte, 1480))
		if _, err := d.Decode(&capture.Packet{Data: pkt, LinkType: LinkRaw, Time: time.Unix(int64(i/100), 0)}); !errors.Is(err, ErrSkip) {
			t.Fatalf("fragment %d: %v", i, err)
		}
		if len(d.frag.pending) > maxPending || d.frag.bytes > maxPendingBytes {
			t.Fatalf("after %d fragments: %d pending, %d bytes", i, len(d.frag.pending), d.frag.bytes)
		}
	}
	// Many tiny separated pieces of one datagram are refused past maxSpans.
	d = NewDecoder()
	var err error
	for i := 0; i <= maxSpans && err == nil; i++ {
		pkt := ipv4Frag(v4a, v4b, protoUDP, 7, i*16, true, nil, make([]byte, 8))
		_, err = d.Decode(&capture.Packet{Data: pkt, LinkType: LinkRaw})
		if errors.Is(err, ErrSkip) {
			err = nil
		}
	}
	check(t, "too many spans", nil, err, bad, expect{})
}

// TestDefragTruncated: a fragment cut by the snap length cannot be used.
func TestDefragTruncated(t *testing.T) {
	pkt := ipv4Frag(v4a, v4b, protoTCP, 1, 0, true, nil, segment[:1600])
	_, err := NewDecoder().Decode(&capture.Packet{Data: pkt[:100], LinkType: LinkRaw})
	check(t, "truncated fragment", nil, err, skip, expect{})
}
