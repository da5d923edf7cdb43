package models

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/dltrain/dltrain/pkg/ops"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// torchSeq is torch_ref_rnn.py's seq(): scale·sin(phase + step·i).
func torchSeq(n int, phase, step, scale float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = scale * math.Sin(phase+step*float64(i))
	}
	return v
}

// TestRecurrentLayersMatchTorch builds whole recurrent layers (stacked,
// bidirectional, sequences or last states) from their YAML and compares
// the output and every parameter's gradient with PyTorch 1.13's module of
// the same configuration and weights (torch_ref_rnn.py's "layers").
func TestRecurrentLayersMatchTorch(t *testing.T) {
	checkLayersAgainstTorch(t, "../ops/testdata/torch_ref_rnn.json", 3)
}

// TestTruncatedLayersMatchTorch: stacked layers with truncate: K match
// PyTorch's loop that detaches every layer's state each K steps
// (torch_ref_tbptt.py's "layers").
func TestTruncatedLayersMatchTorch(t *testing.T) {
	checkLayersAgainstTorch(t, "../ops/testdata/torch_ref_tbptt.json", 2)
}

// checkLayersAgainstTorch runs the n layer cases of a reference file.
func checkLayersAgainstTorch(t *testing.T, file string, n int) {
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Sizes  struct{ B, T int }
		Layers []struct {
			Name, Layer string
			Features    int
			OutShape    []int `json:"out_shape"`
			Out         []float64
			Grads       [][]float64
		}
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Layers) != n {
		t.Fatalf("%d layer cases, want %d", len(f.Layers), n)
	}
	for _, c := range f.Layers {
		t.Run(c.Name, func(t *testing.T) {
			e := experiment(t, fmt.Sprintf("{dtype: float64, layers: [%s]}", c.Layer))
			m, err := Build(Spec{Exp: e, Input: Shape{f.Sizes.T, c.Features}, Output: Shape(c.OutShape[1:]), InitRNG: rand.New(rand.NewPCG(1, 1))})
			if err != nil {
				t.Fatal(err)
			}
			params := m.Params().Trainable()
			if len(params) != len(c.Grads) {
				t.Fatalf("%d parameters, PyTorch has %d", len(params), len(c.Grads))
			}
			for k, p := range params {
				copy(p.Value.Data().([]float64), torchSeq(p.Value.Shape().TotalSize(), 0.05+0.1*float64(k), 0.37, 0.5))
			}
			g := NewGraph(m.Params(), true)
			xs := []int{f.Sizes.B, f.Sizes.T, c.Features}
			x := G.NewTensor(g.G, tensor.Float64, 3, G.WithShape(xs...), G.WithName("x"),
				G.WithValue(tensor.New(tensor.WithShape(xs...), tensor.WithBacking(torchSeq(f.Sizes.B*f.Sizes.T*c.Features, 0.2, 0.41, 1.5)))))
			out, err := Apply(g, m, x)
			if err != nil {
				t.Fatal(err)
			}
			n := out.Shape().TotalSize()
			r := G.NewTensor(g.G, tensor.Float64, out.Dims(), G.WithShape(out.Shape()...), G.WithName("r"),
				G.WithValue(tensor.New(tensor.WithShape(out.Shape()...), tensor.WithBacking(torchSeq(n, 0.5, 0.7, 1)))))
			loss, err := ops.WeightedSum(out, r)
			if err != nil {
				t.Fatal(err)
			}
			nodes := make(G.Nodes, len(params))
			for i, p := range params {
				nodes[i] = g.Node(p)
			}
			grads, err := G.Grad(loss, nodes...)
			if err != nil {
				t.Fatal(err)
			}
			vm, err := ops.NewMachine(g.G)
			if err != nil {
				t.Fatal(err)
			}
			if err := vm.RunAll(); err != nil {
				t.Fatal(err)
			}
			worst := maxAbsDiff(t, "output", out.Value().Data().([]float64), c.Out)
			for i, gn := range grads {
				worst = max(worst, maxAbsDiff(t, params[i].Name, gn.Value().Data().([]float64), c.Grads[i]))
			}
			t.Logf("largest difference from PyTorch: %.3g", worst)
		})
	}
}

// maxAbsDiff returns max |got − want| and fails the test above 1e-12.
func maxAbsDiff(t *testing.T, what string, got, want []float64) float64 {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, PyTorch has %d", what, len(got), len(want))
	}
	var d float64
	for i := range got {
		d = max(d, math.Abs(got[i]-want[i]))
	}
	if d > 1e-12 {
		t.Errorf("%s differs from PyTorch by %.3g", what, d)
	}
	return d
}
