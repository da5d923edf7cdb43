package models

import (
	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/ops"
	G "gorgonia.org/gorgonia"
)

// sequencePool turns a sequence [time, dim] into one vector [dim]: mode
// mean averages the positions (an encoder classifier's mean pooling), max
// takes each feature's largest value, first takes position 0 (a
// classification token's state). With a padding mask (mask.go) mean and
// max read the real positions only.
type sequencePool struct{ mode, mask string }

func newSequencePool(o *config.Options) Layer {
	return &sequencePool{mode: o.String("mode", "mean", "mean", "max", "first"), mask: o.String("mask", maskAuto)}
}

func (p *sequencePool) Setup(_ *Scope, in Shape) (Shape, error) {
	if len(in) != 2 {
		return nil, shapeErr("sequence_pool needs a sequence [time, dim], got %v", in)
	}
	return Shape{in[1]}, nil
}

func (p *sequencePool) Forward(g *Graph, x *G.Node) (*G.Node, error) {
	keep, err := maskFor(g, p.mask, "sequence_pool", x)
	if err != nil {
		return nil, err
	}
	return ops.SequencePoolMasked(x, keep, p.mode)
}
