package ops

import (
	"fmt"

	"github.com/dltrain/dltrain/pkg/compute"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// LinearLastAxis is PyTorch's F.linear(x, w, b) over the last axis of x
// of any rank ≥ 1, with w in nn.Linear's layout [units, F] (DenseLastAxis
// takes [F, units]): x [..., F] gives [..., units] = x·wᵀ + b, one
// compute.Gemm over every leading row. b may be nil. When wrtX is false
// the gradient of x is not built.
func LinearLastAxis(x, w, b *G.Node, wrtX bool) (*G.Node, error) {
	wrt, in := []bool{wrtX, true}, []*G.Node{x, w}
	if b != nil {
		wrt, in = append(wrt, true), append(in, b)
	}
	return Apply(linearLast{bias: b != nil}, wrt, in...)
}

type linearLast struct{ bias bool }

func (linearLast) Name() string { return "linear_last_axis" }

func (k linearLast) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	x, w := in[0], in[1]
	if x.Dims() < 1 || w.Dims() != 2 || x[x.Dims()-1] != w[1] {
		return nil, fmt.Errorf("want x [..., F] and w [units, F], got %v and %v", x, w)
	}
	if k.bias && (in[2].Dims() != 1 || in[2][0] != w[0]) {
		return nil, fmt.Errorf("bias %v does not match w %v", in[2], w)
	}
	out := x.Clone()
	out[len(out)-1] = w[0]
	return out, nil
}

func (k linearLast) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, linearLastBody[float32], linearLastBody[float64])
}

func linearLastBody[T compute.Float](k linearLast, o []T, in []*tensor.Dense) error {
	u, f := in[1].Shape()[0], in[1].Shape()[1]
	rows := in[0].Shape().TotalSize() / max(f, 1)
	x, w := data[T](in[0]), data[T](in[1])
	if !k.bias {
		compute.Gemm(false, true, rows, u, f, 1, x, f, w, f, 0, o, u)
		return nil
	}
	projectRows(o, x, w, data[T](in[2]), rows, f, u)
	return nil
}

// Backward: dx = dy·w, dw = dyᵀ·x, db = Σ_rows dy, each one product (or
// row sum) over every leading row.
func (k linearLast) Backward(in G.Nodes, _, grad *G.Node, wrt []bool) (G.Nodes, error) {
	gs := make(G.Nodes, len(in))
	var err error
	if wrt[0] {
		if gs[0], err = Apply(rowsTimes{}, []bool{true, false}, grad, in[1]); err != nil {
			return nil, err
		}
	}
	if gs[1], err = Apply(rowsGram{}, []bool{true, false}, grad, in[0]); err != nil {
		return nil, err
	}
	if k.bias {
		if gs[2], err = Apply(reduceTo{shape: in[2].Shape().Clone()}, nil, grad); err != nil {
			return nil, err
		}
	}
	return gs, nil
}
