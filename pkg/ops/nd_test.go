package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/compute"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestNDGradients checks every N-D op's symbolic gradient against central
// finite differences in float64, over random inputs that include size-1
// axes, operands of different ranks and batches of one.
func TestNDGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	r := func(shape ...int) *tensor.Dense { return randTensor(rng, shape...) }
	one := []bool{true}
	ids := tensor.New(tensor.WithShape(2, 4), tensor.WithBacking([]float64{0, 3, 5, 3, 1, 0, 5, 5}))
	targets := tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float64{2, -100, 0, 3, 3, -100}))
	tests := []struct {
		name  string
		in    []*tensor.Dense
		wrt   []bool
		build func(n []*G.Node) (*G.Node, error)
	}{
		{"mul", []*tensor.Dense{r(3, 4, 5), r(3, 4, 5)}, two, func(n []*G.Node) (*G.Node, error) { return Mul(n[0], n[1]) }},
		{"add/bias", []*tensor.Dense{r(2, 3, 4), r(4)}, two, func(n []*G.Node) (*G.Node, error) { return BroadcastAdd(n[0], n[1]) }},
		{"add/both_broadcast", []*tensor.Dense{r(2, 1, 4), r(3, 1)}, two, func(n []*G.Node) (*G.Node, error) { return BroadcastAdd(n[0], n[1]) }},
		{"add/lower_rank_first", []*tensor.Dense{r(1, 3), r(2, 4, 1)}, two, func(n []*G.Node) (*G.Node, error) { return BroadcastAdd(n[0], n[1]) }},
		{"mul/rank4_rank3", []*tensor.Dense{r(2, 1, 3, 1), r(4, 1, 5)}, two, func(n []*G.Node) (*G.Node, error) { return BroadcastMul(n[0], n[1]) }},
		{"mul/one_element", []*tensor.Dense{r(3, 4), r(1)}, two, func(n []*G.Node) (*G.Node, error) { return BroadcastMul(n[0], n[1]) }},
		{"slice/middle", []*tensor.Dense{r(2, 5, 3)}, one, func(n []*G.Node) (*G.Node, error) { return Slice(n[0], 1, 1, 4) }},
		{"slice/last_size1", []*tensor.Dense{r(2, 5, 3)}, one, func(n []*G.Node) (*G.Node, error) { return Slice(n[0], -1, 2, 3) }},
		{"concat/axis1", []*tensor.Dense{r(2, 3, 4), r(2, 1, 4), r(2, 2, 4)}, three, func(n []*G.Node) (*G.Node, error) { return Concat(1, n...) }},
		{"concat/axis0", []*tensor.Dense{r(1, 3), r(2, 3)}, two, func(n []*G.Node) (*G.Node, error) { return Concat(0, n...) }},
		{"concat/one_wrt", []*tensor.Dense{r(2, 2), r(2, 3)}, []bool{false, true}, func(n []*G.Node) (*G.Node, error) {
			return Apply(concat{axis: 1}, []bool{false, true}, n...)
		}},
		{"stack/axis0", []*tensor.Dense{r(2, 3), r(2, 3)}, two, func(n []*G.Node) (*G.Node, error) { return Stack(0, n...) }},
		{"stack/axis1", []*tensor.Dense{r(2, 3), r(2, 3), r(2, 3)}, three, func(n []*G.Node) (*G.Node, error) { return Stack(1, n...) }},
		{"stack/last", []*tensor.Dense{r(2, 3), r(2, 3)}, two, func(n []*G.Node) (*G.Node, error) { return Stack(-1, n...) }},
		{"transpose/1_2", []*tensor.Dense{r(2, 3, 4, 5)}, one, func(n []*G.Node) (*G.Node, error) { return Transpose(n[0], 1, 2) }},
		{"permute/3021", []*tensor.Dense{r(2, 3, 4, 5)}, one, func(n []*G.Node) (*G.Node, error) { return Permute(n[0], 3, 0, 2, 1) }},
		{"transpose/size1", []*tensor.Dense{r(1, 4, 1, 3)}, one, func(n []*G.Node) (*G.Node, error) { return Transpose(n[0], 0, -1) }},
		{"gather", []*tensor.Dense{r(6, 3), ids}, []bool{true, false}, func(n []*G.Node) (*G.Node, error) { return Gather(n[0], n[1]) }},
		// The padding row's gradient is 0 by definition, not by calculus;
		// with an id absent from ids the gradient is the true one.
		{"gather_padded", []*tensor.Dense{r(6, 3), ids}, []bool{true, false}, func(n []*G.Node) (*G.Node, error) { return GatherPadded(n[0], n[1], 2) }},
		{"masked_fill/causal", []*tensor.Dense{r(2, 2, 3, 3), causalMask01(3)}, []bool{true, false}, func(n []*G.Node) (*G.Node, error) {
			// A fill of −1e4 would drown the finite differences in the
			// rounding of a cost of that size; the gradient ignores it.
			return MaskedFill(n[0], n[1], -3)
		}},
		{"masked_fill/padding_softmax", []*tensor.Dense{r(2, 2, 3, 3), paddingMask01([]int{1, 3}, 3)}, []bool{true, false}, func(n []*G.Node) (*G.Node, error) {
			y, err := MaskedFill(n[0], n[1], math.Inf(-1))
			if err != nil {
				return nil, err
			}
			return Softmax(y)
		}},
		{"add_mask/causal_softmax", []*tensor.Dense{r(2, 3, 3), CausalMask(tensor.Float64, 3)}, []bool{true, false}, func(n []*G.Node) (*G.Node, error) {
			y, err := AddMask(n[0], n[1])
			if err != nil {
				return nil, err
			}
			return Softmax(y)
		}},
		{"softmax/rank4", []*tensor.Dense{r(2, 3, 2, 5)}, one, func(n []*G.Node) (*G.Node, error) { return Softmax(n[0]) }},
		{"sequence_cross_entropy", []*tensor.Dense{r(2, 3, 4), targets}, []bool{true, false}, func(n []*G.Node) (*G.Node, error) {
			return SequenceCrossEntropy(n[0], n[1], -100)
		}},
	}
	for _, ta := range []bool{false, true} {
		for _, tb := range []bool{false, true} {
			a, b := r(2, 3, 4, 5), r(2, 3, 5, 2)
			if ta {
				a = r(2, 3, 5, 4)
			}
			if tb {
				b = r(2, 3, 2, 5)
			}
			tests = append(tests, struct {
				name  string
				in    []*tensor.Dense
				wrt   []bool
				build func(n []*G.Node) (*G.Node, error)
			}{fmt.Sprintf("batched_matmul/%v_%v", ta, tb), []*tensor.Dense{a, b}, two, func(n []*G.Node) (*G.Node, error) {
				return BatchedMatMul(n[0], n[1], ta, tb)
			}})
		}
	}
	for _, act := range []string{"none", "relu", "tanh", "sigmoid", "gelu"} {
		for _, bias := range []bool{true, false} {
			in, wrt := []*tensor.Dense{r(2, 3, 4), r(4, 5)}, two
			if bias {
				in, wrt = append(in, r(5)), three
			}
			tests = append(tests, struct {
				name  string
				in    []*tensor.Dense
				wrt   []bool
				build func(n []*G.Node) (*G.Node, error)
			}{fmt.Sprintf("dense_last_axis/%s/bias=%v", act, bias), in, wrt, func(n []*G.Node) (*G.Node, error) {
				var b *G.Node
				if bias {
					b = n[2]
				}
				return DenseLastAxis(n[0], n[1], b, act, 0, true)
			}})
		}
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			names := make([]string, len(tc.in))
			for i := range names {
				names[i] = fmt.Sprint("in", i)
			}
			checkAll(t, names, tc.in, tc.wrt, func(_ *G.ExprGraph, n []*G.Node) (*G.Node, error) { return tc.build(n) })
		})
	}
}

// TestDenseLastAxisMatchesDense checks that on a matrix DenseLastAxis
// computes Dense's values and gradients bit for bit, in float32.
func TestDenseLastAxisMatchesDense(t *testing.T) {
	for _, act := range []string{"relu", "tanh", "none", "gelu"} {
		t.Run(act, func(t *testing.T) {
			run := func(f func(x, w, b *G.Node, a string, alpha float64, wrtX bool) (*G.Node, error)) []float64 {
				rng := rand.New(rand.NewPCG(31, 32))
				g := G.NewGraph()
				x := G.NewMatrix(g, tensor.Float32, G.WithShape(7, 5), G.WithName("x"), G.WithValue(to32(randTensor(rng, 7, 5))))
				w := G.NewMatrix(g, tensor.Float32, G.WithShape(5, 3), G.WithName("w"), G.WithValue(to32(randTensor(rng, 5, 3))))
				b := G.NewVector(g, tensor.Float32, G.WithShape(3), G.WithName("b"), G.WithValue(to32(randTensor(rng, 3))))
				r := G.NewMatrix(g, tensor.Float32, G.WithShape(7, 3), G.WithName("r"), G.WithValue(to32(randTensor(rng, 7, 3))))
				y, err := f(x, w, b, act, 0, true)
				must(t, err)
				cost, err := WeightedSum(y, r)
				must(t, err)
				grads, err := G.Grad(cost, x, w, b)
				must(t, err)
				m, err := NewMachine(g)
				must(t, err)
				must(t, m.RunAll())
				return snapshot(cost, append(G.Nodes{y}, grads...))
			}
			nd, plain := run(DenseLastAxis), run(Dense)
			for i := range plain {
				if nd[i] != plain[i] {
					t.Fatalf("value %d: DenseLastAxis %v, Dense %v", i, nd[i], plain[i])
				}
			}
		})
	}
}

// TestDenseLastAxisWithoutInputGradient checks that wrtX = false leaves
// the gradient of x out of the graph.
func TestDenseLastAxisWithoutInputGradient(t *testing.T) {
	g := G.NewGraph()
	x := G.NewTensor(g, tensor.Float64, 3, G.WithShape(2, 3, 4), G.WithName("x"), G.WithInit(G.Ones()))
	w := G.NewMatrix(g, tensor.Float64, G.WithShape(4, 2), G.WithName("w"), G.WithInit(G.Ones()))
	y, err := DenseLastAxis(x, w, nil, "none", 0, false)
	must(t, err)
	cost, err := WeightedSum(y, y)
	must(t, err)
	if _, err := G.Grad(cost, w); err != nil {
		t.Fatal(err)
	}
	if _, err := G.Grad(cost, x); err == nil {
		t.Error("the gradient of x was built with wrtX = false")
	}
}

// runErr builds f over float64 inputs and returns the error of building
// or, failing that, of one forward pass.
func runErr(inputs []*tensor.Dense, f func(n []*G.Node) (*G.Node, error)) error {
	g := G.NewGraph()
	nodes := make([]*G.Node, len(inputs))
	for i, x := range inputs {
		nodes[i] = G.NewTensor(g, tensor.Float64, x.Dims(), G.WithShape(x.Shape()...), G.WithValue(x), G.WithName(fmt.Sprint("in", i)))
	}
	if _, err := f(nodes); err != nil {
		return err
	}
	m, err := NewMachine(g)
	if err != nil {
		return err
	}
	return m.RunAll()
}

// TestNDBadInputs checks that shapes that do not fit, ids and targets out
// of range, and non-integer ids are errors naming what was found, not
// panics.
func TestNDBadInputs(t *testing.T) {
	z := func(shape ...int) *tensor.Dense {
		return tensor.New(tensor.WithShape(shape...), tensor.Of(tensor.Float64))
	}
	vals := func(shape []int, v ...float64) *tensor.Dense {
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))
	}
	tests := []struct {
		name string
		in   []*tensor.Dense
		f    func(n []*G.Node) (*G.Node, error)
		want string
	}{
		{"mul shapes differ", []*tensor.Dense{z(2, 3), z(3)}, func(n []*G.Node) (*G.Node, error) { return Mul(n[0], n[1]) }, "shapes differ"},
		{"no broadcast", []*tensor.Dense{z(2, 3), z(2)}, func(n []*G.Node) (*G.Node, error) { return BroadcastAdd(n[0], n[1]) }, "do not broadcast"},
		{"mask enlarges", []*tensor.Dense{z(3, 3), z(2, 3, 3)}, func(n []*G.Node) (*G.Node, error) { return MaskedFill(n[0], n[1], 0) }, "does not broadcast"},
		{"additive mask enlarges", []*tensor.Dense{z(3, 3), z(2, 1, 3)}, func(n []*G.Node) (*G.Node, error) { return AddMask(n[0], n[1]) }, "does not broadcast"},
		{"slice past end", []*tensor.Dense{z(2, 3)}, func(n []*G.Node) (*G.Node, error) { return Slice(n[0], 1, 2, 4) }, "not within axis 1"},
		{"slice empty", []*tensor.Dense{z(2, 3)}, func(n []*G.Node) (*G.Node, error) { return Slice(n[0], 1, 2, 2) }, "empty"},
		{"slice axis", []*tensor.Dense{z(2, 3)}, func(n []*G.Node) (*G.Node, error) { return Slice(n[0], 2, 0, 1) }, "axis 2 is out of range"},
		{"concat off axis", []*tensor.Dense{z(2, 3), z(3, 3)}, func(n []*G.Node) (*G.Node, error) { return Concat(1, n...) }, "differ off axis 1"},
		{"stack shapes", []*tensor.Dense{z(2, 3), z(3, 2)}, func(n []*G.Node) (*G.Node, error) { return Stack(0, n...) }, "must agree"},
		{"permutation", []*tensor.Dense{z(2, 3, 4)}, func(n []*G.Node) (*G.Node, error) { return Permute(n[0], 0, 0, 1) }, "not a permutation"},
		{"bmm batch", []*tensor.Dense{z(2, 3, 4), z(3, 4, 5)}, func(n []*G.Node) (*G.Node, error) { return BatchedMatMul(n[0], n[1], false, false) }, "batch axes differ"},
		{"bmm inner", []*tensor.Dense{z(2, 3, 4), z(2, 3, 5)}, func(n []*G.Node) (*G.Node, error) { return BatchedMatMul(n[0], n[1], false, false) }, "inner sizes differ"},
		{"dense features", []*tensor.Dense{z(2, 3, 4), z(3, 5)}, func(n []*G.Node) (*G.Node, error) { return DenseLastAxis(n[0], n[1], nil, "none", 0, true) }, "want x [..., F]"},
		{"gather id too large", []*tensor.Dense{z(4, 2), vals([]int{2, 2}, 0, 1, 4, 2)}, func(n []*G.Node) (*G.Node, error) { return Gather(n[0], n[1]) }, "id 4 at position 2 is not an integer in [0, 4)"},
		{"gather negative id", []*tensor.Dense{z(4, 2), vals([]int{1}, -1)}, func(n []*G.Node) (*G.Node, error) { return Gather(n[0], n[1]) }, "id -1 at position 0"},
		{"gather padding id", []*tensor.Dense{z(4, 2), vals([]int{1}, 0)}, func(n []*G.Node) (*G.Node, error) { return GatherPadded(n[0], n[1], 4) }, "padding id 4 is not a row"},
		{"gather fractional id", []*tensor.Dense{z(4, 2), vals([]int{2}, 1, 1.5)}, func(n []*G.Node) (*G.Node, error) { return Gather(n[0], n[1]) }, "id 1.5 at position 1"},
		{"cross entropy target", []*tensor.Dense{z(1, 2, 3), vals([]int{1, 2}, 0, 3)}, func(n []*G.Node) (*G.Node, error) { return SequenceCrossEntropy(n[0], n[1], -100) }, "target 3 at position 1"},
		{"cross entropy shapes", []*tensor.Dense{z(2, 3, 4), z(3, 2)}, func(n []*G.Node) (*G.Node, error) { return SequenceCrossEntropy(n[0], n[1], -100) }, "leading shape"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Fatalf("panic: %v", p)
					}
				}()
				err = runErr(tc.in, tc.f)
			}()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			t.Log(err)
		})
	}
}

// TestSequenceCrossEntropyAllIgnored checks the documented choice for a
// batch with nothing to predict: loss 0 and a zero gradient (PyTorch
// gives NaN).
func TestSequenceCrossEntropyAllIgnored(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	ys := tensor.New(tensor.WithShape(2, 2), tensor.WithBacking([]float64{-100, -100, -100, -100}))
	out, grads := runWithGradsOf(t, tensor.Float64, []*tensor.Dense{randTensor(rng, 2, 2, 3), ys}, []bool{true, false},
		func(n []*G.Node) (*G.Node, error) { return SequenceCrossEntropy(n[0], n[1], -100) })
	if out[0] != 0 {
		t.Errorf("loss %v, want 0", out[0])
	}
	for i, g := range grads[0] {
		if g != 0 {
			t.Fatalf("gradient[%d] = %v, want 0", i, g)
		}
	}
}

// TestSequenceCrossEntropyIgnoresPadding checks that the logits at an
// ignored position change neither the loss nor any other gradient.
func TestSequenceCrossEntropyIgnoresPadding(t *testing.T) {
	rng := rand.New(rand.NewPCG(43, 44))
	logits := randTensor(rng, 1, 3, 4)
	ys := tensor.New(tensor.WithShape(1, 3), tensor.WithBacking([]float64{1, -1, 3}))
	ce := func(n []*G.Node) (*G.Node, error) { return SequenceCrossEntropy(n[0], n[1], -1) }
	out1, g1 := runWithGradsOf(t, tensor.Float64, []*tensor.Dense{logits.Clone().(*tensor.Dense), ys}, []bool{true, false}, ce)
	for j := 4; j < 8; j++ { // position 1
		data[float64](logits)[j] += 10
	}
	out2, g2 := runWithGradsOf(t, tensor.Float64, []*tensor.Dense{logits, ys}, []bool{true, false}, ce)
	if out1[0] != out2[0] {
		t.Errorf("loss changed with the logits of an ignored position: %v, %v", out1[0], out2[0])
	}
	for i := range g1[0] {
		if g1[0][i] != g2[0][i] || (i >= 4 && i < 8 && g1[0][i] != 0) {
			t.Fatalf("gradient[%d]: %v then %v", i, g1[0][i], g2[0][i])
		}
	}
}

// TestThreadedOpsMatchSerial checks that cutting rows (Softmax) and
// batches (BatchedMatMul) over threads changes no bit: Softmax against
// Activate's softmax, which runs on the calling thread, and each batch of
// a product against compute.Gemm on that batch alone, forward and
// backward, in float32, on sizes large enough to be split.
func TestThreadedOpsMatchSerial(t *testing.T) {
	rng := rand.New(rand.NewPCG(71, 72))
	x, dy := randF32(rng, 64, 8, 33), randF32(rng, 64, 8, 33)
	run := func(f func(*G.Node) (*G.Node, error)) []float64 {
		g := G.NewGraph()
		xn := G.NewTensor(g, tensor.Float32, 3, G.WithShape(64, 8, 33), G.WithName("x"), G.WithValue(x))
		rn := G.NewTensor(g, tensor.Float32, 3, G.WithShape(64, 8, 33), G.WithName("r"), G.WithValue(dy))
		y, err := f(xn)
		must(t, err)
		cost, err := WeightedSum(y, rn)
		must(t, err)
		grads, err := G.Grad(cost, xn)
		must(t, err)
		m, err := NewMachine(g)
		must(t, err)
		must(t, m.RunAll())
		return snapshot(cost, append(G.Nodes{y}, grads...))
	}
	got, want := run(Softmax), run(func(x *G.Node) (*G.Node, error) { return Activate(x, "softmax", 0) })
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("softmax value %d: %v, serial %v", i, got[i], want[i])
		}
	}

	a, b := randF32(rng, 40, 16, 24), randF32(rng, 40, 24, 8)
	g := G.NewGraph()
	an := G.NewTensor(g, tensor.Float32, 3, G.WithShape(40, 16, 24), G.WithName("a"), G.WithValue(a))
	bn := G.NewTensor(g, tensor.Float32, 3, G.WithShape(40, 24, 8), G.WithName("b"), G.WithValue(b))
	c, err := BatchedMatMul(an, bn, false, false)
	must(t, err)
	m, err := NewMachine(g)
	must(t, err)
	must(t, m.RunAll())
	one := make([]float32, 16*8)
	for i := range 40 {
		compute.Gemm(false, false, 16, 8, 24, 1, data[float32](a)[i*16*24:], 24, data[float32](b)[i*24*8:], 8, 0, one, 8)
		for j, v := range one {
			if got := data[float32](c.Value().(*tensor.Dense))[i*16*8+j]; got != v {
				t.Fatalf("batch %d, element %d: %v, alone %v", i, j, got, v)
			}
		}
	}
}

// TestCausalMask checks the mask's pattern: 0 on and below the diagonal.
func TestCausalMask(t *testing.T) {
	m := CausalMask(tensor.Float32, 3)
	want := []float32{0, float32(math.Inf(-1)), float32(math.Inf(-1)), 0, 0, float32(math.Inf(-1)), 0, 0, 0}
	for i, v := range data[float32](m) {
		if v != want[i] {
			t.Fatalf("mask = %v, want %v", data[float32](m), want)
		}
	}
}

// ndStep builds a small causal self-attention language model step in
// float32 from the N-D ops (gather, dense on the last axis, batched
// products, transposes, masks, softmax, broadcasting, slicing, concat and
// the sequence loss) and the gradients of its weights. No tensor with a
// gradient feeds two ops: where gradients meet, Gorgonia's Grad sums them
// with its own addition, which allocates at every step (3 allocations, its
// tensor.WithReuse option), so queries, keys, values and the skip path
// each look up a table of their own.
func ndStep(t *testing.T, b, tl, v, d int) (*G.ExprGraph, *G.Node) {
	rng := rand.New(rand.NewPCG(51, 52))
	g := G.NewGraph()
	param := func(name string, shape ...int) *G.Node {
		return G.NewTensor(g, tensor.Float32, len(shape), G.WithShape(shape...), G.WithName(name), G.WithValue(randF32(rng, shape...)))
	}
	idv := make([]float32, b*tl)
	yv := make([]float32, b*tl)
	for i := range idv {
		idv[i] = float32(rng.IntN(v))
		yv[i] = float32(rng.IntN(v))
	}
	yv[len(yv)-1] = -100
	ids := G.NewTensor(g, tensor.Float32, 2, G.WithShape(b, tl), G.WithName("ids"), G.WithValue(tensor.New(tensor.WithShape(b, tl), tensor.WithBacking(idv))))
	ys := G.NewTensor(g, tensor.Float32, 2, G.WithShape(b, tl), G.WithName("ys"), G.WithValue(tensor.New(tensor.WithShape(b, tl), tensor.WithBacking(yv))))
	mask := G.NewTensor(g, tensor.Float32, 2, G.WithShape(tl, tl), G.WithName("mask"), G.WithValue(CausalMask(tensor.Float32, tl)))
	params := G.Nodes{param("tq", v, d), param("tk", v, d), param("tv", v, d), param("tx", v, d),
		param("wq", d, d), param("wk", d, d), param("wv", d, d), param("wo", 2*d, v), param("bo", v), param("gain", d)}
	var x [4]*G.Node
	for i := range x {
		var err error
		x[i], err = Gather(params[i], ids)
		must(t, err)
	}
	q, err := DenseLastAxis(x[0], params[4], nil, "none", 0, true)
	must(t, err)
	k, err := DenseLastAxis(x[1], params[5], nil, "none", 0, true)
	must(t, err)
	val, err := DenseLastAxis(x[2], params[6], nil, "tanh", 0, true)
	must(t, err)
	s, err := BatchedMatMul(q, k, false, true)
	must(t, err)
	s, err = AddMask(s, mask)
	must(t, err)
	p, err := Softmax(s)
	must(t, err)
	ctx, err := BatchedMatMul(p, val, false, false)
	must(t, err)
	ctx, err = BroadcastMul(ctx, params[9])
	must(t, err)
	ctx, err = Transpose(ctx, 0, 1)
	must(t, err)
	ctx, err = Transpose(ctx, 0, 1)
	must(t, err)
	h, err := Concat(-1, ctx, x[3])
	must(t, err)
	h, err = Slice(h, 1, 0, tl)
	must(t, err)
	logits, err := DenseLastAxis(h, params[7], params[8], "none", 0, true)
	must(t, err)
	loss, err := SequenceCrossEntropy(logits, ys, -100)
	must(t, err)
	if _, err := G.Grad(loss, params...); err != nil {
		t.Fatal(err)
	}
	return g, loss
}

// TestNDStepDoesNotAllocate checks that a training step built from the
// N-D ops allocates nothing once warm.
func TestNDStepDoesNotAllocate(t *testing.T) {
	if compute.ProductsAllocate() {
		t.Skip("this build's float32 matrix products allocate (gonum without AVX2)")
	}
	g, _ := ndStep(t, 3, 5, 11, 4)
	m, err := NewMachine(g)
	must(t, err)
	must(t, m.RunAll())
	if n := testing.AllocsPerRun(20, func() { _ = m.RunAll() }); n > 0 {
		t.Errorf("%v allocations per run, want 0", n)
	}
}
