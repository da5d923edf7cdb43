package compute

// poolTab is maxPool2x2AVX512's constants: even and odd selectors of 32
// floats, and each lane's column offset.
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
	for y := range oh {
		for x := range ow {
			i := 2*y*w + 2*x
			best, bv := i, in[i]
			for _, j := range [3]int{i + 1, i + w, i + w + 1} {
				if v := in[j]; v > bv {
					best, bv = j, v
				}
			}
			out[y*ow+x], idx[y*ow+x] = bv, int32(best)
		}
	}
}
