package train

import (
	"math"
	"testing"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/ops"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestGANLossTermsGradCheck: every term of bce (with and without label
// smoothing) and hinge against central finite differences, on scores
// away from the hinge's kinks.
func TestGANLossTermsGradCheck(t *testing.T) {
	scores := tensor.New(tensor.WithShape(6, 1), tensor.WithBacking([]float64{-3.1, -0.7, 0.2, 0.45, 1.6, 4.2}))
	for _, b := range []config.Block{{Kind: "bce"}, {Kind: "bce", Opts: map[string]any{"label_smoothing": 0.1}}, {Kind: "hinge"}} {
		l, ps := NewGANLoss(b)
		if len(ps) > 0 {
			t.Fatal(ps)
		}
		for _, f := range []ops.ScoreFunc{l.Real, l.Fake, l.Gen} {
			t.Run(f.Name, func(t *testing.T) {
				res, err := ops.GradCheck([]string{"s"}, []*tensor.Dense{scores}, []bool{true}, func(_ *G.ExprGraph, n []*G.Node) (*G.Node, error) {
					return ops.ScoreLoss(f, n[0])
				}, ops.GradCheckOptions{})
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range res {
					if r.RelErr > 1e-6 {
						t.Errorf("%s: max relative error %g", r.Name, r.RelErr)
					}
				}
			})
		}
	}
}

// TestGANLossValues: the terms' values against PyTorch 1.13
// (F.binary_cross_entropy_with_logits against 1, 0.9 and 0; F.relu(1∓s);
// −s), computed by testdata/torch_ref.py's GAN section for these scores.
func TestGANLossValues(t *testing.T) {
	s := []float64{-3.1, -0.7, 0.2, 0.45, 1.6, 4.2}
	mean := func(f func(float64) float64) float64 {
		var sum float64
		for _, v := range s {
			sum += f(v)
		}
		return sum / float64(len(s))
	}
	bce, _ := NewGANLoss(config.Block{Kind: "bce"})
	smooth, _ := NewGANLoss(config.Block{Kind: "bce", Opts: map[string]any{"label_smoothing": 0.1}})
	hinge, _ := NewGANLoss(config.Block{Kind: "hinge"})
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"bce real", mean(bce.Real.F), torchGAN["bce_real"]},
		{"bce real smoothed 0.1", mean(smooth.Real.F), torchGAN["bce_real_smooth"]},
		{"bce fake", mean(bce.Fake.F), torchGAN["bce_fake"]},
		{"bce gen", mean(bce.Gen.F), torchGAN["bce_gen"]},
		{"hinge real", mean(hinge.Real.F), torchGAN["hinge_real"]},
		{"hinge fake", mean(hinge.Fake.F), torchGAN["hinge_fake"]},
		{"hinge gen", mean(hinge.Gen.F), torchGAN["hinge_gen"]},
	} {
		if math.Abs(c.got-c.want) > 1e-12*max(1, math.Abs(c.want)) {
			t.Errorf("%s: %.17g, PyTorch %.17g", c.name, c.got, c.want)
		}
	}
}

// TestWGANGPLoss: wgan_gp's terms are the Wasserstein critic's −s on
// D(real) and s on D(fake), the generator's −s, and the penalty term the
// identity over the per-sample penalties, weighted by gp_weight (10 by
// default, as the paper); a gp_weight that is not positive is a problem
// naming train.loss.gp_weight.
func TestWGANGPLoss(t *testing.T) {
	l, ps := NewGANLoss(config.Block{Kind: "wgan_gp"})
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	if l.GPWeight != 10 || l.Logits {
		t.Errorf("gp_weight %v, logits %v; want 10, false", l.GPWeight, l.Logits)
	}
	for _, c := range []struct {
		f        ops.ScoreFunc
		s, v, dv float64
	}{
		{l.Real, 1.5, -1.5, -1}, {l.Fake, 1.5, 1.5, 1}, {l.Gen, -0.25, 0.25, -1}, {l.Penalty, 0.3, 0.3, 1},
	} {
		if got, d := c.f.F(c.s), c.f.DF(c.s); got != c.v || d != c.dv {
			t.Errorf("%s(%v) = %v, derivative %v; want %v, %v", c.f.Name, c.s, got, d, c.v, c.dv)
		}
	}
	if l, _ := NewGANLoss(config.Block{Kind: "wgan_gp", Opts: map[string]any{"gp_weight": 2.5}}); l.GPWeight != 2.5 {
		t.Errorf("gp_weight 2.5 read as %v", l.GPWeight)
	}
	_, ps = NewGANLoss(config.Block{Kind: "wgan_gp", Opts: map[string]any{"gp_weight": 0.0}})
	if len(ps) == 0 || ps[0].Key != "train.loss.gp_weight" {
		t.Errorf("gp_weight 0: problems %v", ps)
	}
}

// torchGAN is what testdata/torch_gan.py printed.
var torchGAN = map[string]float64{
	"bce_real":        0.9229038046272228,
	"bce_real_smooth": 0.9670704712938892,
	"bce_fake":        1.3645704712938895,
	"bce_gen":         0.9229038046272228,
	"hinge_real":      1.1916666666666667,
	"hinge_fake":      1.7916666666666667,
	"hinge_gen":       -0.4416666666666669,
}
