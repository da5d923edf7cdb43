package ops

import (
	"fmt"

	"github.com/dltrain/dltrain/pkg/compute"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Slice returns x[..., start:end, ...] along one axis (which may count from
// the end, −1 being the last), as PyTorch's x.narrow(axis, start,
// end−start), copied into a dense result; 0 ≤ start < end ≤ size. The
// gradient is the incoming gradient placed at start:end along that axis,
// with zeros elsewhere.
func Slice(x *G.Node, axis, start, end int) (*G.Node, error) {
	a, err := normAxis(axis, x.Dims())
	if err != nil {
		return nil, fmt.Errorf("slice: %w", err)
	}
	return Apply(narrow{axis: a, start: start, end: end}, nil, x)
}

// Concat joins tensors along an existing axis (which may count from the
// end), as torch.cat: every other axis must agree. The gradient of each
// input is its part of the incoming gradient.
func Concat(axis int, xs ...*G.Node) (*G.Node, error) {
	if len(xs) == 0 {
		return nil, fmt.Errorf("concat: no inputs")
	}
	a, err := normAxis(axis, xs[0].Dims())
	if err != nil {
		return nil, fmt.Errorf("concat: %w", err)
	}
	return Apply(concat{axis: a}, nil, xs...)
}

// Stack joins tensors of one shape along a new axis, as torch.stack: for
// n inputs of shape s the result has s with n inserted at axis, which is
// in [0, rank] (or counts from the end, −1 appending a last axis). The
// gradient of input i is the incoming gradient at index i of that axis.
func Stack(axis int, xs ...*G.Node) (*G.Node, error) {
	if len(xs) == 0 {
		return nil, fmt.Errorf("stack: no inputs")
	}
	a, err := normAxis(axis, xs[0].Dims()+1)
	if err != nil {
		return nil, fmt.Errorf("stack: %w", err)
	}
	return Apply(concat{axis: a, stack: true}, nil, xs...)
}

// splitAt is (the product of the axes before axis, the product of those
// after it) of s.
func splitAt(s tensor.Shape, axis int) (outer, inner int) {
	return sizeOf(s[:axis]), sizeOf(s[axis+1:])
}

// narrow is x[start:end] along axis; with drop (end = start+1) the axis is
// removed from the result, which is how Stack's gradient takes one input
// back.
type narrow struct {
	axis, start, end int
	drop             bool
}

func (k narrow) Name() string { return fmt.Sprintf("slice(axis %d, %d:%d)", k.axis, k.start, k.end) }

func (k narrow) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	s := in[0]
	if k.axis >= s.Dims() {
		return nil, fmt.Errorf("axis %d is out of range for %v", k.axis, s)
	}
	if k.start < 0 || k.end <= k.start || k.end > s[k.axis] {
		return nil, fmt.Errorf("range %d:%d is not within axis %d of %v (size %d), or is empty", k.start, k.end, k.axis, s, s[k.axis])
	}
	out := s.Clone()
	if k.drop {
		return append(out[:k.axis], out[k.axis+1:]...), nil
	}
	out[k.axis] = k.end - k.start
	return out, nil
}

func (k narrow) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, narrowBody[float32], narrowBody[float64])
}

func narrowBody[T compute.Float](k narrow, o []T, in []*tensor.Dense) error {
	outer, inner := splitAt(in[0].Shape(), k.axis)
	n := in[0].Shape()[k.axis]
	compute.Copy2D(o, (k.end-k.start)*inner, data[T](in[0])[k.start*inner:], n*inner, outer, (k.end-k.start)*inner)
	return nil
}

func (k narrow) Backward(in G.Nodes, _, grad *G.Node, _ []bool) (G.Nodes, error) {
	g, err := Apply(unnarrow{narrow: k, full: in[0].Shape().Clone()}, nil, grad)
	return G.Nodes{g}, err
}

// unnarrow places its input at start:end along axis of a zero tensor of
// shape full: narrow's gradient.
type unnarrow struct {
	narrow
	full tensor.Shape
}

func (k unnarrow) Name() string { return "un" + k.narrow.Name() }

func (k unnarrow) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	want, err := k.narrow.OutShape([]tensor.Shape{k.full})
	if err != nil {
		return nil, err
	}
	if !sameShape(in[0], want) {
		return nil, fmt.Errorf("gradient %v, want %v", in[0], want)
	}
	return k.full.Clone(), nil
}

func (k unnarrow) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, unnarrowBody[float32], unnarrowBody[float64])
}

func unnarrowBody[T compute.Float](k unnarrow, o []T, in []*tensor.Dense) error {
	outer, inner := splitAt(k.full, k.axis)
	n, m := k.full[k.axis], k.end-k.start
	clear(o)
	compute.Copy2D(o[k.start*inner:], n*inner, data[T](in[0]), m*inner, outer, m*inner)
	return nil
}

func (k unnarrow) Backward(_ G.Nodes, _, grad *G.Node, _ []bool) (G.Nodes, error) {
	g, err := Apply(k.narrow, nil, grad)
	return G.Nodes{g}, err
}

// concat joins its inputs along axis; with stack, along a new axis
// inserted there.
type concat struct {
	axis  int
	stack bool
}

func (k concat) Name() string {
	if k.stack {
		return fmt.Sprintf("stack(axis %d)", k.axis)
	}
	return fmt.Sprintf("concat(axis %d)", k.axis)
}

func (k concat) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	first := in[0]
	if k.stack {
		for i, s := range in {
			if !sameShape(s, first) {
				return nil, fmt.Errorf("input %d has shape %v, input 0 %v: stacked tensors must agree", i, s, first)
			}
		}
		if k.axis > first.Dims() {
			return nil, fmt.Errorf("axis %d is out of range for stacking %v", k.axis, first)
		}
		out := append(first[:k.axis:k.axis], len(in))
		return append(out, first[k.axis:]...), nil
	}
	if k.axis >= first.Dims() {
		return nil, fmt.Errorf("axis %d is out of range for %v", k.axis, first)
	}
	out := first.Clone()
	out[k.axis] = 0
	for i, s := range in {
		if s.Dims() != first.Dims() {
			return nil, fmt.Errorf("input %d has shape %v, input 0 %v: ranks differ", i, s, first)
		}
		for a := range s {
			if a != k.axis && s[a] != first[a] {
				return nil, fmt.Errorf("input %d has shape %v, input 0 %v: they differ off axis %d", i, s, first, k.axis)
			}
		}
		out[k.axis] += s[k.axis]
	}
	return out, nil
}

// part is the number of consecutive values an input of shape s
// contributes to each outer row of the result: its axes from axis on
// (for Stack, the new axis counts once per input).
func (k concat) part(s tensor.Shape) int { return sizeOf(s[k.axis:]) }

func (k concat) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, concatBody[float32], concatBody[float64])
}

// concatBody copies each input's part of every outer row into place.
func concatBody[T compute.Float](k concat, out []T, in []*tensor.Dense) error {
	outer := sizeOf(in[0].Shape()[:k.axis])
	row := len(out) / max(outer, 1)
	off := 0
	for _, x := range in {
		p := k.part(x.Shape())
		compute.Copy2D(out[off:], row, data[T](x), p, outer, p)
		off += p
	}
	return nil
}

func (k concat) Backward(in G.Nodes, _, grad *G.Node, wrt []bool) (G.Nodes, error) {
	gs := make(G.Nodes, len(in))
	start := 0
	for i, x := range in {
		n := 1
		if !k.stack {
			n = x.Shape()[k.axis]
		}
		if wrt[i] {
			var err error
			if gs[i], err = Apply(narrow{axis: k.axis, start: start, end: start + n, drop: k.stack}, nil, grad); err != nil {
				return nil, err
			}
		}
		start += n
	}
	return gs, nil
}
