//go:build !purego

#include "textflag.h"

// func maxPool2x2AVX512(out *float32, idx *int32, in *float32, oh, ow, w int, tab *[48]int32)
//
// For one plane: out[y·ow+x] = the maximum of in[2y][2x], in[2y][2x+1],
// in[2y+1][2x], in[2y+1][2x+1] (rows w floats apart), the first of them in
// that order on a tie (strict >, so a NaN first stays), and idx[y·ow+x]
// its index in the plane. 16 outputs per iteration; the last ones of a row
// through masks. tab holds the even selectors 0, 2, …, 30, the odd ones 1,
// 3, …, 31 and the lane offsets 0, 2, …, 30.
TEXT ·maxPool2x2AVX512(SB), NOSPLIT, $0-56
	MOVQ out+0(FP), DI
	MOVQ idx+8(FP), R8
	MOVQ in+16(FP), R10
	MOVQ oh+24(FP), R11
	MOVQ ow+32(FP), R12
	MOVQ w+40(FP), R13
	MOVQ tab+48(FP), AX
	VMOVDQU32 (AX), Z30
	VMOVDQU32 64(AX), Z31
	VMOVDQU32 128(AX), Z29
	MOVL $1, BX
	VPBROADCASTD BX, Z27
	VPBROADCASTD R13, Z26
	MOVL $32, BX
	VPBROADCASTD BX, Z25
	XORQ R14, R14 // index of the row pair's first element: 2y·w

rowloop:
	LEAQ (R10)(R14*4), SI     // top row
	LEAQ (SI)(R13*4), DX      // bottom row
	VPBROADCASTD R14, Z28
	VPADDD Z29, Z28, Z28      // index of each lane's top-left element
	MOVQ R12, AX             // outputs left in the row

colloop:
	MOVQ $-1, BX
	MOVQ $-1, R9
	CMPQ AX, $16
	JGE  full
	MOVQ AX, CX
	MOVQ $1, BX
	SHLQ CX, BX
	DECQ BX                   // output lanes: (1 << left) - 1
	SHLQ $1, CX
	MOVQ $1, R9
	SHLQ CX, R9
	DECQ R9                   // input lanes: (1 << 2·left) - 1

full:
	KMOVW BX, K7
	KMOVW R9, K4
	SHRQ $16, R9
	KMOVW R9, K5
	VMOVUPS.Z (SI), K4, Z0
	VMOVUPS.Z 64(SI), K5, Z1
	VMOVAPS Z0, Z2
	VPERMT2PS Z1, Z30, Z2     // a: top, even columns
	VPERMT2PS Z1, Z31, Z0     // b: top, odd columns
	VMOVUPS.Z (DX), K4, Z3
	VMOVUPS.Z 64(DX), K5, Z4
	VMOVAPS Z3, Z5
	VPERMT2PS Z4, Z30, Z5     // c: bottom, even
	VPERMT2PS Z4, Z31, Z3     // d: bottom, odd
	VMOVDQA32 Z28, Z10
	VPADDD Z27, Z28, Z11
	VPADDD Z26, Z28, Z12
	VPADDD Z27, Z12, Z13
	VCMPPS $0x1e, Z2, Z0, K1  // b > a
	VMOVAPS Z0, K1, Z2
	VMOVDQA32 Z11, K1, Z10
	VCMPPS $0x1e, Z2, Z5, K2  // c > max
	VMOVAPS Z5, K2, Z2
	VMOVDQA32 Z12, K2, Z10
	VCMPPS $0x1e, Z2, Z3, K3  // d > max
	VMOVAPS Z3, K3, Z2
	VMOVDQA32 Z13, K3, Z10
	VMOVUPS Z2, K7, (DI)
	VMOVDQU32 Z10, K7, (R8)
	CMPQ AX, $16
	JLE  rowdone
	SUBQ $16, AX
	ADDQ $128, SI
	ADDQ $128, DX
	ADDQ $64, DI
	ADDQ $64, R8
	VPADDD Z25, Z28, Z28
	JMP  colloop

rowdone:
	LEAQ (DI)(AX*4), DI
	LEAQ (R8)(AX*4), R8
	LEAQ (R14)(R13*2), R14
	DECQ R11
	JNZ  rowloop
	VZEROUPPER
	RET

// maxPool2x2AVX2 is MaxPool2x2 on AVX2 for the first ow &^ 7 outputs of
// each row (the caller does the rest): 8 outputs at a time from 16
// columns of the two input rows, split into even and odd columns, with
// the same comparisons in the same order as the Go loop (b > a, then
// c > max, then d > max, ordered compares: a NaN first stays). tab is
// poolTab, whose lanes 32-39 hold 0, 2, …, 14.
// func maxPool2x2AVX2(out *float32, idx *int32, in *float32, oh, ow, w int, tab *[48]int32)
TEXT ·maxPool2x2AVX2(SB), NOSPLIT, $0-56
	MOVQ out+0(FP), DI
	MOVQ idx+8(FP), R8
	MOVQ in+16(FP), SI
	MOVQ oh+24(FP), R11
	MOVQ ow+32(FP), R13
	MOVQ w+40(FP), BX
	MOVQ tab+48(FP), AX
	VMOVDQU 128(AX), Y8       // 0, 2, …, 14
	MOVQ BX, X9
	VPBROADCASTD X9, Y9       // w
	MOVQ $1, AX
	MOVQ AX, X10
	VPBROADCASTD X10, Y10     // 1
	MOVQ $16, AX
	MOVQ AX, X15
	VPBROADCASTD X15, Y15     // 16: from one block to the next
	MOVQ BX, R9
	SHLQ $2, R9               // a row of in, in bytes
	XORQ R12, R12             // index of the row pair's first element: 2·y·w

avx2row:
	MOVQ SI, R10              // top row, this block
	MOVQ DI, CX
	MOVQ R8, DX
	MOVQ R12, X11
	VPBROADCASTD X11, Y11
	VPADDD Y8, Y11, Y11       // index of each lane's top-left element
	MOVQ R13, AX
	SHRQ $3, AX
	JZ   avx2rownext

avx2block:
	VMOVUPS (R10), Y0
	VMOVUPS 32(R10), Y1
	VMOVUPS (R10)(R9*1), Y2
	VMOVUPS 32(R10)(R9*1), Y3
	VSHUFPS $0x88, Y1, Y0, Y4
	VSHUFPS $0xdd, Y1, Y0, Y5
	VSHUFPS $0x88, Y3, Y2, Y6
	VSHUFPS $0xdd, Y3, Y2, Y7
	VPERMPD $0xd8, Y4, Y4     // a: top, even columns
	VPERMPD $0xd8, Y5, Y5     // b: top, odd columns
	VPERMPD $0xd8, Y6, Y6     // c: bottom, even
	VPERMPD $0xd8, Y7, Y7     // d: bottom, odd
	VMOVDQU Y11, Y12
	VPADDD Y10, Y11, Y14
	VCMPPS $0x1e, Y4, Y5, Y13 // b > a
	VBLENDVPS Y13, Y5, Y4, Y4
	VBLENDVPS Y13, Y14, Y12, Y12
	VPADDD Y9, Y11, Y14
	VCMPPS $0x1e, Y4, Y6, Y13 // c > max
	VBLENDVPS Y13, Y6, Y4, Y4
	VBLENDVPS Y13, Y14, Y12, Y12
	VPADDD Y10, Y14, Y14
	VCMPPS $0x1e, Y4, Y7, Y13 // d > max
	VBLENDVPS Y13, Y7, Y4, Y4
	VBLENDVPS Y13, Y14, Y12, Y12
	VMOVUPS Y4, (CX)
	VMOVDQU Y12, (DX)
	ADDQ $64, R10
	ADDQ $32, CX
	ADDQ $32, DX
	VPADDD Y15, Y11, Y11
	DECQ AX
	JNZ  avx2block

avx2rownext:
	LEAQ (SI)(R9*2), SI
	LEAQ (DI)(R13*4), DI
	LEAQ (R8)(R13*4), R8
	LEAQ (R12)(BX*2), R12
	DECQ R11
	JNZ  avx2row
	VZEROUPPER
	RET
