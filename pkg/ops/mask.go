package ops

import (
	"fmt"
	"math"

	"github.com/dltrain/dltrain/pkg/compute"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// MaskedFill returns x with value wherever mask is not zero, as PyTorch's
// x.masked_fill(mask, value). mask broadcasts to x's shape (see
// BroadcastAdd) without enlarging it: a key-padding mask [B, 1, 1, T] or a
// causal mask [T, T] over attention scores [B, H, T, T]. The gradient of x
// is the incoming gradient where mask is zero and 0 where it is not; mask
// gets no gradient. value may be −Inf: a softmax after it then gives the
// masked positions probability 0 (and NaN to a row masked entirely, as
// PyTorch does).
func MaskedFill(x, mask *G.Node, value float64) (*G.Node, error) {
	return Apply(maskedFill{value: value}, []bool{true, false}, x, mask)
}

// AddMask returns x + mask with mask broadcast to x's shape without
// enlarging it: an additive attention mask holding 0 where a position is
// kept and a large negative number or −Inf where it is masked (see
// CausalMask). mask gets no gradient; x gets the incoming gradient, which
// a softmax after the mask has already made 0 at the masked positions.
func AddMask(x, mask *G.Node) (*G.Node, error) {
	if !broadcastsTo(mask.Shape(), x.Shape()) {
		return nil, fmt.Errorf("add_mask: mask %v does not broadcast to %v", mask.Shape(), x.Shape())
	}
	return Apply(broadcast{}, []bool{true, false}, x, mask)
}

// CausalMask returns the [t, t] additive mask of a causal (decoder)
// attention, in dtype dt: 0 where the key position j ≤ the query position
// i, −Inf above the diagonal.
func CausalMask(dt tensor.Dtype, t int) *tensor.Dense {
	m := tensor.New(tensor.WithShape(t, t), tensor.Of(dt))
	for i := range t {
		for j := i + 1; j < t; j++ {
			if dt == tensor.Float32 {
				data[float32](m)[i*t+j] = float32(math.Inf(-1))
			} else {
				data[float64](m)[i*t+j] = math.Inf(-1)
			}
		}
	}
	return m
}

type maskedFill struct{ value float64 }

func (k maskedFill) Name() string { return fmt.Sprintf("masked_fill(%v)", k.value) }

func (maskedFill) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	if in[0].Dims() > maxRank {
		return nil, fmt.Errorf("%v has more than %d axes", in[0], maxRank)
	}
	if !broadcastsTo(in[1], in[0]) {
		return nil, fmt.Errorf("mask %v does not broadcast to %v", in[1], in[0])
	}
	return in[0].Clone(), nil
}

func (k maskedFill) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, maskedFillBody[float32], maskedFillBody[float64])
}

// maskedFillBody writes x, or the fill where mask is not zero, into out,
// walking x's shape with the mask broadcast to it.
func maskedFillBody[T compute.Float](k maskedFill, out []T, in []*tensor.Dense) error {
	w := newBroadcastWalk(in[0].Shape(), in[0].Shape(), in[1].Shape())
	x, mask, fill := data[T](in[0]), data[T](in[1]), T(k.value)
	n, sb := w.size[w.n-1], w.sb[w.n-1]
	w.rows(func(o, _, ob int) {
		for i, v := range x[o : o+n] {
			if mask[ob+i*sb] != 0 {
				v = fill
			}
			out[o+i] = v
		}
	})
	return nil
}

func (maskedFill) Backward(in G.Nodes, _, grad *G.Node, _ []bool) (G.Nodes, error) {
	g, err := Apply(maskedFill{value: 0}, []bool{true, false}, grad, in[1])
	return G.Nodes{g, nil}, err
}
