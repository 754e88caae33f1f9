#include "textflag.h"

// func scanAVX2(src *byte, blocks int, st *scanState) (off int, status int)
//
// scanKernelGeneric with AVX2, PCLMULQDQ (the prefix XOR: a carry-less
// multiplication by all ones) and POPCNT. scanState: depth 0, inStr 8,
// esc 16, open 24, close 32.
//
// Only VEX-encoded vector instructions: a legacy SSE instruction after AVX
// code costs a state transition of hundreds of cycles on some machines.
TEXT ·scanAVX2(SB), NOSPLIT, $0-40
	MOVQ src+0(FP), SI
	MOVQ blocks+8(FP), CX
	MOVQ st+16(FP), DI
	MOVQ 0(DI), R8   // depth
	MOVQ 8(DI), R9   // inStr
	MOVQ 16(DI), R10 // esc
	XORQ DX, DX      // offset of the block

	MOVL $0x22, AX
	VMOVQ AX, X10
	VPBROADCASTB X10, Y10 // '"'
	MOVL $0x5c, AX
	VMOVQ AX, X11
	VPBROADCASTB X11, Y11 // '\\'
	MOVL $0x20, AX
	VMOVQ AX, X12
	VPBROADCASTB X12, Y12 // a byte ORed with 0x20 is 0x7b only for '{' and '[',
	MOVL $0x7b, AX
	VMOVQ AX, X13
	VPBROADCASTB X13, Y13 // 0x7b
	MOVL $0x7d, AX
	VMOVQ AX, X14
	VPBROADCASTB X14, Y14 // and 0x7d only for '}' and ']'
	MOVQ $-1, AX
	VMOVQ AX, X9          // all ones, for the prefix XOR

loop:
	MOVQ    R10, 16(DI) // the carry before the block, for an anomaly
	VMOVDQU (SI)(DX*1), Y0
	VMOVDQU 32(SI)(DX*1), Y1

	// R11: quotes, R12 and R13: backslashes.
	VPCMPEQB  Y0, Y10, Y2
	VPCMPEQB  Y1, Y10, Y3
	VPMOVMSKB Y2, R11
	VPMOVMSKB Y3, AX
	SHLQ      $32, AX
	ORQ       AX, R11
	VPCMPEQB  Y0, Y11, Y2
	VPCMPEQB  Y1, Y11, Y3
	VPMOVMSKB Y2, R12
	VPMOVMSKB Y3, AX
	SHLQ      $32, AX
	ORQ       AX, R12
	MOVQ      R12, R13

	// Escaped bytes: those after an odd-length run of backslashes (see
	// escapedBits), removed from the quotes; R10 becomes the carry.
	MOVQ R12, AX
	ORQ  R10, AX
	JZ   unescaped
	MOVQ R10, AX
	NOTQ AX
	ANDQ AX, R12             // backslashes that start or continue a run
	LEAQ (R12)(R12*1), BX
	ORQ  R10, BX             // BX: bytes that follow a backslash
	MOVQ BX, AX
	NOTQ AX
	ANDQ R12, AX
	MOVQ $0xaaaaaaaaaaaaaaaa, R10
	ANDQ R10, AX             // runs that start on odd bits
	XORL R10, R10
	ADDQ R12, AX
	SETCS R10                // the carry into the next block
	SHLQ $1, AX
	MOVQ $0x5555555555555555, R12
	XORQ R12, AX
	ANDQ BX, AX              // escaped bytes
	NOTQ AX
	ANDQ AX, R11

unescaped:
	// AX: inside strings (opening quote to the byte before the closing one).
	VMOVQ      R11, X4
	VPCLMULQDQ $0, X9, X4, X4
	VMOVQ      X4, AX
	XORQ       R9, AX
	MOVQ       AX, BX
	NOTQ       BX             // BX: outside strings
	TESTQ      BX, R13
	JNZ        anomaly

	// R11: opening, R12: closing brackets outside strings.
	VPOR      Y0, Y12, Y0
	VPOR      Y1, Y12, Y1
	VPCMPEQB  Y0, Y13, Y2
	VPCMPEQB  Y1, Y13, Y3
	VPMOVMSKB Y2, R11
	VPMOVMSKB Y3, R12
	SHLQ      $32, R12
	ORQ       R12, R11
	ANDQ      BX, R11
	VPCMPEQB  Y0, Y14, Y2
	VPCMPEQB  Y1, Y14, Y3
	VPMOVMSKB Y2, R12
	VPMOVMSKB Y3, R13
	SHLQ      $32, R13
	ORQ       R13, R12
	ANDQ      BX, R12

	SARQ $63, AX
	MOVQ AX, R9 // the string state after the block

	POPCNTQ R11, AX
	POPCNTQ R12, BX
	CMPQ    R8, BX
	JLE     slow              // depth <= closes: it might reach 0
	LEAQ    (R8)(AX*1), R13
	CMPQ    R13, $512         // maxDepth
	JGT     slow
	SUBQ    BX, AX
	ADDQ    AX, R8

	ADDQ $64, DX
	DECQ CX
	JNZ  loop

	MOVQ R8, 0(DI)
	MOVQ R9, 8(DI)
	MOVQ R10, 16(DI)
	MOVQ DX, off+24(FP)
	MOVQ $0, status+32(FP) // kernelDone
	VZEROUPPER
	RET

slow:
	MOVQ R8, 0(DI)
	MOVQ R9, 8(DI)
	MOVQ R10, 16(DI)
	MOVQ R11, 24(DI)
	MOVQ R12, 32(DI)
	MOVQ DX, off+24(FP)
	MOVQ $1, status+32(FP) // kernelSlow
	VZEROUPPER
	RET

anomaly:
	// The state before the block: depth and inStr are untouched, esc was
	// stored.
	MOVQ R8, 0(DI)
	MOVQ R9, 8(DI)
	MOVQ DX, off+24(FP)
	MOVQ $2, status+32(FP) // kernelAnomaly
	VZEROUPPER
	RET
