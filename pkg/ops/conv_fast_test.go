package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/dltrain/dltrain/pkg/compute"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// runStack builds build over the inputs (float64 tensors, converted to
// dt) on dltrain's Machine and returns the output and the gradients of
// Σ out⊙r with respect to every input from the first'th on, as float64.
func runStack(t *testing.T, dt tensor.Dtype, inputs []*tensor.Dense, first int, build func([]*G.Node) (*G.Node, error)) []float64 {
	t.Helper()
	g := G.NewGraph()
	nodes := make([]*G.Node, len(inputs))
	for i, x := range inputs {
		v := x.Clone().(*tensor.Dense)
		if dt == tensor.Float32 {
			v = to32(x)
		}
		nodes[i] = G.NewTensor(g, dt, x.Dims(), G.WithShape(x.Shape()...), G.WithValue(v), G.WithName(fmt.Sprint("in", i)))
	}
	out, err := build(nodes)
	must(t, err)
	r := seqTensor(out.Shape(), 0.5, 0.7, 1)
	if dt == tensor.Float32 {
		r = to32(r)
	}
	rn := G.NewTensor(g, dt, out.Dims(), G.WithShape(out.Shape()...), G.WithValue(r), G.WithName("r"))
	cost, err := WeightedSum(out, rn)
	must(t, err)
	grads, err := G.Grad(cost, nodes[first:]...)
	must(t, err)
	m, err := NewMachine(g)
	must(t, err)
	must(t, m.RunAll())
	must(t, m.RunAll()) // twice: buffers reused from the first run give the same values
	return snapshot(cost, append(G.Nodes{out}, grads...))
}

func TestConvActGradient(t *testing.T) {
	for _, name := range []string{"relu", "sigmoid", "tanh", "elu"} {
		for _, bias := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/bias=%v", name, bias), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(41, 42))
				in := []*tensor.Dense{randTensor(rng, 2, 3, 6, 5), randTensor(rng, 5, 3, 3, 3)}
				names := []string{"x", "w"}
				if bias {
					in, names = append(in, randTensor(rng, 5)), append(names, "b")
				}
				wrt := []bool{true, true, true}[:len(in)]
				checkAll(t, names, in, wrt, func(_ *G.ExprGraph, n []*G.Node) (*G.Node, error) {
					var b *G.Node
					if bias {
						b = n[2]
					}
					return ConvAct(n[0], n[1], b, win2D(3, 1, 1, 1), name, 0, true)
				})
			})
		}
	}
}

// TestConvFusedMatchesUnfused: the fused activation computes the same
// float32 values and gradients as Conv followed by Activate.
func TestConvFusedMatchesUnfused(t *testing.T) {
	for _, name := range []string{"relu", "sigmoid", "tanh"} {
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(43, 44))
			in := []*tensor.Dense{randTensor(rng, 3, 2, 9, 9), randTensor(rng, 6, 2, 3, 3), randTensor(rng, 6)}
			fused := runStack(t, tensor.Float32, in, 0, func(n []*G.Node) (*G.Node, error) {
				return ConvAct(n[0], n[1], n[2], win2D(3, 1, 1, 0), name, 0, true)
			})
			plain := runStack(t, tensor.Float32, in, 0, func(n []*G.Node) (*G.Node, error) {
				y, err := Conv(n[0], n[1], n[2], win2D(3, 1, 1, 0), true)
				if err != nil {
					return nil, err
				}
				return Activate(y, name, 0)
			})
			for i := range plain {
				if fused[i] != plain[i] {
					t.Fatalf("value %d: fused %v, unfused %v", i, fused[i], plain[i])
				}
			}
		})
	}
}

// lenetStack is LeNet's convolutional half on 24×24 inputs: conv 5×5 to 6
// channels (not a multiple of the product's 8-row tiles), relu, max pool
// 2, conv 5×5 to 16, relu, max pool 2. Its weight gradients are long
// enough to go through the dot-product kernels; the first layer builds no
// input gradient, as in a model.
func lenetStack(n []*G.Node) (*G.Node, error) {
	y, err := ConvAct(n[0], n[1], n[2], win2D(5, 1, 1, 0), "relu", 0, false)
	if err != nil {
		return nil, err
	}
	if y, err = MaxPool(y, win2D(2, 2, 1, 0)); err != nil {
		return nil, err
	}
	if y, err = ConvAct(y, n[3], n[4], win2D(5, 1, 1, 0), "relu", 0, true); err != nil {
		return nil, err
	}
	return MaxPool(y, win2D(2, 2, 1, 0))
}

func lenetInputs(seed uint64, batch int) []*tensor.Dense {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	return []*tensor.Dense{randTensor(rng, batch, 1, 24, 24), randTensor(rng, 6, 1, 5, 5), randTensor(rng, 6),
		randTensor(rng, 16, 6, 5, 5), randTensor(rng, 16)}
}

// TestLeNetStackFloat32MatchesFloat64: the float32 path (padded kernel
// matrix, dot-product weight gradients, the 2×2 max-pool kernel and its
// kept indexes) agrees with the float64 path (gonum's products, the
// generic pooling) on values and gradients.
func TestLeNetStackFloat32MatchesFloat64(t *testing.T) {
	in := lenetInputs(45, 8)
	want := runStack(t, tensor.Float64, in, 1, lenetStack)
	got := runStack(t, tensor.Float32, in, 1, lenetStack)
	scale := 0.0
	for _, v := range want {
		scale = max(scale, math.Abs(v))
	}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-4*scale {
			t.Fatalf("value %d: float32 %v, float64 %v (scale %v)", i, got[i], want[i], scale)
		}
	}
}

// TestConvChunksMatchWholeBatch: a batch whose unrolled patches exceed
// the budget is computed in chunks of samples, and the weight gradient
// unrolls them again instead of reusing the forward op's; the results
// agree with the whole batch at once.
func TestConvChunksMatchWholeBatch(t *testing.T) {
	in := lenetInputs(47, 5)
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		t.Run(dt.String(), func(t *testing.T) {
			whole := runStack(t, dt, in, 1, lenetStack)
			defer func(b int) { colBudget = b }(colBudget)
			colBudget = 25 * 400 * 2 // two samples of the first layer at a time
			chunked := runStack(t, dt, in, 1, lenetStack)
			for i := range whole {
				if math.Abs(chunked[i]-whole[i]) > 1e-5*max(1, math.Abs(whole[i])) {
					t.Fatalf("value %d: chunked %v, whole batch %v", i, chunked[i], whole[i])
				}
			}
		})
	}
}

// TestMaxPoolGradientRecomputesLostIndexes: when the forward op's indexes
// are not those of the input (it has not run on it), the gradient finds
// the maxima again, with the same result.
func TestMaxPoolGradientRecomputesLostIndexes(t *testing.T) {
	rng := rand.New(rand.NewPCG(49, 50))
	for _, win := range []Window{win2D(2, 2, 1, 0), win2D(3, 2, 1, 1)} {
		x32 := data[float32](to32(randTensor(rng, 2, 3, 8, 8)))
		for i := range x32 {
			x32[i] = float32(math.Round(float64(x32[i]) * 3)) // ties
		}
		x := tensor.New(tensor.WithShape(2, 3, 8, 8), tensor.WithBacking(x32))
		p := &pool{win: win}
		s, err := p.OutShape([]tensor.Shape{x.Shape()})
		must(t, err)
		out := tensor.New(tensor.WithShape(s...), tensor.Of(tensor.Float32))
		must(t, p.Forward(out, []*tensor.Dense{x}))
		dy := data[float32](to32(randTensor(rng, s...)))
		d := p.dims(x.Shape())
		kept, lost := make([]float32, len(x32)), make([]float32, len(x32))
		var j poolJob[float32]
		poolRun(p, d, &j, kept, x32, dy)
		p.idxOf = nil
		poolRun(p, d, &j, lost, x32, dy)
		for i := range kept {
			if kept[i] != lost[i] {
				t.Fatalf("%+v: dx[%d] = %v with the kept indexes, %v recomputed", win, i, kept[i], lost[i])
			}
		}
	}
}

// TestLeNetStackSameAtEveryThreadCount: splitting the products and the
// unrolling, writing and pooling over cores changes no bit.
func TestLeNetStackSameAtEveryThreadCount(t *testing.T) {
	if !compute.ThreadInvariant() {
		t.Skip("this build's BLAS gives different bits at different thread counts")
	}
	defer compute.SetThreads(compute.Threads())
	in := lenetInputs(51, 16)
	var want []float64
	for _, threads := range []int{1, 2, 3} {
		compute.SetThreads(threads)
		got := runStack(t, tensor.Float32, in, 1, lenetStack)
		if want == nil {
			want = got
			continue
		}
		for i := range got {
			if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
				t.Fatalf("%d threads: value %d = %v, 1 thread %v", threads, i, got[i], want[i])
			}
		}
	}
}
