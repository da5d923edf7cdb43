package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// randTensor fills a float64 tensor with values in [-1, 1] kept at least
// 0.05 away from 0, so no input sits on a kink (relu) within the
// finite-difference step.
func randTensor(rng *rand.Rand, shape ...int) *tensor.Dense {
	n := tensor.Shape(shape).TotalSize()
	v := make([]float64, n)
	for i := range v {
		x := 0.05 + 0.95*rng.Float64()
		if rng.IntN(2) == 0 {
			x = -x
		}
		v[i] = x
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))
}

func labels(rng *rand.Rand, n, classes int) *tensor.Dense {
	v := make([]float64, n)
	for i := range v {
		v[i] = float64(rng.IntN(classes))
	}
	return tensor.New(tensor.WithShape(n), tensor.WithBacking(v))
}

const gradTol = 1e-6

func checkAll(t *testing.T, names []string, in []*tensor.Dense, wrt []bool, build func(*G.ExprGraph, []*G.Node) (*G.Node, error)) {
	t.Helper()
	res, err := GradCheck(names, in, wrt, build, GradCheckOptions{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if !(r.RelErr <= gradTol) {
			t.Errorf("%s: relative error %.3g > %g (abs %.3g, max grad %.3g)", r.Name, r.RelErr, gradTol, r.AbsErr, r.MaxGrad)
		}
		if r.MaxGrad == 0 {
			t.Errorf("%s: gradient is identically zero; the check proves nothing", r.Name)
		}
	}
}

func TestLinearGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	in := []*tensor.Dense{randTensor(rng, 5, 4), randTensor(rng, 4, 3), randTensor(rng, 3)}
	checkAll(t, []string{"x", "w", "b"}, in, []bool{true, true, true}, func(_ *G.ExprGraph, n []*G.Node) (*G.Node, error) {
		return Linear(n[0], n[1], n[2], true)
	})
}

func TestMatMulGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 3))
	for _, c := range []struct{ ta, tb bool }{{false, false}, {true, false}, {false, true}, {true, true}} {
		a, b := randTensor(rng, 3, 4), randTensor(rng, 4, 5)
		if c.ta {
			a = randTensor(rng, 4, 3)
		}
		if c.tb {
			b = randTensor(rng, 5, 4)
		}
		t.Run("", func(t *testing.T) {
			checkAll(t, []string{"a", "b"}, []*tensor.Dense{a, b}, []bool{true, true}, func(_ *G.ExprGraph, n []*G.Node) (*G.Node, error) {
				return MatMul(n[0], n[1], c.ta, c.tb)
			})
		})
	}
}

func TestActivationGradients(t *testing.T) {
	for _, name := range Activations() {
		if name == "none" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(4, 5))
			in := []*tensor.Dense{randTensor(rng, 6, 7)}
			checkAll(t, []string{"x"}, in, []bool{true}, func(_ *G.ExprGraph, n []*G.Node) (*G.Node, error) {
				return Activate(n[0], name, DefaultAlpha[name]+0.1)
			})
		})
	}
}

func TestActivationValues(t *testing.T) {
	// Reference values printed by PyTorch 1.13 (torch.nn.functional, float64) at x = -1.5 and 0.7.
	want := map[string][2]float64{
		"relu":       {0, 0.7},
		"leaky_relu": {-0.015, 0.7},
		"elu":        {-0.7768698398515702, 0.7},
		"gelu":       {-0.10021080190328704, 0.5306254434438489},
		"tanh":       {-0.9051482536448664, 0.6043677771171636},
		"sigmoid":    {0.18242552380635635, 0.6681877721681662},
		"softplus":   {0.2014132779827524, 1.103186048885458},
	}
	for name, w := range want {
		a := activations[name]
		for i, x := range []float64{-1.5, 0.7} {
			if got := a.f(x, DefaultAlpha[name]); math.Abs(got-w[i]) > 1e-6 {
				t.Errorf("%s(%v) = %v, want %v", name, x, got, w[i])
			}
		}
	}
}

func TestDropoutGradientWithFixedMask(t *testing.T) {
	for _, rate := range []float64{0.2, 0.5, 0.7} {
		st := &DropoutState{Rate: rate, RNG: rand.New(rand.NewPCG(7, 8)), Frozen: true}
		rng := rand.New(rand.NewPCG(4, 5))
		checkAll(t, []string{"x"}, []*tensor.Dense{randTensor(rng, 8, 9)}, []bool{true}, func(_ *G.ExprGraph, n []*G.Node) (*G.Node, error) {
			return Dropout(n[0], st)
		})
		// Inverted scaling: every kept unit is multiplied by exactly 1/(1-rate).
		for _, m := range st.mask {
			if m != 0 && math.Abs(m-1/(1-rate)) > 1e-15 {
				t.Fatalf("rate %v: kept unit scaled by %v, want %v", rate, m, 1/(1-rate))
			}
		}
	}
}

func TestDropoutKeepsExpectedFraction(t *testing.T) {
	st := &DropoutState{Rate: 0.3, Group: 1, RNG: rand.New(rand.NewPCG(1, 1))}
	d := dropout{st}
	d.draw(100000)
	kept := 0
	for _, m := range st.mask {
		if m != 0 {
			kept++
		}
	}
	if f := float64(kept) / 100000; math.Abs(f-0.7) > 0.01 {
		t.Errorf("kept fraction %v, want about 0.7", f)
	}
}

func TestLossGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	t.Run("cross_entropy", func(t *testing.T) {
		in := []*tensor.Dense{randTensor(rng, 6, 4), labels(rng, 6, 4)}
		checkAll(t, []string{"logits", "labels"}, in, []bool{true, false}, func(_ *G.ExprGraph, n []*G.Node) (*G.Node, error) {
			return SoftmaxCrossEntropy(n[0], n[1])
		})
	})
	t.Run("mse", func(t *testing.T) {
		in := []*tensor.Dense{randTensor(rng, 6, 3), randTensor(rng, 6, 3)}
		checkAll(t, []string{"pred", "target"}, in, []bool{true, false}, func(_ *G.ExprGraph, n []*G.Node) (*G.Node, error) {
			return MeanSquaredError(n[0], n[1])
		})
	})
}

func TestCrossEntropyIsStable(t *testing.T) {
	logits := []float64{1000, -1000, 0, -1000, 1000, 0}
	got, err := crossEntropy(logits, []float64{0, 2}, 3, CrossEntropyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Row 1: −log softmax = 0; row 2: 1000. Mean 500.
	if math.Abs(got-500) > 1e-9 {
		t.Errorf("cross entropy = %v, want 500", got)
	}
	if _, err := crossEntropy(logits, []float64{0, 3}, 3, CrossEntropyOptions{}); err == nil {
		t.Error("label 3 with 3 classes was accepted")
	}
}

func TestOpReusesItsOutputBuffer(t *testing.T) {
	g := G.NewGraph()
	x := G.NewMatrix(g, tensor.Float32, G.WithShape(2, 3), G.WithName("x"), G.WithInit(G.Ones()))
	y, err := Activate(x, "relu", 0)
	if err != nil {
		t.Fatal(err)
	}
	m := G.NewTapeMachine(g)
	defer m.Close()
	var first tensor.Memory
	for i := 0; i < 3; i++ {
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = y.Value().(*tensor.Dense)
		} else if y.Value().(*tensor.Dense).Uintptr() != first.Uintptr() {
			t.Fatalf("run %d allocated a new output", i)
		}
		m.Reset()
	}
}

// TestActivationFloat32MatchesFloat64 checks the float32 loops (pkg/compute
// kernels for the hot activations) against the float64 reference that the
// gradient checks validate, forward and backward.
func TestActivationFloat32MatchesFloat64(t *testing.T) {
	for _, name := range Activations() {
		if name == "none" || name == "softmax" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(6, 7))
			const n = 100
			x64, dy64 := randTensor(rng, n), randTensor(rng, n)
			for i, v := range data[float64](x64) {
				data[float64](x64)[i] = 12 * v // reach the tails
			}
			x32, dy32 := to32(x64), to32(dy64)
			a := act{name: name, alpha: DefaultAlpha[name]}
			y64, y32 := tensor.New(tensor.WithShape(n), tensor.Of(tensor.Float64)), tensor.New(tensor.WithShape(n), tensor.Of(tensor.Float32))
			dx64, dx32 := tensor.New(tensor.WithShape(n), tensor.Of(tensor.Float64)), tensor.New(tensor.WithShape(n), tensor.Of(tensor.Float32))
			for _, err := range []error{
				a.Forward(y64, []*tensor.Dense{x64}), a.Forward(y32, []*tensor.Dense{x32}),
				actGrad(a).Forward(dx64, []*tensor.Dense{x64, y64, dy64}), actGrad(a).Forward(dx32, []*tensor.Dense{x32, y32, dy32}),
			} {
				if err != nil {
					t.Fatal(err)
				}
			}
			for i := range n {
				for _, c := range []struct {
					what string
					a32  float32
					b64  float64
				}{{"forward", data[float32](y32)[i], data[float64](y64)[i]}, {"backward", data[float32](dx32)[i], data[float64](dx64)[i]}} {
					if d := math.Abs(float64(c.a32) - c.b64); d > 1e-6*max(1, math.Abs(c.b64)) {
						t.Errorf("%s at x=%v: float32 %v, float64 %v", c.what, data[float64](x64)[i], c.a32, c.b64)
					}
				}
			}
		})
	}
}

func to32(t *tensor.Dense) *tensor.Dense {
	v := data[float64](t)
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return tensor.New(tensor.WithShape(t.Shape()...), tensor.WithBacking(out))
}

func TestDenseGradient(t *testing.T) {
	for _, name := range []string{"relu", "sigmoid", "tanh", "elu", "none"} {
		for _, bias := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/bias=%v", name, bias), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(10, 11))
				in := []*tensor.Dense{randTensor(rng, 5, 4), randTensor(rng, 4, 3)}
				names, wrt := []string{"x", "w"}, []bool{true, true}
				if bias {
					in, names, wrt = append(in, randTensor(rng, 3)), append(names, "b"), append(wrt, true)
				}
				checkAll(t, names, in, wrt, func(_ *G.ExprGraph, n []*G.Node) (*G.Node, error) {
					var b *G.Node
					if bias {
						b = n[2]
					}
					return Dense(n[0], n[1], b, name, DefaultAlpha[name], true)
				})
			})
		}
	}
}

// TestDenseFusedMatchesUnfused checks the fused op's forward values and
// gradients against Linear followed by Activate, in float32.
func TestDenseFusedMatchesUnfused(t *testing.T) {
	for _, name := range []string{"relu", "sigmoid", "tanh"} {
		t.Run(name, func(t *testing.T) {
			run := func(fused bool) []float64 {
				rng := rand.New(rand.NewPCG(12, 13))
				g := G.NewGraph()
				x := G.NewMatrix(g, tensor.Float32, G.WithShape(6, 5), G.WithName("x"), G.WithValue(to32(randTensor(rng, 6, 5))))
				w := G.NewMatrix(g, tensor.Float32, G.WithShape(5, 4), G.WithName("w"), G.WithValue(to32(randTensor(rng, 5, 4))))
				b := G.NewVector(g, tensor.Float32, G.WithShape(4), G.WithName("b"), G.WithValue(to32(randTensor(rng, 4))))
				r := G.NewMatrix(g, tensor.Float32, G.WithShape(6, 4), G.WithName("r"), G.WithValue(to32(randTensor(rng, 6, 4))))
				var y *G.Node
				var err error
				if fused {
					y, err = Dense(x, w, b, name, 0, true)
				} else if y, err = Linear(x, w, b, true); err == nil {
					y, err = Activate(y, name, 0)
				}
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
			fused, plain := run(true), run(false)
			for i := range plain {
				if fused[i] != plain[i] {
					t.Fatalf("value %d: fused %v, unfused %v", i, fused[i], plain[i])
				}
			}
		})
	}
}
