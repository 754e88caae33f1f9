package har

import "golang.org/x/sys/cpu"

// structMasksAVX2 is structMasksGeneric for len(src)/64 blocks with AVX2
// (scan_amd64.s).
//
//go:noescape
func structMasksAVX2(src *byte, blocks int, dst *uint64)

func structMasksAsm(src []byte, dst []uint64) {
	n := len(src) / 64
	if n == 0 {
		return
	}
	_ = dst[n*nMasks-1]
	structMasksAVX2(&src[0], n, &dst[0])
}

// blockMasks is the kernel scan uses, nil where there is none (the byte
// loop is then faster than masks computed in Go).
var blockMasks = func() func([]byte, []uint64) {
	if cpu.X86.HasAVX2 {
		return structMasksAsm
	}
	return nil
}()
