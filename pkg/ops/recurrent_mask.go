package ops

import (
	"fmt"

	"github.com/dltrain/dltrain/pkg/compute"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Padding masks for the recurrent op: sequences of different lengths in
// one batch, padded at the end, as PyTorch's pack_padded_sequence runs
// them. The rest of the op (recurrent.go) calls maskedStep and clearStep
// at each step of a masked op and is otherwise unchanged.

// RecurrentMasked is Recurrent over sequences of different lengths: keep
// [B, T] holds 1 at a sequence's real steps and 0 at its padding, which
// must come after the real steps (each row 1…1 0…0; a row of zeros is an
// empty sequence). As PyTorch's nn.RNN/LSTM/GRU on a pack_padded_sequence
// with the lengths keep gives: a forward direction runs steps 0..L−1, a
// reverse one starts from the zero state at step L−1 and ends at step 0,
// padded steps update no state, and their outputs are zero (as
// pad_packed_sequence's); their gradients are ignored. keep gets no
// gradient; a row that is not 1s then 0s is an error when the op runs.
func RecurrentMasked(x, keep *G.Node, cell Cell, wrtX bool, dirs ...RecurrentWeights) (*G.Node, error) {
	if keep == nil {
		return Recurrent(x, cell, wrtX, dirs...)
	}
	if cell < CellRNNTanh || cell > CellGRU {
		return nil, fmt.Errorf("unknown recurrent cell %d", int(cell))
	}
	if len(dirs) == 0 || len(dirs) > 2 {
		return nil, fmt.Errorf("%v: want the weights of 1 or 2 directions, got %d", cell, len(dirs))
	}
	st := &recState{cell: cell, dirs: make([]recDir, len(dirs)), masked: true}
	in, wrt := []*G.Node{x}, []bool{wrtX}
	for i, d := range dirs {
		st.dirs[i].reverse = d.Reverse
		in = append(in, d.IH, d.HH, d.BiasIH, d.BiasHH)
		wrt = append(wrt, true, true, true, true)
	}
	return Apply(recurrent{st}, append(wrt, false), append(in, keep)...)
}

// maskInputs is how many mask inputs an op has.
func maskInputs(masked bool) int {
	if masked {
		return 1
	}
	return 0
}

// checkRecMask checks a masked op's mask against x [B, T, F].
func checkRecMask(masked bool, x, keep tensor.Shape) error {
	if masked && (keep.Dims() != 2 || keep[0] != x[0] || keep[1] != x[1]) {
		return fmt.Errorf("want a padding mask [batch, time] = [%d, %d] for x %v, got %v", x[0], x[1], x, keep)
	}
	return nil
}

// recLengths reads the lengths of a masked op's sequences from its mask
// (its last input) into st.lens; nil when the op is not masked.
func recLengths[T compute.Float](st *recState, in []*tensor.Dense) ([]int, error) {
	if !st.masked {
		return nil, nil
	}
	keep := in[len(in)-1]
	s := keep.Shape()
	var err error
	st.lens, err = maskLengths(data[T](keep), s[0], s[1], st.lens)
	return st.lens, err
}

// maskLengths returns the length of each of the b rows of a padding
// mask [b, t] (the count of its leading non-zero values) in lens, grown as
// needed; a non-zero value after a zero is an error.
func maskLengths[T compute.Float](keep []T, b, t int, lens []int) ([]int, error) {
	if cap(lens) < b {
		lens = make([]int, b)
	}
	lens = lens[:b]
	for r := range b {
		row := keep[r*t : (r+1)*t]
		n := 0
		for n < t && row[n] != 0 {
			n++
		}
		for p := n; p < t; p++ {
			if row[p] != 0 {
				return nil, fmt.Errorf("padding mask row %d has a real step (%v) at position %d after padding at position %d; padding must come after the real steps", r, row[p], p, n)
			}
		}
		lens[r] = n
	}
	return lens, nil
}

// maskedStep says, for a sequence of length n, whether position p is
// padding, and the previous state's row: prow, or −1 (the zero state)
// when the previous position q is padding, where a reverse direction
// starts.
func maskedStep(n, p, q, prow int) (bool, int) {
	if p >= n {
		return true, prow
	}
	if q >= n {
		return false, -1
	}
	return false, prow
}

// clearStep zeroes the gradients of padded position row of batch item r,
// and those it carries to the previous step.
func (w *recWork[T]) clearStep(c Cell, d recDims, r, row int) {
	clear(w.dg[row*d.gh : (row+1)*d.gh])
	clear(w.dgh[r*d.gh : (r+1)*d.gh])
	clear(w.carry[r*d.h : (r+1)*d.h])
	if c == CellLSTM {
		clear(w.dc[r*d.h : (r+1)*d.h])
	}
}

// RecurrentLastMasked is RecurrentLast for the output h [B, T, D·H] of a
// masked op: a forward direction's last state is at position L−1 of each
// sequence of length L, a reverse one's at position 0 (PyTorch's h_n of a
// packed sequence); an empty sequence's is zero. keep is the op's mask.
func RecurrentLastMasked(h, keep *G.Node, reverse ...bool) (*G.Node, error) {
	if keep == nil {
		return RecurrentLast(h, reverse...)
	}
	if len(reverse) == 0 {
		return nil, fmt.Errorf("recurrent_last: no direction")
	}
	return Apply(recLastMasked{reverse: reverse, st: &recLastState{}}, []bool{true, false}, h, keep)
}

// recLastMasked picks each sequence's last states; recLastMaskedGrad puts
// the gradient back there. They share the lengths of the forward pass.
type recLastMasked struct {
	reverse []bool
	st      *recLastState
}

type recLastState struct{ lens []int }

func (recLastMasked) Name() string { return "recurrent_last_masked" }

func (k recLastMasked) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	s, err := recLast{reverse: k.reverse}.OutShape(in[:1])
	if err != nil {
		return nil, err
	}
	h, keep := in[0], in[1]
	if keep.Dims() != 2 || keep[0] != h[0] || keep[1] != h[1] {
		return nil, fmt.Errorf("want a padding mask [batch, time] = [%d, %d] for states %v, got %v", h[0], h[1], h, keep)
	}
	return s, nil
}

// positions calls f with each direction's offset in a state row and the
// position of row r's last state in it (−1: an empty sequence).
func (k recLastMasked) positions(r, size int, f func(off, pos int)) {
	h := size / len(k.reverse)
	n := k.st.lens[r]
	for i, rev := range k.reverse {
		pos := n - 1
		if rev && n > 0 {
			pos = 0
		}
		f(i*h, pos)
	}
}

func (k recLastMasked) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, recLastMaskedBody[float32], recLastMaskedBody[float64])
}

func recLastMaskedBody[T compute.Float](k recLastMasked, o []T, in []*tensor.Dense) error {
	s := in[0].Shape()
	b, t, w := s[0], s[1], s[2]
	var err error
	if k.st.lens, err = maskLengths(data[T](in[1]), b, t, k.st.lens); err != nil {
		return err
	}
	h, hd := data[T](in[0]), w/len(k.reverse)
	for r := range b {
		k.positions(r, w, func(off, pos int) {
			dst := o[r*w+off : r*w+off+hd]
			if pos < 0 {
				clear(dst)
				return
			}
			copy(dst, h[(r*t+pos)*w+off:])
		})
	}
	return nil
}

func (k recLastMasked) Backward(in G.Nodes, _, grad *G.Node, _ []bool) (G.Nodes, error) {
	g, err := Apply(recLastMaskedGrad{k: k, t: in[0].Shape()[1]}, []bool{true}, grad)
	return G.Nodes{g, nil}, err
}

type recLastMaskedGrad struct {
	k recLastMasked
	t int
}

func (recLastMaskedGrad) Name() string { return "recurrent_last_masked_grad" }

func (k recLastMaskedGrad) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	return recLastGrad{k: recLast{reverse: k.k.reverse}, t: k.t}.OutShape(in)
}

func (k recLastMaskedGrad) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, recLastMaskedGradBody[float32], recLastMaskedGradBody[float64])
}

func recLastMaskedGradBody[T compute.Float](k recLastMaskedGrad, o []T, in []*tensor.Dense) error {
	s := in[0].Shape()
	b, w := s[0], s[1]
	g, hd := data[T](in[0]), w/len(k.k.reverse)
	clear(o)
	for r := range b {
		k.k.positions(r, w, func(off, pos int) {
			if pos >= 0 {
				copy(o[(r*k.t+pos)*w+off:(r*k.t+pos)*w+off+hd], g[r*w+off:r*w+off+hd])
			}
		})
	}
	return nil
}

func (recLastMaskedGrad) Backward(G.Nodes, *G.Node, *G.Node, []bool) (G.Nodes, error) {
	return nil, errSecondOrder
}
