package models

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/config"
)

func experiment(t *testing.T, model string) *config.Experiment {
	t.Helper()
	e, err := config.Parse("m.yaml", []byte("name: t\ndata: {source: builtin:iris}\nmodel: "+model+"\n"), nil, nil, Validate)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestBuildNamesParamsAndCountsThem(t *testing.T) {
	e := experiment(t, "{layers: [{type: dense, units: 256, activation: relu}, {type: dense, units: 128, activation: relu}, {type: dropout, rate: 0.1}, {type: dense, units: 10, name: out}]}")
	m, err := Build(Spec{Exp: e, Input: Shape{784}, Output: Shape{10}, InitRNG: rand.New(rand.NewPCG(1, 1))})
	if err != nil {
		t.Fatal(err)
	}
	// PyTorch counts 235,146 parameters for the 784-256-128-10 MLP workload.
	if n := m.Params().Count(); n != 235146 {
		t.Errorf("%d parameters, want 235146", n)
	}
	var names []string
	for _, p := range m.Params().All() {
		names = append(names, p.Name+":"+p.Role.String())
	}
	want := "dense1/W:weight dense1/b:bias dense2/W:weight dense2/b:bias out/W:weight out/b:bias"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("params %s, want %s", got, want)
	}
	if info := m.Layers(); info[0].FLOPs != 2*784*256 || info[2].Type != "dropout" {
		t.Errorf("layer info %+v", info)
	}
}

func TestShapeProblemsNameTheLayer(t *testing.T) {
	e := experiment(t, "{layers: [{type: dense, units: 8}, {type: dense, units: 4}]}")
	_, err := Build(Spec{Exp: e, Input: Shape{1, 8, 8}, Output: Shape{4}, InitRNG: rand.New(rand.NewPCG(1, 1))})
	if err == nil || !strings.Contains(err.Error(), `model.layers[0]: layer 0 (dense "dense1"): dense needs a flat input (features) or a sequence (time, features), got (1, 8, 8); add {type: flatten} before it to make it (64)`) {
		t.Errorf("err = %v", err)
	}
	_, err = Build(Spec{Exp: e, Input: Shape{4}, Output: Shape{3}, InitRNG: rand.New(rand.NewPCG(1, 1))})
	if err == nil || !strings.Contains(err.Error(), "the model's output (4) does not match what the loss needs, (3)") {
		t.Errorf("err = %v", err)
	}
}

func TestLayerOptionsAreValidated(t *testing.T) {
	_, err := config.Parse("m.yaml", []byte(`name: t
data: {source: builtin:iris}
model:
  init: glorot
  layers:
    - {type: dense, unit: 8}
    - {type: dropout, rate: 1.5}
    - {type: convolution}
    - {type: dense, units: 3, activation: swish}
`), nil, nil, Validate)
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{
		`m.yaml:4:3: model.init: unknown initializer "glorot"`,
		`m.yaml:6:21: model.layers[0].unit: unknown option for dense (did you mean "units"?)`,
		`model.layers[0].units: is required`,
		`m.yaml:7:23: model.layers[1].rate: must be in [0, 1), got 1.5`,
		`model.layers[2].type: unknown layer type "convolution"`,
		`m.yaml:9:31: model.layers[3].activation: must be one of`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message lacks %q:\n%v", want, err)
		}
	}
}

func TestInitializersHaveTheirPublishedVariance(t *testing.T) {
	const in, out, n = 300, 200, 60000
	cases := map[string]float64{
		"xavier_uniform": 2.0 / (in + out),
		"xavier_normal":  2.0 / (in + out),
		"he_uniform":     2.0 / in,
		"he_normal":      2.0 / in,
		"normal":         0.05 * 0.05,
		"uniform":        0.05 * 0.05 / 3,
		"torch_linear":   1.0 / (3 * in),
	}
	for name, want := range cases {
		w := make([]float64, n)
		initializers[name](rand.New(rand.NewPCG(9, 9)), w, in, out)
		var mean, ss float64
		for _, v := range w {
			mean += v
			ss += v * v
		}
		mean /= n
		if v := ss/n - mean*mean; math.Abs(v-want)/want > 0.03 || math.Abs(mean) > 3*math.Sqrt(want/n) {
			t.Errorf("%s: mean %.3g variance %.4g, want 0 and %.4g", name, mean, v, want)
		}
	}
}
