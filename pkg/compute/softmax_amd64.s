//go:build !purego

#include "textflag.h"

// The pieces of a softmax (softmax.go), 16 (AVX-512) or 8 (AVX2) lanes at
// a time; n is a multiple of the lane count and, for max, not 0.
// expShift does expNeg32's operations in its order with no fused
// multiply-add (as the sigmoid kernels), so each lane equals the scalar
// code bit for bit; c is expConsts.

// func maxAVX512(x *float32, n int) float32
TEXT ·maxAVX512(SB), NOSPLIT, $0-20
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VMOVUPS (SI), Z0
	ADDQ    $64, SI
	SUBQ    $16, CX

max512:
	TESTQ CX, CX
	JEQ   max512done
	VMAXPS (SI), Z0, Z0
	ADDQ   $64, SI
	SUBQ   $16, CX
	JMP    max512

max512done:
	VEXTRACTF64X4 $1, Z0, Y1
	VMAXPS        Y1, Y0, Y0
	VEXTRACTF128  $1, Y0, X1
	VMAXPS        X1, X0, X0
	VSHUFPS       $0x4e, X0, X0, X1
	VMAXPS        X1, X0, X0
	VSHUFPS       $0xb1, X0, X0, X1
	VMAXPS        X1, X0, X0
	VZEROUPPER
	MOVSS X0, ret+16(FP)
	RET

// func maxAVX2(x *float32, n int) float32
TEXT ·maxAVX2(SB), NOSPLIT, $0-20
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VMOVUPS (SI), Y0
	ADDQ    $32, SI
	SUBQ    $8, CX

max256:
	TESTQ CX, CX
	JEQ   max256done
	VMAXPS (SI), Y0, Y0
	ADDQ   $32, SI
	SUBQ   $8, CX
	JMP    max256

max256done:
	VEXTRACTF128 $1, Y0, X1
	VMAXPS       X1, X0, X0
	VSHUFPS      $0x4e, X0, X0, X1
	VMAXPS       X1, X0, X0
	VSHUFPS      $0xb1, X0, X0, X1
	VMAXPS       X1, X0, X0
	VZEROUPPER
	MOVSS X0, ret+16(FP)
	RET

// func expShiftAVX512(out, x *float32, n int, m float32, c *[14][16]float32)
TEXT ·expShiftAVX512(SB), NOSPLIT, $0-40
	MOVQ out+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS m+24(FP), Z15
	MOVQ c+32(FP), AX
	VMOVUPS 64(AX), Z17   // −87
	VMOVUPS 128(AX), Z18  // log₂e
	VMOVUPS 192(AX), Z19  // ½
	VMOVUPS 256(AX), Z20  // ln2Hi
	VMOVUPS 320(AX), Z21  // ln2Lo
	VMOVUPS 384(AX), Z22  // P0
	VMOVUPS 448(AX), Z23  // P1
	VMOVUPS 512(AX), Z24  // P2
	VMOVUPS 576(AX), Z25  // P3
	VMOVUPS 640(AX), Z26  // P4
	VMOVUPS 704(AX), Z27  // P5
	VMOVUPS 768(AX), Z28  // 1
	VMOVUPS 832(AX), Z29  // 127

exp512:
	TESTQ CX, CX
	JEQ   exp512done
	VMOVUPS (SI), Z0
	VSUBPS  Z15, Z0, Z1        // t = x − m
	VMAXPS  Z1, Z17, Z1        // t = max(t, −87); a NaN t stays (second source)
	VMULPS  Z18, Z1, Z2
	VADDPS  Z19, Z2, Z2        // fx = t·log₂e + ½
	VRNDSCALEPS $9, Z2, Z2     // n = ⌊fx⌋
	VMULPS  Z20, Z2, Z3
	VSUBPS  Z3, Z1, Z3         // r = t − n·ln2Hi
	VMULPS  Z21, Z2, Z4
	VSUBPS  Z4, Z3, Z3         // r −= n·ln2Lo
	VMULPS  Z22, Z3, Z4
	VADDPS  Z23, Z4, Z4
	VMULPS  Z3, Z4, Z4
	VADDPS  Z24, Z4, Z4
	VMULPS  Z3, Z4, Z4
	VADDPS  Z25, Z4, Z4
	VMULPS  Z3, Z4, Z4
	VADDPS  Z26, Z4, Z4
	VMULPS  Z3, Z4, Z4
	VADDPS  Z27, Z4, Z4        // p
	VMULPS  Z3, Z3, Z5
	VMULPS  Z5, Z4, Z4         // p·r²
	VADDPS  Z3, Z4, Z4         // + r
	VADDPS  Z28, Z4, Z4        // + 1
	VCVTTPS2DQ Z2, Z6
	VPADDD  Z29, Z6, Z6
	VPSLLD  $23, Z6, Z6        // 2ⁿ
	VMULPS  Z6, Z4, Z4         // e^t
	VMOVUPS Z4, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	SUBQ    $16, CX
	JMP     exp512

exp512done:
	VZEROUPPER
	RET

// func expShiftAVX2(out, x *float32, n int, m float32, c *[14][16]float32)
TEXT ·expShiftAVX2(SB), NOSPLIT, $0-40
	MOVQ out+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS m+24(FP), Y15
	MOVQ c+32(FP), AX
	VMOVUPS 64(AX), Y9         // −87

exp256:
	TESTQ CX, CX
	JEQ   exp256done
	VMOVUPS (SI), Y0
	VSUBPS  Y15, Y0, Y1        // t = x − m
	VMAXPS  Y1, Y9, Y1         // t = max(t, −87), NaN kept
	VMULPS  128(AX), Y1, Y2
	VADDPS  192(AX), Y2, Y2
	VROUNDPS $9, Y2, Y2        // n = ⌊t·log₂e + ½⌋
	VMULPS  256(AX), Y2, Y3
	VSUBPS  Y3, Y1, Y3
	VMULPS  320(AX), Y2, Y4
	VSUBPS  Y4, Y3, Y3         // r
	VMULPS  384(AX), Y3, Y4
	VADDPS  448(AX), Y4, Y4
	VMULPS  Y3, Y4, Y4
	VADDPS  512(AX), Y4, Y4
	VMULPS  Y3, Y4, Y4
	VADDPS  576(AX), Y4, Y4
	VMULPS  Y3, Y4, Y4
	VADDPS  640(AX), Y4, Y4
	VMULPS  Y3, Y4, Y4
	VADDPS  704(AX), Y4, Y4
	VMULPS  Y3, Y3, Y5
	VMULPS  Y5, Y4, Y4
	VADDPS  Y3, Y4, Y4
	VADDPS  768(AX), Y4, Y4
	VCVTTPS2DQ Y2, Y6
	VPADDD  832(AX), Y6, Y6
	VPSLLD  $23, Y6, Y6
	VMULPS  Y6, Y4, Y4         // e^t
	VMOVUPS Y4, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     exp256

exp256done:
	VZEROUPPER
	RET

// func divConstAVX512(x *float32, n int, s float32)
TEXT ·divConstAVX512(SB), NOSPLIT, $0-20
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VBROADCASTSS s+16(FP), Z1

div512:
	TESTQ CX, CX
	JEQ   div512done
	VMOVUPS (SI), Z0
	VDIVPS  Z1, Z0, Z0
	VMOVUPS Z0, (SI)
	ADDQ    $64, SI
	SUBQ    $16, CX
	JMP     div512

div512done:
	VZEROUPPER
	RET

// func divConstAVX2(x *float32, n int, s float32)
TEXT ·divConstAVX2(SB), NOSPLIT, $0-20
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VBROADCASTSS s+16(FP), Y1

div256:
	TESTQ CX, CX
	JEQ   div256done
	VMOVUPS (SI), Y0
	VDIVPS  Y1, Y0, Y0
	VMOVUPS Y0, (SI)
	ADDQ    $32, SI
	SUBQ    $8, CX
	JMP     div256

div256done:
	VZEROUPPER
	RET
