package models

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/ops"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// wganCase is one case of testdata/torch_ref_wgan_gp.json, written by
// testdata/torch_ref_wgan_gp.py with PyTorch 1.13.
type wganCase struct {
	Name                                   string
	Shape                                  []int
	Batch                                  int
	GPWeight                               float64 `json:"gp_weight"`
	Layers                                 []map[string]any
	Real, Fake, Eps, Interpolates, Penalty []float64
	InputGrad                              []float64 `json:"input_grad"`
	Loss                                   float64
	Params, Grads                          map[string][]float64
	// A conditional critic's classes, embedding size and each sample's
	// labels (the interpolates are scored with the real ones).
	Classes    int
	LabelDim   int   `json:"label_dim"`
	RealLabels []int `json:"real_labels"`
	FakeLabels []int `json:"fake_labels"`
}

// buildWGAN builds a wgan_gp GAN whose critic is the case's, with
// PyTorch's weights.
func buildWGAN(t *testing.T, c wganCase, dt string) *GAN {
	t.Helper()
	var dis []string
	for _, l := range c.Layers {
		b, err := json.Marshal(l) // JSON is YAML
		if err != nil {
			t.Fatal(err)
		}
		dis = append(dis, string(b))
	}
	n := Shape(c.Shape).Size()
	gen := fmt.Sprintf("{type: dense, units: %d}", n)
	if len(c.Shape) > 1 {
		gen += fmt.Sprintf(", {type: reshape, shape: %v}", strings.ReplaceAll(fmt.Sprint(c.Shape), " ", ", "))
	}
	cond := ""
	if c.Classes > 0 {
		cond = fmt.Sprintf("conditional: true, label_dim: %d, ", c.LabelDim)
	}
	y := fmt.Sprintf("name: t\ndata: {source: builtin:iris}\nmodel: {kind: gan, dtype: %s, latent: 2, %sgenerator: [%s], discriminator: [%s]}\n", dt, cond, gen, strings.Join(dis, ", "))
	e, err := config.Parse("m.yaml", []byte(y), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.Train.Loss = config.Block{Kind: "wgan_gp"}
	m, err := Build(Spec{Exp: e, Input: Shape(c.Shape), Output: Shape{1}, Classes: c.Classes, InitRNG: rand.New(rand.NewPCG(1, 1))})
	if err != nil {
		t.Fatal(err)
	}
	gan := m.(*GAN)
	for _, p := range gan.DiscriminatorParams() {
		if c.Params == nil {
			break // the case sets its own
		}
		v, ok := c.Params[strings.TrimPrefix(p.Name, DiscriminatorPart+"/")]
		if !ok {
			t.Fatalf("parameter %s is not one of PyTorch's", p.Name)
		}
		setValues(p.Value, v)
	}
	return gan
}

// TestGradientPenaltyMatchesPyTorch: a wgan_gp critic given PyTorch's
// weights (an MLP, a flatten + dense and a strided conv2d critic), real
// and fake samples and ε gives PyTorch's input gradient at
// x̂ (torch.autograd.grad), per-sample penalty, critic loss mean D(fake)
// − mean D(real) + λ·mean penalty, and the loss's gradient with respect
// to every critic weight (PyTorch's backward through create_graph=True),
// in float64 and float32. The conditional cases' critics read a label
// embedding (features of a flat sample, channels of an image): x̂ is
// scored with the real samples' labels, the gradient is with respect to
// x̂ alone, and the embedding's gradient includes the penalty's, which
// is not zero through tanh and sigmoid slopes.
func TestGradientPenaltyMatchesPyTorch(t *testing.T) {
	b, err := os.ReadFile("testdata/torch_ref_wgan_gp.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct{ Cases []wganCase }
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	for _, c := range f.Cases {
		for _, dt := range []string{"float64", "float32"} {
			t.Run(c.Name+"/"+dt, func(t *testing.T) {
				tol := 1e-12
				if dt == "float32" {
					tol = 5e-6
				}
				m := buildWGAN(t, c, dt)
				g := NewGraph(m.Params(), true)
				dtype := DType(dt)
				shape := append([]int{c.Batch}, c.Shape...)
				node := func(name string, v []float64) *G.Node {
					tv := tensor.New(tensor.WithShape(shape...), tensor.Of(dtype))
					setValues(tv, v)
					return G.NewTensor(g.G, dtype, len(shape), G.WithShape(shape...), G.WithName(name), G.WithValue(tv))
				}
				real, fake := node("real", c.Real), node("fake", c.Fake)
				xh := node("xh", c.Interpolates)
				labels := func(name string, v []int) *G.Node {
					if c.Classes == 0 {
						return nil
					}
					f := make([]float64, len(v))
					for i, l := range v {
						f[i] = float64(l)
					}
					tv := tensor.New(tensor.WithShape(len(v)), tensor.Of(dtype))
					setValues(tv, f)
					return G.NewTensor(g.G, dtype, 1, G.WithShape(len(v)), G.WithName(name), G.WithValue(tv))
				}
				realLabels, fakeLabels := labels("real_labels", c.RealLabels), labels("fake_labels", c.FakeLabels)
				grad, err := m.inputGradient(g, xh, realLabels)
				if err != nil {
					t.Fatal(err)
				}
				pen, err := ops.GradientPenalty(grad)
				if err != nil {
					t.Fatal(err)
				}
				dReal, err := m.discriminateClasses(g, real, realLabels)
				if err != nil {
					t.Fatal(err)
				}
				dFake, err := m.discriminateClasses(g, fake, fakeLabels)
				if err != nil {
					t.Fatal(err)
				}
				mean := func(n *G.Node, w float64) *G.Node {
					l, err := ops.ScoreLoss(ops.ScoreFunc{Name: "mean", F: func(s float64) float64 { return w * s }, DF: func(float64) float64 { return w }}, n)
					if err != nil {
						t.Fatal(err)
					}
					return l
				}
				loss, err := G.Add(mean(dFake, 1), mean(dReal, -1))
				if err != nil {
					t.Fatal(err)
				}
				if loss, err = G.Add(loss, mean(pen, c.GPWeight)); err != nil {
					t.Fatal(err)
				}
				params := m.DiscriminatorParams()
				nodes := make(G.Nodes, len(params))
				for i, p := range params {
					nodes[i] = g.Node(p)
				}
				grads, err := G.Grad(loss, nodes...)
				if err != nil {
					t.Fatal(err)
				}
				vm, err := ops.NewMachineFor(g.G, append(G.Nodes{loss, grad, pen}, grads...)...)
				if err != nil {
					t.Fatal(err)
				}
				if err := vm.RunAll(); err != nil {
					t.Fatal(err)
				}
				worst := 0.0
				check := func(what string, got, want []float64) {
					e := relErr(got, want)
					if len(got) != len(want) || e > tol {
						t.Errorf("%s: max error %.3g (%d values, PyTorch %d), want <= %g", what, e, len(got), len(want), tol)
					}
					worst = max(worst, e)
				}
				check("input gradient", floats(grad.Value()), c.InputGrad)
				check("penalty", floats(pen.Value()), c.Penalty)
				check("loss", floats(loss.Value()), []float64{c.Loss})
				for i, p := range params {
					check("gradient of "+p.Name, floats(grads[i].Value()), c.Grads[strings.TrimPrefix(p.Name, DiscriminatorPart+"/")])
				}
				t.Logf("max error vs PyTorch %.3g", worst)
			})
		}
	}
}

// floats returns a value's elements as float64.
func floats(v G.Value) []float64 {
	switch x := v.Data().(type) {
	case []float64:
		return append([]float64(nil), x...)
	case []float32:
		out := make([]float64, len(x))
		for i, f := range x {
			out[i] = float64(f)
		}
		return out
	case float64:
		return []float64{x}
	case float32:
		return []float64{float64(x)}
	}
	panic(fmt.Sprintf("value %T", v.Data()))
}

// TestInterpolateDrawsEpsPerSample: x̂ is ε·real + (1−ε)·fake with one ε
// in [0, 1) per sample, drawn from the given stream.
func TestInterpolateDrawsEpsPerSample(t *testing.T) {
	g := G.NewGraph()
	r := tensor.New(tensor.WithShape(3, 2), tensor.WithBacking([]float64{1, 2, 3, 4, 5, 6}))
	f := tensor.New(tensor.WithShape(3, 2), tensor.WithBacking([]float64{-1, 0, 1, -2, 7, 0.5}))
	rn := G.NewTensor(g, tensor.Float64, 2, G.WithShape(3, 2), G.WithValue(r), G.WithName("r"))
	fn := G.NewTensor(g, tensor.Float64, 2, G.WithShape(3, 2), G.WithValue(f), G.WithName("f"))
	st := &ops.NoiseState{RNG: rand.New(rand.NewPCG(3, 4))}
	xh, err := ops.Interpolate(rn, fn, st)
	if err != nil {
		t.Fatal(err)
	}
	vm, err := ops.NewMachineFor(g, xh)
	if err != nil {
		t.Fatal(err)
	}
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	want := rand.New(rand.NewPCG(3, 4))
	got := floats(xh.Value())
	for i, e := range st.Epsilons() {
		if w := want.Float64(); e != w {
			t.Fatalf("ε %d is %v, the stream's %v", i, e, w)
		}
		for j := range 2 {
			k := 2*i + j
			if w := e*r.Float64s()[k] + (1-e)*f.Float64s()[k]; math.Abs(got[k]-w) > 1e-15 {
				t.Errorf("x̂[%d] = %v, want %v", k, got[k], w)
			}
		}
	}
}

// TestInputGradientMatchesFiniteDifferences: the explicit input gradient
// of critics of every built layer kind (conv1d and 1-D pooling included,
// which have no PyTorch case) equals central differences of Σ D(x) over x.
func TestInputGradientMatchesFiniteDifferences(t *testing.T) {
	for _, c := range []struct {
		name   string
		shape  []int
		layers []map[string]any
	}{
		{"conv1d", []int{2, 9}, []map[string]any{
			{"type": "conv1d", "filters": 3, "kernel": 3, "stride": 2, "padding": 1, "activation": "leaky_relu", "alpha": 0.2},
			{"type": "leaky_relu", "alpha": 0.1}, {"type": "flatten"}, {"type": "dense", "units": 1}}},
		{"conv2d reshape", []int{12}, []map[string]any{
			{"type": "reshape", "shape": []int{1, 3, 4}}, {"type": "conv2d", "filters": 2, "kernel": 2, "activation": "relu"},
			{"type": "flatten"}, {"type": "dense", "units": 3, "activation": "leaky_relu", "alpha": 0.3}, {"type": "dense", "units": 1}}},
		{"conv1d pools tanh sigmoid", []int{2, 12}, []map[string]any{
			{"type": "conv1d", "filters": 3, "kernel": 3, "padding": 1, "activation": "tanh"}, {"type": "maxpool1d", "size": 2},
			{"type": "conv1d", "filters": 2, "kernel": 2, "activation": "sigmoid"},
			{"type": "avgpool1d", "size": 2, "stride": 1, "padding": 1, "include_pad": false}, {"type": "flatten"}, {"type": "dense", "units": 1}}},
		{"conv2d global avgpool", []int{1, 6, 6}, []map[string]any{
			{"type": "conv2d", "filters": 3, "kernel": 3, "padding": 1, "activation": "sigmoid"}, {"type": "avgpool2d", "size": 2},
			{"type": "conv2d", "filters": 2, "kernel": 2}, {"type": "tanh"}, {"type": "global_avgpool"},
			{"type": "dense", "units": 2, "activation": "tanh"}, {"type": "dense", "units": 1}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := buildWGAN(t, wganCase{Shape: c.shape, Layers: c.layers}, "float64")
			for _, p := range m.DiscriminatorParams() {
				v := p.Value.Float64s()
				for i := range v {
					v[i] = 0.7 * math.Sin(1.3*float64(i)+float64(len(p.Name)))
				}
			}
			batch := 2
			shape := append([]int{batch}, c.shape...)
			xv := tensor.New(tensor.WithShape(shape...), tensor.Of(tensor.Float64))
			for i := range xv.Float64s() {
				xv.Float64s()[i] = math.Cos(0.77*float64(i) + 0.2)
			}
			g := NewGraph(m.Params(), true)
			x := G.NewTensor(g.G, tensor.Float64, len(shape), G.WithShape(shape...), G.WithName("x"), G.WithValue(xv))
			grad, err := m.inputGradient(g, x, nil)
			if err != nil {
				t.Fatal(err)
			}
			d, err := m.Discriminate(g, x)
			if err != nil {
				t.Fatal(err)
			}
			vm, err := ops.NewMachineFor(g.G, grad, d)
			if err != nil {
				t.Fatal(err)
			}
			sum := func() float64 {
				if err := vm.RunAll(); err != nil {
					t.Fatal(err)
				}
				s := 0.0
				for _, v := range floats(d.Value()) {
					s += v
				}
				return s
			}
			sum()
			got := floats(grad.Value())
			const h = 1e-6
			worst := 0.0
			for i := range xv.Float64s() {
				v := xv.Float64s()[i]
				xv.Float64s()[i] = v + h
				up := sum()
				xv.Float64s()[i] = v - h
				down := sum()
				xv.Float64s()[i] = v
				worst = max(worst, math.Abs((up-down)/(2*h)-got[i]))
			}
			if worst > 1e-7 {
				t.Errorf("input gradient off finite differences by %.3g", worst)
			}
		})
	}
}
