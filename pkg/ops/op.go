package ops

import (
	"fmt"
	"hash"
	"hash/fnv"
	"sync/atomic"
	"unsafe"

	"github.com/chewxy/hm"
	"github.com/dltrain/dltrain/pkg/compute"
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

// Gorgonia's own ops, where dltrain uses them, multiply on the same BLAS
// as dltrain's (its AVX-512 or AVX2 kernel, or OpenBLAS; see pkg/compute).
func init() { G.Use(compute.Implementation()) }

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
	// The rest is scratch that keeps a step free of allocations: the
	// inputs as tensors, one-element tensors for scalar inputs, the input
	// shapes OutShape last saw and its answer, and the scalar value a
	// scalar output (a loss) is returned in.
	ts       []*tensor.Dense
	scalarIn []*tensor.Dense
	inShapes []tensor.Shape
	outShape tensor.Shape
	scalar   G.Value
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

// UsePreallocDo runs the kernel into the op's own buffer. In the steady
// state (same input shapes as the step before) it allocates nothing.
func (o *op) UsePreallocDo(_ G.Value, in ...G.Value) (G.Value, error) {
	ts, err := o.tensors(in)
	if err != nil {
		return nil, err
	}
	s, err := o.shapeFor(ts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", o.k.Name(), err)
	}
	dt := ts[0].Dtype()
	if s.IsScalar() {
		return o.doScalar(ts, dt)
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

// doScalar runs a kernel with a scalar output (a loss): it writes into a
// one-element tensor and returns the value as a Gorgonia scalar, the same
// one at every step.
func (o *op) doScalar(ts []*tensor.Dense, dt tensor.Dtype) (G.Value, error) {
	out := o.buf
	if out == nil || out.Dtype() != dt || out.Shape().TotalSize() != 1 {
		out = tensor.New(tensor.WithShape(1), tensor.Of(dt))
		o.buf = out
	}
	if err := o.k.Forward(out, ts); err != nil {
		return nil, fmt.Errorf("%s: %w", o.k.Name(), err)
	}
	switch v := o.scalar.(type) {
	case *G.F32:
		if dt == tensor.Float32 {
			*v = G.F32(data[float32](out)[0])
			return v, nil
		}
	case *G.F64:
		if dt == tensor.Float64 {
			*v = G.F64(data[float64](out)[0])
			return v, nil
		}
	}
	if dt == tensor.Float32 {
		o.scalar = G.NewF32(data[float32](out)[0])
	} else {
		o.scalar = G.NewF64(data[float64](out)[0])
	}
	return o.scalar, nil
}

func aliases(out *tensor.Dense, in []*tensor.Dense) bool {
	for _, t := range in {
		if t.Uintptr() == out.Uintptr() {
			return true
		}
	}
	return false
}

// tensors views the input values as tensors, in the op's scratch slice.
func (o *op) tensors(in []G.Value) ([]*tensor.Dense, error) {
	if cap(o.ts) < len(in) {
		o.ts = make([]*tensor.Dense, len(in))
		o.scalarIn = make([]*tensor.Dense, len(in))
	}
	ts := o.ts[:len(in)]
	for i, v := range in {
		t, err := o.asDense(i, v)
		if err != nil {
			return nil, fmt.Errorf("%s: input %d: %w", o.k.Name(), i, err)
		}
		ts[i] = t
	}
	return ts, nil
}

// shapeFor returns the kernel's output shape for the inputs, asking
// OutShape only when an input shape differs from the last call's.
func (o *op) shapeFor(ts []*tensor.Dense) (tensor.Shape, error) {
	same := o.outShape != nil && len(o.inShapes) == len(ts)
	for i := 0; same && i < len(ts); i++ {
		same = o.inShapes[i].Eq(ts[i].Shape())
	}
	if same {
		return o.outShape, nil
	}
	shapes := make([]tensor.Shape, len(ts))
	for i, t := range ts {
		shapes[i] = t.Shape().Clone()
	}
	s, err := o.k.OutShape(shapes)
	if err != nil {
		return nil, err
	}
	o.inShapes, o.outShape = shapes, s.Clone()
	return s, nil
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

// asDense views input i as a tensor; a scalar becomes a one-element
// tensor, kept in the op's scratch so that the next step reuses it.
func (o *op) asDense(i int, v G.Value) (*tensor.Dense, error) {
	switch x := v.(type) {
	case *tensor.Dense:
		return x, nil
	case *G.F32:
		t := o.scalarIn[i]
		if t == nil || t.Dtype() != tensor.Float32 {
			t = tensor.New(tensor.WithShape(1), tensor.Of(tensor.Float32))
			o.scalarIn[i] = t
		}
		data[float32](t)[0] = float32(*x)
		return t, nil
	case *G.F64:
		t := o.scalarIn[i]
		if t == nil || t.Dtype() != tensor.Float64 {
			t = tensor.New(tensor.WithShape(1), tensor.Of(tensor.Float64))
			o.scalarIn[i] = t
		}
		data[float64](t)[0] = float64(*x)
		return t, nil
	}
	return nil, fmt.Errorf("unsupported value %T", v)
}

// data returns a tensor's backing slice as []T, without the allocation
// of tensor.Dense.Data. The dtype must be T's.
func data[T compute.Float](t *tensor.Dense) []T {
	var z T
	if unsafe.Sizeof(z) == 4 {
		if t.Dtype() != tensor.Float32 {
			panic(fmt.Sprintf("internal: %v tensor read as float32", t.Dtype()))
		}
		s := t.Float32s()
		return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
	}
	if t.Dtype() != tensor.Float64 {
		panic(fmt.Sprintf("internal: %v tensor read as float64", t.Dtype()))
	}
	s := t.Float64s()
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}
