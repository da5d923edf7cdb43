package train

import (
	"math"
	"sort"
	"strings"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/data"
	"github.com/dltrain/dltrain/pkg/ops"
	G "gorgonia.org/gorgonia"
)

// GANLoss is an adversarial loss (train.loss of a GAN): the
// discriminator's terms on its scores of real and generated samples, and
// the generator's term on its score of generated samples. Each is a mean
// over the batch.
type GANLoss struct {
	Kind string
	// Real and Fake are the discriminator's terms on D(x) and D(G(z)),
	// Gen the generator's on D(G(z)).
	Real, Fake, Gen ops.ScoreFunc
	// Logits: the scores are logits, and D(real), D(fake) are logged as
	// probabilities σ(score); otherwise as the scores themselves.
	Logits bool
	// GPWeight is wgan_gp's λ, the weight of the gradient penalty in the
	// discriminator's loss (Penalty over the model's "gp" output); 0 for
	// the losses without one.
	GPWeight float64
	Penalty  ops.ScoreFunc
}

// ganLosses is every adversarial loss, by config name.
var ganLosses = map[string]func(o *config.Options) (*GANLoss, error){
	"bce":     newGANBCE,
	"hinge":   newGANHinge,
	"wgan_gp": newWGANGP,
}

// GANLossNames lists the known adversarial losses.
func GANLossNames() []string {
	out := make([]string, 0, len(ganLosses))
	for k := range ganLosses {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// NewGANLoss builds the adversarial loss a block (train.loss) describes.
func NewGANLoss(b config.Block) (*GANLoss, config.Problems) {
	if b.Path == "" {
		b.Path = "train.loss"
	}
	newLoss, ok := ganLosses[b.Kind]
	if !ok {
		return nil, config.Problems{b.Problem("kind", "unknown GAN loss %q; known: %s", b.Kind, strings.Join(GANLossNames(), ", "))}
	}
	o := b.Read()
	l, err := newLoss(o)
	ps := o.Done()
	if err != nil {
		ps = append(ps, b.Problem("", "%v", err))
	}
	return l, ps
}

// newGANBCE is the non-saturating GAN loss on logits s:
// D: softplus(−s_real)·(1−ε) + softplus(s_real)·ε + softplus(s_fake), the
// binary cross-entropy against real labels 1−ε (label_smoothing ε, 0 by
// default) and fake labels 0; G: softplus(−s_fake), the cross-entropy of
// its samples against the real label (Goodfellow et al.'s −log D(G(z))).
func newGANBCE(o *config.Options) (*GANLoss, error) {
	eps := o.Float("label_smoothing", 0)
	o.Range("label_smoothing", eps, 0, 0.5)
	t := 1 - eps
	return &GANLoss{
		Kind: "bce",
		Real: ops.ScoreFunc{Name: "gan_bce_real",
			F:  func(s float64) float64 { return t*softplus(-s) + (1-t)*softplus(s) },
			DF: func(s float64) float64 { return -t*sigmoid(-s) + (1-t)*sigmoid(s) }},
		Fake: ops.ScoreFunc{Name: "gan_bce_fake", F: softplus, DF: sigmoid},
		Gen: ops.ScoreFunc{Name: "gan_bce_gen",
			F:  func(s float64) float64 { return softplus(-s) },
			DF: func(s float64) float64 { return -sigmoid(-s) }},
		Logits: true,
	}, nil
}

// newGANHinge is the hinge loss of Lim & Ye and Miyato et al.:
// D: relu(1 − s_real) + relu(1 + s_fake); G: −s_fake. At a kink the
// derivative is taken as 0, as PyTorch's relu.
func newGANHinge(*config.Options) (*GANLoss, error) {
	return &GANLoss{
		Kind: "hinge",
		Real: ops.ScoreFunc{Name: "gan_hinge_real",
			F: func(s float64) float64 { return max(0, 1-s) },
			DF: func(s float64) float64 {
				if s < 1 {
					return -1
				}
				return 0
			}},
		Fake: ops.ScoreFunc{Name: "gan_hinge_fake",
			F: func(s float64) float64 { return max(0, 1+s) },
			DF: func(s float64) float64 {
				if s > -1 {
					return 1
				}
				return 0
			}},
		Gen: ops.ScoreFunc{Name: "gan_hinge_gen",
			F:  func(s float64) float64 { return -s },
			DF: func(float64) float64 { return -1 }},
	}, nil
}

// newWGANGP is the Wasserstein loss with a gradient penalty (Gulrajani
// et al. 2017) on unbounded critic scores s: D: s_fake − s_real (each a
// mean) plus gp_weight (λ, 10 by default) times the mean of the
// per-sample penalty (‖∇ₓD(x̂)‖₂ − 1)², which the GAN model gives as its
// "gp" output; G: −s_fake.
func newWGANGP(o *config.Options) (*GANLoss, error) {
	w := o.Float("gp_weight", 10)
	o.Positive("gp_weight", w)
	return &GANLoss{
		Kind: "wgan_gp",
		Real: ops.ScoreFunc{Name: "wgan_real",
			F:  func(s float64) float64 { return -s },
			DF: func(float64) float64 { return -1 }},
		Fake: ops.ScoreFunc{Name: "wgan_fake",
			F:  func(s float64) float64 { return s },
			DF: func(float64) float64 { return 1 }},
		Gen: ops.ScoreFunc{Name: "wgan_gen",
			F:  func(s float64) float64 { return -s },
			DF: func(float64) float64 { return -1 }},
		GPWeight: w,
		Penalty: ops.ScoreFunc{Name: "wgan_gp_penalty",
			F:  func(p float64) float64 { return p },
			DF: func(float64) float64 { return 1 }},
	}, nil
}

// Term returns f as a loss over a model output (its target is ignored),
// for a training phase's objective.
func (l *GANLoss) Term(f ops.ScoreFunc) Loss { return scoreTerm{f} }

// Probability maps a logged score: σ(s) for logits, s otherwise.
func (l *GANLoss) Probability() func(float64) float64 {
	if l.Logits {
		return sigmoid
	}
	return nil
}

// scoreTerm is one term of an adversarial loss as a Loss.
type scoreTerm struct{ f ops.ScoreFunc }

func (t scoreTerm) Build(out, _ *G.Node) (*G.Node, error) { return ops.ScoreLoss(t.f, out) }

func (scoreTerm) Tasks() []string { return []string{"generation"} }

// Output is one score per sample.
func (scoreTerm) Output(data.Meta) ([]int, error) { return []int{1}, nil }

// softplus is log(1 + eˢ) without overflow.
func softplus(s float64) float64 { return max(s, 0) + math.Log1p(math.Exp(-math.Abs(s))) }

func sigmoid(s float64) float64 {
	if s >= 0 {
		return 1 / (1 + math.Exp(-s))
	}
	e := math.Exp(s)
	return e / (1 + e)
}
