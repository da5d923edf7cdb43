package ops

import (
	"fmt"

	"github.com/dltrain/dltrain/pkg/compute"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// SequencePoolMasked pools a sequence x [B, T, D] over the positions a
// padding mask keep [B, T] marks real (non-zero) into [B, D]: "mean"
// averages them, "max" takes each feature's largest value over them (its
// gradient goes to the first position holding it), "first" takes
// position 0. A sequence with no real position pools to zeros (mean, max).
// keep nil means every position is real; then mean and first are
// SequencePool's op. keep gets no gradient.
func SequencePoolMasked(x, keep *G.Node, mode string) (*G.Node, error) {
	switch {
	case mode != "mean" && mode != "max" && mode != "first":
		return nil, fmt.Errorf("sequence_pool: mode must be mean, max or first, got %q", mode)
	case keep == nil && mode != "max":
		return SequencePool(x, mode)
	case mode == "first":
		return SequencePool(x, mode) // position 0 whatever the mask says
	}
	k := seqPoolMasked{max: mode == "max", masked: keep != nil}
	if keep == nil {
		return Apply(k, nil, x)
	}
	return Apply(k, []bool{true, false}, x, keep)
}

// seqPoolMasked is the mean or max over the kept positions; its gradient
// op reads x and the mask again (the max's position is found anew).
type seqPoolMasked struct{ max, masked bool }

func (k seqPoolMasked) Name() string {
	if k.max {
		return "sequence_pool_max"
	}
	return "sequence_pool_masked_mean"
}

func (k seqPoolMasked) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	s, err := seqPool{}.OutShape(in[:1])
	if err != nil {
		return nil, err
	}
	if k.masked {
		x, keep := in[0], in[1]
		if keep.Dims() != 2 || keep[0] != x[0] || keep[1] != x[1] {
			return nil, fmt.Errorf("want a padding mask [batch, time] = [%d, %d] for %v, got %v", x[0], x[1], x, keep)
		}
	}
	return s, nil
}

// kept reports whether position p of row r is real.
func kept[T compute.Float](keep []T, t, r, p int) bool { return keep == nil || keep[r*t+p] != 0 }

// maskOf returns a pooling op's mask values, or nil without one.
func maskOf[T compute.Float](masked bool, in []*tensor.Dense) []T {
	if !masked {
		return nil
	}
	return data[T](in[1])
}

func (k seqPoolMasked) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, seqPoolMaskedBody[float32], seqPoolMaskedBody[float64])
}

func seqPoolMaskedBody[T compute.Float](k seqPoolMasked, o []T, in []*tensor.Dense) error {
	s := in[0].Shape()
	b, t, d := s[0], s[1], s[2]
	x, keep := data[T](in[0]), maskOf[T](k.masked, in)
	clear(o)
	for r := range b {
		row, n := o[r*d:(r+1)*d], 0
		for p := range t {
			if !kept(keep, t, r, p) {
				continue
			}
			v := x[(r*t+p)*d : (r*t+p+1)*d]
			switch {
			case n == 0:
				copy(row, v)
			case k.max:
				for j, e := range v {
					row[j] = max(row[j], e)
				}
			default:
				compute.Add(row, v)
			}
			n++
		}
		if !k.max && n > 1 {
			for j := range row {
				row[j] /= T(n)
			}
		}
	}
	return nil
}

func (k seqPoolMasked) Backward(in G.Nodes, _, grad *G.Node, _ []bool) (G.Nodes, error) {
	args := append(G.Nodes{grad}, in...)
	g, err := Apply(seqPoolMaskedGrad{k}, nil, args...)
	return append(G.Nodes{g}, make(G.Nodes, len(in)-1)...), err
}

// seqPoolMaskedGrad spreads the pooled gradient [B, D] back over the kept
// positions of [B, T, D]: its inputs are the gradient, x and the mask.
type seqPoolMaskedGrad struct{ k seqPoolMasked }

func (seqPoolMaskedGrad) Name() string { return "sequence_pool_masked_grad" }

func (seqPoolMaskedGrad) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	g, x := in[0], in[1]
	if g.Dims() != 2 || x.Dims() != 3 || g[0] != x[0] || g[1] != x[2] {
		return nil, fmt.Errorf("want a gradient [batch, dim] of a sequence %v, got %v", x, g)
	}
	return x.Clone(), nil
}

func (k seqPoolMaskedGrad) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, seqPoolMaskedGradBody[float32], seqPoolMaskedGradBody[float64])
}

func seqPoolMaskedGradBody[T compute.Float](k seqPoolMaskedGrad, o []T, in []*tensor.Dense) error {
	s := in[1].Shape()
	b, t, d := s[0], s[1], s[2]
	g, x := data[T](in[0]), data[T](in[1])
	var keep []T
	if k.k.masked {
		keep = data[T](in[2])
	}
	clear(o)
	for r := range b {
		gr := g[r*d : (r+1)*d]
		if k.k.max {
			for j := range d {
				best := -1
				for p := range t {
					if kept(keep, t, r, p) && (best < 0 || x[(r*t+p)*d+j] > x[(r*t+best)*d+j]) {
						best = p
					}
				}
				if best >= 0 {
					o[(r*t+best)*d+j] = gr[j]
				}
			}
			continue
		}
		n := 0
		for p := range t {
			if kept(keep, t, r, p) {
				n++
			}
		}
		for p := range t {
			if kept(keep, t, r, p) {
				row := o[(r*t+p)*d : (r*t+p+1)*d]
				for j, v := range gr {
					row[j] = v / T(n)
				}
			}
		}
	}
	return nil
}

func (seqPoolMaskedGrad) Backward(G.Nodes, *G.Node, *G.Node, []bool) (G.Nodes, error) {
	return nil, errSecondOrder
}

// KeepMask returns the padding mask [B, T] of token ids x [B, T]: 1 where
// an id is not pad, 0 where it is. It has no gradient.
func KeepMask(x *G.Node, pad float64) (*G.Node, error) {
	return Apply(keepMask{pad: pad}, []bool{false}, x)
}

type keepMask struct{ pad float64 }

func (k keepMask) Name() string { return fmt.Sprintf("keep_mask(%v)", k.pad) }

func (keepMask) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	if in[0].Dims() != 2 {
		return nil, fmt.Errorf("want token ids [batch, time], got %v", in[0])
	}
	return in[0].Clone(), nil
}

func (k keepMask) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, keepMaskBody[float32], keepMaskBody[float64])
}

func keepMaskBody[T compute.Float](k keepMask, o []T, in []*tensor.Dense) error {
	for i, v := range data[T](in[0]) {
		o[i] = 0
		if v != T(k.pad) {
			o[i] = 1
		}
	}
	return nil
}

func (keepMask) Backward(G.Nodes, *G.Node, *G.Node, []bool) (G.Nodes, error) {
	return G.Nodes{nil}, nil
}
