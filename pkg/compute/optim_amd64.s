//go:build !purego

#include "textflag.h"

// Adam's update, 16 (AVX-512) or 8 (AVX2) float32 lanes at a time, with
// the operations of adamRef in the same order and no fused multiply-add,
// so each lane equals the plain loop bit for bit. n is a multiple of the
// lane count. c holds β₁, 1−β₁, β₂, 1−β₂, step size, 1/√(1−β₂ᵗ), ε.

// func adamAVX512(w, grad, m, v *float32, n int, c *[7]float32)
TEXT ·adamAVX512(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ m+16(FP), R8
	MOVQ v+24(FP), R9
	MOVQ n+32(FP), CX
	MOVQ c+40(FP), AX
	VBROADCASTSS 0(AX), Z10
	VBROADCASTSS 4(AX), Z11
	VBROADCASTSS 8(AX), Z12
	VBROADCASTSS 12(AX), Z13
	VBROADCASTSS 16(AX), Z14
	VBROADCASTSS 20(AX), Z15
	VBROADCASTSS 24(AX), Z16

loop512:
	TESTQ CX, CX
	JEQ   done512
	VMOVUPS (SI), Z0         // g
	VMULPS  (R8), Z10, Z1    // β₁·m
	VMULPS  Z0, Z11, Z2      // (1−β₁)·g
	VADDPS  Z2, Z1, Z1       // m'
	VMOVUPS Z1, (R8)
	VMULPS  (R9), Z12, Z3    // β₂·v
	VMULPS  Z0, Z13, Z4      // (1−β₂)·g
	VMULPS  Z0, Z4, Z4       // ·g
	VADDPS  Z4, Z3, Z3       // v'
	VMOVUPS Z3, (R9)
	VSQRTPS Z3, Z5           // √v'
	VMULPS  Z15, Z5, Z5      // ·1/√(1−β₂ᵗ)
	VADDPS  Z16, Z5, Z5      // +ε
	VMULPS  Z14, Z1, Z6      // step·m'
	VDIVPS  Z5, Z6, Z6       // ÷
	VMOVUPS (DI), Z7
	VSUBPS  Z6, Z7, Z7       // w − …
	VMOVUPS Z7, (DI)
	ADDQ    $64, DI
	ADDQ    $64, SI
	ADDQ    $64, R8
	ADDQ    $64, R9
	SUBQ    $16, CX
	JMP     loop512

done512:
	VZEROUPPER
	RET

// func adamAVX2(w, grad, m, v *float32, n int, c *[7]float32)
TEXT ·adamAVX2(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ m+16(FP), R8
	MOVQ v+24(FP), R9
	MOVQ n+32(FP), CX
	MOVQ c+40(FP), AX
	VBROADCASTSS 0(AX), Y8
	VBROADCASTSS 4(AX), Y9
	VBROADCASTSS 8(AX), Y10
	VBROADCASTSS 12(AX), Y11
	VBROADCASTSS 16(AX), Y12
	VBROADCASTSS 20(AX), Y13
	VBROADCASTSS 24(AX), Y14

loop256:
	TESTQ CX, CX
	JEQ   done256
	VMOVUPS (SI), Y0
	VMULPS  (R8), Y8, Y1
	VMULPS  Y0, Y9, Y2
	VADDPS  Y2, Y1, Y1
	VMOVUPS Y1, (R8)
	VMULPS  (R9), Y10, Y3
	VMULPS  Y0, Y11, Y4
	VMULPS  Y0, Y4, Y4
	VADDPS  Y4, Y3, Y3
	VMOVUPS Y3, (R9)
	VSQRTPS Y3, Y5
	VMULPS  Y13, Y5, Y5
	VADDPS  Y14, Y5, Y5
	VMULPS  Y12, Y1, Y6
	VDIVPS  Y5, Y6, Y6
	VMOVUPS (DI), Y7
	VSUBPS  Y6, Y7, Y7
	VMOVUPS Y7, (DI)
	ADDQ    $32, DI
	ADDQ    $32, SI
	ADDQ    $32, R8
	ADDQ    $32, R9
	SUBQ    $8, CX
	JMP     loop256

done256:
	VZEROUPPER
	RET
