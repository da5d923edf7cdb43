package models

import (
	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/ops"
	G "gorgonia.org/gorgonia"
)

// flatten turns each sample into a vector: (C, H, W) -> (C·H·W).
type flatten struct{}

func newFlatten(*config.Options) Layer { return flatten{} }

func (flatten) Setup(_ *Scope, in Shape) (Shape, error) { return Shape{in.Size()}, nil }

func (flatten) Forward(_ *Graph, x *G.Node) (*G.Node, error) {
	s := x.Shape()
	if s.Dims() == 2 {
		return x, nil
	}
	return ops.Reshape(x, []int{s[0], s.TotalSize() / s[0]})
}
