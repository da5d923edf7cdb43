package models

import (
	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/ops"
	G "gorgonia.org/gorgonia"
)

// sequencePool turns a sequence [time, dim] into one vector [dim]: mode
// mean averages the positions (an encoder classifier's mean pooling),
// first takes position 0 (a classification token's state).
type sequencePool struct{ mode string }

func newSequencePool(o *config.Options) Layer {
	return &sequencePool{mode: o.String("mode", "mean", "mean", "first")}
}

func (p *sequencePool) Setup(_ *Scope, in Shape) (Shape, error) {
	if len(in) != 2 {
		return nil, shapeErr("sequence_pool needs a sequence [time, dim], got %v", in)
	}
	return Shape{in[1]}, nil
}

func (p *sequencePool) Forward(_ *Graph, x *G.Node) (*G.Node, error) {
	return ops.SequencePool(x, p.mode)
}
