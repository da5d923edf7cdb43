package ops

import (
	"fmt"
	"hash"
	"hash/fnv"
	"sync/atomic"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Kernel is the arithmetic of one op. Forward writes into out, which has
// the shape OutShape returned and the inputs' dtype, and must not alias any
// input. Backward returns, for each input, the node of the gradient of the
// cost with respect to it (nil where WRT is false).
type Kernel interface {
	Name() string
	OutShape(in []tensor.Shape) (tensor.Shape, error)
	Forward(out *tensor.Dense, in []*tensor.Dense) error
	Backward(in G.Nodes, out, grad *G.Node, wrt []bool) (G.Nodes, error)
}

var opIDs atomic.Int64

// op adapts a Kernel to Gorgonia's Op, SDOp and UsePreallocDoer.
type op struct {
	k      Kernel
	id     int64 // makes every op distinct, so the graph never merges two (dropout draws differ)
	inDims []int
	out    int
	wrt    []bool
	// buf is this op's output, reused from step to step: Gorgonia's tape
	// machine forgets every register in Reset, so without it each op would
	// allocate its output at every step. Each node has its own op, so no
	// two nodes share a buffer.
	buf *tensor.Dense
}

var (
	_ G.Op              = (*op)(nil)
	_ G.SDOp            = (*op)(nil)
	_ G.UsePreallocDoer = (*op)(nil)
)

// Apply adds k to the graph of the inputs. wrt says which inputs the op is
// differentiated with respect to; nil means all of them.
func Apply(k Kernel, wrt []bool, inputs ...*G.Node) (*G.Node, error) {
	shapes := make([]tensor.Shape, len(inputs))
	dims := make([]int, len(inputs))
	for i, n := range inputs {
		shapes[i] = n.Shape()
		dims[i] = n.Dims()
	}
	s, err := k.OutShape(shapes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", k.Name(), err)
	}
	if wrt == nil {
		wrt = make([]bool, len(inputs))
		for i := range wrt {
			wrt[i] = true
		}
	}
	o := &op{k: k, id: opIDs.Add(1), inDims: dims, out: s.Dims(), wrt: wrt}
	n, err := G.ApplyOp(o, inputs...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", k.Name(), err)
	}
	return n, nil
}

func tensorType(dims int, a hm.Type) hm.Type {
	if dims == 0 {
		return a
	}
	return G.TensorType{Dims: dims, Of: a}
}

func (o *op) Arity() int { return len(o.inDims) }

func (o *op) Type() hm.Type {
	a := hm.TypeVariable('a')
	ts := make([]hm.Type, 0, len(o.inDims)+1)
	for _, d := range o.inDims {
		ts = append(ts, tensorType(d, a))
	}
	ts = append(ts, tensorType(o.out, a))
	return hm.NewFnType(ts...)
}

func (o *op) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	shapes := make([]tensor.Shape, len(in))
	for i, d := range in {
		s, ok := d.(tensor.Shape)
		if !ok {
			return nil, fmt.Errorf("%s: input %d has no shape", o.k.Name(), i)
		}
		shapes[i] = s
	}
	return o.k.OutShape(shapes)
}

func (o *op) Do(in ...G.Value) (G.Value, error) { return o.UsePreallocDo(nil, in...) }

func (o *op) UsePreallocDo(_ G.Value, in ...G.Value) (G.Value, error) {
	ts := make([]*tensor.Dense, len(in))
	shapes := make([]tensor.Shape, len(in))
	for i, v := range in {
		t, err := asDense(v)
		if err != nil {
			return nil, fmt.Errorf("%s: input %d: %w", o.k.Name(), i, err)
		}
		ts[i], shapes[i] = t, t.Shape()
	}
	s, err := o.k.OutShape(shapes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", o.k.Name(), err)
	}
	dt := ts[0].Dtype()
	if s.IsScalar() {
		// Scalars (losses) travel as Gorgonia scalar values; the kernel
		// writes into a one-element tensor.
		out := tensor.New(tensor.WithShape(1), tensor.Of(dt))
		if err := o.k.Forward(out, ts); err != nil {
			return nil, fmt.Errorf("%s: %w", o.k.Name(), err)
		}
		if dt == tensor.Float32 {
			return G.NewF32(data[float32](out)[0]), nil
		}
		return G.NewF64(data[float64](out)[0]), nil
	}
	out := o.buf
	if out == nil || out.Dtype() != dt || !out.Shape().Eq(s) || aliases(out, ts) {
		out = tensor.New(tensor.WithShape(s...), tensor.Of(dt))
		o.buf = out
	}
	if err := o.k.Forward(out, ts); err != nil {
		return nil, fmt.Errorf("%s: %w", o.k.Name(), err)
	}
	return out, nil
}

func aliases(out *tensor.Dense, in []*tensor.Dense) bool {
	for _, t := range in {
		if t.Uintptr() == out.Uintptr() {
			return true
		}
	}
	return false
}

func (o *op) DiffWRT(int) []bool { return o.wrt }

func (o *op) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	gs, err := o.k.Backward(in, out, grad, o.wrt)
	if err != nil {
		return nil, fmt.Errorf("%s backward: %w", o.k.Name(), err)
	}
	if len(gs) != len(in) {
		return nil, fmt.Errorf("%s backward: %d gradients for %d inputs", o.k.Name(), len(gs), len(in))
	}
	return gs, nil
}

func (o *op) ReturnsPtr() bool     { return false }
func (o *op) CallsExtern() bool    { return false }
func (o *op) OverwritesInput() int { return -1 }
func (o *op) String() string       { return o.k.Name() }

func (o *op) WriteHash(h hash.Hash) { fmt.Fprintf(h, "dltrain.%s#%d", o.k.Name(), o.id) }

func (o *op) Hashcode() uint32 {
	h := fnv.New32a()
	o.WriteHash(h)
	return h.Sum32()
}

// asDense views a Gorgonia value as a tensor; scalars become 0-d tensors.
func asDense(v G.Value) (*tensor.Dense, error) {
	switch x := v.(type) {
	case *tensor.Dense:
		return x, nil
	case *G.F32:
		return tensor.New(tensor.WithShape(1), tensor.WithBacking([]float32{float32(*x)})), nil
	case *G.F64:
		return tensor.New(tensor.WithShape(1), tensor.WithBacking([]float64{float64(*x)})), nil
	}
	return nil, fmt.Errorf("unsupported value %T", v)
}

// data returns a tensor's backing slice as []T.
func data[T float32 | float64](t *tensor.Dense) []T {
	return t.Data().([]T)
}
