package models

import (
	"fmt"

	"github.com/dltrain/dltrain/pkg/ops"
	G "gorgonia.org/gorgonia"
)

// Padding masks. Text read from a table column (data.text_column) gives
// each sample its token ids [T] padded at the end with id 0; a model on
// such data (Spec.PadMask) defines the tensor MaskName, [T] per sample,
// 1 at real tokens and 0 at padding, computed from the ids in the graph.
// The layers that take a mask option (rnn, lstm, gru, sequence_pool: mask;
// multihead_attention, transformer_encoder: key_mask) read it by this
// rule:
//
//   - auto (the default): the tensor MaskName when the computation
//     defines one (self-attention only; cross-attention's keys are
//     another sequence), else none;
//   - none: no mask;
//   - any other value: the tensor of that name.

// MaskName is the name of the padding mask a model defines for padded
// token ids.
const MaskName = "mask"

// The values of a mask option that are not tensor names.
const (
	maskAuto = "auto"
	maskNone = "none"
)

// definePadMask defines MaskName on g from token ids x [B, T], padded
// with id 0.
func definePadMask(g *Graph, x *G.Node) error {
	keep, err := ops.KeepMask(x, 0)
	if err != nil {
		return fmt.Errorf("padding mask: %w", err)
	}
	return g.Define(MaskName, keep)
}

// maskFor returns the padding mask a layer's option names for its input
// x [B, T, ...], or nil for none; a mask of another length than x is an
// error naming both.
func maskFor(g *Graph, option, typ string, x *G.Node) (*G.Node, error) {
	name := option
	switch option {
	case maskNone, "":
		return nil, nil
	case maskAuto:
		if _, ok := g.tensors[MaskName]; !ok {
			return nil, nil
		}
		name = MaskName
	}
	keep, err := g.Tensor(name)
	if err != nil {
		return nil, fmt.Errorf("%s mask: %w", typ, err)
	}
	ks, xs := keep.Shape(), x.Shape()
	if ks.Dims() != 2 || xs.Dims() < 2 || ks[0] != xs[0] || ks[1] != xs[1] {
		return nil, fmt.Errorf("%s: the padding mask %q %v (per sample %v) does not fit the layer's input %v (per sample %v): "+
			"it needs one value per position; a layer that changes the sequence's length (conv1d, pooling) before it breaks the mask, "+
			"set mask: none (key_mask: none for attention) to run it unmasked", typ, name, ks, Shape(ks[1:]), xs, Shape(xs[1:]))
	}
	return keep, nil
}
