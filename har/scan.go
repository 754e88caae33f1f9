package har

import "math/bits"

// The structural scan finds where an entry ends 64 bytes at a time, in the
// manner of simdjson's first stage: a kernel (structMasks) gives, for each
// 64-byte block, bitmasks of its quotes, backslashes, opening and closing
// brackets; escaped quotes are removed with carries between blocks, a
// prefix XOR of the quotes marks the bytes inside strings, and only the
// brackets outside strings are counted, mostly with two popcounts per
// block. It is exact where valueScanner's byte loop is the reference: a
// backslash outside a string (malformed JSON, where the two could differ)
// hands the value back to that loop.

// maskBlocks is how many blocks one structMasks call handles: an entry
// rarely ends more than a few hundred bytes before the last of them.
const maskBlocks = 8

// Masks of one block, in this order, in structMasks's output.
const (
	mQuote = iota
	mBackslash
	mOpen
	mClose
	nMasks
)

// structMasksGeneric is structMasks in plain Go, the reference for the
// assembly kernels (and used where there is none by tests only: the byte
// loop is faster than computing masks a byte at a time).
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

// scanBlocks is scan's loop over nested values (s.depth > 0) with masks.
// ok false hands the value back to the byte loop at s.i (a backslash
// outside strings ahead); otherwise done and err mean what scan's do.
func (s *valueScanner) scanBlocks(b []byte, masks func(src []byte, dst []uint64)) (done bool, err error, ok bool) {
	i, depth := s.i, s.depth
	var inStr, esc uint64 // inStr: all ones inside a string
	if s.inStr {
		inStr = ^uint64(0)
		// Resuming inside a string: a run of backslashes before i, if
		// odd, escapes b[i]. The opening quote bounds the run.
		k := i - 1
		for b[k] == '\\' {
			k--
		}
		esc = uint64(i-1-k) & 1
	}
	var m [maskBlocks * nMasks]uint64
	var pad [64]byte
	for i < len(b) {
		src := b[i:]
		n := len(src) / 64
		if n == 0 {
			// The last bytes, padded with zeros, which are nothing
			// structural: the state after them is the state after b.
			copy(pad[:], src)
			src, n = pad[:], 1
		}
		n = min(n, maskBlocks)
		masks(src[:n*64], m[:n*nMasks])
		for k := 0; k < n; k, i = k+1, i+64 {
			bm := m[k*nMasks : k*nMasks+nMasks : k*nMasks+nMasks]
			q, bs := bm[mQuote], bm[mBackslash]
			if bs|esc != 0 {
				var escaped uint64
				escaped, esc = escapedBits(bs, esc)
				q &^= escaped
			}
			in := prefixXor(q) ^ inStr
			if bs&^in != 0 {
				// The byte loop ignores backslashes outside strings;
				// the masks would not.
				s.i, s.depth, s.inStr = i, depth, inStr != 0
				return false, nil, false
			}
			inStr = uint64(int64(in) >> 63)
			o, c := bm[mOpen]&^in, bm[mClose]&^in
			no, nc := bits.OnesCount64(o), bits.OnesCount64(c)
			if depth > nc && depth+no <= maxDepth {
				// The depth can neither reach 0 nor exceed the limit.
				depth += no - nc
				continue
			}
			for oc := o | c; oc != 0; oc &= oc - 1 {
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
		}
	}
	s.i, s.depth, s.inStr = len(b), depth, inStr != 0
	return false, nil, true
}
