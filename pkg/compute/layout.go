package compute

// Copy2D copies rows×cols values from src (rows srcStride apart) to dst
// (rows dstStride apart): the short rows of an unrolled patch matrix.
func Copy2D[T Float](dst []T, dstStride int, src []T, srcStride int, rows, cols int) {
	if rows <= 0 || cols <= 0 {
		return
	}
	_, _ = dst[(rows-1)*dstStride+cols-1], src[(rows-1)*srcStride+cols-1]
	if d32, ok := any(dst).([]float32); ok && (useAVX512VL || useAVX2) {
		s32 := any(src).([]float32)
		if useAVX512VL {
			copy2DAVX512(&d32[0], dstStride, &s32[0], srcStride, rows, cols)
		} else {
			copy2DAVX2(&d32[0], dstStride, &s32[0], srcStride, rows, cols)
		}
		return
	}
	for r := range rows {
		copy(dst[r*dstStride:r*dstStride+cols], src[r*srcStride:])
	}
}

// Add2D adds rows×cols values of src (rows srcStride apart) to dst (rows
// dstStride apart).
func Add2D[T Float](dst []T, dstStride int, src []T, srcStride int, rows, cols int) {
	if rows <= 0 || cols <= 0 {
		return
	}
	_, _ = dst[(rows-1)*dstStride+cols-1], src[(rows-1)*srcStride+cols-1]
	if d32, ok := any(dst).([]float32); ok && (useAVX512VL || useAVX2) {
		s32 := any(src).([]float32)
		if useAVX512VL {
			add2DAVX512(&d32[0], dstStride, &s32[0], srcStride, rows, cols)
		} else {
			add2DAVX2(&d32[0], dstStride, &s32[0], srcStride, rows, cols)
		}
		return
	}
	for r := range rows {
		d, s := dst[r*dstStride:r*dstStride+cols], src[r*srcStride:r*srcStride+cols]
		for i, v := range s {
			d[i] += v
		}
	}
}

// Sum returns the sum of x. Float32 adds in 64 lanes, then the lanes
// pairwise (sum64), vectorized on amd64 with the same additions in the
// same order; float64 adds in order.
func Sum[T Float](x []T) T {
	x32, ok := any(x).([]float32)
	if !ok {
		var s T
		for _, v := range x {
			s += v
		}
		return s
	}
	n := len(x32) &^ 15
	var s float32
	switch {
	case n == 0:
	case useAVX512:
		s = sumAVX512(&x32[0], n)
	case useAVX2:
		s = sumAVX2(&x32[0], n)
	default:
		s = sum64(x32[:n])
	}
	for _, v := range x32[n:] {
		s += v
	}
	return T(s)
}

// sum64 is sumAVX512 in Go: n, a multiple of 16, values added into 64
// lanes by blocks of 64 and the last blocks of 16 into lanes 0–15; then
// lanes i and 16+i, 32+i and 48+i, and those two, then the 16 sums by
// halves (8 apart, 4, 2, then the last two).
func sum64(x []float32) float32 {
	var acc [64]float32
	n64 := len(x) &^ 63
	for b := 0; b < n64; b += 64 {
		for i, v := range x[b : b+64] {
			acc[i] += v
		}
	}
	for b := n64; b < len(x); b += 16 {
		for i, v := range x[b : b+16] {
			acc[i] += v
		}
	}
	var l [16]float32
	for i := range l {
		l[i] = (acc[i] + acc[16+i]) + (acc[32+i] + acc[48+i])
	}
	for i := range 8 {
		l[i] += l[8+i]
	}
	for i := range 4 {
		l[i] += l[4+i]
	}
	// VSHUFPS 0x4e then 0xb1 on the 4 lanes: (l0+l2) + (l1+l3).
	return (l[0] + l[2]) + (l[1] + l[3])
}

// SquaredDiffSum returns Σ (p−t)², each difference in T and the squares
// summed in float64. Float32 sums in 16 lanes, then the lanes by halves
// (vectorized on amd64 with the same operations in the same order).
func SquaredDiffSum[T Float](p, t []T) float64 {
	t = t[:len(p)]
	p32, ok := any(p).([]float32)
	if !ok {
		var s float64
		for i := range p {
			d := float64(p[i] - t[i])
			s += float64(d * d)
		}
		return s
	}
	t32 := any(t).([]float32)
	n := len(p32) &^ 15
	var s float64
	if useAVX512 && n > 0 {
		s = sqDiffSumAVX512(&p32[0], &t32[0], n)
	} else {
		var acc [16]float64
		for b := 0; b < n; b += 16 {
			for i := range 16 {
				d := float64(p32[b+i] - t32[b+i])
				acc[i] += float64(d * d)
			}
		}
		for i := range 8 {
			acc[i] += acc[8+i]
		}
		for i := range 4 {
			acc[i] += acc[4+i]
		}
		s = (acc[0] + acc[2]) + (acc[1] + acc[3])
	}
	for i := n; i < len(p32); i++ {
		d := float64(p32[i] - t32[i])
		s += float64(d * d)
	}
	return s
}

// ScaledDiff writes s·(p − t) into dx (vectorized for float32 on amd64).
func ScaledDiff[T Float](dx, p, t []T, s T) {
	p, t = p[:len(dx)], t[:len(dx)]
	if d32, ok := any(dx).([]float32); ok && useAVX512 {
		if n := len(d32) &^ 15; n > 0 {
			scaledDiffAVX512(&d32[0], &any(p).([]float32)[0], &any(t).([]float32)[0], n, float32(s))
			dx, p, t = dx[n:], p[n:], t[n:]
		}
	}
	for i := range dx {
		dx[i] = s * (p[i] - t[i])
	}
}
