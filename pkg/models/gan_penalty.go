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
// input-gradient rule as graph ops whose own gradients exist. Dense and
// convolution layers with activation none, relu, leaky_relu, tanh or
// sigmoid, those activations as layers, max and average pooling, global
// average pooling, flatten and reshape have it; the others are not built.
func checkPenaltyCritic(e *config.Experiment, layers []builtLayer) config.Problems {
	var ps config.Problems
	for i, l := range layers {
		key := fmt.Sprintf("model.discriminator[%d]", i)
		switch t := l.Layer.(type) {
		case *dense:
			switch {
			case t.perPosition:
				ps = append(ps, e.Problem(key+".type", "train.loss wgan_gp builds its critic's input gradient for dense layers on flat inputs only; this one reads a sequence: add {type: flatten} before it"))
			case !penaltyActivation(t.activation):
				ps = append(ps, e.Problem(key+".activation", "train.loss wgan_gp needs the second derivative of the critic's activations, built for %s only; got %s", penaltyActivations, t.activation))
			}
		case *convLayer:
			if !penaltyActivation(t.activation) {
				ps = append(ps, e.Problem(key+".activation", "train.loss wgan_gp needs the second derivative of the critic's activations, built for %s only; got %s", penaltyActivations, t.activation))
			}
		case *activationLayer:
			if !penaltyActivation(t.fn) {
				ps = append(ps, e.Problem(key+".type", "train.loss wgan_gp needs the second derivative of the critic's activations, built for %s only; got %s", penaltyActivations, t.fn))
			}
		case flatten, *reshape, *poolLayer, globalAvgPool:
		default:
			why := "its input-gradient rule is not built yet for the gradient penalty (built: dense, conv2d, conv1d, the activations " + penaltyActivations +
				", maxpool2d, avgpool2d, maxpool1d, avgpool1d, global_avgpool, flatten, reshape)"
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

// penaltyActivations are the activations whose second derivative the
// penalty's graph has (ops.Slope).
const penaltyActivations = "none, relu, leaky_relu, tanh and sigmoid"

func penaltyActivation(act string) bool {
	switch act {
	case "", "none", "linear", "relu", "leaky_relu", "tanh", "sigmoid":
		return true
	}
	return false
}

// penaltyStep is what inputGradient keeps of one critic layer at x̂ for
// the backward pass: its activation slope (nil: none), and a dense
// layer's weight, a convolution's kernels and window, a pooling's input
// and output, or a reshape's input shape.
type penaltyStep struct {
	slope, w        *G.Node
	conv            *ops.Window
	outPad          [2]int
	poolIn, poolOut *G.Node
	in              []int // a flatten or reshape: the shape to give the gradient back
	global          bool  // global average pooling of an input of shape in
}

// inputGradient adds ∇ₓ Σᵢ D(xᵢ) at x to g, as graph ops over the
// critic's weights (so that a loss of it can be differentiated with
// respect to them): the critic's forward pass at x for each layer's
// activation slope, then from the ones of the scores back to x, through
// gᵢₙ = (gₒᵤₜ ⊙ slope)·Wᵀ for a dense layer, the transposed convolution
// of gₒᵤₜ ⊙ slope by the kernels for a convolution, gₒᵤₜ ⊙ slope for an
// activation layer (slope = act′(z), itself a function of the weights for
// tanh and sigmoid), the pooling's backward pass for a pooling layer
// (ops.PoolGradient, ops.GlobalAvgPoolGradient) and a reshape for flatten
// and reshape. checkPenaltyCritic has accepted the layers.
//
// A conditional critic (labels not nil: [batch] class indices) scores x
// with the labels' embedding appended as more channels (features), as
// discriminateClasses does, and the gradient is with respect to x only:
// the embedding's channels are not part of it, so the first dense or
// convolution layer goes back through its weights of x's channels only
// (any other first layer: the gradient's channels of x are kept). The
// embedding is still in the graph: through a tanh or sigmoid slope the
// penalty depends on it, and its gradient reaches the embedding's table,
// as PyTorch's autograd.grad(D(cat(x̂, e)), x̂, create_graph=True) does.
func (m *GAN) inputGradient(g *Graph, x, labels *G.Node) (*G.Node, error) {
	steps := make([]penaltyStep, len(m.discrim))
	// smooth[i]: a layer from i on has a tanh or sigmoid slope, a function
	// of its input: the gradient then flows back through the forward pass
	// from layer i's input (for piecewise-linear critics it is not built).
	smooth := make([]bool, len(m.discrim)+1)
	for i := len(m.discrim) - 1; i >= 0; i-- {
		smooth[i] = smooth[i+1] || smoothSlope(m.discrim[i].Layer)
	}
	h, channels := x, 0
	var err error
	if labels != nil {
		// x's channels (features), those the gradient is taken for.
		channels = x.Shape()[1]
		if h, err = embed(g, m.cond.dis, x, labels); err != nil {
			return nil, err
		}
	}
	for i, l := range m.discrim {
		s := &steps[i]
		// The first layer's input is x (no gradient wanted) or, for a
		// conditional critic, x with the embedding, which a smooth slope
		// depends on.
		wrtIn := (i > 0 || labels != nil) && smooth[i]
		in := append([]int(nil), h.Shape()...)
		var z *G.Node
		act, alpha := "", 0.0
		switch t := l.Layer.(type) {
		case *dense:
			var b *G.Node
			if t.b != nil {
				b = g.Node(t.b)
			}
			s.w = g.Node(t.w)
			z, err = ops.Linear(h, s.w, b, wrtIn)
			act, alpha = t.activation, t.alpha
		case *convLayer:
			var b *G.Node
			if t.b != nil {
				b = g.Node(t.b)
			}
			s.w, s.conv = g.Node(t.w), &t.resolved
			z, err = ops.Conv(h, s.w, b, t.resolved, wrtIn)
			if err == nil {
				zs := z.Shape()
				zh, zw := planeSize(zs)
				oh, ow := t.resolved.TransposedOut(zh, zw, [2]int{})
				ih, iw := planeSize(in)
				s.outPad = [2]int{ih - oh, iw - ow}
			}
			act, alpha = t.activation, t.alpha
		case *activationLayer:
			z, act, alpha = h, t.fn, t.alpha
		case *poolLayer:
			s.poolIn = h
			if h, err = l.Forward(g, h); err != nil {
				return nil, err
			}
			s.poolOut = h
			continue
		case globalAvgPool:
			s.in, s.global = in, true
			if h, err = l.Forward(g, h); err != nil {
				return nil, err
			}
			continue
		default:
			s.in = in
			if h, err = l.Forward(g, h); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		if i == 0 && channels > 0 {
			// Back to x's channels only: the rows (a dense layer) or
			// input channels (a convolution) of the weights that read
			// them, the label channels being left out of the gradient.
			axis := 0
			if s.conv != nil {
				axis = 1
			}
			if s.w, err = ops.Slice(s.w, axis, 0, channels); err != nil {
				return nil, err
			}
			channels = 0
		}
		if s.slope, err = ops.Slope(z, act, alpha); err != nil {
			return nil, err
		}
		if h, err = ops.Activate(z, act, alpha); err != nil {
			return nil, err
		}
	}
	ones := tensor.New(tensor.WithShape(h.Shape()...), tensor.Of(g.Dtype()))
	if err := ones.Memset(oneOf(g.Dtype())); err != nil {
		return nil, err
	}
	grad := G.NewTensor(g.G, g.Dtype(), h.Dims(), G.WithShape(h.Shape()...), G.WithName("gp_seed"), G.WithValue(ones))
	for i := len(steps) - 1; i >= 0; i-- {
		s := steps[i]
		switch {
		case s.poolOut != nil:
			if grad, err = ops.PoolGradient(s.poolIn, s.poolOut, grad); err != nil {
				return nil, err
			}
			continue
		case s.global:
			if grad, err = ops.GlobalAvgPoolGradient(grad, s.in); err != nil {
				return nil, err
			}
			continue
		}
		if s.in != nil {
			if grad, err = ops.Reshape(grad, s.in); err != nil {
				return nil, err
			}
			continue
		}
		if grad, err = ops.Mul(grad, s.slope); err != nil {
			return nil, err
		}
		switch {
		case s.conv != nil:
			if grad, err = ops.ConvTranspose(grad, s.w, nil, *s.conv, s.outPad, true); err != nil {
				return nil, err
			}
		case s.w != nil:
			// Wᵀ as a copy, then a plain product: the products of the
			// penalty's forward and backward passes are then the ones
			// they were with Gorgonia's Transpose and Mul, bit for bit.
			wt, err := ops.Transpose(s.w, 0, 1)
			if err != nil {
				return nil, err
			}
			if grad, err = ops.MatMul(grad, wt, false, false); err != nil {
				return nil, err
			}
		}
	}
	if channels > 0 { // a conditional critic whose first layer has no weights
		return ops.Slice(grad, 1, 0, channels)
	}
	return grad, nil
}

// smoothSlope reports whether a critic layer's activation slope is a
// function of its input (tanh, sigmoid), not a constant mask.
func smoothSlope(l Layer) bool {
	var act string
	switch t := l.(type) {
	case *dense:
		act = t.activation
	case *convLayer:
		act = t.activation
	case *activationLayer:
		act = t.fn
	}
	return act == "tanh" || act == "sigmoid"
}

// planeSize is the spatial size of a (batch, channels, H, W) or (batch,
// channels, L) shape: H, W or 1, L.
func planeSize(s tensor.Shape) (h, w int) {
	if len(s) == 4 {
		return s[2], s[3]
	}
	return 1, s[len(s)-1]
}

// oneOf is 1 in dtype dt.
func oneOf(dt tensor.Dtype) any {
	if dt == tensor.Float32 {
		return float32(1)
	}
	return 1.0
}

// gradientPenalty adds the per-sample penalty output to g: x̂ between the
// data x and the samples fake, ε drawn from st, and (‖∇D(x̂)‖ − 1)². A
// conditional critic scores x̂ with the real samples' labels (nil for an
// unconditional one), as the common cWGAN-GP implementations do
// (D(interpolates, labels) with the real batch's labels): the penalty
// constrains the critic's slope at the classes of the data.
func (m *GAN) gradientPenalty(g *Graph, x, fake, labels *G.Node, st *ops.NoiseState) (*G.Node, error) {
	xh, err := ops.Interpolate(x, fake, st)
	if err != nil {
		return nil, err
	}
	grad, err := m.inputGradient(g, xh, labels)
	if err != nil {
		return nil, fmt.Errorf("gradient penalty: %w", err)
	}
	return ops.GradientPenalty(grad)
}
