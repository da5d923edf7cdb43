package ops

import (
	"fmt"

	"github.com/dltrain/dltrain/pkg/compute"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Add returns a + b for tensors of the same shape: the join of a residual
// block. Its gradient passes the incoming gradient to both inputs.
func Add(a, b *G.Node) (*G.Node, error) { return Apply(add{}, nil, a, b) }

type add struct{}

func (add) Name() string { return "add" }

func (add) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	if !in[0].Eq(in[1]) {
		return nil, fmt.Errorf("shapes differ: %v and %v", in[0], in[1])
	}
	return in[0].Clone(), nil
}

func (k add) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, addBody[float32], addBody[float64])
}

func addBody[T compute.Float](_ add, out []T, in []*tensor.Dense) error {
	a, b := data[T](in[0]), data[T](in[1])
	for i := range out {
		out[i] = a[i] + b[i]
	}
	return nil
}

func (add) Backward(_ G.Nodes, _, grad *G.Node, wrt []bool) (G.Nodes, error) {
	gs := make(G.Nodes, 2)
	for i, w := range wrt {
		if w {
			gs[i] = grad
		}
	}
	return gs, nil
}
