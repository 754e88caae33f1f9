package quic

import (
	"slices"
)

// reasm puts the data of a CRYPTO or STREAM sequence back in order by
// offset: out-of-order pieces wait, retransmitted or overlapping bytes are
// given once. Memory is bounded by maxPending; past it the earliest hole
// is given up as lost.
type reasm struct {
	next    uint64 // offset of the next byte to deliver
	pending []segment
	held    int
	// fin is the final size once known (-1 before).
	fin int64
}

type segment struct {
	off  uint64
	data []byte
	m    Meta
}

// maxPending bounds the bytes a sequence holds while waiting for a hole.
const maxPending = 4 << 20

func newReasm() *reasm { return &reasm{fin: -1} }

// add takes the bytes at off (copied when they must wait) and calls out
// with every run that is now in order; skip is the number of bytes lost
// before the run (0 normally).
func (r *reasm) add(off uint64, data []byte, m Meta, out func(data []byte, skip uint64, m Meta)) {
	end := off + uint64(len(data))
	if end <= r.next {
		return // retransmission of delivered bytes
	}
	if off < r.next {
		data = data[r.next-off:]
		off = r.next
	}
	if off == r.next && len(r.pending) == 0 {
		r.next = end
		out(data, 0, m)
		return
	}
	i, _ := slices.BinarySearchFunc(r.pending, off, func(s segment, o uint64) int {
		switch {
		case s.off < o:
			return -1
		case s.off > o:
			return 1
		}
		return 0
	})
	r.pending = slices.Insert(r.pending, i, segment{off: off, data: append([]byte(nil), data...), m: m})
	r.held += len(data)
	r.drain(out)
	for r.held > maxPending && len(r.pending) > 0 {
		r.skipTo(r.pending[0].off, out)
	}
}

// drain delivers the pending segments that are now in order.
func (r *reasm) drain(out func([]byte, uint64, Meta)) {
	for len(r.pending) > 0 && r.pending[0].off <= r.next {
		s := r.pending[0]
		r.pending = r.pending[1:]
		r.held -= len(s.data)
		end := s.off + uint64(len(s.data))
		if end <= r.next {
			continue
		}
		d := s.data[r.next-s.off:]
		r.next = end
		out(d, 0, s.m)
	}
	if len(r.pending) == 0 {
		r.pending = nil
	}
}

// skipTo gives up the bytes before off as lost and delivers what follows.
func (r *reasm) skipTo(off uint64, out func([]byte, uint64, Meta)) {
	if off <= r.next {
		r.drain(out)
		return
	}
	lost := off - r.next
	r.next = off
	if len(r.pending) > 0 && r.pending[0].off == off {
		s := r.pending[0]
		r.pending = r.pending[1:]
		r.held -= len(s.data)
		r.next = off + uint64(len(s.data))
		out(s.data, lost, s.m)
	} else {
		out(nil, lost, Meta{})
	}
	r.drain(out)
}

// flush gives up every hole: what waits is delivered after the bytes
// lost before it.
func (r *reasm) flush(out func([]byte, uint64, Meta)) {
	for len(r.pending) > 0 {
		r.skipTo(r.pending[0].off, out)
	}
}

// complete reports whether every byte up to the final size was delivered.
func (r *reasm) complete() bool { return r.fin >= 0 && r.next >= uint64(r.fin) }
