package ops

import (
	"fmt"

	"github.com/dltrain/dltrain/pkg/compute"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// SequencePool pools a sequence x [B, T, D] over its time axis into [B,
// D]: mode "mean" averages the T positions (x.mean(1)), "first" takes
// position 0 (x[:, 0], a classification token's state). Its gradient
// spreads dy/T over every position, or puts dy at position 0.
func SequencePool(x *G.Node, mode string) (*G.Node, error) {
	if mode != "mean" && mode != "first" {
		return nil, fmt.Errorf("sequence_pool: mode must be mean or first, got %q", mode)
	}
	return Apply(seqPool{first: mode == "first"}, nil, x)
}

type seqPool struct{ first bool }

func (k seqPool) Name() string {
	if k.first {
		return "sequence_pool_first"
	}
	return "sequence_pool_mean"
}

func (seqPool) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	x := in[0]
	if x.Dims() != 3 || x[1] < 1 {
		return nil, fmt.Errorf("want a sequence [batch, time ≥ 1, dim], got %v", x)
	}
	return tensor.Shape{x[0], x[2]}, nil
}

func (k seqPool) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, seqPoolBody[float32], seqPoolBody[float64])
}

func seqPoolBody[T compute.Float](k seqPool, o []T, in []*tensor.Dense) error {
	s := in[0].Shape()
	b, t, d := s[0], s[1], s[2]
	x := data[T](in[0])
	for r := range b {
		row := o[r*d : (r+1)*d]
		copy(row, x[r*t*d:])
		if k.first {
			continue
		}
		for p := 1; p < t; p++ {
			for j, v := range x[(r*t+p)*d : (r*t+p+1)*d] {
				row[j] += v
			}
		}
		for j := range row {
			row[j] /= T(t)
		}
	}
	return nil
}

func (k seqPool) Backward(in G.Nodes, _, grad *G.Node, _ []bool) (G.Nodes, error) {
	g, err := Apply(seqPoolGrad{first: k.first, t: in[0].Shape()[1]}, nil, grad)
	return G.Nodes{g}, err
}

// seqPoolGrad spreads the pooled gradient [B, D] back over [B, T, D].
type seqPoolGrad struct {
	first bool
	t     int
}

func (seqPoolGrad) Name() string { return "sequence_pool_grad" }

func (k seqPoolGrad) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	g := in[0]
	if g.Dims() != 2 {
		return nil, fmt.Errorf("want a gradient [batch, dim], got %v", g)
	}
	return tensor.Shape{g[0], k.t, g[1]}, nil
}

func (k seqPoolGrad) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, seqPoolGradBody[float32], seqPoolGradBody[float64])
}

func seqPoolGradBody[T compute.Float](k seqPoolGrad, o []T, in []*tensor.Dense) error {
	s := in[0].Shape()
	b, d := s[0], s[1]
	g := data[T](in[0])
	if k.first {
		clear(o)
	}
	for r := range b {
		gr := g[r*d : (r+1)*d]
		if k.first {
			copy(o[r*k.t*d:], gr)
			continue
		}
		for p := range k.t {
			row := o[(r*k.t+p)*d : (r*k.t+p+1)*d]
			for j, v := range gr {
				row[j] = v / T(k.t)
			}
		}
	}
	return nil
}

func (seqPoolGrad) Backward(G.Nodes, *G.Node, *G.Node, []bool) (G.Nodes, error) {
	return nil, errSecondOrder
}
