package ops

import (
	"math/rand/v2"

	"fmt"
	"math"

	"github.com/dltrain/dltrain/pkg/compute"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The pieces of a WGAN-GP critic's gradient penalty (Gulrajani et al.
// 2017): the interpolates x̂ = ε·real + (1−ε)·fake with ε ~ U(0, 1) per
// sample, the mask of a piecewise-linear activation's derivative, and the
// per-sample penalty (‖g‖₂ − 1)² of the critic's input gradient g.

// Interpolate returns ε·real + (1−ε)·fake for every sample, ε drawn anew
// from st (uniform on [0, 1)) for each sample at every run of the graph.
// No gradient flows through it: the penalty is differentiated with
// respect to the critic's weights only.
func Interpolate(real, fake *G.Node, st *NoiseState) (*G.Node, error) {
	if st == nil || st.RNG == nil {
		return nil, fmt.Errorf("interpolate needs a random stream")
	}
	return Apply(interpolate{st}, []bool{false, false}, real, fake)
}

type interpolate struct{ st *NoiseState }

func (interpolate) Name() string { return "gp_interpolate" }

func (interpolate) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	if !in[0].Eq(in[1]) || in[0].Dims() < 1 {
		return nil, fmt.Errorf("real %v and fake %v samples must have one shape with a batch dimension", in[0], in[1])
	}
	return in[0].Clone(), nil
}

func (k interpolate) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	k.st.draw(out.Shape()[0], (*rand.Rand).Float64)
	return typed(k, out, in, interpolateBody[float32], interpolateBody[float64])
}

func interpolateBody[T compute.Float](k interpolate, out []T, in []*tensor.Dense) error {
	r, f := data[T](in[0]), data[T](in[1])
	w := len(out) / len(k.st.last)
	for i, e := range k.st.last {
		for j := i * w; j < (i+1)*w; j++ {
			out[j] = T(e*float64(r[j]) + (1-e)*float64(f[j]))
		}
	}
	return nil
}

func (interpolate) Backward(G.Nodes, *G.Node, *G.Node, []bool) (G.Nodes, error) {
	return G.Nodes{nil, nil}, nil
}

// Epsilons returns the ε of st's last draw (tests).
func (st *NoiseState) Epsilons() []float64 { return st.last }

// Slope returns the derivative of an activation at its input z, what a
// layer's input gradient is multiplied by. For the piecewise-linear ones
// (none, relu, leaky_relu) it is a mask, 1 where z > 0 and below 0
// (relu), alpha (leaky_relu) or 1 (none), constant almost everywhere: no
// gradient flows through it. For tanh and sigmoid it is 1 − tanh²(z) and
// σ(z)(1 − σ(z)), and its gradient, the second derivative, flows back to
// z, so that a loss of an input gradient can be differentiated with
// respect to the weights that made z.
func Slope(z *G.Node, activation string, alpha float64) (*G.Node, error) {
	var below float64
	switch activation {
	case "relu":
	case "leaky_relu":
		below = alpha
	case "none", "linear", "":
		below = 1
	case "tanh", "sigmoid":
		return Apply(smoothSlope{activation}, nil, z)
	default:
		return nil, fmt.Errorf("the slope of activation %q is not built (only none, relu, leaky_relu, tanh, sigmoid)", activation)
	}
	return Apply(slopeMask{below}, []bool{false}, z)
}

type slopeMask struct{ below float64 }

func (slopeMask) Name() string { return "slope_mask" }

func (slopeMask) OutShape(in []tensor.Shape) (tensor.Shape, error) { return in[0].Clone(), nil }

func (k slopeMask) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, slopeMaskBody[float32], slopeMaskBody[float64])
}

func slopeMaskBody[T compute.Float](k slopeMask, out []T, in []*tensor.Dense) error {
	for i, v := range data[T](in[0]) {
		out[i] = T(k.below)
		if v > 0 {
			out[i] = 1
		}
	}
	return nil
}

func (slopeMask) Backward(G.Nodes, *G.Node, *G.Node, []bool) (G.Nodes, error) {
	return G.Nodes{nil}, nil
}

// smoothSlope is f′(z) for f tanh or sigmoid, computed in float64.
type smoothSlope struct{ act string }

func (k smoothSlope) Name() string { return k.act + "_slope" }

func (smoothSlope) OutShape(in []tensor.Shape) (tensor.Shape, error) { return in[0].Clone(), nil }

func (k smoothSlope) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, smoothSlopeBody[float32], smoothSlopeBody[float64])
}

func smoothSlopeBody[T compute.Float](k smoothSlope, out []T, in []*tensor.Dense) error {
	for i, v := range data[T](in[0]) {
		d1, _ := smoothDerivatives(k.act, float64(v))
		out[i] = T(d1)
	}
	return nil
}

// smoothDerivatives returns f′(z) and f″(z): for tanh, with t = tanh z,
// 1 − t² and −2t(1 − t²); for sigmoid, with s = σ(z), s(1 − s) and
// s(1 − s)(1 − 2s).
func smoothDerivatives(act string, z float64) (d1, d2 float64) {
	if act == "tanh" {
		t := math.Tanh(z)
		d1 = 1 - t*t
		return d1, -2 * t * d1
	}
	s := sigmoid(z)
	d1 = s * (1 - s)
	return d1, d1 * (1 - 2*s)
}

// Backward: the gradient of f′(z) is dy·f″(z).
func (k smoothSlope) Backward(in G.Nodes, _, grad *G.Node, _ []bool) (G.Nodes, error) {
	g, err := Apply(smoothCurvature(k), []bool{false, false}, in[0], grad)
	return G.Nodes{g}, err
}

// smoothCurvature is dy·f″(z) from (z, dy).
type smoothCurvature struct{ act string }

func (k smoothCurvature) Name() string { return k.act + "_slope_grad" }

func (smoothCurvature) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	if !in[0].Eq(in[1]) {
		return nil, fmt.Errorf("input %v and gradient %v differ", in[0], in[1])
	}
	return in[0].Clone(), nil
}

func (k smoothCurvature) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, smoothCurvatureBody[float32], smoothCurvatureBody[float64])
}

func smoothCurvatureBody[T compute.Float](k smoothCurvature, out []T, in []*tensor.Dense) error {
	dy := data[T](in[1])
	for i, v := range data[T](in[0]) {
		_, d2 := smoothDerivatives(k.act, float64(v))
		out[i] = T(float64(dy[i]) * d2)
	}
	return nil
}

func (smoothCurvature) Backward(G.Nodes, *G.Node, *G.Node, []bool) (G.Nodes, error) {
	return nil, errSecondOrder
}

// GradientPenalty returns (‖gᵢ‖₂ − 1)² for every sample i of g (batch,
// ...), a (batch, 1) tensor. Its gradient is 2(‖gᵢ‖ − 1)·gᵢ/‖gᵢ‖ (0 where
// gᵢ is 0, as PyTorch's norm's subgradient).
func GradientPenalty(g *G.Node) (*G.Node, error) {
	return Apply(gradientPenalty{}, []bool{true}, g)
}

type gradientPenalty struct{}

func (gradientPenalty) Name() string { return "gradient_penalty" }

func (gradientPenalty) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	if in[0].Dims() < 2 {
		return nil, fmt.Errorf("the input gradient needs a batch dimension and values, got %v", in[0])
	}
	return tensor.Shape{in[0][0], 1}, nil
}

func (k gradientPenalty) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, gradientPenaltyBody[float32], gradientPenaltyBody[float64])
}

func gradientPenaltyBody[T compute.Float](_ gradientPenalty, out []T, in []*tensor.Dense) error {
	g := data[T](in[0])
	w := len(g) / len(out)
	for i := range out {
		d := norm(g[i*w:(i+1)*w]) - 1
		out[i] = T(d * d)
	}
	return nil
}

// norm is ‖v‖₂, accumulated in float64.
func norm[T compute.Float](v []T) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

func (gradientPenalty) Backward(in G.Nodes, _, grad *G.Node, _ []bool) (G.Nodes, error) {
	g, err := Apply(gradientPenaltyGrad{}, []bool{false, false}, in[0], grad)
	return G.Nodes{g}, err
}

// gradientPenaltyGrad is dy_i·2(‖gᵢ‖ − 1)·gᵢ/‖gᵢ‖.
type gradientPenaltyGrad struct{}

func (gradientPenaltyGrad) Name() string { return "gradient_penalty_grad" }

func (gradientPenaltyGrad) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	return in[0].Clone(), nil
}

func (k gradientPenaltyGrad) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, gradientPenaltyGradBody[float32], gradientPenaltyGradBody[float64])
}

func gradientPenaltyGradBody[T compute.Float](_ gradientPenaltyGrad, out []T, in []*tensor.Dense) error {
	g, dy := data[T](in[0]), data[T](in[1])
	w := len(g) / len(dy)
	for i := range dy {
		row := g[i*w : (i+1)*w]
		n := norm(row)
		s := 0.0
		if n > 0 {
			s = float64(dy[i]) * 2 * (n - 1) / n
		}
		for j, v := range row {
			out[i*w+j] = T(s * float64(v))
		}
	}
	return nil
}

func (gradientPenaltyGrad) Backward(G.Nodes, *G.Node, *G.Node, []bool) (G.Nodes, error) {
	return nil, errSecondOrder
}
