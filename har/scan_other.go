//go:build !amd64

package har

// blockMasks is nil: without a vector kernel the byte loop is faster than
// masks computed in Go.
var blockMasks func([]byte, []uint64)
