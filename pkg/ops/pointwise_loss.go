package ops

import (
	"fmt"

	"github.com/dltrain/dltrain/pkg/compute"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// pointwiseLoss is the mean over every element of f(prediction, target);
// its gradient is g·∂f/∂prediction / n. Losses that act element by element
// (binary cross-entropy on logits, L1, Huber) are instances of it, each
// with its own numerically stable f.
type pointwiseLoss struct {
	name string
	f    func(p, t float64) float64 // loss of one element
	df   func(p, t float64) float64 // its derivative with respect to p
}

// applyPointwise adds a pointwise loss of pred against target to the graph;
// the two must hold the same number of elements.
func applyPointwise(k pointwiseLoss, pred, target *G.Node) (*G.Node, error) {
	return Apply(k, []bool{true, false}, pred, target)
}

func (k pointwiseLoss) Name() string { return k.name }

func (pointwiseLoss) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	if in[0].TotalSize() != in[1].TotalSize() {
		return nil, fmt.Errorf("prediction %v and target %v differ in size", in[0], in[1])
	}
	return tensor.ScalarShape(), nil
}

func (k pointwiseLoss) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, pointwiseLossBody[float32], pointwiseLossBody[float64])
}

func pointwiseLossBody[T compute.Float](k pointwiseLoss, out []T, in []*tensor.Dense) error {
	out[0] = T(meanOf(k.f, data[T](in[0]), data[T](in[1])))
	return nil
}

// meanOf accumulates in float64 whatever the element type.
func meanOf[T compute.Float](f func(p, t float64) float64, p, t []T) float64 {
	var s float64
	for i := range p {
		s += f(float64(p[i]), float64(t[i]))
	}
	return s / float64(len(p))
}

func (k pointwiseLoss) Backward(in G.Nodes, _, grad *G.Node, _ []bool) (G.Nodes, error) {
	g, err := Apply(pointwiseGrad(k), []bool{false, false, true}, in[0], in[1], grad)
	return G.Nodes{g, nil}, err
}

// pointwiseGrad computes g·∂f/∂p / n for every element.
type pointwiseGrad pointwiseLoss

func (k pointwiseGrad) Name() string { return k.name + "_grad" }

func (pointwiseGrad) OutShape(in []tensor.Shape) (tensor.Shape, error) { return in[0].Clone(), nil }

func (k pointwiseGrad) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, pointwiseGradBody[float32], pointwiseGradBody[float64])
}

func pointwiseGradBody[T compute.Float](k pointwiseGrad, dx []T, in []*tensor.Dense) error {
	df, p, t, g := k.df, data[T](in[0]), data[T](in[1]), data[T](in[2])[0]
	scale := float64(g) / float64(len(p))
	for i := range p {
		dx[i] = T(scale * df(float64(p[i]), float64(t[i])))
	}
	return nil
}

func (pointwiseGrad) Backward(G.Nodes, *G.Node, *G.Node, []bool) (G.Nodes, error) {
	return nil, errSecondOrder
}
