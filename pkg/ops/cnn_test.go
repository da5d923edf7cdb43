package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func win2D(k, s, d, pad int) Window {
	return Window{KH: k, KW: k, SH: s, SW: s, DH: d, DW: d, PadT: pad, PadB: pad, PadL: pad, PadR: pad}
}

func win1D(k, s, d, pad int) Window {
	return Window{KH: 1, KW: k, SH: 1, SW: s, DH: 1, DW: d, PadL: pad, PadR: pad}
}

// convCases covers every option of a convolution: stride, padding (none,
// symmetric, asymmetric "same"), dilation, bias, 1×1 kernels and 1-D.
func convCases() []struct {
	name string
	x, w []int
	win  Window
	bias bool
} {
	same := func(h, w, k, s int) Window {
		pt, pb := SamePadding(h, k, s, 1)
		pl, pr := SamePadding(w, k, s, 1)
		return Window{KH: k, KW: k, SH: s, SW: s, DH: 1, DW: 1, PadT: pt, PadB: pb, PadL: pl, PadR: pr}
	}
	return []struct {
		name string
		x, w []int
		win  Window
		bias bool
	}{
		{"valid", []int{2, 3, 6, 5}, []int{4, 3, 3, 3}, win2D(3, 1, 1, 0), true},
		{"stride2", []int{2, 2, 7, 7}, []int{3, 2, 3, 3}, win2D(3, 2, 1, 0), true},
		{"pad1", []int{2, 2, 5, 6}, []int{3, 2, 3, 3}, win2D(3, 1, 1, 1), true},
		{"same_even_kernel_stride2", []int{2, 2, 7, 6}, []int{3, 2, 4, 4}, same(7, 6, 4, 2), true},
		{"dilation2", []int{2, 2, 7, 7}, []int{2, 2, 3, 3}, win2D(3, 1, 2, 1), true},
		{"no_bias", []int{2, 3, 5, 5}, []int{2, 3, 2, 2}, win2D(2, 1, 1, 0), false},
		{"rect_kernel_mixed", []int{2, 2, 6, 7}, []int{3, 2, 2, 3},
			Window{KH: 2, KW: 3, SH: 2, SW: 1, DH: 1, DW: 2, PadT: 1, PadB: 0, PadL: 0, PadR: 2}, true},
		{"1x1", []int{2, 4, 3, 3}, []int{5, 4, 1, 1}, win2D(1, 1, 1, 0), true},
		{"1x1_stride2", []int{2, 4, 5, 5}, []int{3, 4, 1, 1}, win2D(1, 2, 1, 0), false},
		{"1d", []int{2, 3, 9}, []int{4, 3, 3}, win1D(3, 1, 1, 0), true},
		{"1d_stride2_pad1_dil2", []int{3, 2, 11}, []int{3, 2, 3}, win1D(3, 2, 2, 1), true},
	}
}

func TestConvGradient(t *testing.T) {
	for _, c := range convCases() {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(11, 12))
			in := []*tensor.Dense{randTensor(rng, c.x...), randTensor(rng, c.w...)}
			names := []string{"x", "w"}
			if c.bias {
				in = append(in, randTensor(rng, c.w[0]))
				names = append(names, "b")
			}
			wrt := []bool{true, true, true}[:len(in)]
			checkAll(t, names, in, wrt, func(_ *G.ExprGraph, n []*G.Node) (*G.Node, error) {
				var b *G.Node
				if c.bias {
					b = n[2]
				}
				return Conv(n[0], n[1], b, c.win, true)
			})
		})
	}
}

// naiveConv is the textbook definition, one output at a time.
func naiveConv(x, w, b []float64, xs, ws []int, win Window) []float64 {
	n, c, h, wd := xs[0], xs[1], 1, xs[len(xs)-1]
	if len(xs) == 4 {
		h = xs[2]
	}
	f := ws[0]
	oh, ow, _ := win.Out(h, wd)
	out := make([]float64, n*f*oh*ow)
	for s := 0; s < n; s++ {
		for o := 0; o < f; o++ {
			for y := 0; y < oh; y++ {
				for xo := 0; xo < ow; xo++ {
					acc := 0.0
					if b != nil {
						acc = b[o]
					}
					for ci := 0; ci < c; ci++ {
						for ki := 0; ki < win.KH; ki++ {
							for kj := 0; kj < win.KW; kj++ {
								ih, iw := y*win.SH-win.PadT+ki*win.DH, xo*win.SW-win.PadL+kj*win.DW
								if ih >= 0 && ih < h && iw >= 0 && iw < wd {
									acc += x[((s*c+ci)*h+ih)*wd+iw] * w[((o*c+ci)*win.KH+ki)*win.KW+kj]
								}
							}
						}
					}
					out[((s*f+o)*oh+y)*ow+xo] = acc
				}
			}
		}
	}
	return out
}

func TestConvMatchesNaiveDefinition(t *testing.T) {
	for _, c := range convCases() {
		for _, procs := range []int{1, 2, 3} {
			t.Run(fmt.Sprintf("%s/procs%d", c.name, procs), func(t *testing.T) {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
				rng := rand.New(rand.NewPCG(21, 22))
				x, w, b := randTensor(rng, c.x...), randTensor(rng, c.w...), randTensor(rng, c.w[0])
				in := []*tensor.Dense{x, w}
				var bv []float64
				if c.bias {
					in, bv = append(in, b), b.Data().([]float64)
				}
				out, _ := runWithGrads(t, in, func(n []*G.Node) (*G.Node, error) {
					var b *G.Node
					if c.bias {
						b = n[2]
					}
					return Conv(n[0], n[1], b, c.win, true)
				})
				want := naiveConv(x.Data().([]float64), w.Data().([]float64), bv, c.x, c.w, c.win)
				near(t, "conv", out, want)
			})
		}
	}
}

func TestConvFloat32MatchesFloat64(t *testing.T) {
	c := convCases()[3]
	rng := rand.New(rand.NewPCG(5, 6))
	x, w, b := randTensor(rng, c.x...), randTensor(rng, c.w...), randTensor(rng, c.w[0])
	want := naiveConv(x.Data().([]float64), w.Data().([]float64), b.Data().([]float64), c.x, c.w, c.win)
	to32 := func(t *tensor.Dense) *tensor.Dense {
		v := make([]float32, t.Shape().TotalSize())
		for i, f := range t.Data().([]float64) {
			v[i] = float32(f)
		}
		return tensor.New(tensor.WithShape(t.Shape()...), tensor.WithBacking(v))
	}
	g := G.NewGraph()
	var nodes []*G.Node
	for i, v := range []*tensor.Dense{to32(x), to32(w), to32(b)} {
		nodes = append(nodes, G.NewTensor(g, tensor.Float32, v.Dims(), G.WithShape(v.Shape()...), G.WithValue(v), G.WithName(fmt.Sprint("in", i))))
	}
	y, err := Conv(nodes[0], nodes[1], nodes[2], c.win, true)
	if err != nil {
		t.Fatal(err)
	}
	m := G.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	for i, v := range y.Value().Data().([]float32) {
		if math.Abs(float64(v)-want[i]) > 1e-5 {
			t.Fatalf("out[%d] = %v in float32, %v in float64", i, v, want[i])
		}
	}
}

func TestConvShapeErrors(t *testing.T) {
	tests := []struct {
		name string
		x, w []int
		win  Window
		want string
	}{
		{"kernel larger than input", []int{1, 1, 3, 3}, []int{2, 1, 5, 5}, win2D(5, 1, 1, 0),
			"window 5×5 (dilated extent 5×5) is larger than the padded input 3×3"},
		{"dilated kernel larger", []int{1, 1, 5, 5}, []int{2, 1, 3, 3}, win2D(3, 1, 3, 0),
			"window 3×3 (dilated extent 7×7) is larger than the padded input 5×5"},
		{"channels differ", []int{1, 2, 5, 5}, []int{2, 3, 3, 3}, win2D(3, 1, 1, 0), "take 3 channels"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := G.NewGraph()
			x := G.NewTensor(g, tensor.Float64, len(tc.x), G.WithShape(tc.x...))
			w := G.NewTensor(g, tensor.Float64, len(tc.w), G.WithShape(tc.w...))
			_, err := Conv(x, w, nil, tc.win, true)
			if err == nil || !contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func TestSamePadding(t *testing.T) {
	tests := []struct{ in, k, s, d, lo, hi, out int }{
		{8, 3, 1, 1, 1, 1, 8},
		{8, 4, 1, 1, 1, 2, 8}, // odd total: the extra goes after, as in PyTorch and TensorFlow
		{7, 3, 2, 1, 1, 1, 4},
		{8, 3, 2, 1, 0, 1, 4},
		{8, 3, 1, 2, 2, 2, 8},
		{5, 1, 2, 1, 0, 0, 3},
	}
	for _, tc := range tests {
		lo, hi := SamePadding(tc.in, tc.k, tc.s, tc.d)
		w := Window{KH: 1, KW: tc.k, SH: 1, SW: tc.s, DH: 1, DW: tc.d, PadL: lo, PadR: hi}
		_, out, err := w.Out(1, tc.in)
		if lo != tc.lo || hi != tc.hi || err != nil || out != tc.out {
			t.Errorf("same padding of %d, k %d, s %d, d %d = (%d, %d) -> %d (%v), want (%d, %d) -> %d",
				tc.in, tc.k, tc.s, tc.d, lo, hi, out, err, tc.lo, tc.hi, tc.out)
		}
	}
}

func TestPoolGradients(t *testing.T) {
	tests := []struct {
		name  string
		shape []int
		build func(x *G.Node) (*G.Node, error)
	}{
		{"max_2x2", []int{2, 3, 6, 6}, func(x *G.Node) (*G.Node, error) { return MaxPool(x, win2D(2, 2, 1, 0)) }},
		{"max_3x3_stride2_pad1", []int{2, 2, 7, 6}, func(x *G.Node) (*G.Node, error) { return MaxPool(x, win2D(3, 2, 1, 1)) }},
		{"max_overlapping_stride1", []int{1, 2, 5, 5}, func(x *G.Node) (*G.Node, error) { return MaxPool(x, win2D(3, 1, 1, 0)) }},
		{"max_1d", []int{2, 3, 9}, func(x *G.Node) (*G.Node, error) { return MaxPool(x, win1D(3, 2, 1, 1)) }},
		{"avg_2x2", []int{2, 3, 6, 6}, func(x *G.Node) (*G.Node, error) { return AvgPool(x, win2D(2, 2, 1, 0), true) }},
		{"avg_3x3_pad1_include", []int{2, 2, 7, 6}, func(x *G.Node) (*G.Node, error) { return AvgPool(x, win2D(3, 2, 1, 1), true) }},
		{"avg_3x3_pad1_exclude", []int{2, 2, 7, 6}, func(x *G.Node) (*G.Node, error) { return AvgPool(x, win2D(3, 2, 1, 1), false) }},
		{"avg_1d", []int{2, 3, 9}, func(x *G.Node) (*G.Node, error) { return AvgPool(x, win1D(2, 2, 1, 0), true) }},
		// Padding with stride 1: more outputs than inputs (once out of range in the backward pass).
		{"avg_1d_output_longer", []int{2, 2, 5}, func(x *G.Node) (*G.Node, error) { return AvgPool(x, win1D(2, 1, 1, 1), false) }},
		{"max_2x2_pad1_output_larger", []int{1, 2, 3, 3}, func(x *G.Node) (*G.Node, error) { return MaxPool(x, win2D(2, 1, 1, 1)) }},
		{"global_avg", []int{3, 4, 3, 5}, GlobalAvgPool},
		{"global_avg_1d", []int{3, 4, 7}, GlobalAvgPool},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(31, 32))
			checkAll(t, []string{"x"}, []*tensor.Dense{randTensor(rng, tc.shape...)}, []bool{true},
				func(_ *G.ExprGraph, n []*G.Node) (*G.Node, error) { return tc.build(n[0]) })
		})
	}
}

func TestGlobalAvgPoolIsTheMean(t *testing.T) {
	x := seqTensor([]int{2, 3, 2, 2}, 0, 1, 1)
	out, _ := runWithGrads(t, []*tensor.Dense{x}, func(n []*G.Node) (*G.Node, error) { return GlobalAvgPool(n[0]) })
	v := x.Data().([]float64)
	for i := range out {
		want := (v[4*i] + v[4*i+1] + v[4*i+2] + v[4*i+3]) / 4
		if math.Abs(out[i]-want) > 1e-15 {
			t.Fatalf("mean %d = %v, want %v", i, out[i], want)
		}
	}
}

func TestBatchNormGradient(t *testing.T) {
	for _, shape := range [][]int{{5, 3}, {3, 2, 3, 3}, {4, 3, 5}} {
		t.Run(fmt.Sprint(shape), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(41, 42))
			c := shape[1]
			stats := &RunningStats{Mean: tensor.New(tensor.WithShape(c), tensor.Of(tensor.Float64)),
				Var: tensor.New(tensor.WithShape(c), tensor.WithBacking(ones(c))), Momentum: 0.1}
			in := []*tensor.Dense{randTensor(rng, shape...), randTensor(rng, c), randTensor(rng, c)}
			checkAll(t, []string{"x", "gamma", "beta"}, in, []bool{true, true, true},
				func(_ *G.ExprGraph, n []*G.Node) (*G.Node, error) {
					return BatchNorm(n[0], n[1], n[2], 1e-5, stats, true)
				})
		})
	}
}

func ones(n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = 1
	}
	return v
}

func TestBatchNormNeedsMoreThanOneValue(t *testing.T) {
	g := G.NewGraph()
	x := G.NewMatrix(g, tensor.Float64, G.WithShape(1, 3))
	gm := G.NewVector(g, tensor.Float64, G.WithShape(3))
	if _, err := BatchNorm(x, gm, gm, 1e-5, nil, true); err == nil {
		t.Fatal("a batch of one flat sample was accepted for training batch norm")
	}
}

func TestLayerNormGradient(t *testing.T) {
	tests := []struct{ x, norm []int }{
		{[]int{4, 6}, []int{6}},
		{[]int{2, 3, 5}, []int{5}},
		{[]int{2, 3, 2, 2}, []int{3, 2, 2}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.x, tc.norm), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(51, 52))
			in := []*tensor.Dense{randTensor(rng, tc.x...), randTensor(rng, tc.norm...), randTensor(rng, tc.norm...)}
			checkAll(t, []string{"x", "gamma", "beta"}, in, []bool{true, true, true},
				func(_ *G.ExprGraph, n []*G.Node) (*G.Node, error) { return LayerNorm(n[0], n[1], n[2], 1e-5, true) })
		})
	}
}

func TestAddGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(61, 62))
	in := []*tensor.Dense{randTensor(rng, 2, 3, 4), randTensor(rng, 2, 3, 4)}
	checkAll(t, []string{"a", "b"}, in, []bool{true, true}, func(_ *G.ExprGraph, n []*G.Node) (*G.Node, error) {
		return Add(n[0], n[1])
	})
}

// A residual join: x feeds both a convolution and the addition, so
// Gorgonia must sum two gradient contributions into x.
func TestResidualJoinGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(63, 64))
	in := []*tensor.Dense{randTensor(rng, 2, 3, 4, 4), randTensor(rng, 3, 3, 3, 3), randTensor(rng, 3)}
	checkAll(t, []string{"x", "w", "b"}, in, []bool{true, true, true}, func(_ *G.ExprGraph, n []*G.Node) (*G.Node, error) {
		h, err := Conv(n[0], n[1], n[2], win2D(3, 1, 1, 1), true)
		if err != nil {
			return nil, err
		}
		if h, err = Activate(h, "tanh", 0); err != nil {
			return nil, err
		}
		return Add(h, n[0])
	})
}

func TestChannelSumGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(71, 72))
	checkAll(t, []string{"x"}, []*tensor.Dense{randTensor(rng, 3, 4, 2, 3)}, []bool{true},
		func(_ *G.ExprGraph, n []*G.Node) (*G.Node, error) { return ChannelSum(n[0]) })
}

func TestSpatialDropoutDropsWholeChannels(t *testing.T) {
	st := &DropoutState{Rate: 0.5, Group: 3 * 4, RNG: rand.New(rand.NewPCG(81, 82)), Frozen: true}
	rng := rand.New(rand.NewPCG(83, 84))
	x := randTensor(rng, 4, 5, 3, 4)
	checkAll(t, []string{"x"}, []*tensor.Dense{x}, []bool{true}, func(_ *G.ExprGraph, n []*G.Node) (*G.Node, error) {
		return Dropout(n[0], st)
	})
	if len(st.mask) != 4*5 {
		t.Fatalf("%d draws, want one per (sample, channel) = 20", len(st.mask))
	}
	kept := 0
	for _, m := range st.mask {
		if m != 0 {
			kept++
		}
	}
	if kept == 0 || kept == len(st.mask) {
		t.Errorf("kept %d of %d channels; the check proves nothing", kept, len(st.mask))
	}
}
