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

// upsampleCase is an upsampling of x by sh×sw.
type upsampleCase struct {
	name   string
	x      []int
	sh, sw int
}

// upsampleCases covers square and non-square factors, a factor of 1 on
// one axis, 1-D inputs and several planes.
var upsampleCases = []upsampleCase{
	{"2x2", []int{2, 3, 3, 4}, 2, 2},
	{"3x2", []int{2, 2, 3, 3}, 3, 2},
	{"1x3", []int{1, 2, 4, 3}, 1, 3},
	{"2x1", []int{2, 1, 3, 5}, 2, 1},
	{"1x1", []int{2, 2, 2, 3}, 1, 1},
	{"1d_3", []int{2, 3, 5}, 1, 3},
}

func TestUpsampleGradient(t *testing.T) {
	for _, c := range upsampleCases {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(91, 92))
			checkAll(t, []string{"x"}, []*tensor.Dense{randTensor(rng, c.x...)}, []bool{true},
				func(_ *G.ExprGraph, n []*G.Node) (*G.Node, error) { return Upsample(n[0], c.sh, c.sw) })
		})
	}
}

// naiveUpsample is the definition: out (i, j) reads x (⌊i/sh⌋, ⌊j/sw⌋).
func naiveUpsample(x []float64, xs []int, sh, sw int) []float64 {
	h, w := 1, xs[len(xs)-1]
	if len(xs) == 4 {
		h = xs[2]
	}
	planes := xs[0] * xs[1]
	oh, ow := h*sh, w*sw
	out := make([]float64, planes*oh*ow)
	for p := range planes {
		for i := range oh {
			for j := range ow {
				out[(p*oh+i)*ow+j] = x[(p*h+i/sh)*w+j/sw]
			}
		}
	}
	return out
}

// TestUpsampleMatchesDefinition checks the values in both dtypes, with
// the planes of a large batch cut over 1 or 3 threads, and the gradient
// of the block sum against the upsampling it is the adjoint of:
// ⟨up(x), r⟩ = ⟨x, sum(r)⟩.
func TestUpsampleMatchesDefinition(t *testing.T) {
	defer compute.SetThreads(compute.Threads())
	cases := append(upsampleCases[:len(upsampleCases):len(upsampleCases)], upsampleCase{"many_planes", []int{8, 16, 16, 16}, 2, 3})
	for _, c := range cases {
		for _, run := range []struct {
			dt      tensor.Dtype
			threads int
		}{{tensor.Float64, 1}, {tensor.Float32, 1}, {tensor.Float64, 3}, {tensor.Float32, 3}} {
			dt := run.dt
			t.Run(fmt.Sprintf("%s/%v/threads%d", c.name, dt, run.threads), func(t *testing.T) {
				compute.SetThreads(run.threads)
				rng := rand.New(rand.NewPCG(93, 94))
				x := randTensor(rng, c.x...)
				got := runStack(t, dt, []*tensor.Dense{x}, 0, func(n []*G.Node) (*G.Node, error) {
					return Upsample(n[0], c.sh, c.sw)
				})
				// got: the cost Σ up(x)⊙r, up(x), then dx = sum(r).
				up := naiveUpsample(x.Data().([]float64), c.x, c.sh, c.sw)
				tol := 0.0
				if dt == tensor.Float32 {
					tol = 1e-4
				}
				for i, v := range up {
					if math.Abs(got[1+i]-v) > tol {
						t.Fatalf("out[%d] = %v, want %v", i, got[1+i], v)
					}
				}
				r := seqTensor([]int{len(up)}, 0.5, 0.7, 1).Data().([]float64)
				var cost float64
				for i, v := range up {
					cost += v * r[i]
				}
				var dot float64
				for i, v := range x.Data().([]float64) {
					dot += v * got[1+len(up)+i]
				}
				tol = max(tol, 1e-12)
				if math.Abs(got[0]-cost) > tol*max(1, math.Abs(cost)) || math.Abs(dot-cost) > tol*max(1, math.Abs(cost)) {
					t.Fatalf("Σ up(x)⊙r = %v, ⟨x, dx⟩ = %v; the definition gives %v", got[0], dot, cost)
				}
			})
		}
	}
}

func TestUpsampleValues(t *testing.T) {
	x := tensor.New(tensor.WithShape(1, 1, 2, 2), tensor.WithBacking([]float64{1, 2, 3, 4}))
	out, grads := runWithGrads(t, []*tensor.Dense{x}, func(n []*G.Node) (*G.Node, error) { return Upsample(n[0], 2, 3) })
	want := []float64{
		1, 1, 1, 2, 2, 2,
		1, 1, 1, 2, 2, 2,
		3, 3, 3, 4, 4, 4,
		3, 3, 3, 4, 4, 4,
	}
	near(t, "out", out, want)
	r := seqTensor([]int{24}, 0.5, 0.7, 1).Data().([]float64)
	var dx [4]float64
	for i := range 24 {
		dx[(i/12)*2+(i%6)/3] += r[i]
	}
	near(t, "dx", grads[0], dx[:])
}

func TestUpsampleMatchesPyTorch(t *testing.T) {
	cases := loadTorchCases(t)
	tests := []struct {
		name   string
		x      *tensor.Dense
		sh, sw int
	}{
		{"upsample2d_nearest_2x3", seqTensor([]int{2, 2, 3, 4}, 1.6, 0.47, 1), 2, 3},
		{"upsample1d_nearest_3", seqTensor([]int{2, 3, 5}, 1.7, 0.59, 1), 1, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want, ok := cases[tc.name]
			if !ok {
				t.Fatalf("no case %s in testdata/torch_ref.json", tc.name)
			}
			out, grads := runWithGrads(t, []*tensor.Dense{tc.x}, func(n []*G.Node) (*G.Node, error) {
				return Upsample(n[0], tc.sh, tc.sw)
			})
			near(t, "out", out, want.Out)
			near(t, "grad x", grads[0], want.Grads[0])
			t.Logf("max |error| vs PyTorch: out %.3g, grad x %.3g", maxAbsDiff(out, want.Out), maxAbsDiff(grads[0], want.Grads[0]))
		})
	}
}

// maxAbsDiff is max |a[i] − b[i]|.
func maxAbsDiff(a, b []float64) float64 {
	var m float64
	for i := range a {
		m = max(m, math.Abs(a[i]-b[i]))
	}
	return m
}

// The block sum that is upsampling's gradient has a gradient too (the
// upsampling again), so a second derivative through it works.
func TestUpsampleGradGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(95, 96))
	checkAll(t, []string{"dy"}, []*tensor.Dense{randTensor(rng, 2, 2, 6, 6)}, []bool{true},
		func(_ *G.ExprGraph, n []*G.Node) (*G.Node, error) {
			return Apply(&upsampleGrad{sh: 2, sw: 3, x: tensor.Shape{2, 2, 3, 2}}, nil, n[0])
		})
}

func TestUpsampleShapeErrors(t *testing.T) {
	tests := []struct {
		name   string
		x      []int
		sh, sw int
		want   string
	}{
		{"zero factor", []int{1, 1, 3, 3}, 0, 2, "each factor must be >= 1"},
		{"1-D with a height factor", []int{1, 2, 5}, 2, 2, "a 1-D input (1, 2, 5) takes one scale factor"},
		{"2-D tensor", []int{4, 5}, 2, 2, "want (batch, channels, length) or (batch, channels, height, width)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := G.NewGraph()
			x := G.NewTensor(g, tensor.Float64, len(tc.x), G.WithShape(tc.x...))
			_, err := Upsample(x, tc.sh, tc.sw)
			if err == nil || !contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// TestUpsampleDoesNotAllocate: a warm forward and backward step of
// upsampling allocates nothing, in both dtypes.
func TestUpsampleDoesNotAllocate(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		t.Run(dt.String(), func(t *testing.T) {
			m := benchGraph(t, dt, []int{8, 4, 16, 16}, func(x *G.Node) (*G.Node, error) { return Upsample(x, 2, 2) })
			must(t, m.RunAll())
			if n := testing.AllocsPerRun(20, func() { _ = m.RunAll() }); n > 0 {
				t.Errorf("%v allocations per run, want 0", n)
			}
		})
	}
}

// benchGraph builds Σ f(x)⊙r and its gradient with respect to x on a
// Machine, for allocation tests and benchmarks.
func benchGraph(tb testing.TB, dt tensor.Dtype, shape []int, f func(x *G.Node) (*G.Node, error)) *Machine {
	tb.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	val := func(s tensor.Shape) *tensor.Dense {
		v := randTensor(rng, s...)
		if dt == tensor.Float32 {
			return to32(v)
		}
		return v
	}
	g := G.NewGraph()
	x := G.NewTensor(g, dt, len(shape), G.WithShape(shape...), G.WithName("x"), G.WithValue(val(shape)))
	y, err := f(x)
	if err != nil {
		tb.Fatal(err)
	}
	r := G.NewTensor(g, dt, y.Dims(), G.WithShape(y.Shape()...), G.WithName("r"), G.WithValue(val(y.Shape())))
	cost, err := WeightedSum(y, r)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := G.Grad(cost, x); err != nil {
		tb.Fatal(err)
	}
	m, err := NewMachine(g)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// BenchmarkUpsample times a float32 2×2 upsampling of a batch of 64
// (16, 14, 14) maps, forward and backward.
func BenchmarkUpsample(b *testing.B) {
	m := benchGraph(b, tensor.Float32, []int{64, 16, 14, 14}, func(x *G.Node) (*G.Node, error) { return Upsample(x, 2, 2) })
	if err := m.RunAll(); err != nil { // warm: buffers allocated
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := m.RunAll(); err != nil {
			b.Fatal(err)
		}
	}
}
