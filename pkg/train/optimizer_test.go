package train

import (
	"math"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/models"
	"gorgonia.org/tensor"
)

// block parses `train: {optimizer: ...}`-like YAML into the block at key.
func block(t *testing.T, key, yamlText string) config.Block {
	t.Helper()
	doc := "data: {source: builtin:iris}\nmodel: {layers: [{type: dense, units: 3}]}\ntrain:\n  " + key + ": " + yamlText + "\n"
	exp, _ := config.Parse("test.yaml", []byte(doc), nil, nil)
	if exp == nil {
		t.Fatalf("cannot parse %q", doc)
	}
	switch key {
	case "optimizer":
		return exp.Train.Optimizer
	case "loss":
		return exp.Train.Loss
	case "schedule":
		return exp.Train.Schedule
	}
	t.Fatalf("unknown key %s", key)
	return config.Block{}
}

// optimizerCases hold, for each optimizer, the weights after each of five
// steps from w0 on the gradients grads, as printed by PyTorch 1.13 in
// float64 (torch.optim.X(params, options) with p.grad set to each row of
// grads before opt.step(); the options are those of the config below).
var (
	w0    = []float64{0.5, -1.2, 2.0}
	grads = [][]float64{{0.3, -0.2, 0.05}, {0.1, 0.4, -0.3}, {-0.25, 0.15, 0.2}, {0.05, -0.35, 0.1}, {0.2, 0.1, -0.15}}

	optimizerCases = []struct {
		name, config string // config: the dltrain optimizer block; torch equivalent in the comment
		want         [][]float64
	}{
		// SGD(lr=0.1)
		{"sgd", "{kind: sgd, lr: 0.1}", [][]float64{{0.47, -1.18, 1.995}, {0.45999999999999996, -1.22, 2.025}, {0.485, -1.2349999999999999, 2.005}, {0.48, -1.2, 1.9949999999999999}, {0.45999999999999996, -1.21, 2.01}}},
		// SGD(lr=0.1, momentum=0.9, dampening=0.1)
		{"momentum", "{kind: momentum, lr: 0.1, dampening: 0.1}", [][]float64{{0.47, -1.18, 1.995}, {0.43399999999999994, -1.198, 2.0175}, {0.4240999999999999, -1.2277, 2.01975}, {0.4106899999999999, -1.22293, 2.012775}, {0.3806209999999999, -1.227637, 2.0199975}}},
		// SGD(lr=0.1, momentum=0.9, nesterov=True)
		{"nesterov", "{kind: nesterov, lr: 0.1}", [][]float64{{0.443, -1.162, 1.9905}, {0.3997, -1.2218, 2.04345}, {0.41723, -1.26812, 2.026105}, {0.401007, -1.229808, 2.0094944999999997}, {0.3529063, -1.2458272, 2.03204505}}},
		// SGD as sgd with options
		{"sgd nesterov", "{kind: sgd, lr: 0.1, momentum: 0.9, nesterov: true}", [][]float64{{0.443, -1.162, 1.9905}, {0.3997, -1.2218, 2.04345}, {0.41723, -1.26812, 2.026105}, {0.401007, -1.229808, 2.0094944999999997}, {0.3529063, -1.2458272, 2.03204505}}},
		// Adam(lr=0.01, betas=(0.8, 0.99), eps=1e-6)
		{"adam", "{kind: adam, lr: 0.01, betas: [0.8, 0.99], eps: 1.0e-6}", [][]float64{{0.49000003333322223, -1.19000004999975, 1.990000199996}, {0.4815356723473253, -1.1942100649206981, 1.9967007923346507}, {0.48114794040232206, -1.1993588676505995, 1.9968565816949686}, {0.48001682186018757, -1.1984783279046944, 1.9951758458004971}, {0.4762742409896093, -1.1989129948861017, 1.9964074991249403}}},
		// AdamW(lr=0.01, weight_decay=0.1)
		{"adamw", "{kind: adamw, lr: 0.01, weight_decay: 0.1}", [][]float64{{0.4895000003333333, -1.1888000005, 1.9880000019999997}, {0.4802998612153862, -1.1912722356541037, 1.992251188372618}, {0.47850348990549985, -1.194796408453961, 1.990776834847446}, {0.47623907232256546, -1.1932372765788055, 1.9876544312269049}, {0.47199638452483633, -1.192657041891614, 1.9867946683200954}}},
		// RMSprop(lr=0.01, alpha=0.9, eps=1e-8)
		{"rmsprop", "{kind: rmsprop, lr: 0.01, alpha: 0.9}", [][]float64{{0.46837722673164917, -1.1683772283983154, 1.9683772433983036}, {0.45789437946333095, -1.1969486549289277, 1.9996119925239926}, {0.4786988360226106, -1.2075845449200677, 1.9815804338388667}, {0.474354458167749, -1.1874279504197895, 1.9724790831185455}, {0.45850409072321463, -1.1933896428726956, 1.985577133594633}}},
		// RMSprop(lr=0.01, alpha=0.9, eps=1e-6, momentum=0.5, centered=True)
		{"rmsprop centered momentum", "{kind: rmsprop, lr: 0.01, alpha: 0.9, eps: 1.0e-6, momentum: 0.5, centered: true}", [][]float64{{0.46666703703292184, -1.166667222212963, 1.9666688887407506}, {0.438627498331702, -1.178931493179011, 1.9824004103489823}, {0.4454618182915412, -1.1960388107767348, 1.972228392587531}, {0.4445089111657385, -1.1844314618292602, 1.9580207106804435}, {0.4276734732317754, -1.184594189055421, 1.9640500947670476}}},
		// Adagrad(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1, eps=1e-10)
		{"adagrad", "{kind: adagrad, lr: 0.1, lr_decay: 0.01, initial_accumulator_value: 0.1}", [][]float64{{0.43117527985462095, -1.1465477516318008, 1.9843826238160174}, {0.4090359929536329, -1.2188543598701065, 2.0520819761528473}, {0.45687423181432196, -1.2447499747574766, 2.0114172038189113}, {0.4474442719874425, -1.1938109279401512, 1.9917017443057572}, {0.4126228312081636, -1.2080657224892128, 2.0197196057144664}}},
	}
)

// update is one optimizer step as the loop takes it (decoupled decay, then
// the optimizer), with no exclusions.
func update(opt Optimizer, params []*models.Param, g []*tensor.Dense) error {
	wd := 0.0
	if d, ok := opt.(Decayer); ok {
		wd = d.WeightDecay()
	}
	(&Regularizer{}).Decay(opt.LR(), wd, params)
	return opt.Step(opt.LR(), params, g)
}

func TestOptimizersMatchPyTorch(t *testing.T) {
	for _, c := range optimizerCases {
		t.Run(c.name, func(t *testing.T) {
			opt, ps := NewOptimizer(block(t, "optimizer", c.config))
			if len(ps) > 0 {
				t.Fatal(ps)
			}
			p := &models.Param{Name: "w", Value: tensor.New(tensor.WithBacking(append([]float64(nil), w0...)))}
			for step, g := range grads {
				gt := tensor.New(tensor.WithBacking(append([]float64(nil), g...)))
				if err := update(opt, []*models.Param{p}, []*tensor.Dense{gt}); err != nil {
					t.Fatal(err)
				}
				for j, got := range p.Value.Data().([]float64) {
					if want := c.want[step][j]; math.Abs(got-want) > 1e-12 {
						t.Fatalf("step %d, w[%d] = %.17g, PyTorch %.17g", step+1, j, got, want)
					}
				}
			}
		})
	}
}

// TestOptimizersFloat32 runs the same updates in float32: the generic
// update loops agree with float64 to float32 precision.
func TestOptimizersFloat32(t *testing.T) {
	for _, c := range optimizerCases {
		t.Run(c.name, func(t *testing.T) {
			opt, _ := NewOptimizer(block(t, "optimizer", c.config))
			w := make([]float32, len(w0))
			for i, v := range w0 {
				w[i] = float32(v)
			}
			p := &models.Param{Name: "w", Value: tensor.New(tensor.WithBacking(w))}
			for _, g := range grads {
				g32 := make([]float32, len(g))
				for i, v := range g {
					g32[i] = float32(v)
				}
				if err := update(opt, []*models.Param{p}, []*tensor.Dense{tensor.New(tensor.WithBacking(g32))}); err != nil {
					t.Fatal(err)
				}
			}
			for j, got := range w {
				if want := c.want[len(grads)-1][j]; math.Abs(float64(got)-want) > 1e-5 {
					t.Errorf("w[%d] = %v, float64 reference %v", j, got, want)
				}
			}
		})
	}
}

// TestOptimizerStateResumes checks that an optimizer rebuilt from its
// saved state continues exactly as the original.
func TestOptimizerStateResumes(t *testing.T) {
	for _, c := range optimizerCases {
		t.Run(c.name, func(t *testing.T) {
			run := func(split int) []float32 {
				opt, _ := NewOptimizer(block(t, "optimizer", c.config))
				w := []float32{0.5, -1.2, 2.0}
				p := []*models.Param{{Name: "layer/W", Value: tensor.New(tensor.WithBacking(w))}}
				for i, g := range grads {
					if i == split {
						st := opt.State()
						opt, _ = NewOptimizer(block(t, "optimizer", c.config))
						if err := opt.SetState(st, p); err != nil {
							t.Fatal(err)
						}
					}
					g32 := []float32{float32(g[0]), float32(g[1]), float32(g[2])}
					_ = update(opt, p, []*tensor.Dense{tensor.New(tensor.WithBacking(g32))})
				}
				return w
			}
			straight, resumed := run(-1), run(3)
			for j := range straight {
				if straight[j] != resumed[j] {
					t.Fatalf("resumed %v != straight %v", resumed, straight)
				}
			}
		})
	}
	opt, _ := NewOptimizer(block(t, "optimizer", "adam"))
	bad := OptimizerState{Steps: 1, Buffers: map[string][]float64{"other/W/m": {1, 2}}}
	p := []*models.Param{{Name: "layer/W", Value: tensor.New(tensor.WithBacking([]float32{1, 2}))}}
	if err := opt.SetState(bad, p); err == nil || !strings.Contains(err.Error(), "other/W/m") {
		t.Errorf("state of another model accepted: %v", err)
	}
}

func TestOptimizerOptionsAreChecked(t *testing.T) {
	cases := []struct {
		config, key, msg string
	}{
		{"{kind: adam, momentum: 0.9}", "train.optimizer.momentum", "unknown option"},
		{"{kind: sgd, betas: [0.9, 0.99]}", "train.optimizer.betas", "unknown option"},
		{"{kind: nesterov, dampening: 0.1}", "train.optimizer.dampening", "unknown option"},
		{"{kind: rmsprop, lr_decay: 0.1}", "train.optimizer.lr_decay", "unknown option"},
		{"{kind: adagrad, alpha: 0.9}", "train.optimizer.alpha", "unknown option"},
		{"{kind: adam, weight_decay: 0.01}", "train.optimizer.weight_decay", "train.regularization.l2"},
		{"{kind: sgd, lr: -1}", "train.optimizer.lr", "must be > 0"},
		{"{kind: adam, betas: [0.9]}", "train.optimizer.betas", "two numbers"},
		{"{kind: rmsprop, alpha: 1.5}", "train.optimizer.alpha", "[0, 1]"},
		{"{kind: sgd, nesterov: true}", "train.optimizer.nesterov", "momentum > 0"},
		{"{kind: adamx}", "train.optimizer.kind", "known: adagrad, adam, adamw, momentum, nesterov, rmsprop, sgd"},
	}
	for _, c := range cases {
		t.Run(c.config, func(t *testing.T) {
			_, ps := NewOptimizer(block(t, "optimizer", c.config))
			if len(ps) != 1 || ps[0].Key != c.key || !strings.Contains(ps[0].Msg, c.msg) {
				t.Errorf("problems %v, want one at %s containing %q", ps, c.key, c.msg)
			}
		})
	}
}
