package ops

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestSlopeIsTheActivationsDerivative: Slope(z) of every activation it
// builds equals central differences of the activation itself, and for
// tanh and sigmoid its own gradient (the second derivative) passes the
// gradient check.
func TestSlopeIsTheActivationsDerivative(t *testing.T) {
	for _, act := range []string{"none", "relu", "leaky_relu", "tanh", "sigmoid"} {
		t.Run(act, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, 8))
			z := randTensor(rng, 4, 5)
			for i, v := range z.Float64s() {
				z.Float64s()[i] = 2.5 * v // both tails of tanh and sigmoid
			}
			g := G.NewGraph()
			zn := G.NewTensor(g, tensor.Float64, 2, G.WithShape(4, 5), G.WithValue(z), G.WithName("z"))
			s, err := Slope(zn, act, 0.2)
			if err != nil {
				t.Fatal(err)
			}
			vm, err := NewMachineFor(g, s)
			if err != nil {
				t.Fatal(err)
			}
			if err := vm.RunAll(); err != nil {
				t.Fatal(err)
			}
			// The activation itself (none is the identity).
			f := func(x float64) float64 { return x }
			if act != "none" {
				f = func(x float64) float64 { return activations[act].f(x, 0.2) }
			}
			const h = 1e-6
			for i, v := range z.Float64s() {
				want := (f(v+h) - f(v-h)) / (2 * h)
				if got := s.Value().Data().([]float64)[i]; math.Abs(got-want) > 1e-8 {
					t.Errorf("slope at %v: %v, the activation's derivative %v", v, got, want)
				}
			}
			if act == "tanh" || act == "sigmoid" {
				checkAll(t, []string{"z"}, []*tensor.Dense{z}, []bool{true}, func(_ *G.ExprGraph, n []*G.Node) (*G.Node, error) {
					return Slope(n[0], act, 0)
				})
			}
		})
	}
	if _, err := Slope(G.NewTensor(G.NewGraph(), tensor.Float64, 2, G.WithShape(2, 2), G.WithName("z")), "gelu", 0); err == nil {
		t.Error("the slope of gelu, which is not built, was given")
	}
}

// TestPoolGradientIsDifferentiable: the backward pass of max and average
// pooling (padding, strides, include_pad either way, 1-D and 2-D) and of
// global average pooling, as its own node, passes the gradient check
// with respect to dy: its gradient is the adjoint map (dy's gradient read
// at each window's maximum, or averaged over each window).
func TestPoolGradientIsDifferentiable(t *testing.T) {
	for _, c := range []struct {
		name       string
		x          []int
		win        Window
		avg, inPad bool
	}{
		{"max 2x2", []int{2, 3, 6, 6}, win2D(2, 2, 1, 0), false, false},
		{"max 3x3 stride 2 padded", []int{2, 2, 7, 7}, win2D(3, 2, 1, 1), false, false},
		{"max 1d", []int{3, 2, 9}, win1D(3, 2, 1, 1), false, false},
		{"avg 2x2", []int{2, 3, 6, 6}, win2D(2, 2, 1, 0), true, true},
		{"avg padded include_pad", []int{2, 2, 7, 7}, win2D(3, 2, 1, 1), true, true},
		{"avg padded exclude pad", []int{2, 2, 7, 7}, win2D(3, 1, 1, 1), true, false},
		{"avg 1d", []int{3, 2, 9}, win1D(3, 2, 1, 1), true, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(9, 10))
			x := randTensor(rng, c.x...)
			p := &pool{win: c.win, avg: c.avg, includePad: c.inPad}
			ys, err := p.OutShape([]tensor.Shape{x.Shape()})
			if err != nil {
				t.Fatal(err)
			}
			dy := randTensor(rng, ys...)
			checkAll(t, []string{"x", "dy"}, []*tensor.Dense{x, dy}, []bool{false, true}, func(_ *G.ExprGraph, n []*G.Node) (*G.Node, error) {
				var y *G.Node
				var err error
				if c.avg {
					y, err = AvgPool(n[0], c.win, c.inPad)
				} else {
					y, err = MaxPool(n[0], c.win)
				}
				if err != nil {
					return nil, err
				}
				return PoolGradient(n[0], y, n[1])
			})
		})
	}
	t.Run("global avg", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(11, 12))
		dy := randTensor(rng, 2, 3)
		checkAll(t, []string{"dy"}, []*tensor.Dense{dy}, []bool{true}, func(_ *G.ExprGraph, n []*G.Node) (*G.Node, error) {
			return GlobalAvgPoolGradient(n[0], tensor.Shape{2, 3, 4, 5})
		})
	})
}
