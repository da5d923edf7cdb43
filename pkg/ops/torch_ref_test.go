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

// torchCase is one case of testdata/torch_ref.json, produced by
// testdata/torch_ref.py with PyTorch 1.13 in float64.
type torchCase struct {
	Name     string      `json:"name"`
	OutShape []int       `json:"out_shape"`
	Out      []float64   `json:"out"`
	Grads    [][]float64 `json:"grads"`
	RunMean  []float64   `json:"running_mean"`
	RunVar   []float64   `json:"running_var"`
	EvalOut  []float64   `json:"eval_out"`
}

func loadTorchCases(t *testing.T) map[string]torchCase {
	t.Helper()
	b, err := os.ReadFile("testdata/torch_ref.json")
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

// seqTensor is torch_ref.py's tensor(): scale·sin(phase + step·i) over the
// flat index i.
func seqTensor(shape []int, phase, step, scale float64) *tensor.Dense {
	n := tensor.Shape(shape).TotalSize()
	v := make([]float64, n)
	for i := range v {
		v[i] = scale * math.Sin(phase+step*float64(i))
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))
}

// runWithGrads evaluates build on inputs and the gradients of
// Σ out⊙r, r = seq(0.5, 0.7), with respect to every input, as torch_ref.py
// does.
func runWithGrads(t *testing.T, inputs []*tensor.Dense, build func([]*G.Node) (*G.Node, error)) ([]float64, [][]float64) {
	t.Helper()
	g := G.NewGraph()
	nodes := make([]*G.Node, len(inputs))
	for i, x := range inputs {
		// Named: Gorgonia merges unnamed inputs of one shape into one node.
		nodes[i] = G.NewTensor(g, tensor.Float64, x.Dims(), G.WithShape(x.Shape()...), G.WithValue(x), G.WithName(fmt.Sprint("in", i)))
	}
	out, err := build(nodes)
	if err != nil {
		t.Fatal(err)
	}
	r := seqTensor(out.Shape(), 0.5, 0.7, 1)
	rn := G.NewTensor(g, tensor.Float64, out.Dims(), G.WithShape(out.Shape()...), G.WithValue(r))
	cost, err := WeightedSum(out, rn)
	if err != nil {
		t.Fatal(err)
	}
	grads, err := G.Grad(cost, nodes...)
	if err != nil {
		t.Fatal(err)
	}
	m := G.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	gs := make([][]float64, len(grads))
	for i, n := range grads {
		gs[i] = append([]float64(nil), n.Value().Data().([]float64)...)
	}
	return append([]float64(nil), out.Value().Data().([]float64)...), gs
}

func near(t *testing.T, what string, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > 1e-10*max(1, math.Abs(want[i])) {
			t.Fatalf("%s[%d] = %.17g, PyTorch %.17g", what, i, got[i], want[i])
		}
	}
}

func TestOpsMatchPyTorch(t *testing.T) {
	cases := loadTorchCases(t)
	win2 := func(kh, kw, sh, sw, dh, dw, pt, pb, pl, pr int) Window {
		return Window{KH: kh, KW: kw, SH: sh, SW: sw, DH: dh, DW: dw, PadT: pt, PadB: pb, PadL: pl, PadR: pr}
	}
	pool := win2(3, 3, 2, 2, 1, 1, 1, 1, 1, 1)
	poolIn := func() []*tensor.Dense { return []*tensor.Dense{seqTensor([]int{2, 2, 7, 8}, 0.9, 0.53, 1)} }
	tests := []struct {
		name   string
		inputs func() []*tensor.Dense
		build  func(n []*G.Node) (*G.Node, error)
	}{
		{"conv2d_stride2x1_pad1x2_dil1x2", func() []*tensor.Dense {
			return []*tensor.Dense{seqTensor([]int{2, 3, 7, 6}, 0.1, 0.37, 1), seqTensor([]int{4, 3, 3, 2}, 0.2, 0.23, 0.5),
				seqTensor([]int{4}, 0.3, 1.1, 1)}
		}, func(n []*G.Node) (*G.Node, error) {
			return Conv(n[0], n[1], n[2], win2(3, 2, 2, 1, 1, 2, 1, 1, 2, 2), true)
		}},
		{"conv2d_same_4x4_nobias", func() []*tensor.Dense {
			return []*tensor.Dense{seqTensor([]int{1, 2, 5, 6}, 0.4, 0.41, 1), seqTensor([]int{3, 2, 4, 4}, 0.5, 0.19, 0.5)}
		}, func(n []*G.Node) (*G.Node, error) {
			pt, pb := SamePadding(5, 4, 1, 1)
			pl, pr := SamePadding(6, 4, 1, 1)
			return Conv(n[0], n[1], nil, win2(4, 4, 1, 1, 1, 1, pt, pb, pl, pr), true)
		}},
		{"conv1d_stride2_pad1_dil2", func() []*tensor.Dense {
			return []*tensor.Dense{seqTensor([]int{2, 2, 11}, 0.6, 0.29, 1), seqTensor([]int{3, 2, 3}, 0.7, 0.31, 0.5),
				seqTensor([]int{3}, 0.8, 0.9, 1)}
		}, func(n []*G.Node) (*G.Node, error) {
			return Conv(n[0], n[1], n[2], win2(1, 3, 1, 2, 1, 2, 0, 0, 1, 1), true)
		}},
		{"maxpool2d_k3_s2_p1", poolIn, func(n []*G.Node) (*G.Node, error) { return MaxPool(n[0], pool) }},
		{"avgpool2d_k3_s2_p1_include_pad", poolIn, func(n []*G.Node) (*G.Node, error) { return AvgPool(n[0], pool, true) }},
		{"avgpool2d_k3_s2_p1_exclude_pad", poolIn, func(n []*G.Node) (*G.Node, error) { return AvgPool(n[0], pool, false) }},
		{"avgpool2d_k2", poolIn, func(n []*G.Node) (*G.Node, error) {
			return AvgPool(n[0], win2(2, 2, 2, 2, 1, 1, 0, 0, 0, 0), true)
		}},
		{"layernorm_last2", func() []*tensor.Dense {
			return []*tensor.Dense{seqTensor([]int{3, 2, 4}, 1.3, 0.61, 3), seqTensor([]int{2, 4}, 1.4, 0.5, 1),
				seqTensor([]int{2, 4}, 1.5, 0.8, 1)}
		}, func(n []*G.Node) (*G.Node, error) { return LayerNorm(n[0], n[1], n[2], 1e-5, true) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want, ok := cases[tc.name]
			if !ok {
				t.Fatalf("no case %s in testdata/torch_ref.json", tc.name)
			}
			out, grads := runWithGrads(t, tc.inputs(), tc.build)
			near(t, "out", out, want.Out)
			for i, g := range grads {
				near(t, "grad", g, want.Grads[i])
			}
		})
	}
}

func TestBatchNormMatchesPyTorch(t *testing.T) {
	want := loadTorchCases(t)["batchnorm_train_4d"]
	x := seqTensor([]int{4, 3, 2, 2}, 1.0, 0.43, 2)
	gamma, beta := seqTensor([]int{3}, 1.1, 0.7, 1), seqTensor([]int{3}, 1.2, 0.9, 1)
	stats := &RunningStats{
		Mean:     tensor.New(tensor.WithShape(3), tensor.WithBacking([]float64{0.1, -0.2, 0.3})),
		Var:      tensor.New(tensor.WithShape(3), tensor.WithBacking([]float64{1.5, 0.5, 2.0})),
		Momentum: 0.1,
	}
	out, grads := runWithGrads(t, []*tensor.Dense{x, gamma, beta}, func(n []*G.Node) (*G.Node, error) {
		return BatchNorm(n[0], n[1], n[2], 1e-5, stats, true)
	})
	near(t, "out", out, want.Out)
	for i, g := range grads {
		near(t, "grad", g, want.Grads[i])
	}
	// One training pass moved the running statistics once.
	near(t, "running mean", stats.Mean.Data().([]float64), want.RunMean)
	near(t, "running var", stats.Var.Data().([]float64), want.RunVar)

	// Inference with the updated statistics, which it must leave alone.
	mean, variance := stats.Mean.Clone().(*tensor.Dense), stats.Var.Clone().(*tensor.Dense)
	g := G.NewGraph()
	nodes := make([]*G.Node, 5)
	for i, v := range []*tensor.Dense{x, gamma, beta, stats.Mean, stats.Var} {
		nodes[i] = G.NewTensor(g, tensor.Float64, v.Dims(), G.WithShape(v.Shape()...), G.WithValue(v), G.WithName(fmt.Sprint("in", i)))
	}
	y, err := BatchNormInference(nodes[0], nodes[1], nodes[2], nodes[3], nodes[4], 1e-5)
	if err != nil {
		t.Fatal(err)
	}
	m := G.NewTapeMachine(g)
	defer m.Close()
	for range 2 {
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		m.Reset()
	}
	near(t, "eval out", y.Value().Data().([]float64), want.EvalOut)
	near(t, "running mean after inference", stats.Mean.Data().([]float64), mean.Data().([]float64))
	near(t, "running var after inference", stats.Var.Data().([]float64), variance.Data().([]float64))
}
