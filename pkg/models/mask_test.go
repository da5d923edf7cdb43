package models

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/ops"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// runModel builds the layers' model over x, with the named tensors pre
// defined on the graph first, and returns the output and the gradient of
// every trainable parameter of L = Σ out⊙r, r = torchSeq(0.5, 0.7).
func runModel(t *testing.T, m Model, x *tensor.Dense, pre map[string]*tensor.Dense) ([]float64, [][]float64) {
	t.Helper()
	g := NewGraph(m.Params(), true)
	for name, v := range pre {
		n := G.NewTensor(g.G, tensor.Float64, v.Dims(), G.WithShape(v.Shape()...), G.WithName(name), G.WithValue(v))
		if err := g.Define(name, n); err != nil {
			t.Fatal(err)
		}
	}
	xn := G.NewTensor(g.G, tensor.Float64, x.Dims(), G.WithShape(x.Shape()...), G.WithName("x"), G.WithValue(x))
	out, err := Apply(g, m, xn)
	if err != nil {
		t.Fatal(err)
	}
	r := G.NewTensor(g.G, tensor.Float64, out.Dims(), G.WithShape(out.Shape()...), G.WithName("r"),
		G.WithValue(tensor.New(tensor.WithShape(out.Shape()...), tensor.WithBacking(torchSeq(out.Shape().TotalSize(), 0.5, 0.7, 1)))))
	loss, err := ops.WeightedSum(out, r)
	if err != nil {
		t.Fatal(err)
	}
	params := m.Params().Trainable()
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
	gs := make([][]float64, len(grads))
	for i, gn := range grads {
		gs[i] = append([]float64(nil), gn.Value().Data().([]float64)...)
	}
	return append([]float64(nil), out.Value().Data().([]float64)...), gs
}

// TestMaskedRecurrentLayersMatchTorch builds masked recurrent layers
// (stacked, bidirectional, sequences or last states) from their YAML, a
// padding mask named "mask" defined on the graph (the auto rule), and
// compares the output and every parameter's gradient with PyTorch 1.13's
// module on pack_padded_sequence (torch_ref_rnn_masked.py's "layers").
func TestMaskedRecurrentLayersMatchTorch(t *testing.T) {
	b, err := os.ReadFile("../ops/testdata/torch_ref_rnn_masked.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Sizes   struct{ B, T, F int }
		Lengths []int
		Layers  []struct {
			Name, Layer string
			OutShape    []int `json:"out_shape"`
			Out         []float64
			Grads       [][]float64
		}
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Layers) != 3 {
		t.Fatalf("%d layer cases, want 3", len(f.Layers))
	}
	keep := make([]float64, f.Sizes.B*f.Sizes.T)
	for r, n := range f.Lengths {
		for p := range n {
			keep[r*f.Sizes.T+p] = 1
		}
	}
	for _, c := range f.Layers {
		t.Run(c.Name, func(t *testing.T) {
			e := experiment(t, fmt.Sprintf("{dtype: float64, layers: [%s]}", c.Layer))
			m, err := Build(Spec{Exp: e, Input: Shape{f.Sizes.T, f.Sizes.F}, Output: Shape(c.OutShape[1:]), InitRNG: rand.New(rand.NewPCG(1, 1))})
			if err != nil {
				t.Fatal(err)
			}
			params := m.Params().Trainable()
			if len(params)+1 != len(c.Grads) {
				t.Fatalf("%d parameters, PyTorch has %d", len(params), len(c.Grads)-1)
			}
			for k, p := range params {
				copy(p.Value.Data().([]float64), torchSeq(p.Value.Shape().TotalSize(), 0.05+0.1*float64(k), 0.37, 0.5))
			}
			xs := []int{f.Sizes.B, f.Sizes.T, f.Sizes.F}
			x := tensor.New(tensor.WithShape(xs...), tensor.WithBacking(torchSeq(f.Sizes.B*f.Sizes.T*f.Sizes.F, 0.2, 0.41, 1.5)))
			mask := tensor.New(tensor.WithShape(f.Sizes.B, f.Sizes.T), tensor.WithBacking(keep))
			out, grads := runModel(t, m, x, map[string]*tensor.Dense{MaskName: mask})
			worst := maxAbsDiff(t, "output", out, c.Out)
			for i, g := range grads {
				worst = max(worst, maxAbsDiff(t, params[i].Name, g, c.Grads[i+1]))
			}
			t.Logf("largest difference from PyTorch: %.3g", worst)
		})
	}
}

// TestPadMaskModelsMatchTorch builds whole models on padded token ids
// (Spec.PadMask: the model defines the mask from the ids, and the
// recurrent layers, attention and pooling use it by the auto rule) and
// compares the output and every parameter's gradient with PyTorch 1.13
// doing the same with pack_padded_sequence, src_key_padding_mask and
// pooling over the real positions (torch_ref_masked_models.py).
func TestPadMaskModelsMatchTorch(t *testing.T) {
	b, err := os.ReadFile("testdata/torch_ref_masked_models.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		IDs   [][]float64
		Cases []struct {
			Name, Layers  string
			Out           []float64
			Params, Grads [][]float64
		}
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Cases) != 3 {
		t.Fatalf("%d cases, want 3", len(f.Cases))
	}
	bsz, steps := len(f.IDs), len(f.IDs[0])
	var ids []float64
	for _, row := range f.IDs {
		ids = append(ids, row...)
	}
	for _, c := range f.Cases {
		t.Run(c.Name, func(t *testing.T) {
			e := experiment(t, fmt.Sprintf("{dtype: float64, layers: %s}", c.Layers))
			m, err := Build(Spec{Exp: e, Input: Shape{steps}, Output: Shape{2}, PadMask: true, InitRNG: rand.New(rand.NewPCG(1, 1))})
			if err != nil {
				t.Fatal(err)
			}
			params := m.Params().Trainable()
			if len(params) != len(c.Params) {
				t.Fatalf("%d parameters, PyTorch has %d", len(params), len(c.Params))
			}
			for k, p := range params {
				if p.Value.Shape().TotalSize() != len(c.Params[k]) {
					t.Fatalf("%s has %d values, PyTorch's %d", p.Name, p.Value.Shape().TotalSize(), len(c.Params[k]))
				}
				copy(p.Value.Data().([]float64), c.Params[k])
			}
			x := tensor.New(tensor.WithShape(bsz, steps), tensor.WithBacking(append([]float64(nil), ids...)))
			out, grads := runModel(t, m, x, nil)
			worst := maxAbsDiff(t, "output", out, c.Out)
			for i, g := range grads {
				worst = max(worst, maxAbsDiff(t, params[i].Name, g, c.Grads[i]))
			}
			t.Logf("largest difference from PyTorch: %.3g", worst)
		})
	}
}

// TestMaskOptions: mask: none leaves a model unmasked (different values
// from the masked one, equal to a model without the mask), a named mask
// is read, and a mask that does not fit the layer's sequence is an error
// naming both shapes.
func TestMaskOptions(t *testing.T) {
	build := func(layer string) Model {
		e := experiment(t, fmt.Sprintf("{dtype: float64, layers: [%s, {type: sequence_pool, mode: mean, mask: none}]}", layer))
		m, err := Build(Spec{Exp: e, Input: Shape{4, 2}, InitRNG: rand.New(rand.NewPCG(1, 1))})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	x := tensor.New(tensor.WithShape(2, 4, 2), tensor.WithBacking(torchSeq(16, 0.2, 0.41, 1.5)))
	keep := func() *tensor.Dense {
		return tensor.New(tensor.WithShape(2, 4), tensor.WithBacking([]float64{1, 1, 1, 1, 1, 1, 0, 0}))
	}
	plain, _ := runModel(t, build("{type: gru, units: 3, return_sequences: true}"), x, nil)
	masked, _ := runModel(t, build("{type: gru, units: 3, return_sequences: true}"), x, map[string]*tensor.Dense{MaskName: keep()})
	none, _ := runModel(t, build("{type: gru, units: 3, return_sequences: true, mask: none}"), x, map[string]*tensor.Dense{MaskName: keep()})
	named, _ := runModel(t, build("{type: gru, units: 3, return_sequences: true, mask: lengths}"), x, map[string]*tensor.Dense{"lengths": keep()})
	if d := maxDiff(none, plain); d != 0 {
		t.Errorf("mask: none differs from no mask by %.3g", d)
	}
	if d := maxDiff(named, masked); d != 0 {
		t.Errorf("a named mask differs from the auto one by %.3g", d)
	}
	if d := maxDiff(masked, plain); d == 0 {
		t.Error("the mask changed nothing")
	}
	e := experiment(t, "{dtype: float64, layers: [{type: lstm, units: 3}]}")
	m, err := Build(Spec{Exp: e, Input: Shape{4, 2}, InitRNG: rand.New(rand.NewPCG(1, 1))})
	if err != nil {
		t.Fatal(err)
	}
	g := NewGraph(m.Params(), false)
	short := G.NewTensor(g.G, tensor.Float64, 2, G.WithShape(2, 3), G.WithName("mask"))
	if err := g.Define(MaskName, short); err != nil {
		t.Fatal(err)
	}
	_, err = Apply(g, m, G.NewTensor(g.G, tensor.Float64, 3, G.WithShape(2, 4, 2), G.WithName("x")))
	if err == nil || !strings.Contains(err.Error(), `lstm: the padding mask "mask" (2, 3) (per sample (3)) does not fit the layer's input (2, 4, 2) (per sample (4, 2))`) {
		t.Fatalf("error %v, want one naming both shapes", err)
	}
}

// maxDiff is the largest |a − b|.
func maxDiff(a, b []float64) float64 {
	var d float64
	for i := range a {
		d = max(d, abs(a[i]-b[i]))
	}
	return d
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}
