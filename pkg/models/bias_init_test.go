package models

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/config"
)

// biasNet holds every layer type model.bias_init applies to, each with
// its PyTorch fan-in: dense (in features), conv2d and conv1d (channels ×
// kernel area) and conv2d_transpose (filters × kernel area, PyTorch's
// fan-in of its (in, out, kh, kw) weight).
const biasNet = `{kind: cnn, layers: [
  {type: conv2d, filters: 16, kernel: 3, padding: 1}, {type: conv2d_transpose, filters: 64, kernel: 2, stride: 2},
  {type: reshape, shape: [64, 256]}, {type: conv1d, filters: 32, kernel: 4, stride: 4},
  {type: flatten}, {type: dense, units: 400, activation: relu}, {type: dense, units: 3}]}`

// biasFanIn is each bias of biasNet with its fan-in (input 1×8×8), the
// ones PyTorch 1.13 computes for the same modules (nn.init.
// _calculate_fan_in_and_fan_out of their weights). Each layer has other
// numbers of inputs and outputs, so a fan-in taken from the wrong axis
// gives another range.
var biasFanIn = map[string]int{
	"conv2d1/b": 1 * 3 * 3, "conv2d_transpose1/b": 64 * 2 * 2, "conv1d1/b": 64 * 4, "dense1/b": 32 * 64, "dense2/b": 400,
}

func buildBiasNet(t *testing.T, biasInit string, seed uint64) *ParamStore {
	t.Helper()
	e := experiment(t, biasNet)
	if biasInit != "" {
		e.Model.BiasInit = biasInit
	}
	m, err := Build(Spec{Exp: e, Input: Shape{1, 8, 8}, Output: Shape{3}, InitRNG: rand.New(rand.NewPCG(seed, 2))})
	if err != nil {
		t.Fatal(err)
	}
	return m.Params()
}

// TestBiasInit: by default (model.bias_init zeros) every dense and
// convolution bias starts at 0, and the weights are those drawn without
// the key; torch_linear draws each bias uniform in ±1/√fan_in with
// PyTorch's fan-in for the layer: every value inside the bound, together
// reaching it and spread as a uniform (variance bound²/3); the same
// seed gives the same biases, another seed others.
func TestBiasInit(t *testing.T) {
	if e := experiment(t, biasNet); e.Model.BiasInit != "zeros" {
		t.Fatalf("default model.bias_init %q, want zeros", e.Model.BiasInit)
	}
	zeros := buildBiasNet(t, "", 1)
	torch := buildBiasNet(t, "torch_linear", 1)
	for name := range biasFanIn {
		for _, v := range Float64s(zeros.Get(name).Value) {
			if v != 0 {
				t.Fatalf("default: %s holds %v, want zeros", name, v)
			}
		}
	}
	t.Run("torch_linear bounds", func(t *testing.T) {
		for name, fanIn := range biasFanIn {
			bound := 1 / math.Sqrt(float64(fanIn))
			vals := Float64s(torch.Get(name).Value)
			var top, ss float64
			for _, v := range vals {
				if math.Abs(v) > bound {
					t.Fatalf("%s: %v outside ±1/√%d = ±%.4g", name, v, fanIn, bound)
				}
				top, ss = max(top, math.Abs(v)), ss+v*v
			}
			// n values uniform in ±bound all stay below q·bound with
			// probability qⁿ: below 0.001 for q = 0.001^(1/n).
			if q := math.Pow(0.001, 1/float64(len(vals))); top < q*bound {
				t.Errorf("%s: largest |b| %.4g of bound %.4g: the range is too narrow (fan-in %d?)", name, top, bound, fanIn)
			}
			if len(vals) >= 400 {
				if v, want := ss/float64(len(vals)), bound*bound/3; math.Abs(v-want)/want > 0.15 {
					t.Errorf("%s: variance %.4g, want %.4g (uniform in ±%.4g)", name, v, want, bound)
				}
			}
		}
	})
	t.Run("deterministic", func(t *testing.T) {
		again, other := buildBiasNet(t, "torch_linear", 1), buildBiasNet(t, "torch_linear", 2)
		for name := range biasFanIn {
			a, b, c := Float64s(torch.Get(name).Value), Float64s(again.Get(name).Value), Float64s(other.Get(name).Value)
			if !equalFloats(a, b) {
				t.Errorf("%s: one seed gave two biases", name)
			}
			if equalFloats(a, c) {
				t.Errorf("%s: seeds 1 and 2 gave the same biases", name)
			}
		}
	})
	t.Run("zeros is the default", func(t *testing.T) {
		explicit := buildBiasNet(t, "zeros", 1)
		for _, p := range zeros.All() {
			if !equalFloats(Float64s(p.Value), Float64s(explicit.Get(p.Name).Value)) {
				t.Errorf("%s differs between the default and bias_init: zeros", p.Name)
			}
		}
	})
}

func equalFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestBiasInitUnknownIsAProblem: an unknown model.bias_init is a config
// problem naming the key, the value and the known ones.
func TestBiasInitUnknownIsAProblem(t *testing.T) {
	_, err := config.Parse("m.yaml", []byte("name: t\ndata: {source: builtin:iris}\nmodel: {bias_init: he_normal, layers: [{type: dense, units: 3}]}\n"), nil, nil, Validate)
	if err == nil {
		t.Fatal("model.bias_init: he_normal was accepted")
	}
	for _, want := range []string{"model.bias_init", `"he_normal"`, "torch_linear, zeros"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %s", err, want)
		}
	}
}

// TestBiasInitReachesEveryStack: the gan and autoencoder kinds pass
// model.bias_init to the layers of each of their stacks.
func TestBiasInitReachesEveryStack(t *testing.T) {
	for _, c := range []struct{ name, data, model string }{
		{"gan", "{source: builtin:digits, task: generation}",
			"{kind: gan, bias_init: torch_linear, latent: 2, generator: [{type: dense, units: 4}, {type: reshape, shape: [1, 2, 2]}], discriminator: [{type: conv2d, filters: 3, kernel: 2}, {type: flatten}, {type: dense, units: 1}]}"},
		{"autoencoder", "{source: builtin:digits, task: reconstruction}",
			"{kind: autoencoder, bias_init: torch_linear, encoder: [{type: flatten}, {type: dense, units: 3}], decoder: [{type: dense, units: 4}, {type: reshape, shape: [1, 2, 2]}]}"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, err := config.Parse("m.yaml", []byte("name: t\ndata: "+c.data+"\nmodel: "+c.model+"\n"), nil, nil, Validate)
			if err != nil {
				t.Fatal(err)
			}
			out := Shape{1, 2, 2}
			if c.name == "gan" {
				out = Shape{1}
			}
			m, err := Build(Spec{Exp: e, Input: Shape{1, 2, 2}, Output: out, InitRNG: rand.New(rand.NewPCG(1, 1))})
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, p := range m.Params().All() {
				if p.Role != Bias {
					continue
				}
				n++
				if equalFloats(Float64s(p.Value), make([]float64, p.Value.Shape().TotalSize())) {
					t.Errorf("%s starts at zero under bias_init: torch_linear", p.Name)
				}
			}
			if n < 2 {
				t.Errorf("%d biases, want one per layer of both stacks", n)
			}
		})
	}
}
