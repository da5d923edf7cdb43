package ops

import (
	"fmt"

	"github.com/dltrain/dltrain/pkg/compute"

	"gorgonia.org/tensor"
)

// body is a kernel's arithmetic in one element type: it reads the inputs
// with data[T] and writes out, the output's values.
type body[K any, T compute.Float] func(k K, out []T, in []*tensor.Dense) error

// jobOf returns, of a kernel's float32 and float64 jobs (pointers to a
// generic job type's two instantiations), the one of type *J, as in
// jobOf[bmmJob[T]](&k.j32, &k.j64) inside a body.
func jobOf[J any](j32, j64 any) *J {
	if j, ok := j32.(*J); ok {
		return j
	}
	return j64.(*J)
}

// typed runs a kernel's arithmetic in its output's element type: f32 on a
// float32 tensor, f64 on a float64 one, the two being one generic body
// instantiated twice (as in typed(k, out, in, addBody[float32],
// addBody[float64])), so that the arithmetic is written once. Every
// kernel's Forward goes through it instead of switching on the dtype
// itself; any other dtype is an error.
func typed[K any](k K, out *tensor.Dense, in []*tensor.Dense, f32 body[K, float32], f64 body[K, float64]) error {
	switch out.Dtype() {
	case tensor.Float32:
		return f32(k, data[float32](out), in)
	case tensor.Float64:
		return f64(k, data[float64](out), in)
	}
	return fmt.Errorf("%v tensors are not supported (float32 or float64)", out.Dtype())
}
