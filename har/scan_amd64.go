package har

import "golang.org/x/sys/cpu"

// scanAVX2 is scanKernelGeneric over blocks 64-byte blocks from src
// (scan_amd64.s).
//
//go:noescape
func scanAVX2(src *byte, blocks int, st *scanState) (off, status int)

// haveKernel tells whether scanKernel runs a vector kernel; without one
// the byte loop is faster than the kernel in Go.
var haveKernel = cpu.X86.HasAVX2 && cpu.X86.HasPCLMULQDQ && cpu.X86.HasPOPCNT

// scanKernel runs the blocks of src (len(src)/64 of them) from state st:
// scanKernelGeneric's work.
func scanKernel(src []byte, st *scanState) (off, status int) {
	n := len(src) / 64
	if n == 0 {
		return 0, kernelDone
	}
	return scanAVX2(&src[0], n, st)
}
