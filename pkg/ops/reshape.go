package ops

import (
	"fmt"

	"github.com/dltrain/dltrain/pkg/compute"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Reshape returns x with a new shape of the same size. It copies: Gorgonia's
// Reshape aliases its input, and an in-place op after it corrupts x
// (upstream issue #511).
func Reshape(x *G.Node, shape []int) (*G.Node, error) {
	return Apply(reshape{to: tensor.Shape(shape).Clone()}, nil, x)
}

type reshape struct{ to tensor.Shape }

func (r reshape) Name() string { return fmt.Sprintf("reshape%v", r.to) }

func (r reshape) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	if in[0].TotalSize() != r.to.TotalSize() {
		return nil, fmt.Errorf("cannot reshape %v (%d values) to %v (%d values)", in[0], in[0].TotalSize(), r.to, r.to.TotalSize())
	}
	return r.to.Clone(), nil
}

func (r reshape) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(r, out, in, copyBody[float32], copyBody[float64])
}

// copyBody copies the first input into out.
func copyBody[T compute.Float](_ reshape, out []T, in []*tensor.Dense) error {
	copy(out, data[T](in[0]))
	return nil
}

func (r reshape) Backward(in G.Nodes, _, grad *G.Node, _ []bool) (G.Nodes, error) {
	g, err := Reshape(grad, in[0].Shape())
	return G.Nodes{g}, err
}
