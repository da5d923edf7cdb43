package ops

import (
	"math/rand/v2"
	"testing"

	"github.com/dltrain/dltrain/pkg/compute"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// fanOutStep is a step in which one embedding feeds three products (the
// q, k and v projections of attention) and a residual join, so Gorgonia's
// Grad adds the gradients that meet at it with its own additions.
func fanOutStep(t *testing.T, dt tensor.Dtype) (*G.ExprGraph, G.Nodes) {
	t.Helper()
	rng := rand.New(rand.NewPCG(61, 62))
	g := G.NewGraph()
	const b, tl, v, d = 2, 5, 7, 4
	param := func(name string, shape ...int) *G.Node {
		x := randF32(rng, shape...)
		if dt == tensor.Float64 {
			x = tensor.New(tensor.WithShape(shape...), tensor.WithBacking(f64s(x.Float32s())))
		}
		return G.NewTensor(g, dt, len(shape), G.WithShape(shape...), G.WithName(name), G.WithValue(x))
	}
	ids := make([]float64, b*tl)
	ys := make([]float64, b*tl)
	for i := range ids {
		ids[i], ys[i] = float64(rng.IntN(v)), float64(rng.IntN(v))
	}
	data := func(name string, vals []float64) *G.Node {
		var x *tensor.Dense
		if dt == tensor.Float32 {
			x = tensor.New(tensor.WithShape(b, tl), tensor.WithBacking(f32s(vals)))
		} else {
			x = tensor.New(tensor.WithShape(b, tl), tensor.WithBacking(vals))
		}
		return G.NewTensor(g, dt, 2, G.WithShape(b, tl), G.WithName(name), G.WithValue(x))
	}
	table, wq, wk, wv, wo := param("table", v, d), param("wq", d, d), param("wk", d, d), param("wv", d, d), param("wo", d, v)
	x, err := Gather(table, data("ids", ids))
	must(t, err)
	q, err := DenseLastAxis(x, wq, nil, "none", 0, true)
	must(t, err)
	k, err := DenseLastAxis(x, wk, nil, "none", 0, true)
	must(t, err)
	val, err := DenseLastAxis(x, wv, nil, "none", 0, true)
	must(t, err)
	s, err := BatchedMatMul(q, k, false, true)
	must(t, err)
	p, err := Softmax(s)
	must(t, err)
	ctx, err := BatchedMatMul(p, val, false, false)
	must(t, err)
	h, err := Add(ctx, x) // the residual join: x fans out a fourth time
	must(t, err)
	logits, err := DenseLastAxis(h, wo, nil, "none", 0, true)
	must(t, err)
	loss, err := SequenceCrossEntropy(logits, data("ys", ys), -100)
	must(t, err)
	wrt := G.Nodes{table, wq, wk, wv, wo}
	grads, err := G.Grad(loss, wrt...)
	must(t, err)
	return g, grads
}

func f32s(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

func f64s(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// Where gradients meet (a tensor read by several ops), the additions that
// Grad inserts run on dltrain's add kernel: a step allocates nothing, and
// the gradients are the bits Gorgonia's own addition gives.
func TestGradientJoinsDoNotAllocate(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		t.Run(dt.String(), func(t *testing.T) {
			g, grads := fanOutStep(t, dt)
			m, err := NewMachine(g)
			must(t, err)
			joins := 0
			for _, s := range m.steps {
				if s.join {
					joins++
				}
			}
			if joins == 0 {
				t.Fatal("the graph has no gradient join: the test proves nothing")
			}
			must(t, m.RunAll())
			got := make([][]float64, len(grads))
			for i, n := range grads {
				got[i] = denseFloat64s(n.Value().(*tensor.Dense))
			}
			// The tape machine runs Gorgonia's own additions.
			vm := G.NewTapeMachine(g)
			defer vm.Close()
			must(t, vm.RunAll())
			for i, n := range grads {
				want := denseFloat64s(n.Value().(*tensor.Dense))
				for j := range want {
					if got[i][j] != want[j] {
						t.Fatalf("gradient %d[%d]: %v on dltrain's machine, %v on Gorgonia's", i, j, got[i][j], want[j])
					}
				}
			}
			if dt == tensor.Float32 && !compute.ProductsAllocate() {
				m, err := NewMachine(g)
				must(t, err)
				must(t, m.RunAll())
				if n := testing.AllocsPerRun(20, func() { _ = m.RunAll() }); n > 0 {
					t.Errorf("%v allocations per step, want 0", n)
				}
			}
		})
	}
}

func denseFloat64s(d *tensor.Dense) []float64 {
	if d.Dtype() == tensor.Float32 {
		return f64s(d.Float32s())
	}
	return append([]float64(nil), d.Float64s()...)
}
