//go:build !purego

#include "textflag.h"

// dx = dy where x > 0, else 0 (NaN x gives 0), 16 or 8 lanes at a time
// through a compare mask instead of a branch per element, whose
// mispredictions cost more than the arithmetic (relu's signs are random).
// n is a multiple of the lane count.

// func reluGradAVX512(dx, x, dy *float32, n int)
TEXT ·reluGradAVX512(SB), NOSPLIT, $0-32
	MOVQ dx+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ dy+16(FP), DX
	MOVQ n+24(FP), CX
	VPXORD Z2, Z2, Z2

rg512:
	TESTQ CX, CX
	JEQ   rg512done
	VMOVUPS (SI), Z0
	VCMPPS  $0x1e, Z2, Z0, K1     // x > 0, ordered
	VMOVUPS.Z (DX), K1, Z1
	VMOVUPS Z1, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DX
	ADDQ    $64, DI
	SUBQ    $16, CX
	JMP     rg512

rg512done:
	VZEROUPPER
	RET

// func reluGradAVX2(dx, x, dy *float32, n int)
TEXT ·reluGradAVX2(SB), NOSPLIT, $0-32
	MOVQ dx+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ dy+16(FP), DX
	MOVQ n+24(FP), CX
	VXORPS Y2, Y2, Y2

rg256:
	TESTQ CX, CX
	JEQ   rg256done
	VMOVUPS (SI), Y0
	VCMPPS  $0x1e, Y2, Y0, Y0     // all ones where x > 0
	VANDPS  (DX), Y0, Y1
	VMOVUPS Y1, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     rg256

rg256done:
	VZEROUPPER
	RET

// func addAVX512(dst, src *float32, n int)
TEXT ·addAVX512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX

add512:
	TESTQ CX, CX
	JEQ   add512done
	VMOVUPS (DI), Z0
	VADDPS  (SI), Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	SUBQ    $16, CX
	JMP     add512

add512done:
	VZEROUPPER
	RET

// dx = dy·(y·(1−y)), in the order of SigmoidGrad's loop.
// func sigmoidGradAVX512(dx, y, dy *float32, n int, one *float32)
TEXT ·sigmoidGradAVX512(SB), NOSPLIT, $0-40
	MOVQ dx+0(FP), DI
	MOVQ y+8(FP), SI
	MOVQ dy+16(FP), DX
	MOVQ n+24(FP), CX
	MOVQ one+32(FP), AX
	VBROADCASTSS (AX), Z3

sg512:
	TESTQ CX, CX
	JEQ   sg512done
	VMOVUPS (SI), Z0
	VSUBPS  Z0, Z3, Z1       // 1 − y
	VMULPS  Z1, Z0, Z1       // y·(1 − y)
	VMULPS  (DX), Z1, Z1     // ·dy
	VMOVUPS Z1, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DX
	ADDQ    $64, DI
	SUBQ    $16, CX
	JMP     sg512

sg512done:
	VZEROUPPER
	RET

// x−x is 0 for a finite x and NaN for NaN or ±Inf; the sum of those stays
// 0 only when every element is finite.
// func finiteAVX512(x *float32, n int) (ok bool)
TEXT ·finiteAVX512(SB), NOSPLIT, $0-17
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3

fin512:
	CMPQ  CX, $32
	JLT   fin512tail
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z1
	VSUBPS  Z0, Z0, Z0
	VSUBPS  Z1, Z1, Z1
	VADDPS  Z0, Z2, Z2
	VADDPS  Z1, Z3, Z3
	ADDQ    $128, SI
	SUBQ    $32, CX
	JMP     fin512

fin512tail:
	TESTQ CX, CX
	JEQ   fin512sum
	VMOVUPS (SI), Z0
	VSUBPS  Z0, Z0, Z0
	VADDPS  Z0, Z2, Z2
	ADDQ    $64, SI
	SUBQ    $16, CX
	JMP     fin512tail

fin512sum:
	VADDPS  Z3, Z2, Z2
	VPXORD  Z4, Z4, Z4
	VCMPPS  $0x04, Z4, Z2, K1    // lanes not equal to 0 (NaN included)
	KORTESTW K1, K1
	SETEQ   ok+16(FP)
	VZEROUPPER
	RET
