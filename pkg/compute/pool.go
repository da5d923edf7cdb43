package compute

// poolTab is maxPool2x2AVX512's constants (maxPool2x2AVX2 uses the last
// part): even and odd selectors of 32 floats, and each lane's column offset.
var poolTab = func() (t [48]int32) {
	for i := range 16 {
		t[i], t[16+i], t[32+i] = int32(2*i), int32(2*i+1), int32(2*i)
	}
	return t
}()

// MaxPool2x2 computes 2×2 max pooling with stride 2 over one plane of w
// columns and at least 2·oh rows: out[y·ow+x] is the maximum of the
// window at (2y, 2x) and idx[y·ow+x] its index in the plane, the first
// maximum in row-major order on a tie (a NaN first in its window stays).
// 2·ow must not exceed w.
func MaxPool2x2(out []float32, idx []int32, in []float32, oh, ow, w int) {
	if oh == 0 || ow == 0 {
		return
	}
	_, _ = out[oh*ow-1], idx[oh*ow-1]
	_ = in[(2*oh-1)*w+2*ow-1]
	if 2*ow > w {
		panic("compute: MaxPool2x2 window outside the row")
	}
	if useAVX512VL {
		maxPool2x2AVX512(&out[0], &idx[0], &in[0], oh, ow, w, &poolTab)
		return
	}
	x0 := 0
	if useAVX2 && ow >= 8 {
		maxPool2x2AVX2(&out[0], &idx[0], &in[0], oh, ow, w, &poolTab)
		x0 = ow &^ 7
	}
	for y := range oh {
		base := 2 * y * w
		r0, r1 := in[base:base+2*ow], in[base+w:base+w+2*ow]
		o, ix := out[y*ow:y*ow+ow], idx[y*ow:y*ow+ow]
		for x := x0; x < len(o); x++ {
			i := 2 * x
			best, bv := base+i, r0[i]
			if v := r0[i+1]; v > bv {
				best, bv = base+i+1, v
			}
			if v := r1[i]; v > bv {
				best, bv = base+w+i, v
			}
			if v := r1[i+1]; v > bv {
				best, bv = base+w+i+1, v
			}
			o[x], ix[x] = bv, int32(best)
		}
	}
}
