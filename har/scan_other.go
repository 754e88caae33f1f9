//go:build !amd64

package har

// haveKernel is false: without a vector kernel the byte loop is faster
// than the kernel in Go.
var haveKernel = false

func scanKernel(src []byte, st *scanState) (off, status int) { return scanKernelGeneric(src, st) }
