package models

import (
	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/ops"
	G "gorgonia.org/gorgonia"
)

// upsampleLayer repeats each element of a channel-first input by integer
// factors, nearest-neighbour, as PyTorch's nn.Upsample(scale_factor=...,
// mode="nearest"): upsample2d on (channels, height, width) with one
// factor for both axes or [height, width], upsample1d on (channels,
// length). It has no parameters.
type upsampleLayer struct {
	typ   string
	scale []int // per spatial axis
	dims  int
}

func upsampleOf(typ string, dims int) func(o *config.Options) Layer {
	return func(o *config.Options) Layer {
		u := &upsampleLayer{typ: typ, dims: dims}
		u.scale = perAxis(o, "scale", o.Ints("scale", []int{2}), dims, 1)
		// Only nearest is built; the key exists so that a config asking
		// for another mode is told so rather than silently given nearest.
		o.String("mode", "nearest", "nearest")
		return u
	}
}

// factors is the scale as (height, width); 1-D has height 1.
func (u *upsampleLayer) factors() (sh, sw int) {
	if u.dims == 1 {
		return 1, u.scale[0]
	}
	return u.scale[0], u.scale[1]
}

func (u *upsampleLayer) Setup(_ *Scope, in Shape) (Shape, error) {
	spec := windowSpec{dims: u.dims}
	if err := spec.checkInput(u.typ, in); err != nil {
		return nil, err
	}
	sh, sw := u.factors()
	h, w := spec.spatial(in)
	return spec.outShape(in[0], h*sh, w*sw), nil
}

func (u *upsampleLayer) Forward(_ *Graph, x *G.Node) (*G.Node, error) {
	sh, sw := u.factors()
	return ops.Upsample(x, sh, sw)
}
