package ops

import (
	"fmt"

	"github.com/dltrain/dltrain/pkg/compute"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// WeightedSum returns Σ x⊙w, a scalar, for x and w of the same size. With
// a random w it turns any op's output into a cost whose gradient exercises
// every output element (gradient checks use it); with w all ones it is a
// plain sum over every axis, which Gorgonia gets wrong on 4-D tensors.
func WeightedSum(x, w *G.Node) (*G.Node, error) {
	return Apply(weightedSum{}, []bool{true, false}, x, w)
}

type weightedSum struct{}

func (weightedSum) Name() string { return "weighted_sum" }

func (weightedSum) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	if in[0].TotalSize() != in[1].TotalSize() {
		return nil, fmt.Errorf("sizes differ: %v and %v", in[0], in[1])
	}
	return tensor.ScalarShape(), nil
}

func (k weightedSum) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, weightedSumBody[float32], weightedSumBody[float64])
}

func weightedSumBody[T compute.Float](_ weightedSum, out []T, in []*tensor.Dense) error {
	out[0] = T(dot(data[T](in[0]), data[T](in[1])))
	return nil
}

func dot[T compute.Float](a, b []T) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

func (weightedSum) Backward(in G.Nodes, _, grad *G.Node, _ []bool) (G.Nodes, error) {
	g, err := Apply(scaleBy{}, []bool{false, true}, in[1], grad)
	return G.Nodes{g, nil}, err
}

// scaleBy returns w·g for a tensor w and a scalar g.
type scaleBy struct{}

func (scaleBy) Name() string { return "scale_by" }

func (scaleBy) OutShape(in []tensor.Shape) (tensor.Shape, error) { return in[0].Clone(), nil }

func (k scaleBy) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, scaleByBody[float32], scaleByBody[float64])
}

func scaleByBody[T compute.Float](_ scaleBy, out []T, in []*tensor.Dense) error {
	s := data[T](in[1])[0]
	for i, v := range data[T](in[0]) {
		out[i] = v * s
	}
	return nil
}

func (scaleBy) Backward(G.Nodes, *G.Node, *G.Node, []bool) (G.Nodes, error) {
	return nil, errSecondOrder
}
