package har

import "math/bits"

// The structural scan finds where an entry ends 64 bytes at a time, in the
// manner of simdjson's first stage: for each 64-byte block, bitmasks of
// its quotes, backslashes, opening and closing brackets; escaped quotes
// are removed with carries between blocks, a prefix XOR of the quotes
// marks the bytes inside strings, and only the brackets outside strings
// are counted, with two popcounts per block where the depth can neither
// reach 0 nor pass maxDepth in the block (nearly always). A kernel
// (scanKernel: AVX2 assembly on amd64, scanKernelGeneric in Go as the
// reference) runs such blocks and stops at the first other one, which Go
// walks bracket by bracket. It is exact where valueScanner's byte loop is
// the reference: a backslash outside a string (malformed JSON, where the
// two could differ) hands the value back to that loop.

// scanState is the state between blocks, which the kernel reads and
// updates.
type scanState struct {
	depth int
	inStr uint64 // all ones inside a string
	esc   uint64 // 1 when the next block's first byte is escaped
	// open and close are the brackets outside strings of the block the
	// kernel stopped at with kernelSlow.
	open, close uint64
}

// What the kernel returns besides the offset of the block it stopped at.
const (
	kernelDone    = iota // every block ran; the offset is their length
	kernelSlow           // this block needs walking: depth is the depth before it, the rest is after it
	kernelAnomaly        // a backslash outside strings in this block; the state is the one before it
)

// Masks of one block, in this order, in structMasksGeneric's output.
const (
	mQuote = iota
	mBackslash
	mOpen
	mClose
	nMasks
)

// structMasksGeneric is kernelMasks in plain Go, the reference for the
// assembly kernel (used by tests only: where there is no kernel, the byte
// loop is faster than masks computed a byte at a time).
func structMasksGeneric(src []byte, dst []uint64) {
	for k := 0; k+64 <= len(src); k += 64 {
		var q, bs, o, c uint64
		for j, ch := range src[k : k+64] {
			bit := uint64(1) << j
			switch ch {
			case '"':
				q |= bit
			case '\\':
				bs |= bit
			case '{', '[':
				o |= bit
			case '}', ']':
				c |= bit
			}
		}
		d := dst[k/64*nMasks:]
		d[mQuote], d[mBackslash], d[mOpen], d[mClose] = q, bs, o, c
	}
}

const evenBits = 0x5555555555555555

// escapedBits marks the bytes of a block that a backslash escapes: those
// after an odd-length run of backslashes. carry is 1 when the block's first
// byte is escaped (a run of the previous block), and the result's carry
// says the same of the next block.
func escapedBits(bs, carry uint64) (escaped, next uint64) {
	bs &^= carry // an escaped backslash starts no run
	follows := bs<<1 | carry
	// Adding a run's start to the run carries past its end; runs that
	// start on odd bits then end with the opposite parity of those that
	// start on even bits, which the mask below tells apart.
	oddStarts := bs &^ evenBits &^ follows
	sum, next := bits.Add64(oddStarts, bs, 0)
	invert := sum << 1
	return (evenBits ^ invert) & follows, next
}

// prefixXor sets each bit to the XOR of itself and all lower bits: on
// quote bits, the bytes from an opening quote up to its closing one.
func prefixXor(x uint64) uint64 {
	x ^= x << 1
	x ^= x << 2
	x ^= x << 4
	x ^= x << 8
	x ^= x << 16
	x ^= x << 32
	return x
}

// scanKernelGeneric is the kernel in Go: it runs the blocks of src
// (len(src)/64 of them) from state st; see scanState and kernelDone.
func scanKernelGeneric(src []byte, st *scanState) (off, status int) {
	var m [nMasks]uint64
	for off = 0; off+64 <= len(src); off += 64 {
		structMasksGeneric(src[off:off+64], m[:])
		q, bs := m[mQuote], m[mBackslash]
		esc := st.esc
		if bs|esc != 0 {
			var escaped uint64
			escaped, esc = escapedBits(bs, esc)
			q &^= escaped
		}
		in := prefixXor(q) ^ st.inStr
		if bs&^in != 0 {
			return off, kernelAnomaly
		}
		st.inStr, st.esc = uint64(int64(in)>>63), esc
		o, c := m[mOpen]&^in, m[mClose]&^in
		no, nc := bits.OnesCount64(o), bits.OnesCount64(c)
		if st.depth > nc && st.depth+no <= maxDepth {
			st.depth += no - nc
			continue
		}
		st.open, st.close = o, c
		return off, kernelSlow
	}
	return off, kernelDone
}

// scanBlocks is scan's loop over nested values (s.depth > 0), with
// scanKernel, or scanKernelGeneric when generic is set (for tests). ok
// false hands the value back to the byte loop at s.i (a backslash outside
// strings ahead); otherwise done and err mean what scan's do.
func (s *valueScanner) scanBlocks(b []byte, generic bool) (done bool, err error, ok bool) {
	i := s.i
	st := scanState{depth: s.depth}
	if s.inStr {
		st.inStr = ^uint64(0)
		// Resuming inside a string: a run of backslashes before i, if
		// odd, escapes b[i]. The opening quote bounds the run.
		k := i - 1
		for b[k] == '\\' {
			k--
		}
		st.esc = uint64(i-1-k) & 1
	}
	var pad [64]byte
	for i < len(b) {
		src := b[i:]
		if len(src) < 64 {
			// The last bytes, padded with zeros, which are nothing
			// structural: the state after them is the state after b.
			copy(pad[:], src)
			src = pad[:]
		}
		var off, status int
		if generic {
			off, status = scanKernelGeneric(src, &st)
		} else {
			off, status = scanKernel(src, &st)
		}
		i += off
		switch status {
		case kernelDone:
			continue
		case kernelAnomaly:
			// The byte loop ignores backslashes outside strings; the
			// masks would not.
			s.i, s.depth, s.inStr = i, st.depth, st.inStr != 0
			return false, nil, false
		}
		depth, o := st.depth, st.open
		for oc := o | st.close; oc != 0; oc &= oc - 1 {
			t := bits.TrailingZeros64(oc)
			if o&(1<<t) != 0 {
				if depth++; depth > maxDepth {
					s.i, s.depth, s.inStr = i+t, depth, false
					return false, errTooDeep, true
				}
			} else if depth--; depth == 0 {
				s.i, s.depth, s.inStr = i+t+1, 0, false
				return true, nil, true
			}
		}
		st.depth = depth
		i += 64
	}
	s.i, s.depth, s.inStr = len(b), st.depth, st.inStr != 0
	return false, nil, true
}
