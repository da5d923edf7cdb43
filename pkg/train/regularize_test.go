package train

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/data"
	"github.com/dltrain/dltrain/pkg/models"
	"gorgonia.org/tensor"
)

func param(name string, role models.Role, v ...float64) *models.Param {
	return &models.Param{Name: name, Role: role, Value: grad(v...)}
}

// grad builds a 1-D tensor (a one-element backing alone would be a scalar).
func grad(v ...float64) *tensor.Dense {
	return tensor.New(tensor.WithShape(len(v)), tensor.WithBacking(v))
}

func near(t *testing.T, what string, got, want []float64) {
	t.Helper()
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-12 {
			t.Fatalf("%s = %v, want %v", what, got, want)
		}
	}
}

func TestPenaltiesSkipExcludedParameters(t *testing.T) {
	w := param("dense1/W", models.Weight, 0.5, -2, 0)
	b := param("dense1/b", models.Bias, 1, -1)
	n := param("bn/gamma", models.Norm, 3)
	gw, gb, gn := grad(0.1, 0.1, 0.1), grad(0, 0), grad(0)
	r := Regularizer{L1: 0.01, L2: 0.1, Skip: Excluder([]string{"bias", "norm"})}
	pen := r.Penalize([]*models.Param{w, b, n}, []*tensor.Dense{gw, gb, gn})
	// l1·Σ|w| + 0.5·l2·Σw² over dense1/W only.
	if want := 0.01*2.5 + 0.5*0.1*4.25; math.Abs(pen-want) > 1e-15 {
		t.Errorf("penalty %v, want %v", pen, want)
	}
	// ∂/∂w = l1·sign(w) + l2·w
	near(t, "weight gradient", gw.Data().([]float64), []float64{0.1 + 0.01 + 0.05, 0.1 - 0.01 - 0.2, 0.1})
	near(t, "bias gradient", gb.Data().([]float64), []float64{0, 0})
	near(t, "norm gradient", gn.Data().([]float64), []float64{0})

	// A name pattern and no role exclusion: the bias is penalized, W is not.
	gw, gb = grad(0, 0, 0), grad(0, 0)
	r = Regularizer{L2: 1, Skip: Excluder([]string{"dense1/W"})}
	r.Penalize([]*models.Param{w, b}, []*tensor.Dense{gw, gb})
	near(t, "pattern-excluded gradient", gw.Data().([]float64), []float64{0, 0, 0})
	near(t, "bias gradient", gb.Data().([]float64), []float64{1, -1})
}

func TestDecoupledDecay(t *testing.T) {
	w := param("d/W", models.Weight, 2, -4)
	b := param("d/b", models.Bias, 2)
	r := Regularizer{Skip: Excluder([]string{"bias"})}
	r.Decay(0.1, 0.5, []*models.Param{w, b})
	near(t, "decayed weight", w.Value.Data().([]float64), []float64{2 * 0.95, -4 * 0.95})
	near(t, "bias", b.Value.Data().([]float64), []float64{2})
}

func TestClipping(t *testing.T) {
	g1, g2 := grad(3, -4), grad(12)
	r := Regularizer{ClipNorm: 6.5}
	if norm := r.Clip([]*tensor.Dense{g1, g2}); norm != 13 {
		t.Errorf("norm %v, want 13", norm)
	}
	c := 6.5 / (13 + 1e-6) // torch.nn.utils.clip_grad_norm_
	near(t, "clipped", append(g1.Data().([]float64), g2.Data().([]float64)...), []float64{3 * c, -4 * c, 12 * c})
	g := grad(0.5, -3, 2)
	r = Regularizer{ClipValue: 1, ClipNorm: 100}
	r.Clip([]*tensor.Dense{g})
	near(t, "clamped", g.Data().([]float64), []float64{0.5, -1, 1})
}

func TestCheckExcludeNamesUnusedPatterns(t *testing.T) {
	s := models.NewParamStore(tensor.Float64)
	s.Add("dense1/W", models.Weight, []int{2}, func(*rand.Rand, []float64, int, int) {}, 1, 1, nil)
	if err := CheckExclude(s, []string{"bias", "dense1/*"}); err != nil {
		t.Error(err)
	}
	if err := CheckExclude(s, []string{"dense2/*"}); err == nil || !strings.Contains(err.Error(), "dense2/* matches no parameter") {
		t.Errorf("unused pattern accepted: %v", err)
	}
}

func TestEarlyStopping(t *testing.T) {
	es := &EarlyStopping{Metric: "val_loss", Patience: 2, MinDelta: 0.01}
	st := StopState{Best: math.NaN()}
	var stopped int
	for i, v := range []float64{1, 0.9, 0.895, 0.85, 0.849, 0.845, 0.7} {
		if es.Observe(&st, i+1, map[string]float64{"val_loss": v}) {
			stopped = i + 1
			break
		}
	}
	// 0.895 and 0.849/0.845 improve by less than min_delta.
	if stopped != 6 || st.Epoch != 4 || st.Best != 0.85 {
		t.Errorf("stopped at epoch %d with best %v at epoch %d; want 6, 0.85, 4", stopped, st.Best, st.Epoch)
	}
	max := &EarlyStopping{Metric: "val_accuracy", Max: true, Patience: 1}
	st = StopState{Best: math.NaN()}
	if max.Observe(&st, 1, map[string]float64{"val_accuracy": 0.5}) || !max.Observe(&st, 2, map[string]float64{"val_accuracy": 0.4}) {
		t.Error("max mode: a drop in accuracy did not stop with patience 1")
	}
}

func TestLossesAreCheckedAgainstTheTask(t *testing.T) {
	cases := []struct {
		config, task string
		meta         data.Meta
		key, msg     string
	}{
		{"cross_entropy", "regression", data.Meta{}, "train.loss", "does not apply to a regression task"},
		{"mse", "classification", data.Meta{}, "train.loss", "does not apply to a classification task"},
		{"{kind: huber, delta: 0}", "regression", data.Meta{}, "train.loss.delta", "must be > 0"},
		{"{kind: cross_entropy, label_smoothing: 2}", "classification", data.Meta{}, "train.loss.label_smoothing", "[0, 1]"},
		{"{kind: cross_entropy, pos_weight: 2}", "classification", data.Meta{}, "train.loss.pos_weight", "unknown option"},
		{"{kind: cross_entropy, weights: [1, 2]}", "classification", data.Meta{Task: "classification", Classes: []string{"a", "b", "c"}}, "train.loss", "2 class weights for 3 classes"},
		{"binary_cross_entropy", "classification", data.Meta{Task: "classification", Classes: []string{"a", "b", "c"}}, "train.loss", "exactly 2 classes"},
	}
	for _, c := range cases {
		t.Run(c.config+" on "+c.task, func(t *testing.T) {
			b := block(t, "loss", c.config)
			l, ps := NewLoss(b, c.task)
			if len(ps) == 0 && c.meta.Task != "" {
				_, ps = LossOutput(l, b, c.meta)
			}
			if len(ps) != 1 || ps[0].Key != c.key || !strings.Contains(ps[0].Msg, c.msg) {
				t.Errorf("problems %v, want one at %s containing %q", ps, c.key, c.msg)
			}
		})
	}
	l, _ := NewLoss(block(t, "loss", "binary_cross_entropy"), "classification")
	if out, err := l.Output(data.Meta{Task: "classification", Classes: []string{"no", "yes"}}); err != nil || len(out) != 1 || out[0] != 1 {
		t.Errorf("binary_cross_entropy output %v, %v; want one logit", out, err)
	}
}
