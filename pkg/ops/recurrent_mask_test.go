package ops

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/compute"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// torch_ref_rnn_masked.py's sizes and sequence lengths.
const mskB, mskT, mskF, mskH = 3, 5, 3, 4

var mskLengths = []int{5, 2, 4}

// keepTensor is the padding mask [len(lengths), t] of sequences of the
// given lengths: 1 at steps < length, 0 after.
func keepTensor(t int, lengths ...int) *tensor.Dense {
	v := make([]float64, len(lengths)*t)
	for r, n := range lengths {
		for p := range n {
			v[r*t+p] = 1
		}
	}
	return tensor.New(tensor.WithShape(len(lengths), t), tensor.WithBacking(v))
}

// buildMasked applies RecurrentMasked to x = n[0], 4 weights per
// direction and the mask, the last input; last adds RecurrentLastMasked.
func buildMasked(cell Cell, reverse []bool, last bool) func(n []*G.Node) (*G.Node, error) {
	return func(n []*G.Node) (*G.Node, error) {
		dirs := make([]RecurrentWeights, len(reverse))
		for i, r := range reverse {
			w := n[1+4*i:]
			dirs[i] = RecurrentWeights{IH: w[0], HH: w[1], BiasIH: w[2], BiasHH: w[3], Reverse: r}
		}
		keep := n[len(n)-1]
		h, err := RecurrentMasked(n[0], keep, cell, true, dirs...)
		if err != nil || !last {
			return h, err
		}
		return RecurrentLastMasked(h, keep, reverse...)
	}
}

// TestRecurrentMaskedMatchesTorch compares masked RNN, LSTM and GRU
// layers, one direction and both, every step and h_n, with PyTorch 1.13
// on pack_padded_sequence: output and the gradients of x and every
// weight, in float64 (to 1e-12) and float32 (to 2e-5 relative).
func TestRecurrentMaskedMatchesTorch(t *testing.T) {
	b, err := os.ReadFile("testdata/torch_ref_rnn_masked.json")
	must(t, err)
	var f struct {
		Lengths []int
		Cases   []torchCase
	}
	must(t, json.Unmarshal(b, &f))
	if len(f.Cases) != 12 || len(f.Lengths) != mskB {
		t.Fatalf("%d cases and lengths %v in torch_ref_rnn_masked.json, want 12 and %d lengths", len(f.Cases), f.Lengths, mskB)
	}
	for _, c := range f.Cases {
		name, last := strings.CutSuffix(c.Name, "_last")
		base, bidir := strings.CutSuffix(name, "_bidirectional")
		cell, reverse := rnnCells[base], []bool{false}
		if bidir {
			reverse = []bool{false, true}
		}
		in := []*tensor.Dense{seqTensor([]int{mskB, mskT, mskF}, 0.2, 0.41, 1.5)}
		for i := range reverse {
			in = append(in, maskedWeights(cell.Gates(), float64(i))...)
		}
		in = append(in, keepTensor(mskT, f.Lengths...))
		wrt := make([]bool, len(in))
		for i := range wrt[:len(in)-1] {
			wrt[i] = true
		}
		for _, tc := range []struct {
			dt  tensor.Dtype
			tol float64
		}{{tensor.Float64, 1e-12}, {tensor.Float32, 2e-5}} {
			t.Run(c.Name+"/"+tc.dt.String(), func(t *testing.T) {
				out, grads := runWithGradsOf(t, tc.dt, in, wrt, buildMasked(cell, reverse, last))
				worst := maxDiff(out, c.Out)
				if worst > tc.tol {
					t.Errorf("output differs from PyTorch by %.3g", worst)
				}
				for i, g := range grads[:len(grads)-1] {
					d := maxDiff(g, c.Grads[i])
					if d > tc.tol {
						t.Errorf("gradient of input %d differs from PyTorch by %.3g", i, d)
					}
					worst = max(worst, d)
				}
				t.Logf("largest difference from PyTorch (output and gradients): %.3g", worst)
			})
		}
	}
}

// maskedWeights is torch_ref_rnn_masked.py's weights(g, phase).
func maskedWeights(g int, phase float64) []*tensor.Dense {
	return []*tensor.Dense{
		seqTensor([]int{g * mskH, mskF}, phase+0.1, 0.37, 0.6),
		seqTensor([]int{g * mskH, mskH}, phase+0.2, 0.53, 0.5),
		seqTensor([]int{g * mskH}, phase+0.3, 0.71, 0.4),
		seqTensor([]int{g * mskH}, phase+0.4, 0.29, 0.4),
	}
}

// TestRecurrentMaskedGradients checks every cell and direction set,
// masked, against central finite differences, with lengths from empty to
// full and a batch item that is all padding.
func TestRecurrentMaskedGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 13))
	rnd := func(scale float64, shape ...int) *tensor.Dense {
		v := make([]float64, tensor.Shape(shape).TotalSize())
		for i := range v {
			v[i] = scale * (rng.Float64()*2 - 1)
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))
	}
	for _, name := range []string{"rnn_tanh", "rnn_relu", "lstm", "gru"} {
		cell := rnnCells[name]
		for _, dirs := range [][]bool{{false}, {true}, {false, true}} {
			b, steps, f, h := 4, 5, 2, 3
			gh := cell.Gates() * h
			in := []*tensor.Dense{rnd(1.5, b, steps, f)}
			names := []string{"x"}
			for range dirs {
				in = append(in, rnd(0.9, gh, f), rnd(0.8, gh, h), rnd(0.5, gh), rnd(0.5, gh))
				names = append(names, "weight_ih", "weight_hh", "bias_ih", "bias_hh")
			}
			in = append(in, keepTensor(steps, 5, 3, 0, 1))
			names = append(names, "mask")
			wrt := make([]bool, len(in))
			for i := range wrt[:len(in)-1] {
				wrt[i] = true
			}
			for _, last := range []bool{false, true} {
				label := name + map[int]string{1: "", 2: "_bidirectional"}[len(dirs)]
				if len(dirs) == 1 && dirs[0] {
					label += "_reverse"
				}
				if last {
					label += "/last"
				}
				t.Run(label, func(t *testing.T) {
					build := func(_ *G.ExprGraph, n []*G.Node) (*G.Node, error) { return buildMasked(cell, dirs, last)(n) }
					res, err := GradCheck(names, in, wrt, build, GradCheckOptions{Seed: 3})
					must(t, err)
					for _, r := range res {
						if r.RelErr > 1e-6 || r.Checked == 0 {
							t.Errorf("%s: relative error %.3g over %d elements", r.Name, r.RelErr, r.Checked)
						}
					}
				})
			}
		}
	}
}

// TestRecurrentMaskedPadding: a sequence's outputs do not depend on what
// its padded steps hold, are zero there, and a full mask gives exactly
// the unmasked op's values.
func TestRecurrentMaskedPadding(t *testing.T) {
	cell, reverse := CellLSTM, []bool{false, true}
	in := []*tensor.Dense{seqTensor([]int{mskB, mskT, mskF}, 0.2, 0.41, 1.5)}
	for i := range reverse {
		in = append(in, maskedWeights(cell.Gates(), float64(i))...)
	}
	wrt := make([]bool, len(in)+1)
	wrt[0] = true
	full, _ := runWithGradsOf(t, tensor.Float64, append(in, keepTensor(mskT, 5, 5, 5)), wrt, buildMasked(cell, reverse, false))
	plain, _ := runWithGradsOf(t, tensor.Float64, in, wrt[:len(in)], buildRecurrent(cell, reverse, true))
	if d := maxDiff(full, plain); d != 0 {
		t.Errorf("a full mask changes the output by %.3g", d)
	}
	keep := keepTensor(mskT, 5, 2, 4)
	a, _ := runWithGradsOf(t, tensor.Float64, append(in, keep), wrt, buildMasked(cell, reverse, false))
	x := in[0].Clone().(*tensor.Dense)
	xs := data[float64](x)
	for p := 2; p < mskT; p++ { // batch item 1's padding
		for j := range mskF {
			xs[(1*mskT+p)*mskF+j] = 100
		}
	}
	b, _ := runWithGradsOf(t, tensor.Float64, append([]*tensor.Dense{x}, append(in[1:], keep)...), wrt, buildMasked(cell, reverse, false))
	if d := maxDiff(a, b); d != 0 {
		t.Errorf("changing padded steps changes the output by %.3g", d)
	}
	w := 2 * mskH
	for p := 2; p < mskT; p++ {
		for j := range w {
			if v := a[(1*mskT+p)*w+j]; v != 0 {
				t.Fatalf("output at padded step %d is %v, want 0", p, v)
			}
		}
	}
}

// TestRecurrentMaskedBadMask: a mask whose padding comes before a real
// step stops the run with an error naming the row and positions; a mask
// of the wrong shape is an error when the graph is built.
func TestRecurrentMaskedBadMask(t *testing.T) {
	in := append([]*tensor.Dense{seqTensor([]int{2, 3, 1}, 0.2, 0.41, 1.5)}, rnnWeightsSized(1, 1, 2)...)
	keep := tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float64{1, 1, 1, 0, 1, 1}))
	g := G.NewGraph()
	var nodes []*G.Node
	for i, x := range append(in, keep) {
		nodes = append(nodes, G.NewTensor(g, tensor.Float64, x.Dims(), G.WithShape(x.Shape()...), G.WithValue(x), G.WithName(string(rune('a'+i)))))
	}
	_, err := buildMasked(CellRNNTanh, []bool{false}, false)(nodes)
	must(t, err)
	m, err := NewMachine(g)
	must(t, err)
	err = m.RunAll()
	if err == nil || !strings.Contains(err.Error(), "padding mask row 1 has a real step (1) at position 1 after padding at position 0") {
		t.Fatalf("error %v, want one naming row 1 and its positions", err)
	}
	bad := G.NewTensor(g, tensor.Float64, 2, G.WithShape(2, 4), G.WithName("badmask"))
	_, err = RecurrentMasked(nodes[0], bad, CellRNNTanh, true, RecurrentWeights{IH: nodes[1], HH: nodes[2], BiasIH: nodes[3], BiasHH: nodes[4]})
	if err == nil || !strings.Contains(err.Error(), "want a padding mask [batch, time] = [2, 3]") {
		t.Fatalf("error %v, want one naming the mask shape", err)
	}
}

// rnnWeightsSized are small weights of g gates, f features, h units.
func rnnWeightsSized(g, f, h int) []*tensor.Dense {
	return []*tensor.Dense{
		seqTensor([]int{g * h, f}, 0.1, 0.37, 0.6), seqTensor([]int{g * h, h}, 0.2, 0.53, 0.5),
		seqTensor([]int{g * h}, 0.3, 0.71, 0.4), seqTensor([]int{g * h}, 0.4, 0.29, 0.4),
	}
}

// TestRecurrentMaskedStepDoesNotAllocate: a float32 training step through
// a masked bidirectional LSTM's last states and masked max pooling
// allocates nothing once warm.
func TestRecurrentMaskedStepDoesNotAllocate(t *testing.T) {
	if compute.ProductsAllocate() {
		t.Skip("this build's float32 matrix products allocate (gonum without AVX2)")
	}
	rng := rand.New(rand.NewPCG(5, 7))
	g := G.NewGraph()
	var params G.Nodes
	param := func(shape ...int) *G.Node {
		n := G.NewTensor(g, tensor.Float32, len(shape), G.WithShape(shape...), G.WithValue(randF32(rng, shape...)),
			G.WithName("p"+string(rune('a'+len(params)))))
		params = append(params, n)
		return n
	}
	dir := func(rev bool) RecurrentWeights {
		return RecurrentWeights{IH: param(64, 3), HH: param(64, 16), BiasIH: param(64), BiasHH: param(64), Reverse: rev}
	}
	x := G.NewTensor(g, tensor.Float32, 3, G.WithShape(8, 12, 3), G.WithValue(randF32(rng, 8, 12, 3)), G.WithName("x"))
	kv := make([]float32, 8*12)
	for r := range 8 {
		for p := range 12 - r {
			kv[r*12+p] = 1
		}
	}
	keep := G.NewTensor(g, tensor.Float32, 2, G.WithShape(8, 12), G.WithValue(tensor.New(tensor.WithShape(8, 12), tensor.WithBacking(kv))), G.WithName("keep"))
	h, err := RecurrentMasked(x, keep, CellLSTM, true, dir(false), dir(true))
	must(t, err)
	last, err := RecurrentLastMasked(h, keep, false, true)
	must(t, err)
	pooled, err := SequencePoolMasked(h, keep, "max")
	must(t, err)
	r := G.NewTensor(g, tensor.Float32, 2, G.WithShape(8, 32), G.WithValue(randF32(rng, 8, 32)), G.WithName("r"))
	both, err := Add(last, pooled)
	must(t, err)
	loss, err := WeightedSum(both, r)
	must(t, err)
	_, err = G.Grad(loss, params...)
	must(t, err)
	m, err := NewMachine(g)
	must(t, err)
	must(t, m.RunAll())
	if n := testing.AllocsPerRun(20, func() { _ = m.RunAll() }); n > 0 {
		t.Fatalf("%v allocations per step", n)
	}
	if v := float64(loss.Value().Data().(float32)); math.IsNaN(v) {
		t.Fatal("NaN loss")
	}
}
