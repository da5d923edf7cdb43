package ops

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/compute"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// rnnSizes are torch_ref_rnn.py's B, T, F, H.
const rnnB, rnnT, rnnF, rnnH = 2, 4, 3, 5

var rnnCells = map[string]Cell{"rnn_tanh": CellRNNTanh, "rnn_relu": CellRNNRelu, "lstm": CellLSTM, "gru": CellGRU}

// rnnCase splits a torch_ref_rnn.py case name into its cell, directions
// ("", "_reverse" or "_bidirectional") and whether the case is h_n
// ("_last").
func rnnCase(t *testing.T, name string) (Cell, []bool, bool) {
	t.Helper()
	name, last := strings.CutSuffix(name, "_last")
	for _, kind := range []string{"_bidirectional", "_reverse"} {
		if base, ok := strings.CutSuffix(name, kind); ok {
			if kind == "_reverse" {
				return rnnCells[base], []bool{true}, last
			}
			return rnnCells[base], []bool{false, true}, last
		}
	}
	c, ok := rnnCells[name]
	if !ok {
		t.Fatalf("unknown case %q", name)
	}
	return c, []bool{false}, last
}

// rnnWeights is torch_ref_rnn.py's weights(g, phase).
func rnnWeights(g int, phase float64) []*tensor.Dense {
	return []*tensor.Dense{
		seqTensor([]int{g * rnnH, rnnF}, phase+0.1, 0.37, 0.6),
		seqTensor([]int{g * rnnH, rnnH}, phase+0.2, 0.53, 0.5),
		seqTensor([]int{g * rnnH}, phase+0.3, 0.71, 0.4),
		seqTensor([]int{g * rnnH}, phase+0.4, 0.29, 0.4),
	}
}

// rnnInputs are a case's x and weights as torch_ref_rnn.py sets them: the
// checked direction has phase 0, the other (in a bidirectional case, the
// reverse one) phase 1.
func rnnInputs(cell Cell, reverse []bool) []*tensor.Dense {
	in := []*tensor.Dense{seqTensor([]int{rnnB, rnnT, rnnF}, 0.2, 0.41, 1.5)}
	for i := range reverse {
		in = append(in, rnnWeights(cell.Gates(), float64(i))...)
	}
	return in
}

// buildRecurrent applies Recurrent to x = n[0] and 4 weights per direction.
func buildRecurrent(cell Cell, reverse []bool, wrtX bool) func(n []*G.Node) (*G.Node, error) {
	return func(n []*G.Node) (*G.Node, error) {
		dirs := make([]RecurrentWeights, len(reverse))
		for i, r := range reverse {
			w := n[1+4*i:]
			dirs[i] = RecurrentWeights{IH: w[0], HH: w[1], BiasIH: w[2], BiasHH: w[3], Reverse: r}
		}
		return Recurrent(n[0], cell, wrtX, dirs...)
	}
}

// lastOf applies RecurrentLast to build's output.
func lastOf(build func(n []*G.Node) (*G.Node, error), reverse []bool) func(n []*G.Node) (*G.Node, error) {
	return func(n []*G.Node) (*G.Node, error) {
		h, err := build(n)
		if err != nil {
			return nil, err
		}
		return RecurrentLast(h, reverse...)
	}
}

func loadTorchRNNCases(t *testing.T) []torchCase {
	t.Helper()
	b, err := os.ReadFile("testdata/torch_ref_rnn.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct{ Cases []torchCase }
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Cases) != 16 {
		t.Fatalf("%d cases in torch_ref_rnn.json, want 16", len(f.Cases))
	}
	return f.Cases
}

// TestRecurrentMatchesTorch compares every cell, forward, reverse and
// bidirectional, with PyTorch 1.13's nn.RNN/LSTM/GRU: the output and the
// gradients of x and every weight, in float64 (to 1e-12) and float32 (to
// 2e-5 relative); the _last cases through RecurrentLast.
func TestRecurrentMatchesTorch(t *testing.T) {
	for _, c := range loadTorchRNNCases(t) {
		cell, reverse, last := rnnCase(t, c.Name)
		build := buildRecurrent(cell, reverse, true)
		if last {
			build = lastOf(build, reverse)
		}
		in := rnnInputs(cell, reverse)
		wrt := make([]bool, len(in))
		for i := range wrt {
			wrt[i] = true
		}
		for _, tc := range []struct {
			dt  tensor.Dtype
			tol float64
		}{{tensor.Float64, 1e-12}, {tensor.Float32, 2e-5}} {
			t.Run(c.Name+"/"+tc.dt.String(), func(t *testing.T) {
				out, grads := runWithGradsOf(t, tc.dt, in, wrt, build)
				worst := maxDiff(out, c.Out)
				if worst > tc.tol {
					t.Errorf("output differs from PyTorch by %.3g", worst)
				}
				for i, g := range grads {
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

// TestRecurrentGradients checks every cell and direction set against
// central finite differences, on random weights larger than the PyTorch
// case's (so that the gates leave their linear range), and on a sequence
// of one step.
func TestRecurrentGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
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
			for _, steps := range []int{1, 5} {
				b, f, h := 3, 2, 4
				gh := cell.Gates() * h
				in := []*tensor.Dense{rnd(1.5, b, steps, f)}
				names := []string{"x"}
				for range dirs {
					in = append(in, rnd(0.9, gh, f), rnd(0.8, gh, h), rnd(0.5, gh), rnd(0.5, gh))
					names = append(names, "weight_ih", "weight_hh", "bias_ih", "bias_hh")
				}
				wrt := make([]bool, len(in))
				for i := range wrt {
					wrt[i] = true
				}
				label := name + map[int]string{1: "", 2: "_bidirectional"}[len(dirs)]
				if len(dirs) == 1 && dirs[0] {
					label += "_reverse"
				}
				for _, last := range []bool{false, true} {
					name := label + "/T" + string(rune('0'+steps))
					if last {
						name += "/last"
					}
					t.Run(name, func(t *testing.T) {
						build := func(_ *G.ExprGraph, n []*G.Node) (*G.Node, error) {
							if last {
								return lastOf(buildRecurrent(cell, dirs, true), dirs)(n)
							}
							return buildRecurrent(cell, dirs, true)(n)
						}
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
}

// TestRecurrentWithoutInputGradient: with wrtX false the weights'
// gradients are those of the full op (the packed layout shifts).
func TestRecurrentWithoutInputGradient(t *testing.T) {
	cell, reverse := CellGRU, []bool{false, true}
	in := rnnInputs(cell, reverse)
	all := make([]bool, len(in))
	for i := range all {
		all[i] = true
	}
	_, want := runWithGradsOf(t, tensor.Float64, in, all, buildRecurrent(cell, reverse, true))
	wrt := append([]bool{false}, all[1:]...)
	_, got := runWithGradsOf(t, tensor.Float64, in, wrt, buildRecurrent(cell, reverse, false))
	if got[0] != nil {
		t.Fatal("x got a gradient")
	}
	for i := 1; i < len(in); i++ {
		if d := maxDiff(got[i], want[i]); d != 0 {
			t.Errorf("gradient of input %d differs by %.3g without x's", i, d)
		}
	}
}

// TestRecurrentBadShapes: mismatched inputs are errors naming the shapes.
func TestRecurrentBadShapes(t *testing.T) {
	cases := []struct {
		name       string
		x, ih, hh  []int
		bias, want string
	}{
		{"x not 3-D", []int{4, 3}, []int{20, 3}, []int{20, 5}, "", "want x [batch, time, features]"},
		{"weight_hh not 4H", []int{2, 4, 3}, []int{20, 3}, []int{18, 5}, "", "want weight_hh [4·H, H], got (18, 5)"},
		{"weight_ih features", []int{2, 4, 3}, []int{20, 2}, []int{20, 5}, "", "want weight_ih [20, 3]"},
		{"bias size", []int{2, 4, 3}, []int{20, 3}, []int{20, 5}, "short", "want bias_ih and bias_hh [20]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := G.NewGraph()
			node := func(name string, s []int) *G.Node {
				return G.NewTensor(g, tensor.Float64, len(s), G.WithShape(s...), G.WithName(name))
			}
			bias := []int{20}
			if c.bias != "" {
				bias = []int{19}
			}
			_, err := Recurrent(node("x", c.x), CellLSTM, true, RecurrentWeights{
				IH: node("ih", c.ih), HH: node("hh", c.hh), BiasIH: node("bih", bias), BiasHH: node("bhh", []int{20})})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

// TestRecurrentStepDoesNotAllocate: a float32 training step through a
// stacked bidirectional LSTM and a bidirectional GRU's last states (their
// weights' gradients, and the first layer's output's through the second)
// allocates nothing once warm.
func TestRecurrentStepDoesNotAllocate(t *testing.T) {
	if compute.ProductsAllocate() {
		t.Skip("this build's float32 matrix products allocate (gonum without AVX2)")
	}
	rng := rand.New(rand.NewPCG(5, 6))
	g := G.NewGraph()
	var params G.Nodes
	param := func(shape ...int) *G.Node { // named: Gorgonia merges unnamed inputs of one shape
		n := G.NewTensor(g, tensor.Float32, len(shape), G.WithShape(shape...), G.WithValue(randF32(rng, shape...)),
			G.WithName(fmt.Sprint("p", len(params))))
		params = append(params, n)
		return n
	}
	dir := func(gates, f, h int, rev bool) RecurrentWeights {
		return RecurrentWeights{IH: param(gates*h, f), HH: param(gates*h, h), BiasIH: param(gates * h), BiasHH: param(gates * h), Reverse: rev}
	}
	x := G.NewTensor(g, tensor.Float32, 3, G.WithShape(8, 12, 3), G.WithValue(randF32(rng, 8, 12, 3)))
	h1, err := Recurrent(x, CellLSTM, false, dir(4, 3, 16, false), dir(4, 3, 16, true))
	must(t, err)
	h2, err := Recurrent(h1, CellGRU, true, dir(3, 32, 8, false), dir(3, 32, 8, true))
	must(t, err)
	h2, err = RecurrentLast(h2, false, true)
	must(t, err)
	r := G.NewTensor(g, tensor.Float32, 2, G.WithShape(8, 16), G.WithValue(randF32(rng, 8, 16)))
	loss, err := WeightedSum(h2, r)
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
