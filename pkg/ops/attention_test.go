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

// attnCase is one case of testdata/torch_ref_attn.json, written by
// testdata/torch_ref_attn.py with PyTorch 1.13's nn.MultiheadAttention.
type attnCase struct {
	Name                      string
	Batch, Tq, Tk, Dim, Heads int
	Self, Causal              bool
	Q, KV, Keep               []float64
	InProjWeight              []float64 `json:"in_proj_weight"`
	InProjBias                []float64 `json:"in_proj_bias"`
	OutProjWeight             []float64 `json:"out_proj_weight"`
	OutProjBias               []float64 `json:"out_proj_bias"`
	Out                       []float64
	GradInProjWeight          []float64 `json:"grad_in_proj_weight"`
	GradInProjBias            []float64 `json:"grad_in_proj_bias"`
	GradOutProjWeight         []float64 `json:"grad_out_proj_weight"`
	GradOutProjBias           []float64 `json:"grad_out_proj_bias"`
	GradQ                     []float64 `json:"grad_q"`
	GradKV                    []float64 `json:"grad_kv"`
}

func loadAttnCases(t *testing.T) []attnCase {
	t.Helper()
	b, err := os.ReadFile("testdata/torch_ref_attn.json")
	must(t, err)
	var f struct{ Cases []attnCase }
	must(t, json.Unmarshal(b, &f))
	if len(f.Cases) == 0 {
		t.Fatal("no cases in testdata/torch_ref_attn.json")
	}
	return f.Cases
}

// inputs returns the case's tensors in MultiheadAttention's input order
// (q, kv unless self, the four weights, keep when masked), which inputs
// take a gradient, and PyTorch's gradients in the same order.
func (c attnCase) inputs() ([]*tensor.Dense, []bool, [][]float64) {
	d := c.Dim
	mk := func(v []float64, shape ...int) *tensor.Dense {
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float64(nil), v...)))
	}
	in := []*tensor.Dense{mk(c.Q, c.Batch, c.Tq, d)}
	want := [][]float64{c.GradQ}
	if !c.Self {
		in, want = append(in, mk(c.KV, c.Batch, c.Tk, d)), append(want, c.GradKV)
	}
	in = append(in, mk(c.InProjWeight, 3*d, d), mk(c.InProjBias, 3*d), mk(c.OutProjWeight, d, d), mk(c.OutProjBias, d))
	want = append(want, c.GradInProjWeight, c.GradInProjBias, c.GradOutProjWeight, c.GradOutProjBias)
	wrt := make([]bool, len(in))
	for i := range wrt {
		wrt[i] = true
	}
	if c.Keep != nil {
		in, wrt, want = append(in, mk(c.Keep, c.Batch, c.Tk)), append(wrt, false), append(want, nil)
	}
	return in, wrt, want
}

// buildAttn applies MultiheadAttention to nodes laid out as inputs() lays
// out the tensors.
func buildAttn(n []*G.Node, self, masked bool, a Attention) (*G.Node, error) {
	q, kv, i := n[0], (*G.Node)(nil), 1
	if !self {
		kv, i = n[1], 2
	}
	var keep *G.Node
	if masked {
		keep = n[i+4]
	}
	w := AttentionWeights{In: n[i], InBias: n[i+1], Out: n[i+2], OutBias: n[i+3]}
	return MultiheadAttention(q, kv, w, keep, a, true, true)
}

// maxRelErr is max |got − want| / max(1, max |want|).
func maxRelErr(got, want []float64) float64 {
	var scale, e float64
	for _, w := range want {
		scale = max(scale, math.Abs(w))
	}
	for i := range got {
		e = max(e, math.Abs(got[i]-want[i]))
	}
	return e / max(1, scale)
}

// TestAttentionMatchesPyTorch: the output and the gradients of every
// input (queries, keys/values, the four weights) agree with PyTorch 1.13's
// nn.MultiheadAttention for the same weights, self and cross, with and
// without causal and key-padding masks, in float64 and float32.
func TestAttentionMatchesPyTorch(t *testing.T) {
	names := []string{"q", "kv", "in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"}
	for _, c := range loadAttnCases(t) {
		for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
			tol := 1e-13
			if dt == tensor.Float32 {
				tol = 2e-6
			}
			t.Run(c.Name+"/"+dt.String(), func(t *testing.T) {
				in, wrt, want := c.inputs()
				out, gs := runWithGradsOf(t, dt, in, wrt, func(n []*G.Node) (*G.Node, error) {
					return buildAttn(n, c.Self, c.Keep != nil, Attention{Heads: c.Heads, Causal: c.Causal})
				})
				worst := maxRelErr(out, c.Out)
				if worst > tol {
					t.Errorf("output: max error %.3g relative to its largest value, want <= %g", worst, tol)
				}
				for i := range gs {
					if want[i] == nil {
						continue
					}
					name := names[i]
					if c.Self && i > 0 {
						name = names[i+1]
					}
					e := maxRelErr(gs[i], want[i])
					if e > tol {
						t.Errorf("gradient of %s: max error %.3g, want <= %g", name, e, tol)
					}
					worst = max(worst, e)
				}
				t.Logf("max error vs PyTorch %.3g", worst)
			})
		}
	}
}

// TestAttentionGradients compares the fused backward pass with finite
// differences, with every mask, self and cross, and with a frozen dropout
// mask.
func TestAttentionGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(61, 62))
	r := func(shape ...int) *tensor.Dense { return randTensor(rng, shape...) }
	keep := tensor.New(tensor.WithShape(2, 5), tensor.WithBacking([]float64{1, 1, 1, 0, 0, 1, 1, 1, 1, 1}))
	tests := []struct {
		name   string
		self   bool
		tq, tk int
		a      Attention
		masked bool
	}{
		{"self", true, 5, 5, Attention{Heads: 2}, false},
		{"self_causal_padding", true, 5, 5, Attention{Heads: 3, Causal: true}, true},
		{"cross_padding", false, 3, 5, Attention{Heads: 2}, true},
		{"cross_causal", false, 4, 5, Attention{Heads: 1, Causal: true}, false},
		{"self_dropout_frozen", true, 5, 5, Attention{Heads: 2, Dropout: 0.3, Frozen: true}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := 6
			in := []*tensor.Dense{r(2, tc.tq, d)}
			names := []string{"q"}
			if !tc.self {
				in, names = append(in, r(2, tc.tk, d)), append(names, "kv")
			}
			in = append(in, r(3*d, d), r(3*d), r(d, d), r(d))
			names = append(names, "in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias")
			wrt := make([]bool, len(in))
			for i := range wrt {
				wrt[i] = true
			}
			if tc.masked {
				in, names, wrt = append(in, keep), append(names, "keep"), append(wrt, false)
			}
			a := tc.a
			a.RNG = rand.New(rand.NewPCG(7, 8))
			res, err := GradCheck(names, in, wrt, func(_ *G.ExprGraph, n []*G.Node) (*G.Node, error) {
				return buildAttn(n, tc.self, tc.masked, a)
			}, GradCheckOptions{Seed: 3})
			must(t, err)
			for _, g := range res {
				if g.RelErr > 1e-7 || g.MaxGrad == 0 {
					t.Errorf("%s: relative error %.3g (max gradient %.3g)", g.Name, g.RelErr, g.MaxGrad)
				}
			}
		})
	}
}

// forwardOnly runs build on float64 inputs and returns its output.
func forwardOnly(t *testing.T, inputs []*tensor.Dense, build func([]*G.Node) (*G.Node, error)) []float64 {
	t.Helper()
	g := G.NewGraph()
	nodes := make([]*G.Node, len(inputs))
	for i, x := range inputs {
		nodes[i] = G.NewTensor(g, tensor.Float64, x.Dims(), G.WithShape(x.Shape()...), G.WithValue(x), G.WithName(fmt.Sprint("in", i)))
	}
	out, err := build(nodes)
	must(t, err)
	m, err := NewMachine(g)
	must(t, err)
	must(t, m.RunAll())
	return float64s(out.Value().(*tensor.Dense))
}

// TestAttentionCausalAndPadding: with a causal mask, changing the
// sequence at positions after t leaves outputs at ≤ t unchanged; a padded
// key changes nothing; a query with every key masked gets the output bias.
func TestAttentionCausalAndPadding(t *testing.T) {
	rng := rand.New(rand.NewPCG(71, 72))
	d, tl := 4, 6
	w := []*tensor.Dense{randTensor(rng, 3*d, d), randTensor(rng, 3*d), randTensor(rng, d, d), randTensor(rng, d)}
	x := randTensor(rng, 1, tl, d)
	forward := func(x *tensor.Dense, causal bool, keep []float64) []float64 {
		in := append([]*tensor.Dense{x}, w...)
		var k *tensor.Dense
		if keep != nil {
			k = tensor.New(tensor.WithShape(1, tl), tensor.WithBacking(keep))
			in = append(in, k)
		}
		return forwardOnly(t, in, func(n []*G.Node) (*G.Node, error) {
			return buildAttn(n, true, keep != nil, Attention{Heads: 2, Causal: causal})
		})
	}
	base := forward(x, true, nil)
	changed := x.Clone().(*tensor.Dense)
	for j := 3 * d; j < tl*d; j++ {
		data[float64](changed)[j] += 1.5
	}
	after := forward(changed, true, nil)
	for i := range 3 * d {
		if after[i] != base[i] {
			t.Fatalf("causal: output %d changed (%v -> %v) when only positions >= 3 did", i, base[i], after[i])
		}
	}
	if after[3*d] == base[3*d] {
		t.Fatal("causal: position 3's output did not change with its own input")
	}
	keep := []float64{1, 1, 1, 1, 0, 0}
	padded := forward(x, false, keep)
	short := x.Clone().(*tensor.Dense)
	for j := 4 * d; j < tl*d; j++ {
		data[float64](short)[j] = -7
	}
	padded2 := forward(short, false, keep)
	for i := range 4 * d {
		if padded[i] != padded2[i] {
			t.Fatalf("padding: output %d changed (%v -> %v) with a padded key", i, padded[i], padded2[i])
		}
	}
	none := forward(x, false, []float64{0, 0, 0, 0, 0, 0})
	for i, v := range none {
		if v != data[float64](w[3])[i%d] {
			t.Fatalf("all keys masked: output %d = %v, want the output bias %v", i, v, data[float64](w[3])[i%d])
		}
	}
}

// TestAttentionBadInputs: shapes that do not fit are errors naming them.
func TestAttentionBadInputs(t *testing.T) {
	rng := rand.New(rand.NewPCG(81, 82))
	r := func(shape ...int) *tensor.Dense { return randTensor(rng, shape...) }
	for _, c := range []struct {
		name string
		in   []*tensor.Dense
		a    Attention
		want string
	}{
		{"heads", []*tensor.Dense{r(2, 3, 6), r(18, 6), r(18), r(6, 6), r(6)}, Attention{Heads: 4}, "heads 4 do not divide the dimension 6"},
		{"weight", []*tensor.Dense{r(2, 3, 6), r(18, 5), r(18), r(6, 6), r(6)}, Attention{Heads: 2}, "weight 0 is (18, 5), want (18, 6)"},
		{"rank", []*tensor.Dense{r(3, 6), r(18, 6), r(18), r(6, 6), r(6)}, Attention{Heads: 2}, "want queries [batch, time, dim]"},
		{"mask", []*tensor.Dense{r(2, 3, 6), r(18, 6), r(18), r(6, 6), r(6), r(2, 4)}, Attention{Heads: 2}, "key padding mask (2, 4), want [batch, keys] = (2, 3)"},
		{"dropout", []*tensor.Dense{r(2, 3, 6), r(18, 6), r(18), r(6, 6), r(6)}, Attention{Heads: 2, Dropout: 1}, "dropout must be in [0, 1), got 1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := runErr(c.in, func(n []*G.Node) (*G.Node, error) { return buildAttn(n, true, len(n) == 6, c.a) })
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

// TestAttentionDropout: in training the dropout mask zeroes attention
// weights (outputs change with the draw), with rate 0 it is the plain op.
func TestAttentionDropout(t *testing.T) {
	rng := rand.New(rand.NewPCG(91, 92))
	d := 4
	in := []*tensor.Dense{randTensor(rng, 2, 5, d), randTensor(rng, 3*d, d), randTensor(rng, 3*d), randTensor(rng, d, d), randTensor(rng, d)}
	run := func(a Attention) []float64 {
		return forwardOnly(t, in, func(n []*G.Node) (*G.Node, error) { return buildAttn(n, true, false, a) })
	}
	plain := run(Attention{Heads: 2})
	zero := run(Attention{Heads: 2, RNG: rand.New(rand.NewPCG(1, 2))})
	dropped := run(Attention{Heads: 2, Dropout: 0.5, RNG: rand.New(rand.NewPCG(1, 2))})
	if fmt.Sprint(plain) != fmt.Sprint(zero) {
		t.Fatal("dropout 0 changed the output")
	}
	if fmt.Sprint(plain) == fmt.Sprint(dropped) {
		t.Fatal("dropout 0.5 left the output unchanged")
	}
}

// TestAttentionStepDoesNotAllocate: a training step through the fused op
// (self-attention with a padding mask and dropout, float32) allocates
// nothing once warm.
func TestAttentionStepDoesNotAllocate(t *testing.T) {
	if compute.ProductsAllocate() {
		t.Skip("this build's float32 matrix products allocate (gonum without AVX2)")
	}
	rng := rand.New(rand.NewPCG(101, 102))
	g := G.NewGraph()
	node := func(name string, v *tensor.Dense) *G.Node {
		v = to32(v)
		return G.NewTensor(g, tensor.Float32, v.Dims(), G.WithShape(v.Shape()...), G.WithName(name), G.WithValue(v))
	}
	d := 8
	x := node("x", randTensor(rng, 3, 7, d))
	keep := node("keep", tensor.New(tensor.WithShape(3, 7), tensor.WithBacking([]float64{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0})))
	w := AttentionWeights{In: node("win", randTensor(rng, 3*d, d)), InBias: node("bin", randTensor(rng, 3*d)),
		Out: node("wout", randTensor(rng, d, d)), OutBias: node("bout", randTensor(rng, d))}
	y, err := MultiheadAttention(x, nil, w, keep, Attention{Heads: 2, Causal: true, Dropout: 0.1, RNG: rand.New(rand.NewPCG(1, 1))}, true, true)
	must(t, err)
	rv := node("r", randTensor(rng, 3, 7, d))
	cost, err := WeightedSum(y, rv)
	must(t, err)
	_, err = G.Grad(cost, x, w.In, w.InBias, w.Out, w.OutBias)
	must(t, err)
	m, err := NewMachine(g)
	must(t, err)
	must(t, m.RunAll())
	if n := testing.AllocsPerRun(20, func() { _ = m.RunAll() }); n > 0 {
		t.Errorf("%v allocations per run, want 0", n)
	}
}

// TestLinearLastAxis: F.linear with nn.Linear's [units, F] weight over
// every leading row equals DenseLastAxis with the transposed weight, and
// its gradients agree with finite differences, with and without bias.
func TestLinearLastAxis(t *testing.T) {
	rng := rand.New(rand.NewPCG(111, 112))
	x, w, b := randTensor(rng, 2, 3, 4), randTensor(rng, 5, 4), randTensor(rng, 5)
	wt := tensor.New(tensor.WithShape(4, 5), tensor.Of(tensor.Float64))
	for i := range 5 {
		for j := range 4 {
			data[float64](wt)[j*5+i] = data[float64](w)[i*4+j]
		}
	}
	got := forwardOnly(t, []*tensor.Dense{x, w, b}, func(n []*G.Node) (*G.Node, error) { return LinearLastAxis(n[0], n[1], n[2], true) })
	want := forwardOnly(t, []*tensor.Dense{x, wt, b}, func(n []*G.Node) (*G.Node, error) { return DenseLastAxis(n[0], n[1], n[2], "none", 0, true) })
	if e := maxRelErr(got, want); e > 1e-15 {
		t.Fatalf("LinearLastAxis differs from DenseLastAxis by %.3g", e)
	}
	for _, bias := range []bool{true, false} {
		t.Run(fmt.Sprint("bias=", bias), func(t *testing.T) {
			in, names := []*tensor.Dense{x, w}, []string{"x", "w"}
			if bias {
				in, names = append(in, b), append(names, "b")
			}
			wrt := make([]bool, len(in))
			for i := range wrt {
				wrt[i] = true
			}
			res, err := GradCheck(names, in, wrt, func(_ *G.ExprGraph, n []*G.Node) (*G.Node, error) {
				var bn *G.Node
				if bias {
					bn = n[2]
				}
				return LinearLastAxis(n[0], n[1], bn, true)
			}, GradCheckOptions{Seed: 5})
			must(t, err)
			for _, g := range res {
				if g.RelErr > 1e-8 || g.MaxGrad == 0 {
					t.Errorf("%s: relative error %.3g", g.Name, g.RelErr)
				}
			}
		})
	}
}

// TestSequencePoolMatchesPyTorch: mean and first pooling over time agree
// with PyTorch's x.mean(1) and x[:, 0] (output and gradient), and with
// finite differences.
func TestSequencePoolMatchesPyTorch(t *testing.T) {
	b, err := os.ReadFile("testdata/torch_ref_attn.json")
	must(t, err)
	var f struct {
		Pools []struct {
			Name, Mode string
			X, Out     []float64
			GradX      []float64 `json:"grad_x"`
		}
	}
	must(t, json.Unmarshal(b, &f))
	if len(f.Pools) != 2 {
		t.Fatalf("%d pooling cases, want 2", len(f.Pools))
	}
	for _, c := range f.Pools {
		t.Run(c.Name, func(t *testing.T) {
			x := tensor.New(tensor.WithShape(2, 3, 4), tensor.WithBacking(append([]float64(nil), c.X...)))
			out, gs := runWithGradsOf(t, tensor.Float64, []*tensor.Dense{x}, []bool{true}, func(n []*G.Node) (*G.Node, error) { return SequencePool(n[0], c.Mode) })
			if e := max(maxRelErr(out, c.Out), maxRelErr(gs[0], c.GradX)); e > 1e-15 {
				t.Errorf("max error vs PyTorch %.3g", e)
			}
			res, err := GradCheck([]string{"x"}, []*tensor.Dense{x}, []bool{true}, func(_ *G.ExprGraph, n []*G.Node) (*G.Node, error) { return SequencePool(n[0], c.Mode) }, GradCheckOptions{Seed: 9})
			must(t, err)
			if res[0].RelErr > 1e-8 {
				t.Errorf("finite differences: relative error %.3g", res[0].RelErr)
			}
		})
	}
}

// TestAttentionSameAtEveryThreadCount: the heads run on compute.Parallel's
// threads; the output and every gradient are the same bits on 1 and 4
// threads (float32, masks, 2·4 heads).
func TestAttentionSameAtEveryThreadCount(t *testing.T) {
	if !compute.ThreadInvariant() {
		t.Skip("this build's products change with the thread count")
	}
	rng := rand.New(rand.NewPCG(121, 122))
	d := 16
	in := []*tensor.Dense{randTensor(rng, 2, 9, d), randTensor(rng, 2, 7, d), randTensor(rng, 3*d, d), randTensor(rng, 3*d), randTensor(rng, d, d), randTensor(rng, d),
		tensor.New(tensor.WithShape(2, 7), tensor.WithBacking([]float64{1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1}))}
	wrt := []bool{true, true, true, true, true, true, false}
	run := func(threads int) ([]float64, [][]float64) {
		defer compute.SetThreads(compute.Threads())
		compute.SetThreads(threads)
		return runWithGradsOf(t, tensor.Float32, in, wrt, func(n []*G.Node) (*G.Node, error) {
			return buildAttn(n, false, true, Attention{Heads: 4, Causal: true})
		})
	}
	out1, g1 := run(1)
	out4, g4 := run(4)
	if fmt.Sprint(out1) != fmt.Sprint(out4) {
		t.Fatal("outputs differ between 1 and 4 threads")
	}
	for i := range g1 {
		if fmt.Sprint(g1[i]) != fmt.Sprint(g4[i]) {
			t.Fatalf("gradient %d differs between 1 and 4 threads", i)
		}
	}
}

// BenchmarkAttentionStep is a training step (forward and backward) of
// self-attention on [32, 64, 64] with 4 heads and a causal mask, float32.
func BenchmarkAttentionStep(b *testing.B) {
	rng := rand.New(rand.NewPCG(131, 132))
	g := G.NewGraph()
	node := func(name string, shape ...int) *G.Node {
		return G.NewTensor(g, tensor.Float32, len(shape), G.WithShape(shape...), G.WithName(name), G.WithValue(randF32(rng, shape...)))
	}
	d := 64
	x := node("x", 32, 64, d)
	w := AttentionWeights{In: node("win", 3*d, d), InBias: node("bin", 3*d), Out: node("wout", d, d), OutBias: node("bout", d)}
	y, err := MultiheadAttention(x, nil, w, nil, Attention{Heads: 4, Causal: true}, true, true)
	if err != nil {
		b.Fatal(err)
	}
	cost, err := WeightedSum(y, node("r", 32, 64, d))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := G.Grad(cost, x, w.In, w.InBias, w.Out, w.OutBias); err != nil {
		b.Fatal(err)
	}
	m, err := NewMachine(g)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if err := m.RunAll(); err != nil {
			b.Fatal(err)
		}
	}
}
