package ops

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// loadTorchNDCases reads testdata/torch_ref_nd.json, written by
// testdata/torch_ref_nd.py with PyTorch 1.13 in float64.
func loadTorchNDCases(t *testing.T) map[string]torchCase {
	t.Helper()
	b, err := os.ReadFile("testdata/torch_ref_nd.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct{ Cases []torchCase }
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	out := map[string]torchCase{}
	for _, c := range f.Cases {
		out[c.Name] = c
	}
	return out
}

// idTensor is torch_ref_nd.py's ids(): (mul·i + add) mod m over the flat
// index i.
func idTensor(shape []int, mul, add, m int) *tensor.Dense {
	v := make([]float64, tensor.Shape(shape).TotalSize())
	for i := range v {
		v[i] = float64((mul*i + add) % m)
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))
}

// targetTensor is torch_ref_nd.py's targets(): idTensor(shape, 3, 1,
// classes) with every every-th position set to ignore.
func targetTensor(shape []int, classes, ignore, every int) *tensor.Dense {
	t := idTensor(shape, 3, 1, classes)
	for i := range data[float64](t) {
		if i%every == every-1 {
			data[float64](t)[i] = float64(ignore)
		}
	}
	return t
}

// causalMask01 is torch_ref_nd.py's mask_causal(): 1 where key j > query i.
func causalMask01(n int) *tensor.Dense {
	v := make([]float64, n*n)
	for i := range n {
		for j := i + 1; j < n; j++ {
			v[i*n+j] = 1
		}
	}
	return tensor.New(tensor.WithShape(n, n), tensor.WithBacking(v))
}

// paddingMask01 is torch_ref_nd.py's mask_padding(): [B, 1, 1, n], 1 at
// key positions j ≥ lengths[b].
func paddingMask01(lengths []int, n int) *tensor.Dense {
	v := make([]float64, len(lengths)*n)
	for b, l := range lengths {
		for j := l; j < n; j++ {
			v[b*n+j] = 1
		}
	}
	return tensor.New(tensor.WithShape(len(lengths), 1, 1, n), tensor.WithBacking(v))
}

// runWithGradsOf is runWithGrads for ops with inputs that take no
// gradient (ids, masks, targets; wrt false, their gradient nil) and for
// scalar outputs, whose cost is the output itself, as in torch_ref_nd.py.
//
// With dt float32 the inputs are rounded to float32 and the op runs in
// float32; the results come back as float64.
func runWithGradsOf(t *testing.T, dt tensor.Dtype, inputs []*tensor.Dense, wrt []bool, build func([]*G.Node) (*G.Node, error)) ([]float64, [][]float64) {
	t.Helper()
	g := G.NewGraph()
	nodes := make([]*G.Node, len(inputs))
	var targets G.Nodes
	for i, x := range inputs {
		if dt == tensor.Float32 {
			x = to32(x)
		}
		nodes[i] = G.NewTensor(g, dt, x.Dims(), G.WithShape(x.Shape()...), G.WithValue(x), G.WithName(fmt.Sprint("in", i)))
		if wrt[i] {
			targets = append(targets, nodes[i])
		}
	}
	out, err := build(nodes)
	must(t, err)
	cost := out
	if !out.IsScalar() {
		r := seqTensor(out.Shape(), 0.5, 0.7, 1)
		if dt == tensor.Float32 {
			r = to32(r)
		}
		rn := G.NewTensor(g, dt, out.Dims(), G.WithShape(out.Shape()...), G.WithValue(r), G.WithName("r"))
		cost, err = WeightedSum(out, rn)
		must(t, err)
	}
	grads, err := G.Grad(cost, targets...)
	must(t, err)
	m, err := NewMachine(g)
	must(t, err)
	must(t, m.RunAll())
	gs := make([][]float64, len(inputs))
	k := 0
	for i := range inputs {
		if wrt[i] {
			gs[i] = float64s(grads[k].Value().(*tensor.Dense))
			k++
		}
	}
	var vals []float64
	if out.IsScalar() {
		vals = []float64{scalarValue(out.Value())}
	} else {
		vals = float64s(out.Value().(*tensor.Dense))
	}
	return vals, gs
}

// float64s copies a tensor's values as float64.
func float64s(d *tensor.Dense) []float64 {
	if d.Dtype() == tensor.Float64 {
		return append([]float64(nil), data[float64](d)...)
	}
	out := make([]float64, d.Shape().TotalSize())
	for i, v := range data[float32](d) {
		out[i] = float64(v)
	}
	return out
}

// maxDiff is max |got − want| / max(1, |want|) over the elements.
func maxDiff(got, want []float64) float64 {
	var d float64
	for i := range got {
		d = max(d, math.Abs(got[i]-want[i])/max(1, math.Abs(want[i])))
	}
	return d
}

type ndCase struct {
	name   string
	inputs func() []*tensor.Dense
	wrt    []bool
	build  func(n []*G.Node) (*G.Node, error)
}

func seqs(specs ...[]float64) func() []*tensor.Dense {
	return func() []*tensor.Dense {
		out := make([]*tensor.Dense, len(specs))
		for i, s := range specs {
			n := int(s[0])
			shape := make([]int, n)
			for j := range n {
				shape[j] = int(s[1+j])
			}
			scale := 1.0
			if len(s) > 3+n {
				scale = s[3+n]
			}
			out[i] = seqTensor(shape, s[1+n], s[2+n], scale)
		}
		return out
	}
}

// sq is a seqs spec: shape, phase, step and an optional scale.
func sq(shape []int, phase, step float64, scale ...float64) []float64 {
	s := []float64{float64(len(shape))}
	for _, d := range shape {
		s = append(s, float64(d))
	}
	s = append(s, phase, step)
	return append(s, scale...)
}

func withExtra(f func() []*tensor.Dense, extra ...*tensor.Dense) func() []*tensor.Dense {
	return func() []*tensor.Dense { return append(f(), extra...) }
}

var two, three = []bool{true, true}, []bool{true, true, true}

func ndTorchCases() []ndCase {
	dense := func(act string) func(n []*G.Node) (*G.Node, error) {
		return func(n []*G.Node) (*G.Node, error) {
			var b *G.Node
			if len(n) > 2 {
				b = n[2]
			}
			return DenseLastAxis(n[0], n[1], b, act, 0, true)
		}
	}
	scores := seqs(sq([]int{2, 2, 3, 3}, 3.6, 0.53, 3))
	maskWrt := []bool{true, false}
	ce := func(ignore int) func(n []*G.Node) (*G.Node, error) {
		return func(n []*G.Node) (*G.Node, error) { return SequenceCrossEntropy(n[0], n[1], ignore) }
	}
	cases := []ndCase{
		{"mul_same", seqs(sq([]int{2, 3, 4}, 0.1, 0.3), sq([]int{2, 3, 4}, 0.2, 0.7)), two, func(n []*G.Node) (*G.Node, error) { return Mul(n[0], n[1]) }},
		{"add_bias_rank3", seqs(sq([]int{2, 3, 4}, 0.3, 0.3), sq([]int{4}, 0.4, 0.9)), two, func(n []*G.Node) (*G.Node, error) { return BroadcastAdd(n[0], n[1]) }},
		{"add_both_broadcast", seqs(sq([]int{2, 1, 4}, 0.5, 0.3), sq([]int{3, 1}, 0.6, 0.9)), two, func(n []*G.Node) (*G.Node, error) { return BroadcastAdd(n[0], n[1]) }},
		{"add_size1_axes", seqs(sq([]int{1, 3}, 0.7, 0.5), sq([]int{2, 1, 1}, 0.8, 1.1)), two, func(n []*G.Node) (*G.Node, error) { return BroadcastAdd(n[0], n[1]) }},
		{"mul_rank4_rank3", seqs(sq([]int{2, 1, 3, 1}, 0.9, 0.4), sq([]int{4, 1, 5}, 1.0, 0.6)), two, func(n []*G.Node) (*G.Node, error) { return BroadcastMul(n[0], n[1]) }},
		{"mul_scalar_like", seqs(sq([]int{3, 4}, 1.1, 0.4), sq([]int{1}, 1.2, 0.6)), two, func(n []*G.Node) (*G.Node, error) { return BroadcastMul(n[0], n[1]) }},

		{"slice_axis1_1_4", seqs(sq([]int{2, 5, 3}, 1.3, 0.37)), []bool{true}, func(n []*G.Node) (*G.Node, error) { return Slice(n[0], 1, 1, 4) }},
		{"slice_last_0_1", seqs(sq([]int{2, 5, 3}, 1.3, 0.37)), []bool{true}, func(n []*G.Node) (*G.Node, error) { return Slice(n[0], -1, 0, 1) }},
		{"slice_axis0_1_2", seqs(sq([]int{2, 5, 3}, 1.3, 0.37)), []bool{true}, func(n []*G.Node) (*G.Node, error) { return Slice(n[0], 0, 1, 2) }},
		{"concat_axis1", seqs(sq([]int{2, 3, 4}, 1.4, 0.3), sq([]int{2, 1, 4}, 1.5, 0.5), sq([]int{2, 2, 4}, 1.6, 0.7)), three, func(n []*G.Node) (*G.Node, error) { return Concat(1, n...) }},
		{"concat_axis0", seqs(sq([]int{1, 3}, 1.7, 0.3), sq([]int{2, 3}, 1.8, 0.5)), two, func(n []*G.Node) (*G.Node, error) { return Concat(0, n...) }},
		{"concat_last", seqs(sq([]int{2, 2, 1}, 1.9, 0.3), sq([]int{2, 2, 3}, 2.0, 0.5)), two, func(n []*G.Node) (*G.Node, error) { return Concat(-1, n...) }},
	}
	stackIn := seqs(sq([]int{2, 3}, 2.1, 0.3), sq([]int{2, 3}, 2.2, 0.5), sq([]int{2, 3}, 2.3, 0.7))
	for _, c := range []struct {
		name string
		axis int
	}{{"stack_axis0", 0}, {"stack_axis1", 1}, {"stack_last", -1}} {
		cases = append(cases, ndCase{c.name, stackIn, three, func(n []*G.Node) (*G.Node, error) { return Stack(c.axis, n...) }})
	}
	cases = append(cases,
		ndCase{"transpose_1_2", seqs(sq([]int{2, 3, 4, 5}, 2.4, 0.31)), []bool{true}, func(n []*G.Node) (*G.Node, error) { return Transpose(n[0], 1, 2) }},
		ndCase{"permute_3021", seqs(sq([]int{2, 3, 4, 5}, 2.5, 0.31)), []bool{true}, func(n []*G.Node) (*G.Node, error) { return Permute(n[0], 3, 0, 2, 1) }},
		ndCase{"transpose_0_last_size1", seqs(sq([]int{1, 4, 1, 3}, 2.6, 0.43)), []bool{true}, func(n []*G.Node) (*G.Node, error) { return Transpose(n[0], 0, -1) }},
	)
	for _, ta := range []bool{false, true} {
		for _, tb := range []bool{false, true} {
			sa, sb := []int{2, 3, 4, 5}, []int{2, 3, 5, 2}
			if ta {
				sa = []int{2, 3, 5, 4}
			}
			if tb {
				sb = []int{2, 3, 2, 5}
			}
			cases = append(cases, ndCase{fmt.Sprintf("bmm_%d%d", b2i(ta), b2i(tb)), seqs(sq(sa, 2.7, 0.29), sq(sb, 2.8, 0.41)), two,
				func(n []*G.Node) (*G.Node, error) { return BatchedMatMul(n[0], n[1], ta, tb) }})
		}
	}
	bmm := func(n []*G.Node) (*G.Node, error) { return BatchedMatMul(n[0], n[1], false, false) }
	gather := func(n []*G.Node) (*G.Node, error) { return Gather(n[0], n[1]) }
	cases = append(cases,
		ndCase{"bmm_batch1_rank3", seqs(sq([]int{1, 3, 4}, 2.9, 0.29), sq([]int{1, 4, 1}, 3.0, 0.41)), two, bmm},
		ndCase{"bmm_rank2", seqs(sq([]int{3, 4}, 3.1, 0.29), sq([]int{4, 2}, 3.2, 0.41)), two, bmm},

		ndCase{"gather_2x5", withExtra(seqs(sq([]int{7, 4}, 3.3, 0.3)), idTensor([]int{2, 5}, 3, 1, 7)), maskWrt, gather},
		ndCase{"gather_rank1", withExtra(seqs(sq([]int{5, 3}, 3.4, 0.3)), idTensor([]int{4}, 2, 0, 5)), maskWrt, gather},
		ndCase{"gather_padding_3", withExtra(seqs(sq([]int{7, 4}, 3.3, 0.3)), idTensor([]int{2, 5}, 3, 1, 7)), maskWrt, func(n []*G.Node) (*G.Node, error) {
			return GatherPadded(n[0], n[1], 3)
		}},
		ndCase{"gather_rank3_dim1", withExtra(seqs(sq([]int{6, 1}, 3.5, 0.3)), idTensor([]int{2, 3, 2}, 5, 2, 6)), maskWrt, gather},

		ndCase{"masked_fill_causal", withExtra(scores, causalMask01(3)), maskWrt, func(n []*G.Node) (*G.Node, error) { return MaskedFill(n[0], n[1], -1e4) }},
		ndCase{"masked_fill_padding", withExtra(scores, paddingMask01([]int{3, 2}, 3)), maskWrt, func(n []*G.Node) (*G.Node, error) { return MaskedFill(n[0], n[1], -1e4) }},
		ndCase{"masked_fill_softmax_inf", withExtra(scores, causalMask01(3)), maskWrt, func(n []*G.Node) (*G.Node, error) {
			y, err := MaskedFill(n[0], n[1], math.Inf(-1))
			if err != nil {
				return nil, err
			}
			return Softmax(y)
		}},
		ndCase{"add_mask_softmax_inf", withExtra(scores, CausalMask(tensor.Float64, 3)), maskWrt, func(n []*G.Node) (*G.Node, error) {
			y, err := AddMask(n[0], n[1])
			if err != nil {
				return nil, err
			}
			return Softmax(y)
		}},
		ndCase{"add_mask_padding_large", withExtra(scores, scaled(paddingMask01([]int{3, 2}, 3), -1e9)), maskWrt, func(n []*G.Node) (*G.Node, error) { return AddMask(n[0], n[1]) }},

		ndCase{"softmax_rank4", seqs(sq([]int{2, 3, 4, 5}, 3.7, 0.61, 5)), []bool{true}, func(n []*G.Node) (*G.Node, error) { return Softmax(n[0]) }},
		ndCase{"softmax_rank1", seqs(sq([]int{6}, 3.8, 0.61, 5)), []bool{true}, func(n []*G.Node) (*G.Node, error) { return Softmax(n[0]) }},
		ndCase{"softmax_size1", seqs(sq([]int{3, 1}, 3.9, 0.61, 5)), []bool{true}, func(n []*G.Node) (*G.Node, error) { return Softmax(n[0]) }},
		ndCase{"softmax_large", seqs(sq([]int{2, 4}, 4.0, 0.61, 800)), []bool{true}, func(n []*G.Node) (*G.Node, error) { return Softmax(n[0]) }},

		ndCase{"dense_last_rank3", seqs(sq([]int{2, 3, 4}, 4.1, 0.3), sq([]int{4, 5}, 4.2, 0.7, 0.5), sq([]int{5}, 4.3, 0.9)), three, dense("none")},
		ndCase{"dense_last_rank4_relu", seqs(sq([]int{2, 1, 3, 4}, 4.4, 0.3), sq([]int{4, 5}, 4.5, 0.7, 0.5), sq([]int{5}, 4.6, 0.9)), three, dense("relu")},
		ndCase{"dense_last_tanh_nobias", seqs(sq([]int{3, 2, 4}, 4.7, 0.3), sq([]int{4, 3}, 4.8, 0.7, 0.5)), two, dense("tanh")},
		ndCase{"dense_last_gelu", seqs(sq([]int{2, 3, 4}, 4.9, 0.3), sq([]int{4, 2}, 5.0, 0.7, 0.5), sq([]int{2}, 5.1, 0.9)), three, dense("gelu")},
		ndCase{"dense_last_rank1", seqs(sq([]int{4}, 5.2, 0.3), sq([]int{4, 3}, 5.3, 0.7, 0.5), sq([]int{3}, 5.4, 0.9)), three, dense("none")},

		ndCase{"seq_ce_ignore_-100", withExtra(seqs(sq([]int{2, 4, 5}, 5.5, 0.47, 2)), targetTensor([]int{2, 4}, 5, -100, 3)), maskWrt, ce(-100)},
		ndCase{"seq_ce_ignore_0", withExtra(seqs(sq([]int{3, 2, 4}, 5.6, 0.47, 2)), targetTensor([]int{3, 2}, 4, 0, 4)), maskWrt, ce(0)},
		ndCase{"seq_ce_rank2_none_ignored", withExtra(seqs(sq([]int{5, 3}, 5.7, 0.47, 2)), idTensor([]int{5}, 2, 1, 3)), maskWrt, ce(-100)},
		ndCase{"seq_ce_partial_batch", withExtra(seqs(sq([]int{1, 3, 4}, 5.8, 0.47, 2)), targetTensor([]int{1, 3}, 4, -1, 2)), maskWrt, ce(-1)},
	)
	return cases
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func scaled(t *tensor.Dense, s float64) *tensor.Dense {
	for i := range data[float64](t) {
		data[float64](t)[i] *= s
	}
	return t
}

// TestNDOpsMatchPyTorch compares every N-D op's output and input gradients
// with PyTorch 1.13's for the same inputs, in float64, and logs the
// largest relative difference per case.
func TestNDOpsMatchPyTorch(t *testing.T) {
	want := loadTorchNDCases(t)
	seen := map[string]bool{}
	for _, tc := range ndTorchCases() {
		seen[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			w, ok := want[tc.name]
			if !ok {
				t.Fatalf("no case %s in testdata/torch_ref_nd.json", tc.name)
			}
			out, grads := runWithGradsOf(t, tensor.Float64, tc.inputs(), tc.wrt, tc.build)
			near(t, "out", out, w.Out)
			worst := maxDiff(out, w.Out)
			for i, g := range grads {
				if (g == nil) != (w.Grads[i] == nil) {
					t.Fatalf("input %d: gradient present %v, in PyTorch %v", i, g != nil, w.Grads[i] != nil)
				}
				near(t, fmt.Sprint("grad ", i), g, w.Grads[i])
				worst = max(worst, maxDiff(g, w.Grads[i]))
			}
			t.Logf("%s: max relative difference from PyTorch %.2g", tc.name, worst)
		})
	}
	for name := range want {
		if !seen[name] {
			t.Errorf("case %s of torch_ref_nd.json is not tested", name)
		}
	}
}

// TestNDOpsFloat32MatchFloat64 runs every case of TestNDOpsMatchPyTorch in
// float32 and wants the float64 results within float32 rounding: the
// float32 paths of the kernels compute the same thing.
func TestNDOpsFloat32MatchFloat64(t *testing.T) {
	for _, tc := range ndTorchCases() {
		t.Run(tc.name, func(t *testing.T) {
			out64, grads64 := runWithGradsOf(t, tensor.Float64, tc.inputs(), tc.wrt, tc.build)
			out32, grads32 := runWithGradsOf(t, tensor.Float32, tc.inputs(), tc.wrt, tc.build)
			// The inputs themselves are rounded to float32; -1e4 fills
			// and a scale of 800 make absolute errors of a few 1e-4.
			const tol = 1e-5
			if d := maxDiff(out32, out64); d > tol {
				t.Errorf("output: float32 differs from float64 by %.2g (relative)", d)
			}
			for i := range grads64 {
				if d := maxDiff(grads32[i], grads64[i]); d > tol {
					t.Errorf("gradient %d: float32 differs from float64 by %.2g (relative)", i, d)
				}
			}
		})
	}
}
