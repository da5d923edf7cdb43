package ops

import (
	"fmt"
	"math/rand/v2"

	"github.com/dltrain/dltrain/pkg/compute"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// DropoutState is what one dropout op shares with its gradient: the rate,
// the random stream it draws from, and the mask of the last forward pass.
// Gorgonia's own dropout scales its gradient by 1/p instead of 1/(1−p);
// this one is inverted dropout as in PyTorch: kept units are scaled by
// 1/(1−rate) in training, and evaluation graphs leave the op out.
type DropoutState struct {
	Rate float64
	// Group is how many consecutive elements share one draw: 1 for plain
	// dropout, H·W for spatial dropout on (N, C, H, W) that drops channels.
	Group int
	RNG   *rand.Rand
	// Frozen keeps the current mask instead of drawing a new one at every
	// forward pass; gradient checks use it.
	Frozen bool
	mask   []float64
}

// Dropout zeroes each element (or group) of x with probability st.Rate.
func Dropout(x *G.Node, st *DropoutState) (*G.Node, error) {
	if !(st.Rate >= 0 && st.Rate < 1) {
		return nil, fmt.Errorf("dropout rate must be in [0, 1), got %v", st.Rate)
	}
	if st.Group < 1 {
		st.Group = 1
	}
	if x.Shape().TotalSize()%st.Group != 0 {
		return nil, fmt.Errorf("dropout group %d does not divide %v", st.Group, x.Shape())
	}
	return Apply(dropout{st}, nil, x)
}

type dropout struct{ st *DropoutState }

func (dropout) Name() string { return "dropout" }

func (dropout) OutShape(in []tensor.Shape) (tensor.Shape, error) { return in[0].Clone(), nil }

func (d dropout) draw(n int) {
	st := d.st
	groups := n / st.Group
	if st.Frozen && len(st.mask) == groups {
		return
	}
	if cap(st.mask) < groups {
		st.mask = make([]float64, groups)
	}
	st.mask = st.mask[:groups]
	scale := 1 / (1 - st.Rate)
	for i := range st.mask {
		if st.RNG.Float64() < st.Rate {
			st.mask[i] = 0
		} else {
			st.mask[i] = scale
		}
	}
}

func (d dropout) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	d.draw(in[0].Shape().TotalSize())
	return typed(d.st, out, in, applyMask[float32], applyMask[float64])
}

// applyMask multiplies the first input by the state's mask, each draw
// over a group of elements.
func applyMask[T compute.Float](st *DropoutState, out []T, in []*tensor.Dense) error {
	x, mask, group := data[T](in[0]), st.mask, st.Group
	for g, m := range mask {
		lo, hi := g*group, (g+1)*group
		if m == 0 {
			clear(out[lo:hi])
			continue
		}
		s := T(m)
		for i := lo; i < hi; i++ {
			out[i] = x[i] * s
		}
	}
	return nil
}

func (d dropout) Backward(_ G.Nodes, _, grad *G.Node, _ []bool) (G.Nodes, error) {
	g, err := Apply(dropoutGrad(d), nil, grad)
	return G.Nodes{g}, err
}

// dropoutGrad multiplies the incoming gradient by the forward pass's mask.
type dropoutGrad dropout

func (dropoutGrad) Name() string { return "dropout_grad" }

func (dropoutGrad) OutShape(in []tensor.Shape) (tensor.Shape, error) { return in[0].Clone(), nil }

func (d dropoutGrad) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(d.st, out, in, applyMask[float32], applyMask[float64])
}

func (dropoutGrad) Backward(G.Nodes, *G.Node, *G.Node, []bool) (G.Nodes, error) {
	return nil, errSecondOrder
}
