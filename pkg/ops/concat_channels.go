package ops

import (
	"fmt"

	"github.com/dltrain/dltrain/pkg/compute"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// ConcatChannels appends the per-sample vectors e [B, L] to x as L more
// channels, each constant over x's positions: x [B, C, positions...]
// becomes [B, C+L, positions...] (PyTorch's torch.cat([x, e[:, :, None,
// None].expand(-1, -1, H, W)], 1)), and a flat x [B, F] becomes [B, F+L]
// (torch.cat([x, e], 1)). It is how a conditional GAN gives a label's
// embedding to a network: next to the noise, or as constant feature maps
// next to an image. The gradient of x is its part of the incoming one; the
// gradient of e sums its channels' part over the positions.
func ConcatChannels(x, e *G.Node) (*G.Node, error) {
	return Apply(concatChannels{}, nil, x, e)
}

// concatChannels is ConcatChannels' forward pass.
type concatChannels struct{}

func (concatChannels) Name() string { return "concat_channels" }

func (concatChannels) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	x, e := in[0], in[1]
	switch {
	case x.Dims() < 2:
		return nil, fmt.Errorf("want x (batch, channels, ...), got %v", x)
	case e.Dims() != 2 || e[0] != x[0]:
		return nil, fmt.Errorf("want e (batch, features) with x's batch %d, got %v", x[0], e)
	}
	out := x.Clone()
	out[1] += e[1]
	return out, nil
}

// batchChannelsPositions is a (batch, channels, positions...) tensor's batch,
// channel count and positions per channel.
func batchChannelsPositions(s tensor.Shape) (b, c, pos int) {
	return s[0], s[1], s.TotalSize() / max(s[0]*s[1], 1)
}

func (k concatChannels) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, concatChannelsBody[float32], concatChannelsBody[float64])
}

func concatChannelsBody[T compute.Float](_ concatChannels, o []T, in []*tensor.Dense) error {
	x, e := data[T](in[0]), data[T](in[1])
	b, c, pos := batchChannelsPositions(in[0].Shape())
	l := in[1].Shape()[1]
	for n := range b {
		dst := o[n*(c+l)*pos : (n+1)*(c+l)*pos]
		copy(dst[:c*pos], x[n*c*pos:(n+1)*c*pos])
		for j, v := range e[n*l : (n+1)*l] {
			row := dst[(c+j)*pos : (c+j+1)*pos]
			for i := range row {
				row[i] = v
			}
		}
	}
	return nil
}

func (concatChannels) Backward(in G.Nodes, _, grad *G.Node, wrt []bool) (G.Nodes, error) {
	out := make(G.Nodes, 2)
	c := in[0].Shape()[1]
	var err error
	if wrt[0] {
		if out[0], err = Apply(splitChannels{from: 0, to: c, sum: false}, []bool{true}, grad); err != nil {
			return nil, err
		}
	}
	if wrt[1] {
		if out[1], err = Apply(splitChannels{from: c, to: grad.Shape()[1], sum: true}, []bool{true}, grad); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// splitChannels is ConcatChannels' gradient: the channels [from, to) of
// dy (batch, channels, positions...), as they are (x's part), or each
// summed over its positions into (batch, to−from) (e's part).
type splitChannels struct {
	from, to int
	sum      bool
}

func (splitChannels) Name() string { return "split_channels" }

func (k splitChannels) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	dy := in[0]
	if dy.Dims() < 2 || k.to > dy[1] || k.from >= k.to {
		return nil, fmt.Errorf("channels [%d, %d) of %v", k.from, k.to, dy)
	}
	if k.sum {
		return tensor.Shape{dy[0], k.to - k.from}, nil
	}
	out := dy.Clone()
	out[1] = k.to - k.from
	return out, nil
}

func (k splitChannels) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, splitChannelsBody[float32], splitChannelsBody[float64])
}

func splitChannelsBody[T compute.Float](k splitChannels, o []T, in []*tensor.Dense) error {
	dy := data[T](in[0])
	b, c, pos := batchChannelsPositions(in[0].Shape())
	w := k.to - k.from
	for n := range b {
		src := dy[(n*c+k.from)*pos : (n*c+k.to)*pos]
		if !k.sum {
			copy(o[n*w*pos:(n+1)*w*pos], src)
			continue
		}
		for j := range w {
			var s T
			for _, v := range src[j*pos : (j+1)*pos] {
				s += v
			}
			o[n*w+j] = s
		}
	}
	return nil
}

func (splitChannels) Backward(G.Nodes, *G.Node, *G.Node, []bool) (G.Nodes, error) {
	return nil, errSecondOrder
}
