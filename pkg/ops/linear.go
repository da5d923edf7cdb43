package ops

import (
	"fmt"

	"github.com/dltrain/dltrain/pkg/compute"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Linear returns x·w + b for x of shape (batch, in), w (in, out) and b (out).
// When wrtX is false the gradient with respect to x is not built (the first
// layer does not need it).
func Linear(x, w, b *G.Node, wrtX bool) (*G.Node, error) {
	if b == nil {
		return Apply(matMul{}, []bool{wrtX, true}, x, w)
	}
	return Apply(linear{}, []bool{wrtX, true, true}, x, w, b)
}

// Dense returns activation(x·w + b), a fully connected layer; b may be
// nil. Activations whose derivative is a function of their output (relu,
// sigmoid, tanh) are fused into one op: the activation runs in place on
// the product while it is in cache, no pre-activation tensor is kept, and
// the backward pass starts from the output. Others are a Linear followed
// by Activate.
func Dense(x, w, b *G.Node, activation string, alpha float64, wrtX bool) (*G.Node, error) {
	def, ok := activations[activation]
	if !ok || !def.byOutput {
		y, err := Linear(x, w, b, wrtX)
		if err != nil {
			return nil, err
		}
		return Activate(y, activation, alpha)
	}
	k := linearAct{act: act{name: activation, alpha: alpha}}
	if b == nil {
		return Apply(k, []bool{wrtX, true}, x, w)
	}
	k.bias = true
	return Apply(k, []bool{wrtX, true, true}, x, w, b)
}

// linearAct is act(x·w + b) for an activation with byOutput.
type linearAct struct {
	act  act
	bias bool
}

func (l linearAct) Name() string { return "linear_" + l.act.name }

func (l linearAct) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	if l.bias {
		return linear{}.OutShape(in)
	}
	return matMul{}.OutShape(in)
}

func (l linearAct) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(l, out, in, linearActBody[float32], linearActBody[float64])
}

func linearActBody[T compute.Float](l linearAct, out []T, in []*tensor.Dense) error {
	batch, nIn, nOut := in[0].Shape()[0], in[1].Shape()[0], in[1].Shape()[1]
	x, w := data[T](in[0]), data[T](in[1])
	if l.bias {
		linearForward(out, x, w, data[T](in[2]), batch, nIn, nOut)
	} else {
		compute.Gemm(false, false, batch, nOut, nIn, 1, x, nIn, w, nOut, 0, out, nOut)
	}
	actForward(l.act, out, out)
	return nil
}

// Backward: with dz = dy·f'(z) computed from the output y, dx = dz·wᵀ,
// dw = xᵀ·dz and db = Σ_rows dz.
func (l linearAct) Backward(in G.Nodes, out, grad *G.Node, wrt []bool) (G.Nodes, error) {
	dz, err := Apply(actGradOut(l.act), []bool{false, true}, out, grad)
	if err != nil {
		return nil, err
	}
	gs := make(G.Nodes, len(in))
	if wrt[0] {
		if gs[0], err = MatMul(dz, in[1], false, true); err != nil {
			return nil, err
		}
	}
	if gs[1], err = MatMul(in[0], dz, true, false); err != nil {
		return nil, err
	}
	if l.bias {
		if gs[2], err = Apply(colSum{}, nil, dz); err != nil {
			return nil, err
		}
	}
	return gs, nil
}

// MatMul returns op(a)·op(b), op transposing when asked.
func MatMul(a, b *G.Node, transA, transB bool) (*G.Node, error) {
	return Apply(matMul{transA, transB}, nil, a, b)
}

type linear struct{}

func (linear) Name() string { return "linear" }

func (linear) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	x, w, b := in[0], in[1], in[2]
	if x.Dims() != 2 || w.Dims() != 2 || b.Dims() != 1 {
		return nil, fmt.Errorf("want x (batch, in), w (in, out), b (out), got %v, %v, %v", x, w, b)
	}
	if x[1] != w[0] || w[1] != b[0] {
		return nil, fmt.Errorf("shapes do not match: x %v, w %v, b %v", x, w, b)
	}
	return tensor.Shape{x[0], w[1]}, nil
}

func (k linear) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, linearBody[float32], linearBody[float64])
}

func linearBody[T compute.Float](_ linear, out []T, in []*tensor.Dense) error {
	linearForward(out, data[T](in[0]), data[T](in[1]), data[T](in[2]), in[0].Shape()[0], in[1].Shape()[0], in[1].Shape()[1])
	return nil
}

func linearForward[T compute.Float](out, x, w, b []T, batch, nIn, nOut int) {
	for r := 0; r < batch; r++ {
		copy(out[r*nOut:(r+1)*nOut], b)
	}
	compute.Gemm(false, false, batch, nOut, nIn, 1, x, nIn, w, nOut, 1, out, nOut)
}

func (linear) Backward(in G.Nodes, _, grad *G.Node, wrt []bool) (G.Nodes, error) {
	x, w := in[0], in[1]
	gs := make(G.Nodes, 3)
	var err error
	if wrt[0] {
		if gs[0], err = MatMul(grad, w, false, true); err != nil {
			return nil, err
		}
	}
	if gs[1], err = MatMul(x, grad, true, false); err != nil {
		return nil, err
	}
	if gs[2], err = Apply(colSum{}, nil, grad); err != nil {
		return nil, err
	}
	return gs, nil
}

// matMul is op(a)·op(b) on matrices.
type matMul struct{ ta, tb bool }

func (m matMul) Name() string { return fmt.Sprintf("matmul(%v,%v)", m.ta, m.tb) }

func (m matMul) dims(a, b tensor.Shape) (rows, inner, cols, innerB int) {
	rows, inner = a[0], a[1]
	if m.ta {
		rows, inner = a[1], a[0]
	}
	innerB, cols = b[0], b[1]
	if m.tb {
		innerB, cols = b[1], b[0]
	}
	return
}

func (m matMul) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	if in[0].Dims() != 2 || in[1].Dims() != 2 {
		return nil, fmt.Errorf("want matrices, got %v and %v", in[0], in[1])
	}
	r, k, c, kb := m.dims(in[0], in[1])
	if k != kb {
		return nil, fmt.Errorf("inner sizes differ: %v and %v", in[0], in[1])
	}
	return tensor.Shape{r, c}, nil
}

func (m matMul) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(m, out, in, matMulBody[float32], matMulBody[float64])
}

func matMulBody[T compute.Float](m matMul, out []T, in []*tensor.Dense) error {
	a, b := in[0].Shape(), in[1].Shape()
	r, k, c, _ := m.dims(a, b)
	compute.Gemm(m.ta, m.tb, r, c, k, 1, data[T](in[0]), a[1], data[T](in[1]), b[1], 0, out, c)
	return nil
}

func (m matMul) Backward(in G.Nodes, _, grad *G.Node, wrt []bool) (G.Nodes, error) {
	a, b := in[0], in[1]
	gs := make(G.Nodes, 2)
	var err error
	// c = A·B with A = op(a), B = op(b): dA = dc·Bᵀ, dB = Aᵀ·dc.
	if wrt[0] {
		if m.ta { // da = (dA)ᵀ = op(b)·dcᵀ
			gs[0], err = MatMul(b, grad, m.tb, true)
		} else {
			gs[0], err = MatMul(grad, b, false, !m.tb)
		}
		if err != nil {
			return nil, err
		}
	}
	if wrt[1] {
		if m.tb { // db = (dB)ᵀ = dcᵀ·op(a)
			gs[1], err = MatMul(grad, a, true, m.ta)
		} else {
			gs[1], err = MatMul(a, grad, !m.ta, false)
		}
		if err != nil {
			return nil, err
		}
	}
	return gs, nil
}

// colSum sums a matrix over its rows: (n, c) -> (c). It is the bias gradient.
type colSum struct{}

func (colSum) Name() string { return "colsum" }

func (colSum) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	if in[0].Dims() != 2 {
		return nil, fmt.Errorf("want a matrix, got %v", in[0])
	}
	return tensor.Shape{in[0][1]}, nil
}

func (k colSum) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, colSumBody[float32], colSumBody[float64])
}

func colSumBody[T compute.Float](_ colSum, out []T, in []*tensor.Dense) error {
	x := data[T](in[0])
	clear(out)
	c := len(out)
	for i := 0; i+c <= len(x); i += c {
		compute.Add(out, x[i:i+c])
	}
	return nil
}

func (colSum) Backward(in G.Nodes, _, grad *G.Node, _ []bool) (G.Nodes, error) {
	g, err := Apply(broadcastRows{rows: in[0].Shape()[0]}, nil, grad)
	return G.Nodes{g}, err
}

// broadcastRows repeats a vector as every row of a matrix: (c) -> (rows, c).
type broadcastRows struct{ rows int }

func (broadcastRows) Name() string { return "broadcast_rows" }

func (b broadcastRows) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	if in[0].Dims() != 1 {
		return nil, fmt.Errorf("want a vector, got %v", in[0])
	}
	return tensor.Shape{b.rows, in[0][0]}, nil
}

func (b broadcastRows) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(b, out, in, broadcastRowsBody[float32], broadcastRowsBody[float64])
}

func broadcastRowsBody[T compute.Float](_ broadcastRows, out []T, in []*tensor.Dense) error {
	v := data[T](in[0])
	for i := 0; i < len(out); i += len(v) {
		copy(out[i:], v)
	}
	return nil
}

func (b broadcastRows) Backward(_ G.Nodes, _, grad *G.Node, _ []bool) (G.Nodes, error) {
	g, err := Apply(colSum{}, nil, grad)
	return G.Nodes{g}, err
}
