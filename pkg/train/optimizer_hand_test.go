package train

import (
	"math"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/models"
	"gorgonia.org/tensor"
)

// These tests follow one scalar weight through three steps of each
// optimizer with gradients 0.5, −1, 2, computed by hand from the published
// update rules (PyTorch's documentation of torch.optim.SGD and Adam).

func newOpt(t *testing.T, kind string, opts map[string]any) Optimizer {
	t.Helper()
	o, ps := NewOptimizer(config.Block{Kind: kind, Path: "train.optimizer", Opts: opts})
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	return o
}

func stepScalar(t *testing.T, o Optimizer, w float64, grads []float64) []float64 {
	t.Helper()
	p := &models.Param{Name: "w", Value: tensor.New(tensor.WithShape(1), tensor.WithBacking([]float64{w}))}
	var out []float64
	for _, g := range handGrads {
		gt := tensor.New(tensor.WithShape(1), tensor.WithBacking([]float64{g}))
		if err := o.Step(o.LR(), []*models.Param{p}, []*tensor.Dense{gt}); err != nil {
			t.Fatal(err)
		}
		out = append(out, p.Value.Data().([]float64)[0])
	}
	return out
}

func nearHand(t *testing.T, what string, got, want []float64) {
	t.Helper()
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-12 {
			t.Errorf("%s step %d: w = %.15g, want %.15g", what, i+1, got[i], want[i])
		}
	}
}

var handGrads = []float64{0.5, -1, 2}

func TestSGDByHand(t *testing.T) {
	// w ← w − lr·g with lr 0.1 from w = 1.
	got := stepScalar(t, newOpt(t, "sgd", map[string]any{"lr": 0.1}), 1, handGrads)
	nearHand(t, "sgd", got, []float64{0.95, 1.05, 0.85})
}

func TestMomentumByHand(t *testing.T) {
	// b₁ = g₁ = 0.5; b₂ = 0.9·0.5 − 1 = −0.55; b₃ = 0.9·(−0.55) + 2 = 1.505.
	// w: 1 − 0.05 = 0.95; 0.95 + 0.055 = 1.005; 1.005 − 0.1505 = 0.8545.
	got := stepScalar(t, newOpt(t, "sgd", map[string]any{"lr": 0.1, "momentum": 0.9}), 1, handGrads)
	nearHand(t, "momentum", got, []float64{0.95, 1.005, 0.8545})
	// Nesterov: d = g + μ·b. d₁ = 0.5 + 0.45 = 0.95; d₂ = −1 + 0.9·(−0.55) = −1.495;
	// d₃ = 2 + 0.9·1.505 = 3.3545. w: 0.905, 1.0545, 0.71905.
	got = stepScalar(t, newOpt(t, "sgd", map[string]any{"lr": 0.1, "momentum": 0.9, "nesterov": true}), 1, handGrads)
	nearHand(t, "nesterov", got, []float64{0.905, 1.0545, 0.71905})
}

func TestAdamByHand(t *testing.T) {
	const lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
	w, m, v := 1.0, 0.0, 0.0
	var want []float64
	for i, g := range handGrads {
		step := float64(i + 1)
		m = b1*m + (1-b1)*g
		v = b2*v + (1-b2)*g*g
		mHat := m / (1 - math.Pow(b1, step))
		vHat := v / (1 - math.Pow(b2, step))
		w -= lr * mHat / (math.Sqrt(vHat) + eps)
		want = append(want, w)
	}
	// The first Adam step moves by lr·sign(g) (up to ε): a check on the
	// bias correction that does not depend on the loop above.
	if math.Abs(want[0]-(1-lr)) > 1e-9 {
		t.Fatalf("first step %v, want %v", want[0], 1-lr)
	}
	got := stepScalar(t, newOpt(t, "adam", map[string]any{"lr": lr}), 1, handGrads)
	nearHand(t, "adam", got, want)
}

func TestOptimizerOptionsAreCheckedByHand(t *testing.T) {
	for _, c := range []struct {
		kind string
		opts map[string]any
		want string
	}{
		{"adam", map[string]any{"momentum": 0.9}, `train.optimizer.momentum: unknown option for adam`},
		{"adam", map[string]any{"lr": -1}, "train.optimizer.lr: must be > 0, got -1"},
		{"adam", map[string]any{"betas": []any{0.9}}, "train.optimizer.betas: must be two numbers"},
		{"sgd", map[string]any{"nesterov": true}, "train.optimizer.nesterov: needs momentum > 0"},
		{"adagard", nil, `unknown optimizer "adagard"`},
	} {
		_, ps := NewOptimizer(config.Block{Kind: c.kind, Path: "train.optimizer", Opts: c.opts})
		if len(ps) == 0 || !contains(ps.Error(), c.want) {
			t.Errorf("%s %v: problems %v, want %q", c.kind, c.opts, ps, c.want)
		}
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
