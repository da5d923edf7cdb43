package ops

import (
	"fmt"

	"github.com/dltrain/dltrain/pkg/compute"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Softmax normalizes the last axis of x, of any rank ≥ 1, into
// probabilities, as PyTorch's F.softmax(x, dim=−1): [B, H, T, T] attention
// scores give each query's weights over the keys. It subtracts each row's
// maximum before exponentiating, so large logits do not overflow, and a
// row holding −Inf (a masked key, see MaskedFill and AddMask) gives that
// position 0. The gradient is y ⊙ (dy − Σ dy⊙y) row by row, from the
// output y. The arithmetic is that of Activate(x, "softmax", 0), bit for
// bit; this op also spreads the rows over compute's threads, forward and
// backward.
func Softmax(x *G.Node) (*G.Node, error) { return Apply(&softmaxLast{}, nil, x) }

// softmaxLast is softmax over the last axis, its rows cut over threads;
// with backward it is the gradient, from (y, dy).
type softmaxLast struct {
	backward bool
	j32      rowsJob[float32]
	j64      rowsJob[float64]
}

func (k *softmaxLast) Name() string {
	if k.backward {
		return "softmax_grad"
	}
	return "softmax"
}

func (k *softmaxLast) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	if in[0].Dims() < 1 {
		return nil, fmt.Errorf("want at least one axis, got %v", in[0])
	}
	if k.backward && !sameShape(in[0], in[1]) {
		return nil, fmt.Errorf("output %v and gradient %v differ", in[0], in[1])
	}
	return in[0].Clone(), nil
}

func (k *softmaxLast) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, softmaxLastBody[float32], softmaxLastBody[float64])
}

// softmaxLastBody hands the rows to compute.Parallel in parts of at least
// about 16k values.
func softmaxLastBody[T compute.Float](k *softmaxLast, out []T, in []*tensor.Dense) error {
	n, j := lastAxis(in[0]), jobOf[rowsJob[T]](&k.j32, &k.j64)
	*j = rowsJob[T]{backward: k.backward, out: out, x: data[T](in[0]), n: n}
	if k.backward {
		j.dy = data[T](in[1])
	}
	if n > 0 {
		compute.Parallel(len(out)/n, max(1, (1<<14)/n), j)
	}
	*j = rowsJob[T]{} // keep no tensor alive
	return nil
}

// rowsJob is the softmax (or its gradient, x being y) of rows lo to hi−1.
type rowsJob[T compute.Float] struct {
	backward   bool
	out, x, dy []T
	n          int
}

func (j *rowsJob[T]) Run(lo, hi int) {
	a, b := lo*j.n, hi*j.n
	if j.backward {
		softmaxBackward(j.out[a:b], j.x[a:b], j.dy[a:b], j.n)
	} else {
		softmaxRows(j.out[a:b], j.x[a:b], j.n)
	}
}

func (k *softmaxLast) Backward(_ G.Nodes, out, grad *G.Node, _ []bool) (G.Nodes, error) {
	if k.backward {
		return nil, errSecondOrder
	}
	g, err := Apply(&softmaxLast{backward: true}, []bool{false, true}, out, grad)
	return G.Nodes{g}, err
}
