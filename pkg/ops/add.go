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

func (add) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	switch out.Dtype() {
	case tensor.Float32:
		o := data[float32](out)
		sum2(o, data[float32](in[0]), data[float32](in[1]))
	case tensor.Float64:
		o := data[float64](out)
		sum2(o, data[float64](in[0]), data[float64](in[1]))
	}
	return nil
}

func sum2[T compute.Float](out, a, b []T) {
	for i := range out {
		out[i] = a[i] + b[i]
	}
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
