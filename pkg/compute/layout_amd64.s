//go:build !purego

#include "textflag.h"

// Row-by-row kernels of the unrolled-patch layout (im2col/col2im) and
// the plain vector loops of the convolution and pooling ops. Row tails go
// through masks, so any width works.

// ARGS2DAVX2 loads the arguments of copy2DAVX2 and add2DAVX2: DI, SI the
// rows, R8, R9 their strides in bytes, R10 the row count, R11 the blocks
// of 8 per row and R12 the values left after them.
#define ARGS2DAVX2 \
	MOVQ dst+0(FP), DI \
	MOVQ dstStride+8(FP), R8 \
	SHLQ $2, R8 \
	MOVQ src+16(FP), SI \
	MOVQ srcStride+24(FP), R9 \
	SHLQ $2, R9 \
	MOVQ rows+32(FP), R10 \
	MOVQ cols+40(FP), R11 \
	MOVQ R11, R12 \
	ANDQ $7, R12 \
	SHRQ $3, R11

// TAILMASK sets R11 to cols / 16, R12 to 1 when a block of 8 follows the
// blocks of 16 (cols mod 16 >= 8), and K1 to the lanes left after those
// (cols mod 8): masked accesses cost several times more than plain ones
// here, so only the last few values of a row go through one.
#define TAILMASK \
	MOVQ R11, CX \
	ANDQ $7, CX \
	MOVQ $1, AX \
	SHLQ CX, AX \
	DECQ AX \
	KMOVW AX, K1 \
	MOVQ R11, R12 \
	SHRQ $3, R12 \
	ANDQ $1, R12 \
	SHRQ $4, R11

// func copy2DAVX512(dst *float32, dstStride int, src *float32, srcStride int, rows, cols int)
TEXT ·copy2DAVX512(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ dstStride+8(FP), R8
	SHLQ $2, R8
	MOVQ src+16(FP), SI
	MOVQ srcStride+24(FP), R9
	SHLQ $2, R9
	MOVQ rows+32(FP), R10
	MOVQ cols+40(FP), R11
	TAILMASK

c2row:
	MOVQ R11, CX
	XORQ DX, DX
	TESTQ CX, CX
	JZ   c2tail

c2vec:
	VMOVUPS (SI)(DX*1), Z0
	VMOVUPS Z0, (DI)(DX*1)
	ADDQ $64, DX
	DECQ CX
	JNZ  c2vec

c2tail:
	TESTQ R12, R12
	JZ   c2mask
	VMOVUPS (SI)(DX*1), Y0
	VMOVUPS Y0, (DI)(DX*1)
	ADDQ $32, DX

c2mask:
	KORTESTW K1, K1
	JZ   c2next
	VMOVUPS.Z (SI)(DX*1), K1, Y0
	VMOVUPS Y0, K1, (DI)(DX*1)

c2next:
	ADDQ R8, DI
	ADDQ R9, SI
	DECQ R10
	JNZ  c2row
	VZEROUPPER
	RET

// func add2DAVX512(dst *float32, dstStride int, src *float32, srcStride int, rows, cols int)
TEXT ·add2DAVX512(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ dstStride+8(FP), R8
	SHLQ $2, R8
	MOVQ src+16(FP), SI
	MOVQ srcStride+24(FP), R9
	SHLQ $2, R9
	MOVQ rows+32(FP), R10
	MOVQ cols+40(FP), R11
	TAILMASK

a2row:
	MOVQ R11, CX
	XORQ DX, DX
	TESTQ CX, CX
	JZ   a2tail

a2vec:
	VMOVUPS (DI)(DX*1), Z0
	VADDPS (SI)(DX*1), Z0, Z0
	VMOVUPS Z0, (DI)(DX*1)
	ADDQ $64, DX
	DECQ CX
	JNZ  a2vec

a2tail:
	TESTQ R12, R12
	JZ   a2mask
	VMOVUPS (DI)(DX*1), Y0
	VADDPS (SI)(DX*1), Y0, Y0
	VMOVUPS Y0, (DI)(DX*1)
	ADDQ $32, DX

a2mask:
	KORTESTW K1, K1
	JZ   a2next
	VMOVUPS.Z (DI)(DX*1), K1, Y0
	VMOVUPS.Z (SI)(DX*1), K1, Y1
	VADDPS Y1, Y0, Y0
	VMOVUPS Y0, K1, (DI)(DX*1)

a2next:
	ADDQ R8, DI
	ADDQ R9, SI
	DECQ R10
	JNZ  a2row
	VZEROUPPER
	RET

// out = max(x, 0) as Go's max: a NaN stays NaN and −0 becomes +0. n is a
// multiple of 16.
// func reluAVX512(out, x *float32, n int)
TEXT ·reluAVX512(SB), NOSPLIT, $0-24
	MOVQ out+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $4, CX
	VPXORD Z1, Z1, Z1

reluloop:
	VMOVUPS (SI), Z0
	VMAXPS Z1, Z0, Z2         // x > 0 ? x : +0 (NaN gives +0)
	VCMPPS $3, Z0, Z0, K1     // x is NaN
	VMOVAPS Z0, K1, Z2
	VMOVUPS Z2, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  reluloop
	VZEROUPPER
	RET

// dst = src + c. n is a multiple of 16.
// func addConstAVX512(dst, src *float32, n int, c float32)
TEXT ·addConstAVX512(SB), NOSPLIT, $0-28
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $4, CX
	VBROADCASTSS c+24(FP), Z1

acloop:
	VADDPS (SI), Z1, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  acloop
	VZEROUPPER
	RET

// The sum of n floats (a multiple of 16) in 64 lanes: 4 accumulators
// over blocks of 64, the last blocks of 16 into the first; then the
// accumulators pairwise (0+1, 2+3, then both) and the 16 lanes by halves.
// sum64 in sum.go does the same additions in the same order.
// func sumAVX512(x *float32, n int) float32
TEXT ·sumAVX512(SB), NOSPLIT, $0-20
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	MOVQ CX, DX
	SHRQ $6, DX
	JZ   sum16

sum64loop:
	VADDPS (SI), Z0, Z0
	VADDPS 64(SI), Z1, Z1
	VADDPS 128(SI), Z2, Z2
	VADDPS 192(SI), Z3, Z3
	ADDQ $256, SI
	DECQ DX
	JNZ  sum64loop

sum16:
	ANDQ $63, CX
	SHRQ $4, CX
	JZ   sumreduce

sum16loop:
	VADDPS (SI), Z0, Z0
	ADDQ $64, SI
	DECQ CX
	JNZ  sum16loop

sumreduce:
	VADDPS Z1, Z0, Z0
	VADDPS Z3, Z2, Z2
	VADDPS Z2, Z0, Z0
	VEXTRACTF64X4 $1, Z0, Y1
	VADDPS Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VSHUFPS $0x4e, X0, X0, X1
	VADDPS X1, X0, X0
	VSHUFPS $0xb1, X0, X0, X1
	VADDSS X1, X0, X0
	VMOVSS X0, ret+16(FP)
	VZEROUPPER
	RET

// func spinPause()
TEXT ·spinPause(SB), NOSPLIT, $0-0
	PAUSE
	RET

// The sum of (p−t)² with the differences in float32 and the squares and
// sums in float64: 16 lanes (two accumulators of 8), then halves.
// SquaredDiffSum's loop does the same operations in the same order. n is
// a multiple of 16.
// func sqDiffSumAVX512(p, t *float32, n int) float64
TEXT ·sqDiffSumAVX512(SB), NOSPLIT, $0-32
	MOVQ p+0(FP), SI
	MOVQ t+8(FP), DX
	MOVQ n+16(FP), CX
	SHRQ $4, CX
	VXORPD Z0, Z0, Z0
	VXORPD Z1, Z1, Z1

sqloop:
	VMOVUPS (SI), Z2
	VSUBPS (DX), Z2, Z2
	VCVTPS2PD Y2, Z3
	VEXTRACTF64X4 $1, Z2, Y4
	VCVTPS2PD Y4, Z4
	VMULPD Z3, Z3, Z3
	VMULPD Z4, Z4, Z4
	VADDPD Z3, Z0, Z0
	VADDPD Z4, Z1, Z1
	ADDQ $64, SI
	ADDQ $64, DX
	DECQ CX
	JNZ  sqloop
	VADDPD Z1, Z0, Z0
	VEXTRACTF64X4 $1, Z0, Y1
	VADDPD Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPD X1, X0, X0
	VPERMILPD $1, X0, X1
	VADDSD X1, X0, X0
	VMOVSD X0, ret+24(FP)
	VZEROUPPER
	RET

// dx = s·(p − t). n is a multiple of 16.
// func scaledDiffAVX512(dx, p, t *float32, n int, s float32)
TEXT ·scaledDiffAVX512(SB), NOSPLIT, $0-36
	MOVQ dx+0(FP), DI
	MOVQ p+8(FP), SI
	MOVQ t+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $4, CX
	VBROADCASTSS s+32(FP), Z1

sdloop:
	VMOVUPS (SI), Z0
	VSUBPS (DX), Z0, Z0
	VMULPS Z1, Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, DI
	DECQ CX
	JNZ  sdloop
	VZEROUPPER
	RET

// The AVX2 forms of copy2DAVX512, add2DAVX512 and sumAVX512, for CPUs
// without AVX-512: blocks of 8, then the last cols mod 8 values one at a
// time (the same additions as the Go loops, and sumAVX512's order).

// func copy2DAVX2(dst *float32, dstStride int, src *float32, srcStride int, rows, cols int)
TEXT ·copy2DAVX2(SB), NOSPLIT, $0-48
	ARGS2DAVX2

c2xrow:
	MOVQ R11, CX
	XORQ DX, DX
	TESTQ CX, CX
	JZ   c2xtail

c2xvec:
	VMOVUPS (SI)(DX*1), Y0
	VMOVUPS Y0, (DI)(DX*1)
	ADDQ $32, DX
	DECQ CX
	JNZ  c2xvec

c2xtail:
	MOVQ R12, CX
	TESTQ CX, CX
	JZ   c2xnext

c2xone:
	VMOVSS (SI)(DX*1), X0
	VMOVSS X0, (DI)(DX*1)
	ADDQ $4, DX
	DECQ CX
	JNZ  c2xone

c2xnext:
	ADDQ R8, DI
	ADDQ R9, SI
	DECQ R10
	JNZ  c2xrow
	VZEROUPPER
	RET

// func add2DAVX2(dst *float32, dstStride int, src *float32, srcStride int, rows, cols int)
TEXT ·add2DAVX2(SB), NOSPLIT, $0-48
	ARGS2DAVX2

a2xrow:
	MOVQ R11, CX
	XORQ DX, DX
	TESTQ CX, CX
	JZ   a2xtail

a2xvec:
	VMOVUPS (DI)(DX*1), Y0
	VADDPS (SI)(DX*1), Y0, Y0
	VMOVUPS Y0, (DI)(DX*1)
	ADDQ $32, DX
	DECQ CX
	JNZ  a2xvec

a2xtail:
	MOVQ R12, CX
	TESTQ CX, CX
	JZ   a2xnext

a2xone:
	VMOVSS (DI)(DX*1), X0
	VADDSS (SI)(DX*1), X0, X0
	VMOVSS X0, (DI)(DX*1)
	ADDQ $4, DX
	DECQ CX
	JNZ  a2xone

a2xnext:
	ADDQ R8, DI
	ADDQ R9, SI
	DECQ R10
	JNZ  a2xrow
	VZEROUPPER
	RET

// sumAVX2 is sumAVX512 with each zmm accumulator as two ymm ones (Y0-Y7
// holding lanes 0-63 in order). n is a multiple of 16.
// func sumAVX2(x *float32, n int) float32
TEXT ·sumAVX2(SB), NOSPLIT, $0-20
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	MOVQ CX, DX
	SHRQ $6, DX
	JZ   sumx16

sumx64loop:
	VADDPS (SI), Y0, Y0
	VADDPS 32(SI), Y1, Y1
	VADDPS 64(SI), Y2, Y2
	VADDPS 96(SI), Y3, Y3
	VADDPS 128(SI), Y4, Y4
	VADDPS 160(SI), Y5, Y5
	VADDPS 192(SI), Y6, Y6
	VADDPS 224(SI), Y7, Y7
	ADDQ $256, SI
	DECQ DX
	JNZ  sumx64loop

sumx16:
	ANDQ $63, CX
	SHRQ $4, CX
	JZ   sumxreduce

sumx16loop:
	VADDPS (SI), Y0, Y0
	VADDPS 32(SI), Y1, Y1
	ADDQ $64, SI
	DECQ CX
	JNZ  sumx16loop

sumxreduce:
	VADDPS Y2, Y0, Y0
	VADDPS Y3, Y1, Y1
	VADDPS Y6, Y4, Y4
	VADDPS Y7, Y5, Y5
	VADDPS Y4, Y0, Y0
	VADDPS Y5, Y1, Y1
	VADDPS Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VSHUFPS $0x4e, X0, X0, X1
	VADDPS X1, X0, X0
	VSHUFPS $0xb1, X0, X0, X1
	VADDSS X1, X0, X0
	VMOVSS X0, ret+16(FP)
	VZEROUPPER
	RET
