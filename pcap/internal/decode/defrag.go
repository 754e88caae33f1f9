package decode

import (
	"bytes"
	"errors"
	"net/netip"
	"slices"
	"time"
)

// Limits of IP fragment reassembly: state is bounded however many
// fragments a capture holds, and a datagram whose fragments stop coming is
// dropped after fragTimeout of capture time (Linux uses 30 s; a capture may
// be slower to show them, so we wait longer).
const (
	maxDatagram     = 65535
	maxPending      = 1024
	maxPendingBytes = 64 << 20
	maxSpans        = 1024
	fragTimeout     = 60 * time.Second
)

type fragKey struct {
	src, dst netip.Addr
	id       uint32
	proto    uint8 // IPv4 keys include the protocol (RFC 791); IPv6 keys do not
	v6       bool
}

type span struct{ start, end int }

// datagram is an IP datagram being reassembled, or the last completed one.
type datagram struct {
	data  []byte
	spans []span // sorted, non-adjacent byte ranges received so far
	total int    // payload length once the last fragment arrived, else -1
	proto uint8  // protocol from the first fragment (IPv6: its next header)
	first time.Time
	seq   uint64 // creation order, for deterministic eviction
}

type defragmenter struct {
	now       time.Time
	pending   map[fragKey]*datagram
	bytes     int
	lastSweep time.Time
	seq       uint64
	done      datagram // returned to the caller, valid until the next add
}

func newDefragmenter() defragmenter {
	return defragmenter{pending: map[fragKey]*datagram{}}
}

var errOverlap = errors.New("fragments overlap with different data")

// add stores a fragment (payload data at byte offset off). It returns the
// reassembled datagram when this fragment completes one, nil and ErrSkip
// while it is still incomplete, or an error when the fragments contradict
// each other (the datagram is then dropped: which copy the receiver used
// cannot be known).
func (f *defragmenter) add(key fragKey, off int, data []byte, more bool, proto uint8, truncated bool) (*datagram, error) {
	if truncated {
		// The snap length cut this fragment: the datagram can never be whole.
		return nil, ErrSkip
	}
	end := off + len(data)
	if end > maxDatagram {
		return nil, malformed("ip fragment at offset %d with %d bytes exceeds 64 KiB", off, len(data))
	}
	if more && len(data)%8 != 0 {
		return nil, malformed("ip fragment of %d bytes is not the last but not a multiple of 8", len(data))
	}
	f.sweep()
	dg := f.pending[key]
	if dg == nil {
		if len(f.pending) >= maxPending {
			f.evictOldest()
		}
		f.seq++
		dg = &datagram{total: -1, first: f.now, seq: f.seq}
		f.pending[key] = dg
	}
	if !more {
		if dg.total >= 0 && dg.total != end {
			f.drop(key, dg)
			return nil, malformed("ip fragments disagree on the datagram length (%d and %d)", dg.total, end)
		}
		if n := len(dg.spans); n > 0 && dg.spans[n-1].end > end {
			f.drop(key, dg)
			return nil, malformed("ip fragment data beyond the last fragment's end %d", end)
		}
		dg.total = end
	} else if dg.total >= 0 && end > dg.total {
		f.drop(key, dg)
		return nil, malformed("ip fragment data beyond the last fragment's end %d", dg.total)
	}
	if end > len(dg.data) {
		old := cap(dg.data)
		dg.data = slices.Grow(dg.data, end-len(dg.data))[:end]
		f.bytes += cap(dg.data) - old
	}
	for _, s := range dg.spans {
		lo, hi := max(s.start, off), min(s.end, end)
		if lo < hi && !bytes.Equal(dg.data[lo:hi], data[lo-off:hi-off]) {
			f.drop(key, dg)
			return nil, malformed("ip datagram %d: %w", key.id, errOverlap)
		}
	}
	copy(dg.data[off:end], data)
	if off == 0 {
		dg.proto = proto
	}
	dg.spans = insertSpan(dg.spans, span{off, end})
	if len(dg.spans) > maxSpans {
		f.drop(key, dg)
		return nil, malformed("ip datagram %d: more than %d separate fragments", key.id, maxSpans)
	}
	for f.bytes > maxPendingBytes && len(f.pending) > 0 {
		f.evictOldest()
	}
	if dg.total < 0 || len(dg.spans) != 1 || dg.spans[0] != (span{0, dg.total}) {
		return nil, ErrSkip
	}
	delete(f.pending, key)
	f.bytes -= cap(dg.data)
	f.done = datagram{data: dg.data[:dg.total], proto: dg.proto, total: dg.total}
	return &f.done, nil
}

// insertSpan adds s to the sorted spans, merging touching ones.
func insertSpan(spans []span, s span) []span {
	i := 0
	for i < len(spans) && spans[i].end < s.start {
		i++
	}
	j := i
	for j < len(spans) && spans[j].start <= s.end {
		s.start = min(s.start, spans[j].start)
		s.end = max(s.end, spans[j].end)
		j++
	}
	return slices.Replace(spans, i, j, s)
}

func (f *defragmenter) drop(key fragKey, dg *datagram) {
	f.bytes -= cap(dg.data)
	delete(f.pending, key)
}

func (f *defragmenter) evictOldest() {
	var oldKey fragKey
	var old *datagram
	for k, dg := range f.pending {
		if old == nil || dg.seq < old.seq {
			oldKey, old = k, dg
		}
	}
	if old != nil {
		f.drop(oldKey, old)
	}
}

// sweep drops datagrams older than fragTimeout, at most once per second of
// capture time.
func (f *defragmenter) sweep() {
	if len(f.pending) == 0 || f.now.Sub(f.lastSweep).Abs() < time.Second {
		return
	}
	f.lastSweep = f.now
	for k, dg := range f.pending {
		if f.now.Sub(dg.first) > fragTimeout {
			f.drop(k, dg)
		}
	}
}
