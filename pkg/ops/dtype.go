package ops

import (
	"fmt"

	"github.com/dltrain/dltrain/pkg/compute"

	"gorgonia.org/tensor"
)

// This file is the one place where a tensor's dtype picks a Go element
// type: DispatchValue's switch. Everything that works on tensor values, in
// this package and in the models and the training loop, writes its
// arithmetic once as a function generic over the element type T, reads its
// tensors with Floats[T] and runs through Dispatch, DispatchValue or (for
// kernels) typed; Must and MustValue wrap a dispatch where the dtype is
// float32 or float64 by construction and the caller has no error to
// return.

// Floats returns a tensor's values as []T, sharing its memory and without
// the allocation of tensor.Dense.Data. T must be the tensor's element type
// (float32 or float64); reading it as the other one is a programming error
// and panics.
func Floats[T compute.Float](t *tensor.Dense) []T { return data[T](t) }

// DispatchValue runs, of f32 and f64, the one of element type dt on k and
// returns its result: f32 and f64 are usually one generic function
// instantiated twice (as in DispatchValue(t.Dtype(), t, sumOf[float32],
// sumOf[float64])), which reads its tensors with Floats[T], so that the
// arithmetic is written once. Any dtype but float32 and float64 is an
// error naming it.
//
// f32 and f64 should be functions, not closures, and k a value (or a
// pointer the caller already holds on the heap): then a call allocates
// nothing.
func DispatchValue[K, R any](dt tensor.Dtype, k K, f32, f64 func(K) R) (R, error) {
	switch dt {
	case tensor.Float32:
		return f32(k), nil
	case tensor.Float64:
		return f64(k), nil
	}
	var zero R
	return zero, unsupported(dt)
}

// Dispatch is DispatchValue for work that returns only an error: it runs
// f32(k) on float32, f64(k) on float64 and refuses any other dtype.
func Dispatch[K any](dt tensor.Dtype, k K, f32, f64 func(K) error) error {
	err, bad := DispatchValue(dt, k, f32, f64)
	if bad != nil {
		return bad
	}
	return err
}

// Must panics on err, an error of Dispatch: for the tensors of a model
// (its parameters, which models.ParamStore makes float32 or float64 and
// nothing else, their gradients and the graphs' inputs) another dtype is
// a programming error, as reading one with Floats is. Where a function
// has no error to return, ops.Must(ops.Dispatch(...)) says so.
func Must(err error) {
	if err != nil {
		panic("internal: " + err.Error())
	}
}

// MustValue is Must for DispatchValue: it returns r, or panics on err.
func MustValue[R any](r R, err error) R {
	Must(err)
	return r
}

// unsupported is the error for a dtype that is neither float32 nor
// float64 (out of line, so that DispatchValue stays small).
func unsupported(dt tensor.Dtype) error {
	return fmt.Errorf("%v tensors are not supported (float32 or float64)", dt)
}

// Pick returns, of two values of the float32 and float64 instantiations
// of one generic type (given as pointers), the one of type *V: inside a
// function generic over T, Pick[buffers[T]](&s.f32, &s.f64) is the state
// kept for T. Asking for a type that is neither is a programming error
// and panics.
func Pick[V any](v32, v64 any) *V {
	if v, ok := v32.(*V); ok {
		return v
	}
	return v64.(*V)
}

// jobOf returns, of a kernel's float32 and float64 jobs (pointers to a
// generic job type's two instantiations), the one of type *J, as in
// jobOf[bmmJob[T]](&k.j32, &k.j64) inside a body.
func jobOf[J any](j32, j64 any) *J { return Pick[J](j32, j64) }

// body is a kernel's arithmetic in one element type: it reads the inputs
// with data[T] and writes out, the output's values.
type body[K any, T compute.Float] func(k K, out []T, in []*tensor.Dense) error

// kernelCall is one run of a kernel: the kernel, its output and inputs,
// and its body in both element types.
type kernelCall[K any] struct {
	k   K
	out *tensor.Dense
	in  []*tensor.Dense
	f32 body[K, float32]
	f64 body[K, float64]
}

func runBody32[K any](c kernelCall[K]) error { return c.f32(c.k, data[float32](c.out), c.in) }
func runBody64[K any](c kernelCall[K]) error { return c.f64(c.k, data[float64](c.out), c.in) }

// typed runs a kernel's arithmetic in its output's element type: f32 on a
// float32 tensor, f64 on a float64 one, the two being one generic body
// instantiated twice (as in typed(k, out, in, addBody[float32],
// addBody[float64])), so that the arithmetic is written once. Every
// kernel's Forward goes through it instead of switching on the dtype
// itself; any other dtype is an error.
func typed[K any](k K, out *tensor.Dense, in []*tensor.Dense, f32 body[K, float32], f64 body[K, float64]) error {
	return Dispatch(out.Dtype(), kernelCall[K]{k: k, out: out, in: in, f32: f32, f64: f64}, runBody32[K], runBody64[K])
}
