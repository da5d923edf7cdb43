package models

import (
	"fmt"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/ops"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// OutputGradientPenalty is a WGAN-GP's per-sample gradient penalty,
// (‖∇ₓD(x̂)‖₂ − 1)² at x̂ = ε·x + (1−ε)·G(z), which its critic's phase
// adds to its loss with the weight train.loss.gp_weight.
const OutputGradientPenalty = "gp"

// penaltyLoss is the GAN loss whose critic needs the gradient penalty.
const penaltyLoss = "wgan_gp"

// checkPenaltyCritic refuses a critic the gradient penalty cannot be
// built for. The penalty is a function of the critic's input gradient,
// which is built as an explicit graph (inputGradient) and differentiated
// once more with respect to the critic's weights: every layer needs its
// input-gradient rule as graph ops whose own gradients exist. Dense
// layers with a piecewise-linear activation (none, relu, leaky_relu),
// flatten and reshape have it; the others are not built.
func checkPenaltyCritic(e *config.Experiment, layers []builtLayer) config.Problems {
	var ps config.Problems
	for i, l := range layers {
		key := fmt.Sprintf("model.discriminator[%d]", i)
		switch t := l.Layer.(type) {
		case *dense:
			switch {
			case t.perPosition:
				ps = append(ps, e.Problem(key+".type", "train.loss wgan_gp builds its critic's input gradient for dense layers on flat inputs only; this one reads a sequence: add {type: flatten} before it"))
			case !piecewiseLinear(t.activation):
				ps = append(ps, e.Problem(key+".activation", "train.loss wgan_gp needs the second derivative of the critic's activations, built for none, relu and leaky_relu only; got %s "+
					"(a WGAN critic's last layer has no sigmoid: its score is unbounded)", t.activation))
			}
		case flatten, *reshape:
		default:
			why := "its input-gradient rule is not built yet for the gradient penalty (built: dense, flatten, reshape)"
			switch l.info.Type {
			case "batchnorm", "batch_norm":
				why = "batch norm mixes the samples of a batch, so the per-sample gradient norm the penalty constrains is not defined (Gulrajani et al. use none in the critic; layer_norm would be the alternative)"
			case "dropout", "spatial_dropout":
				why = "dropout makes the critic random, and the penalty's gradient is not built through it"
			}
			ps = append(ps, e.Problem(key+".type", "train.loss wgan_gp cannot use a %s layer in the critic: %s", l.info.Type, why))
		}
	}
	return ps
}

func piecewiseLinear(act string) bool {
	switch act {
	case "", "none", "linear", "relu", "leaky_relu":
		return true
	}
	return false
}

// penaltyStep is what inputGradient keeps of one critic layer at x̂ for
// the backward pass: a dense layer's weight and activation slope, or a
// reshape's input shape.
type penaltyStep struct {
	w, slope *G.Node
	in       []int // a flatten or reshape: the shape to give the gradient back
}

// inputGradient adds ∇ₓ Σᵢ D(xᵢ) at x to g, as graph ops over the
// critic's weights (so that a loss of it can be differentiated with
// respect to them): the critic's forward pass at x for each layer's
// activation slope, then from the ones of the scores back to x, through
// gᵢₙ = (gₒᵤₜ ⊙ slope)·Wᵀ for a dense layer and a reshape for flatten and
// reshape. checkPenaltyCritic has accepted the layers.
func (m *GAN) inputGradient(g *Graph, x *G.Node) (*G.Node, error) {
	steps := make([]penaltyStep, len(m.discrim))
	h := x
	var err error
	for i, l := range m.discrim {
		switch t := l.Layer.(type) {
		case *dense:
			var b *G.Node
			if t.b != nil {
				b = g.Node(t.b)
			}
			w := g.Node(t.w)
			z, err := ops.Linear(h, w, b, false)
			if err != nil {
				return nil, err
			}
			if steps[i].slope, err = ops.SlopeMask(z, t.activation, t.alpha); err != nil {
				return nil, err
			}
			steps[i].w = w
			if h, err = ops.Activate(z, t.activation, t.alpha); err != nil {
				return nil, err
			}
		default:
			steps[i].in = append([]int(nil), h.Shape()...)
			if h, err = l.Forward(g, h); err != nil {
				return nil, err
			}
		}
	}
	ones := tensor.New(tensor.WithShape(h.Shape()...), tensor.Of(g.Dtype()))
	if err := ones.Memset(oneOf(g.Dtype())); err != nil {
		return nil, err
	}
	grad := G.NewTensor(g.G, g.Dtype(), h.Dims(), G.WithShape(h.Shape()...), G.WithName("gp_seed"), G.WithValue(ones))
	for i := len(steps) - 1; i >= 0; i-- {
		s := steps[i]
		if s.w == nil {
			if grad, err = ops.Reshape(grad, s.in); err != nil {
				return nil, err
			}
			continue
		}
		if grad, err = G.HadamardProd(grad, s.slope); err != nil {
			return nil, err
		}
		wt, err := G.Transpose(s.w)
		if err != nil {
			return nil, err
		}
		if grad, err = G.Mul(grad, wt); err != nil {
			return nil, err
		}
	}
	return grad, nil
}

// oneOf is 1 in dtype dt.
func oneOf(dt tensor.Dtype) any {
	if dt == tensor.Float32 {
		return float32(1)
	}
	return 1.0
}

// gradientPenalty adds the per-sample penalty output to g: x̂ between the
// data x and the samples fake, ε drawn from st, and (‖∇D(x̂)‖ − 1)².
func (m *GAN) gradientPenalty(g *Graph, x, fake *G.Node, st *ops.NoiseState) (*G.Node, error) {
	xh, err := ops.Interpolate(x, fake, st)
	if err != nil {
		return nil, err
	}
	grad, err := m.inputGradient(g, xh)
	if err != nil {
		return nil, fmt.Errorf("gradient penalty: %w", err)
	}
	return ops.GradientPenalty(grad)
}
