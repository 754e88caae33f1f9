#include "textflag.h"

// func structMasksAVX2(src *byte, blocks int, dst *uint64)
//
// For each 64-byte block of src: four uint64 in dst, the bitmasks of its
// '"', '\\', '{' or '[', and '}' or ']' bytes (bit j is byte j). A byte
// ORed with 0x20 is 0x7b only for '{' and '[', 0x7d only for '}' and ']'.
TEXT ·structMasksAVX2(SB), NOSPLIT, $0-24
	MOVQ src+0(FP), SI
	MOVQ blocks+8(FP), CX
	MOVQ dst+16(FP), DI

	// VEX-encoded moves only: a legacy SSE instruction after AVX code costs
	// a state transition of hundreds of cycles here.
	MOVL $0x22, AX
	VMOVQ AX, X10
	VPBROADCASTB X10, Y10 // '"'
	MOVL $0x5c, AX
	VMOVQ AX, X11
	VPBROADCASTB X11, Y11 // '\\'
	MOVL $0x20, AX
	VMOVQ AX, X12
	VPBROADCASTB X12, Y12 // case bit
	MOVL $0x7b, AX
	VMOVQ AX, X13
	VPBROADCASTB X13, Y13 // '{'
	MOVL $0x7d, AX
	VMOVQ AX, X14
	VPBROADCASTB X14, Y14 // '}'

loop:
	VMOVDQU (SI), Y0
	VMOVDQU 32(SI), Y1

	VPCMPEQB Y0, Y10, Y2
	VPCMPEQB Y1, Y10, Y3
	VPMOVMSKB Y2, AX
	VPMOVMSKB Y3, BX
	SHLQ $32, BX
	ORQ  BX, AX
	MOVQ AX, 0(DI)

	VPCMPEQB Y0, Y11, Y2
	VPCMPEQB Y1, Y11, Y3
	VPMOVMSKB Y2, AX
	VPMOVMSKB Y3, BX
	SHLQ $32, BX
	ORQ  BX, AX
	MOVQ AX, 8(DI)

	VPOR Y0, Y12, Y0
	VPOR Y1, Y12, Y1

	VPCMPEQB Y0, Y13, Y2
	VPCMPEQB Y1, Y13, Y3
	VPMOVMSKB Y2, AX
	VPMOVMSKB Y3, BX
	SHLQ $32, BX
	ORQ  BX, AX
	MOVQ AX, 16(DI)

	VPCMPEQB Y0, Y14, Y2
	VPCMPEQB Y1, Y14, Y3
	VPMOVMSKB Y2, AX
	VPMOVMSKB Y3, BX
	SHLQ $32, BX
	ORQ  BX, AX
	MOVQ AX, 24(DI)

	ADDQ $64, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  loop

	VZEROUPPER
	RET
