package ops

import (
	"fmt"

	"github.com/dltrain/dltrain/pkg/compute"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Permute returns x with its axes reordered: axis i of the result is axis
// perm[i] of x, as PyTorch's x.permute(*perm). It copies into a dense
// result. The gradient is the incoming gradient permuted back.
func Permute(x *G.Node, perm ...int) (*G.Node, error) {
	if err := checkPerm(perm, x.Dims()); err != nil {
		return nil, fmt.Errorf("permute: %w", err)
	}
	return Apply(permute{perm: append([]int(nil), perm...)}, nil, x)
}

// Transpose returns x with axes i and j swapped (either may count from the
// end, −1 being the last), as PyTorch's x.transpose(i, j): [B, T, H, D]
// with (1, 2) gives [B, H, T, D].
func Transpose(x *G.Node, i, j int) (*G.Node, error) {
	r := x.Dims()
	a, err := normAxis(i, r)
	if err != nil {
		return nil, fmt.Errorf("transpose: %w", err)
	}
	b, err := normAxis(j, r)
	if err != nil {
		return nil, fmt.Errorf("transpose: %w", err)
	}
	perm := make([]int, r)
	for k := range perm {
		perm[k] = k
	}
	perm[a], perm[b] = b, a
	return Permute(x, perm...)
}

func checkPerm(perm []int, rank int) error {
	if len(perm) != rank {
		return fmt.Errorf("permutation %v of %d axes for a tensor of %d", perm, len(perm), rank)
	}
	if rank > maxRank {
		return fmt.Errorf("%d axes, at most %d supported", rank, maxRank)
	}
	seen := make([]bool, rank)
	for _, p := range perm {
		if p < 0 || p >= rank || seen[p] {
			return fmt.Errorf("%v is not a permutation of 0..%d", perm, rank-1)
		}
		seen[p] = true
	}
	return nil
}

type permute struct{ perm []int }

func (k permute) Name() string { return fmt.Sprintf("permute%v", k.perm) }

func (k permute) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	if err := checkPerm(k.perm, in[0].Dims()); err != nil {
		return nil, err
	}
	out := make(tensor.Shape, len(k.perm))
	for i, p := range k.perm {
		out[i] = in[0][p]
	}
	return out, nil
}

func (k permute) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, permuteBody[float32], permuteBody[float64])
}

func permuteBody[T compute.Float](k permute, o []T, in []*tensor.Dense) error {
	w := k.walk(in[0].Shape())
	gatherStrided(&w, o, data[T](in[0]))
	return nil
}

// walk iterates over the output's shape reading x (shape s) through its
// permuted strides.
func (k permute) walk(s tensor.Shape) walk {
	var st [maxRank]int
	stride := 1
	for i := len(s) - 1; i >= 0; i-- {
		st[i] = stride
		stride *= s[i]
	}
	var w walk
	w.n = len(k.perm)
	for i, p := range k.perm {
		w.size[i], w.sa[i] = s[p], st[p]
	}
	w.merge()
	return w
}

// gatherStrided copies the strided view of x that w describes (operand a)
// into the dense out.
func gatherStrided[T compute.Float](w *walk, out, x []T) {
	n, sa := w.size[w.n-1], w.sa[w.n-1]
	w.rows(func(o, oa, _ int) {
		if sa == 1 {
			copy(out[o:o+n], x[oa:oa+n])
			return
		}
		for i := range out[o : o+n] {
			out[o+i] = x[oa+i*sa]
		}
	})
}

func (k permute) Backward(_ G.Nodes, _, grad *G.Node, _ []bool) (G.Nodes, error) {
	inv := make([]int, len(k.perm))
	for i, p := range k.perm {
		inv[p] = i
	}
	g, err := Apply(permute{perm: inv}, nil, grad)
	return G.Nodes{g}, err
}
