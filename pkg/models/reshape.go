package models

import (
	"fmt"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/ops"
	G "gorgonia.org/gorgonia"
)

// reshape gives each sample a new shape of the same size; one axis may be
// -1, inferred from the others.
type reshape struct {
	shape []int // as configured, perhaps with a -1
	out   Shape // resolved at Setup
}

func newReshape(o *config.Options) Layer {
	r := &reshape{shape: o.Ints("shape", nil)}
	infer := 0
	for _, d := range r.shape {
		switch {
		case d == -1:
			infer++
		case d < 1:
			o.Fail("shape", "axes must be >= 1 (or one -1 to infer), got %v", r.shape)
			return r
		}
	}
	switch {
	case len(r.shape) == 0:
		o.Fail("shape", "is required: the per-sample shape, e.g. [1, 28, 28]")
	case infer > 1:
		o.Fail("shape", "only one axis can be -1, got %v", r.shape)
	}
	return r
}

func (r *reshape) Setup(_ *Scope, in Shape) (Shape, error) {
	out := append(Shape(nil), r.shape...)
	known, at := 1, -1
	for i, d := range out {
		if d == -1 {
			at = i
		} else {
			known *= d
		}
	}
	if at >= 0 {
		if in.Size()%known != 0 {
			return nil, fmt.Errorf("cannot reshape %v (%d values) to %v: %d is not a multiple of %d", in, in.Size(), Shape(r.shape), in.Size(), known)
		}
		out[at] = in.Size() / known
	}
	if out.Size() != in.Size() {
		return nil, fmt.Errorf("cannot reshape %v (%d values) to %v (%d values)", in, in.Size(), out, out.Size())
	}
	r.out = out
	return out, nil
}

func (r *reshape) Forward(_ *Graph, x *G.Node) (*G.Node, error) {
	return ops.Reshape(x, append([]int{x.Shape()[0]}, r.out...))
}
