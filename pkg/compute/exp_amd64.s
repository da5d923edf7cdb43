//go:build !purego

#include "textflag.h"

// The logistic function, 16 (AVX-512) or 8 (AVX2) lanes at a time, with
// the operations of sigmoid32 and expNeg32 in the same order and no fused
// multiply-add, so each lane equals the scalar code bit for bit. n is a
// multiple of the lane count; c is expConsts (each constant 64 bytes).

// func sigmoidAVX512(out, x *float32, n int, c *[14][16]float32)
TEXT ·sigmoidAVX512(SB), NOSPLIT, $0-32
	MOVQ out+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ c+24(FP), AX
	VMOVUPS 0(AX), Z16    // sign bit
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

sig512:
	TESTQ CX, CX
	JEQ   sig512done
	VMOVUPS (SI), Z0
	VPORD   Z16, Z0, Z1        // t = −|x|
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
	VMULPS  Z6, Z4, Z4         // z = e^t
	VADDPS  Z28, Z4, Z7        // d = 1 + z
	VPTESTMD Z16, Z0, K1       // lanes where x's sign bit is set
	VMOVAPS Z28, Z8
	VMOVAPS Z4, K1, Z8         // numerator: z there, 1 elsewhere
	VDIVPS  Z7, Z8, Z8
	VMOVUPS Z8, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	SUBQ    $16, CX
	JMP     sig512

sig512done:
	VZEROUPPER
	RET

// func sigmoidAVX2(out, x *float32, n int, c *[14][16]float32)
TEXT ·sigmoidAVX2(SB), NOSPLIT, $0-32
	MOVQ out+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ c+24(FP), AX

sig256:
	TESTQ CX, CX
	JEQ   sig256done
	VMOVUPS (SI), Y0
	VORPS   0(AX), Y0, Y1      // t = −|x|
	VMOVUPS 64(AX), Y9
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
	VMULPS  Y6, Y4, Y4         // z
	VMOVUPS 768(AX), Y8
	VADDPS  Y8, Y4, Y7         // d = 1 + z
	VBLENDVPS Y0, Y4, Y8, Y8   // numerator: z where x's sign bit is set, else 1
	VDIVPS  Y7, Y8, Y8
	VMOVUPS Y8, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     sig256

sig256done:
	VZEROUPPER
	RET
