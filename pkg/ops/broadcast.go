package ops

import (
	"fmt"

	"github.com/dltrain/dltrain/pkg/compute"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Mul returns a ⊙ b, the element-wise product of two tensors of the same
// shape (a gate of an LSTM or GRU). For operands of different shapes use
// BroadcastMul.
func Mul(a, b *G.Node) (*G.Node, error) {
	return Apply(broadcast{mul: true, same: true}, nil, a, b)
}

// BroadcastAdd returns a + b under NumPy's (and PyTorch's) broadcasting
// rules: the shapes are aligned on their last axis, and along each axis
// the sizes are equal or one of them is 1 (an absent axis counts as 1).
// The gradient of each operand is the incoming gradient summed over the
// axes that operand was broadcast along.
func BroadcastAdd(a, b *G.Node) (*G.Node, error) {
	return Apply(broadcast{}, nil, a, b)
}

// BroadcastMul returns a ⊙ b under the broadcasting rules of BroadcastAdd.
// The gradient of a is (grad ⊙ b) summed over the axes a was broadcast
// along, and the other way round for b.
func BroadcastMul(a, b *G.Node) (*G.Node, error) {
	return Apply(broadcast{mul: true}, nil, a, b)
}

// broadcast is a + b or a ⊙ b, broadcast; same asks for equal shapes.
type broadcast struct{ mul, same bool }

func (k broadcast) Name() string {
	switch {
	case k.same:
		return "mul"
	case k.mul:
		return "broadcast_mul"
	}
	return "broadcast_add"
}

func (k broadcast) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	if k.same && !sameShape(in[0], in[1]) {
		return nil, fmt.Errorf("shapes differ: %v and %v (BroadcastMul broadcasts)", in[0], in[1])
	}
	return broadcastShape(in[0], in[1])
}

func (k broadcast) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, broadcastBody[float32], broadcastBody[float64])
}

func broadcastBody[T compute.Float](k broadcast, o []T, in []*tensor.Dense) error {
	var full [maxRank]int
	w := newBroadcastWalk(fullShape(&full, in[0].Shape(), in[1].Shape()), in[0].Shape(), in[1].Shape())
	broadcastForward(&w, k.mul, o, data[T](in[0]), data[T](in[1]))
	return nil
}

func broadcastForward[T compute.Float](w *walk, mul bool, out, a, b []T) {
	n, sa, sb := w.size[w.n-1], w.sa[w.n-1], w.sb[w.n-1]
	w.rows(func(o, oa, ob int) {
		dst := out[o : o+n]
		switch {
		case mul && sa == 1 && sb == 1:
			for i, x := range a[oa : oa+n] {
				dst[i] = x * b[ob+i]
			}
		case mul:
			for i := range dst {
				dst[i] = a[oa+i*sa] * b[ob+i*sb]
			}
		case sa == 1 && sb == 1:
			for i, x := range a[oa : oa+n] {
				dst[i] = x + b[ob+i]
			}
		default:
			for i := range dst {
				dst[i] = a[oa+i*sa] + b[ob+i*sb]
			}
		}
	})
}

func (k broadcast) Backward(in G.Nodes, _, grad *G.Node, wrt []bool) (G.Nodes, error) {
	gs := make(G.Nodes, 2)
	for i, w := range wrt {
		if !w {
			continue
		}
		var err error
		target := in[i].Shape().Clone()
		switch {
		case k.mul:
			gs[i], err = Apply(reduceTo{shape: target, mul: true}, []bool{true, false}, grad, in[1-i])
		case sameShape(target, grad.Shape()):
			gs[i] = grad
		default:
			gs[i], err = Apply(reduceTo{shape: target}, nil, grad)
		}
		if err != nil {
			return nil, err
		}
	}
	return gs, nil
}

// reduceTo sums its first input g over the axes along which shape was
// broadcast to g's shape, giving a tensor of that shape: the gradient of
// a broadcast operand. With mul it sums g ⊙ other instead, other being
// broadcast to g's shape too (the gradient of a broadcast product).
type reduceTo struct {
	shape tensor.Shape
	mul   bool
}

func (k reduceTo) Name() string {
	if k.mul {
		return fmt.Sprintf("mul_reduce_to%v", k.shape)
	}
	return fmt.Sprintf("reduce_to%v", k.shape)
}

func (k reduceTo) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	if in[0].Dims() > maxRank {
		return nil, fmt.Errorf("%v has more than %d axes", in[0], maxRank)
	}
	if !broadcastsTo(k.shape, in[0]) {
		return nil, fmt.Errorf("%v does not broadcast to %v", k.shape, in[0])
	}
	if k.mul && !broadcastsTo(in[1], in[0]) {
		return nil, fmt.Errorf("%v does not broadcast to %v", in[1], in[0])
	}
	return k.shape.Clone(), nil
}

func (k reduceTo) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, reduceToBody[float32], reduceToBody[float64])
}

func reduceToBody[T compute.Float](k reduceTo, o []T, in []*tensor.Dense) error {
	other := tensor.Shape(nil)
	if k.mul {
		other = in[1].Shape()
	}
	w := newBroadcastWalk(in[0].Shape(), k.shape, other)
	var by []T
	if k.mul {
		by = data[T](in[1])
	}
	reduceForward(&w, o, data[T](in[0]), by)
	return nil
}

// reduceForward accumulates g (⊙ other, when not nil) into out, each
// element of g into the element of out it was broadcast from. w walks g's
// shape with a = out and b = other.
func reduceForward[T compute.Float](w *walk, out, g, other []T) {
	clear(out)
	n, sa, sb := w.size[w.n-1], w.sa[w.n-1], w.sb[w.n-1]
	w.rows(func(o, oa, ob int) {
		src := g[o : o+n]
		switch {
		case other == nil && sa == 1:
			compute.Add(out[oa:oa+n], src)
		case other == nil && sa == 0:
			var s T
			for _, v := range src {
				s += v
			}
			out[oa] += s
		case other == nil:
			for i, v := range src {
				out[oa+i*sa] += v
			}
		case sa == 0:
			var s T
			for i, v := range src {
				s += v * other[ob+i*sb]
			}
			out[oa] += s
		default:
			for i, v := range src {
				out[oa+i*sa] += v * other[ob+i*sb]
			}
		}
	})
}

func (reduceTo) Backward(G.Nodes, *G.Node, *G.Node, []bool) (G.Nodes, error) {
	return nil, errSecondOrder
}
