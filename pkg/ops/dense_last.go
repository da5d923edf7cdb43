package ops

import (
	"fmt"

	"github.com/dltrain/dltrain/pkg/compute"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// DenseLastAxis returns activation(x·w + b) applied to the last axis of x
// of any rank ≥ 1, as PyTorch's nn.Linear: x [..., F], w [F, units] and b
// [units] (b may be nil) give [..., units]. The leading axes are one batch
// of rows, so the product is a single compute.Gemm over all of them
// (B·T rows for a sequence [B, T, F]), forward and backward. Activations
// fuse as in Dense; when wrtX is false the gradient of x is not built.
// On a matrix x it computes what Dense computes, with the same products.
func DenseLastAxis(x, w, b *G.Node, activation string, alpha float64, wrtX bool) (*G.Node, error) {
	k := denseLast{bias: b != nil}
	def, ok := activations[activation]
	fused := ok && def.byOutput
	if fused {
		k.act = act{name: activation, alpha: alpha}
	}
	wrt, in := []bool{wrtX, true}, []*G.Node{x, w}
	if b != nil {
		wrt, in = append(wrt, true), append(in, b)
	}
	y, err := Apply(k, wrt, in...)
	if err != nil || fused {
		return y, err
	}
	return Activate(y, activation, alpha)
}

// denseLast is act(x·w + b) over the last axis; act.name is "" when no
// activation is fused.
type denseLast struct {
	act  act
	bias bool
}

func (k denseLast) Name() string {
	if k.act.name == "" {
		return "dense_last_axis"
	}
	return "dense_last_axis_" + k.act.name
}

func (k denseLast) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	x, w := in[0], in[1]
	if x.Dims() < 1 || w.Dims() != 2 || x[x.Dims()-1] != w[0] {
		return nil, fmt.Errorf("want x [..., F] and w [F, units], got %v and %v", x, w)
	}
	if k.bias && (in[2].Dims() != 1 || in[2][0] != w[1]) {
		return nil, fmt.Errorf("bias %v does not match w %v", in[2], w)
	}
	out := x.Clone()
	out[len(out)-1] = w[1]
	return out, nil
}

func (k denseLast) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, denseLastBody[float32], denseLastBody[float64])
}

func denseLastBody[T compute.Float](k denseLast, o []T, in []*tensor.Dense) error {
	f, u := in[1].Shape()[0], in[1].Shape()[1]
	rows := in[0].Shape().TotalSize() / max(f, 1)
	denseLastForward(k, o, in, rows, f, u)
	return nil
}

func denseLastForward[T compute.Float](k denseLast, out []T, in []*tensor.Dense, rows, f, u int) {
	x, w := data[T](in[0]), data[T](in[1])
	if k.bias {
		linearForward(out, x, w, data[T](in[2]), rows, f, u)
	} else {
		compute.Gemm(false, false, rows, u, f, 1, x, f, w, u, 0, out, u)
	}
	if k.act.name != "" {
		actForward(k.act, out, out)
	}
}

// Backward: with dz = dy·f'(z) from the output, over the rows of every
// leading axis: dx = dz·wᵀ, dw = xᵀ·dz, db = Σ_rows dz.
func (k denseLast) Backward(in G.Nodes, out, grad *G.Node, wrt []bool) (G.Nodes, error) {
	dz := grad
	var err error
	if k.act.name != "" {
		if dz, err = Apply(actGradOut(k.act), []bool{false, true}, out, grad); err != nil {
			return nil, err
		}
	}
	gs := make(G.Nodes, len(in))
	if wrt[0] {
		if gs[0], err = Apply(rowsTimes{transW: true}, []bool{true, false}, dz, in[1]); err != nil {
			return nil, err
		}
	}
	if gs[1], err = Apply(rowsGram{}, []bool{false, true}, in[0], dz); err != nil {
		return nil, err
	}
	if k.bias {
		if gs[2], err = Apply(reduceTo{shape: in[2].Shape().Clone()}, nil, dz); err != nil {
			return nil, err
		}
	}
	return gs, nil
}

// rowsTimes is g·op(w) over the last axis of g [..., K], w [K, N] (or
// [N, K] with transW): [..., N], one product over every leading row.
type rowsTimes struct{ transW bool }

func (rowsTimes) Name() string { return "rows_times" }

func (k rowsTimes) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	g, w := in[0], in[1]
	kk, n := w[0], w[1]
	if k.transW {
		kk, n = n, kk
	}
	if g.Dims() < 1 || w.Dims() != 2 || g[g.Dims()-1] != kk {
		return nil, fmt.Errorf("want [..., %d] rows, got %v for w %v", kk, g, w)
	}
	out := g.Clone()
	out[len(out)-1] = n
	return out, nil
}

func (k rowsTimes) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, rowsTimesBody[float32], rowsTimesBody[float64])
}

func rowsTimesBody[T compute.Float](k rowsTimes, o []T, in []*tensor.Dense) error {
	ws := in[1].Shape()
	kk, n := ws[0], ws[1]
	if k.transW {
		kk, n = n, kk
	}
	rows := in[0].Shape().TotalSize() / max(kk, 1)
	compute.Gemm(false, k.transW, rows, n, kk, 1, data[T](in[0]), kk, data[T](in[1]), ws[1], 0, o, n)
	return nil
}

func (rowsTimes) Backward(G.Nodes, *G.Node, *G.Node, []bool) (G.Nodes, error) {
	return nil, errSecondOrder
}

// rowsGram is xᵀ·g over the rows of every leading axis of x [..., F] and
// g [..., U]: the [F, U] weight gradient.
type rowsGram struct{}

func (rowsGram) Name() string { return "rows_gram" }

func (rowsGram) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	x, g := in[0], in[1]
	if x.Dims() < 1 || x.Dims() != g.Dims() || !sameShape(x[:x.Dims()-1], g[:g.Dims()-1]) {
		return nil, fmt.Errorf("want x [..., F] and gradient [..., U] with the same leading axes, got %v and %v", x, g)
	}
	return tensor.Shape{x[x.Dims()-1], g[g.Dims()-1]}, nil
}

func (rowsGram) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(rowsGram{}, out, in, rowsGramBody[float32], rowsGramBody[float64])
}

func rowsGramBody[T compute.Float](_ rowsGram, o []T, in []*tensor.Dense) error {
	f, u := lastAxis(in[0]), lastAxis(in[1])
	rows := in[0].Shape().TotalSize() / max(f, 1)
	compute.Gemm(true, false, f, u, rows, 1, data[T](in[0]), f, data[T](in[1]), u, 0, o, u)
	return nil
}

func (rowsGram) Backward(G.Nodes, *G.Node, *G.Node, []bool) (G.Nodes, error) {
	return nil, errSecondOrder
}
