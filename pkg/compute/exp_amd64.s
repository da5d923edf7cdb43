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

// tanh32 16 (AVX-512) or 8 (AVX2) lanes at a time: both of its branches
// computed with its operations in its order and no fused multiply-add, the
// polynomial's result kept where |x| < 0.625 (false for NaN, as the scalar
// test), so each lane equals the scalar code bit for bit. c is expConsts,
// t tanhConsts (T0…T4, 0.625).

// func tanhAVX512(out, x *float32, n int, c *[14][16]float32, t *[6][16]float32)
TEXT ·tanhAVX512(SB), NOSPLIT, $0-40
	MOVQ out+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ c+24(FP), AX
	MOVQ t+32(FP), BX
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
	VMOVUPS 0(BX), Z10    // T0
	VMOVUPS 64(BX), Z11   // T1
	VMOVUPS 128(BX), Z12  // T2
	VMOVUPS 192(BX), Z13  // T3
	VMOVUPS 256(BX), Z14  // T4
	VMOVUPS 320(BX), Z15  // 0.625

tanh512:
	TESTQ CX, CX
	JEQ   tanh512done
	VMOVUPS (SI), Z0
	VPANDND Z0, Z16, Z1        // a = |x|
	// e = expNeg32(−2a)
	VADDPS  Z1, Z1, Z5
	VPORD   Z16, Z5, Z5        // t = −2a
	VMAXPS  Z5, Z17, Z5        // t = max(t, −87); a NaN t stays
	VMULPS  Z18, Z5, Z2
	VADDPS  Z19, Z2, Z2
	VRNDSCALEPS $9, Z2, Z2     // n = ⌊t·log₂e + ½⌋
	VMULPS  Z20, Z2, Z3
	VSUBPS  Z3, Z5, Z3
	VMULPS  Z21, Z2, Z4
	VSUBPS  Z4, Z3, Z3         // r
	VMULPS  Z22, Z3, Z4
	VADDPS  Z23, Z4, Z4
	VMULPS  Z3, Z4, Z4
	VADDPS  Z24, Z4, Z4
	VMULPS  Z3, Z4, Z4
	VADDPS  Z25, Z4, Z4
	VMULPS  Z3, Z4, Z4
	VADDPS  Z26, Z4, Z4
	VMULPS  Z3, Z4, Z4
	VADDPS  Z27, Z4, Z4
	VMULPS  Z3, Z3, Z6
	VMULPS  Z6, Z4, Z4
	VADDPS  Z3, Z4, Z4
	VADDPS  Z28, Z4, Z4
	VCVTTPS2DQ Z2, Z6
	VPADDD  Z29, Z6, Z6
	VPSLLD  $23, Z6, Z6
	VMULPS  Z6, Z4, Z4         // e
	VSUBPS  Z4, Z28, Z7        // 1 − e
	VADDPS  Z28, Z4, Z8        // 1 + e
	VDIVPS  Z8, Z7, Z7         // y
	VPANDD  Z16, Z0, Z8
	VPXORD  Z8, Z7, Z7         // −y where x < 0
	// |x| < 0.625: x + (x·z)·P(z), z = x²
	VMULPS  Z0, Z0, Z2
	VMULPS  Z10, Z2, Z3
	VADDPS  Z11, Z3, Z3
	VMULPS  Z2, Z3, Z3
	VADDPS  Z12, Z3, Z3
	VMULPS  Z2, Z3, Z3
	VADDPS  Z13, Z3, Z3
	VMULPS  Z2, Z3, Z3
	VADDPS  Z14, Z3, Z3
	VMULPS  Z2, Z0, Z4
	VMULPS  Z3, Z4, Z4
	VADDPS  Z4, Z0, Z9
	VCMPPS  $1, Z15, Z1, K1    // a < 0.625
	VMOVAPS Z9, K1, Z7
	VMOVUPS Z7, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	SUBQ    $16, CX
	JMP     tanh512

tanh512done:
	VZEROUPPER
	RET

// func tanhAVX2(out, x *float32, n int, c *[14][16]float32, t *[6][16]float32)
TEXT ·tanhAVX2(SB), NOSPLIT, $0-40
	MOVQ out+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ c+24(FP), AX
	MOVQ t+32(FP), BX
	VMOVUPS 0(AX), Y15         // sign bit

tanh256:
	TESTQ CX, CX
	JEQ   tanh256done
	VMOVUPS (SI), Y0
	VANDNPS Y0, Y15, Y1        // a = |x|
	VADDPS  Y1, Y1, Y5
	VORPS   Y15, Y5, Y5        // t = −2a
	VMOVUPS 64(AX), Y9
	VMAXPS  Y5, Y9, Y5         // t = max(t, −87), NaN kept
	VMULPS  128(AX), Y5, Y2
	VADDPS  192(AX), Y2, Y2
	VROUNDPS $9, Y2, Y2
	VMULPS  256(AX), Y2, Y3
	VSUBPS  Y3, Y5, Y3
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
	VMULPS  Y3, Y3, Y6
	VMULPS  Y6, Y4, Y4
	VADDPS  Y3, Y4, Y4
	VADDPS  768(AX), Y4, Y4
	VCVTTPS2DQ Y2, Y6
	VPADDD  832(AX), Y6, Y6
	VPSLLD  $23, Y6, Y6
	VMULPS  Y6, Y4, Y4         // e
	VMOVUPS 768(AX), Y8
	VSUBPS  Y4, Y8, Y7         // 1 − e
	VADDPS  Y8, Y4, Y8         // 1 + e
	VDIVPS  Y8, Y7, Y7         // y
	VANDPS  Y15, Y0, Y8
	VXORPS  Y8, Y7, Y7         // −y where x < 0
	VMULPS  Y0, Y0, Y2         // z = x²
	VMULPS  0(BX), Y2, Y3
	VADDPS  64(BX), Y3, Y3
	VMULPS  Y2, Y3, Y3
	VADDPS  128(BX), Y3, Y3
	VMULPS  Y2, Y3, Y3
	VADDPS  192(BX), Y3, Y3
	VMULPS  Y2, Y3, Y3
	VADDPS  256(BX), Y3, Y3
	VMULPS  Y2, Y0, Y4
	VMULPS  Y3, Y4, Y4
	VADDPS  Y4, Y0, Y9
	VMOVUPS 320(BX), Y10
	VCMPPS  $1, Y10, Y1, Y11   // a < 0.625
	VBLENDVPS Y11, Y9, Y7, Y7
	VMOVUPS Y7, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     tanh256

tanh256done:
	VZEROUPPER
	RET
