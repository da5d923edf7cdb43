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

// TestWGANGPIsRefused: wgan_gp needs second-order gradients dltrain does
// not build; it is a config problem naming train.loss, not a quietly
// penalty-free Wasserstein loss.
func TestWGANGPIsRefused(t *testing.T) {
	_, ps := NewGANLoss(config.Block{Kind: "wgan_gp"})
	if len(ps) == 0 || ps[0].Key != "train.loss" {
		t.Fatalf("problems %v", ps)
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
