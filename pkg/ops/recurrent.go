package ops

import (
	"fmt"

	"github.com/dltrain/dltrain/pkg/compute"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Cell is the kind of a recurrent cell. Gates, their order in the weight
// matrices and the formulas are PyTorch's (nn.RNN, nn.LSTM, nn.GRU), so
// that weights map one to one.
type Cell int

const (
	// CellRNNTanh is nn.RNN: h' = tanh(W_ih x + b_ih + W_hh h + b_hh).
	CellRNNTanh Cell = iota
	// CellRNNRelu is nn.RNN with nonlinearity='relu'.
	CellRNNRelu
	// CellLSTM is nn.LSTM, gates i, f, g, o: c' = f⊙c + i⊙g,
	// h' = o⊙tanh(c').
	CellLSTM
	// CellGRU is nn.GRU, gates r, z, n: n = tanh(W_in x + b_in +
	// r⊙(W_hn h + b_hn)), h' = (1 − z)⊙n + z⊙h.
	CellGRU
)

// Gates is how many blocks of H rows the cell's weight matrices have.
func (c Cell) Gates() int {
	switch c {
	case CellLSTM:
		return 4
	case CellGRU:
		return 3
	}
	return 1
}

// String names the cell.
func (c Cell) String() string {
	return [...]string{"rnn_tanh", "rnn_relu", "lstm", "gru"}[c]
}

// RecurrentWeights are one direction's parameters of a recurrent layer,
// in PyTorch's layout (G = the cell's Gates()): IH [G·H, F], HH [G·H, H],
// BiasIH and BiasHH [G·H]. A Reverse direction reads the sequence from its
// last step to its first, and position t of its output is the state after
// reading x[t], as the backward direction of PyTorch's bidirectional
// layers.
type RecurrentWeights struct {
	IH, HH, BiasIH, BiasHH *G.Node
	Reverse                bool
}

// Recurrent runs one recurrent layer over a whole sequence as one op: x
// [B, T, F] and each direction's weights, the initial state zero, give
// every step's hidden state, the directions side by side: [B, T, D·H] for
// D directions (two make a bidirectional layer). The input projection of
// all steps is one product ([B·T, F] × [F, G·H]) per direction; each step
// then adds one [B, H] × [H, G·H] product. The op keeps the gates (and
// cell states) of every step for its gradient, which is backpropagation
// through time over the sequence in one op; the directions' gradients of
// x are summed inside it. When wrtX is false the gradient of x is not
// computed.
func Recurrent(x *G.Node, cell Cell, wrtX bool, dirs ...RecurrentWeights) (*G.Node, error) {
	if cell < CellRNNTanh || cell > CellGRU {
		return nil, fmt.Errorf("unknown recurrent cell %d", int(cell))
	}
	if len(dirs) == 0 || len(dirs) > 2 {
		return nil, fmt.Errorf("%v: want the weights of 1 or 2 directions, got %d", cell, len(dirs))
	}
	st := &recState{cell: cell, dirs: make([]recDir, len(dirs))}
	in, wrt := []*G.Node{x}, []bool{wrtX}
	for i, d := range dirs {
		st.dirs[i].reverse = d.Reverse
		in = append(in, d.IH, d.HH, d.BiasIH, d.BiasHH)
		wrt = append(wrt, true, true, true, true)
	}
	return Apply(recurrent{st}, wrt, in...)
}

// recState is what a recurrent op shares with its gradient: the cell, the
// directions and the per-step values of the last forward pass, in the
// element type it ran in.
type recState struct {
	cell Cell
	dirs []recDir
	// masked: the op's last input is a padding mask [B, T]
	// (recurrent_mask.go); lens are its rows' lengths in the last pass.
	masked bool
	lens   []int
}

// weights is the number of weight inputs, 4 per direction.
func (st *recState) weights() int { return 4 * len(st.dirs) }

// recDir is one direction of a recurrent op.
type recDir struct {
	reverse bool
	w32     recWork[float32]
	w64     recWork[float64]
}

// recWork holds one direction's buffers, reused from step to step.
type recWork[T compute.Float] struct {
	// gates [B·T, G·H]: the forward pass first writes the input projection
	// of every step there, then each step's activated gates over it.
	gates []T
	// cells [B·T, H]: LSTM cell states; for a GRU, W_hn h + b_hn.
	cells []T
	hh    []T // [B, G·H]: one step's W_hh h + b_hh
	// Backward: dg [B·T, G·H] is the gradient of the input-side
	// pre-activations of every step, dgh [B, G·H] one step's hidden-side
	// one; dht, carry and dc are [B, H], tc [H].
	dg, dgh, dht, carry, dc, tc []T
}

// resize returns s with length n, reusing its array when large enough.
func resize[T compute.Float](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// recDims are the sizes a recurrent op runs with: os is the output's row
// stride (D·H), off the direction's offset in a row.
type recDims struct{ b, t, f, h, gh, os, off int }

func recDimsOf(in []*tensor.Dense, dirs int) recDims {
	xs, ws := in[0].Shape(), in[2].Shape()
	return recDims{b: xs[0], t: xs[1], f: xs[2], h: ws[1], gh: ws[0], os: dirs * ws[1]}
}

// pos is the time position read at step s.
func (d *recDir) pos(s, t int) int {
	if d.reverse {
		return t - 1 - s
	}
	return s
}

// prev is the position of the state before position p.
func (d *recDir) prev(p int) int {
	if d.reverse {
		return p + 1
	}
	return p - 1
}

// state is the state of row row (of [B·T]) in an output with d's layout.
func state[T compute.Float](out []T, d recDims, row int) []T {
	return out[row*d.os+d.off : row*d.os+d.off+d.h]
}

type recurrent struct{ st *recState }

func (k recurrent) Name() string {
	if len(k.st.dirs) == 2 {
		return "bidirectional_" + k.st.cell.String()
	}
	if k.st.dirs[0].reverse {
		return k.st.cell.String() + "_reverse"
	}
	return k.st.cell.String()
}

func (k recurrent) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	x := in[0]
	if x.Dims() != 3 || x[1] < 1 {
		return nil, fmt.Errorf("want x [batch, time, features] with time ≥ 1, got %v", x)
	}
	if len(in) != 1+k.st.weights()+maskInputs(k.st.masked) {
		return nil, fmt.Errorf("want x and 4 weights per direction, got %d inputs", len(in))
	}
	if err := checkRecMask(k.st.masked, x, in[len(in)-1]); err != nil {
		return nil, err
	}
	var h int
	for i := range k.st.dirs {
		hi, err := checkRecWeights(k.st.cell.Gates(), x, in[1+4*i:5+4*i])
		if err != nil {
			return nil, err
		}
		if i > 0 && hi != h {
			return nil, fmt.Errorf("directions of %d and %d units", h, hi)
		}
		h = hi
	}
	return tensor.Shape{x[0], x[1], len(k.st.dirs) * h}, nil
}

// checkRecWeights checks one direction's weights against x and returns H.
func checkRecWeights(g int, x tensor.Shape, w []tensor.Shape) (int, error) {
	wih, whh, bih, bhh := w[0], w[1], w[2], w[3]
	if whh.Dims() != 2 || whh[0] != g*whh[1] || whh[1] < 1 {
		return 0, fmt.Errorf("want weight_hh [%d·H, H], got %v", g, whh)
	}
	gh := whh[0]
	if wih.Dims() != 2 || wih[0] != gh || wih[1] != x[2] {
		return 0, fmt.Errorf("want weight_ih [%d, %d] for x %v and weight_hh %v, got %v", gh, x[2], x, whh, wih)
	}
	if bih.Dims() != 1 || bih[0] != gh || bhh.Dims() != 1 || bhh[0] != gh {
		return 0, fmt.Errorf("want bias_ih and bias_hh [%d], got %v and %v", gh, bih, bhh)
	}
	return whh[1], nil
}

func (k recurrent) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, recurrentBody[float32], recurrentBody[float64])
}

func recurrentBody[T compute.Float](k recurrent, out []T, in []*tensor.Dense) error {
	d := recDimsOf(in, len(k.st.dirs))
	lens, err := recLengths[T](k.st, in)
	if err != nil {
		return err
	}
	for i := range k.st.dirs {
		d.off = i * d.h
		directionForward(k.st.cell, &k.st.dirs[i], d, out, in[0], in[1+4*i:5+4*i], lens)
	}
	return nil
}

// directionForward runs one direction over the sequence x with weights w
// (weight_ih, weight_hh, bias_ih, bias_hh) into its part of out. lens,
// when not nil, are the sequences' lengths: see recurrent_mask.go.
func directionForward[T compute.Float](cell Cell, dir *recDir, d recDims, out []T, xt *tensor.Dense, w []*tensor.Dense, lens []int) {
	x, wih, whh := data[T](xt), data[T](w[0]), data[T](w[1])
	bih, bhh := data[T](w[2]), data[T](w[3])
	wk := jobOf[recWork[T]](&dir.w32, &dir.w64)
	rows := d.b * d.t
	wk.gates = resize(wk.gates, rows*d.gh)
	wk.hh = resize(wk.hh, d.b*d.gh)
	if cell == CellLSTM || cell == CellGRU {
		wk.cells = resize(wk.cells, rows*d.h)
	}
	for r := range rows {
		copy(wk.gates[r*d.gh:(r+1)*d.gh], bih)
	}
	compute.Gemm(false, true, rows, d.gh, d.f, 1, x, d.f, wih, d.f, 1, wk.gates, d.gh)
	for s := range d.t {
		p, q := dir.pos(s, d.t), -1
		for r := range d.b {
			copy(wk.hh[r*d.gh:(r+1)*d.gh], bhh)
		}
		if s > 0 {
			q = dir.prev(p)
			compute.Gemm(false, true, d.b, d.gh, d.h, 1, out[q*d.os+d.off:], d.t*d.os, whh, d.h, 1, wk.hh, d.gh)
		}
		for r := range d.b {
			row, prow := r*d.t+p, -1
			if q >= 0 {
				prow = r*d.t + q
			}
			if lens != nil { // padding: recurrent_mask.go
				var pad bool
				if pad, prow = maskedStep(lens[r], p, q, prow); pad {
					clear(state(out, d, row))
					continue
				}
			}
			cellForward(cell, wk, out, d, r, row, prow)
		}
	}
}

// cellForward runs one step of batch item r: row is its position's row in
// [B·T, ·], prow the previous state's row or −1 for the zero state.
func cellForward[T compute.Float](c Cell, w *recWork[T], out []T, d recDims, r, row, prow int) {
	g := w.gates[row*d.gh : (row+1)*d.gh]
	hh := w.hh[r*d.gh : (r+1)*d.gh]
	h := state(out, d, row)
	var hp, cp []T
	if prow >= 0 {
		hp = state(out, d, prow)
		if c == CellLSTM {
			cp = w.cells[prow*d.h : (prow+1)*d.h]
		}
	}
	switch c {
	case CellRNNTanh, CellRNNRelu:
		rnnForward(c, g, hh, h)
	case CellLSTM:
		lstmForward(g, hh, w.cells[row*d.h:(row+1)*d.h], cp, h)
	case CellGRU:
		gruForward(g, hh, w.cells[row*d.h:(row+1)*d.h], hp, h)
	}
}

// Backward is backpropagation through time over the sequence in one op,
// whose output packs the gradients of x (when asked) and of each
// direction's weight_ih, weight_hh, bias_ih and bias_hh one after the
// other; segment ops cut them out.
func (k recurrent) Backward(in G.Nodes, out, grad *G.Node, wrt []bool) (G.Nodes, error) {
	bk := recurrentGrad{st: k.st, wrtX: wrt[0]}
	args := append(append(G.Nodes{}, in...), out, grad)
	wrtArgs := make([]bool, len(args))
	wrtArgs[len(args)-1] = true
	packed, err := Apply(bk, wrtArgs, args...)
	if err != nil {
		return nil, err
	}
	gs := make(G.Nodes, len(in))
	off := 0
	for i, n := range in[:1+k.st.weights()] {
		if i == 0 && !wrt[0] {
			continue
		}
		s := n.Shape().Clone()
		if gs[i], err = Apply(segment{off: off, shape: s}, nil, packed); err != nil {
			return nil, err
		}
		off += s.TotalSize()
	}
	return gs, nil
}

// recurrentGrad is backpropagation through time: from the recurrent op's
// inputs, its output and the output's gradient, and the gates kept by the
// forward pass, the packed gradients of the recurrent op's inputs.
type recurrentGrad struct {
	st   *recState
	wrtX bool
}

func (k recurrentGrad) Name() string { return recurrent{k.st}.Name() + "_bptt" }

func (k recurrentGrad) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	n := len(in)
	if n != 3+k.st.weights()+maskInputs(k.st.masked) || !in[n-1].Eq(in[n-2]) {
		return nil, fmt.Errorf("want the op's inputs, its output and a gradient of its shape, got %v", in)
	}
	size := 0
	for _, s := range in[1 : 1+k.st.weights()] {
		size += s.TotalSize()
	}
	if k.wrtX {
		size += in[0].TotalSize()
	}
	return tensor.Shape{size}, nil
}

func (k recurrentGrad) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, recurrentGradBody[float32], recurrentGradBody[float64])
}

func recurrentGradBody[T compute.Float](k recurrentGrad, o []T, in []*tensor.Dense) error {
	n := len(in)
	d := recDimsOf(in, len(k.st.dirs))
	hs, dy := data[T](in[n-2]), data[T](in[n-1])
	var dx []T
	if k.wrtX {
		dx, o = o[:d.b*d.t*d.f], o[d.b*d.t*d.f:]
	}
	var lens []int
	if k.st.masked {
		lens = k.st.lens // the forward pass's
	}
	for i := range k.st.dirs {
		d.off = i * d.h
		w := in[1+4*i : 5+4*i]
		size := 0
		for _, t := range w {
			size += t.Shape().TotalSize()
		}
		var dxi []T
		if k.wrtX {
			dxi = dx
		}
		if err := directionBackward(k.st.cell, &k.st.dirs[i], d, o[:size], dxi, i > 0, in[0], w, hs, dy, lens); err != nil {
			return err
		}
		o = o[size:]
	}
	return nil
}

// directionBackward differentiates one direction: it writes the gradients
// of its weights, packed, into o, and writes (or with accumulate adds)
// the gradient of x into dx when dx is not nil. lens are the forward
// pass's sequence lengths, or nil.
func directionBackward[T compute.Float](cell Cell, dir *recDir, d recDims, o, dx []T, accumulate bool,
	xt *tensor.Dense, wt []*tensor.Dense, hs, dy []T, lens []int) error {
	x, wih, whh := data[T](xt), data[T](wt[0]), data[T](wt[1])
	w := jobOf[recWork[T]](&dir.w32, &dir.w64)
	rows := d.b * d.t
	if len(w.gates) != rows*d.gh {
		return fmt.Errorf("no forward pass of %v to differentiate", xt.Shape())
	}
	dwih, o := o[:d.gh*d.f], o[d.gh*d.f:]
	dwhh, o := o[:d.gh*d.h], o[d.gh*d.h:]
	dbih, dbhh := o[:d.gh], o[d.gh:]
	clear(dwhh)
	clear(dbhh)
	w.dg = resize(w.dg, rows*d.gh)
	w.dgh = resize(w.dgh, d.b*d.gh)
	w.dht = resize(w.dht, d.b*d.h)
	w.carry = resize(w.carry, d.b*d.h)
	w.dc = resize(w.dc, d.b*d.h)
	w.tc = resize(w.tc, d.h)
	clear(w.carry)
	clear(w.dc)
	for s := d.t - 1; s >= 0; s-- {
		p, q := dir.pos(s, d.t), -1
		if s > 0 {
			q = dir.prev(p)
		}
		for r := range d.b {
			row, prow := r*d.t+p, -1
			if q >= 0 {
				prow = r*d.t + q
			}
			if lens != nil { // padding: recurrent_mask.go
				var pad bool
				if pad, prow = maskedStep(lens[r], p, q, prow); pad {
					w.clearStep(cell, d, r, row)
					continue
				}
			}
			dht := w.dht[r*d.h : (r+1)*d.h]
			copy(dht, state(dy, d, row))
			compute.Add(dht, w.carry[r*d.h:(r+1)*d.h])
			cellBackward(cell, w, hs, d, r, row, prow)
		}
		for r := range d.b {
			compute.Add(dbhh, w.dgh[r*d.gh:(r+1)*d.gh])
		}
		if q >= 0 {
			compute.Gemm(true, false, d.gh, d.h, d.b, 1, w.dgh, d.gh, hs[q*d.os+d.off:], d.t*d.os, 1, dwhh, d.h)
			compute.Gemm(false, false, d.b, d.h, d.gh, 1, w.dgh, d.gh, whh, d.h, 1, w.carry, d.h)
		}
	}
	if dx != nil {
		beta := T(0)
		if accumulate {
			beta = 1
		}
		compute.Gemm(false, false, rows, d.f, d.gh, 1, w.dg, d.gh, wih, d.f, beta, dx, d.f)
	}
	compute.Gemm(true, false, d.gh, d.f, rows, 1, w.dg, d.gh, x, d.f, 0, dwih, d.f)
	clear(dbih)
	for r := range rows {
		compute.Add(dbih, w.dg[r*d.gh:(r+1)*d.gh])
	}
	return nil
}

// cellBackward differentiates one step of batch item r, from the
// gradient of its state in w.dht: it writes the input-side gate
// gradients into w.dg's row, the hidden-side ones into w.dgh's row r,
// the part of the previous state's gradient that does not go through
// weight_hh into w.carry's row r, and (LSTM) the cell state's into w.dc.
func cellBackward[T compute.Float](c Cell, w *recWork[T], hs []T, d recDims, r, row, prow int) {
	dg := w.dg[row*d.gh : (row+1)*d.gh]
	dgh := w.dgh[r*d.gh : (r+1)*d.gh]
	dht := w.dht[r*d.h : (r+1)*d.h]
	carry := w.carry[r*d.h : (r+1)*d.h]
	h := state(hs, d, row)
	var hp, cp []T
	if prow >= 0 {
		hp = state(hs, d, prow)
		if c == CellLSTM {
			cp = w.cells[prow*d.h : (prow+1)*d.h]
		}
	}
	switch c {
	case CellRNNTanh, CellRNNRelu:
		rnnBackward(c, dg, h, dht)
		clear(carry)
	case CellLSTM:
		g := w.gates[row*d.gh : (row+1)*d.gh]
		lstmBackward(dg, g, w.cells[row*d.h:(row+1)*d.h], cp, dht, w.dc[r*d.h:(r+1)*d.h], w.tc)
		clear(carry)
	case CellGRU:
		g := w.gates[row*d.gh : (row+1)*d.gh]
		gruBackward(dg, dgh, g, w.cells[row*d.h:(row+1)*d.h], hp, dht, carry)
		return
	}
	copy(dgh, dg)
}

func (recurrentGrad) Backward(G.Nodes, *G.Node, *G.Node, []bool) (G.Nodes, error) {
	return nil, errSecondOrder
}

// segment is the part [off, off+size) of a flat tensor, in shape.
type segment struct {
	off   int
	shape tensor.Shape
}

func (segment) Name() string { return "segment" }

func (k segment) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	if in[0].TotalSize() < k.off+k.shape.TotalSize() {
		return nil, fmt.Errorf("%v holds no %v at %d", in[0], k.shape, k.off)
	}
	return k.shape.Clone(), nil
}

func (k segment) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, segmentBody[float32], segmentBody[float64])
}

func segmentBody[T compute.Float](k segment, o []T, in []*tensor.Dense) error {
	copy(o, data[T](in[0])[k.off:])
	return nil
}

func (segment) Backward(G.Nodes, *G.Node, *G.Node, []bool) (G.Nodes, error) {
	return nil, errSecondOrder
}

// RecurrentLast returns each direction's last state from a recurrent op's
// output h [B, T, D·H]: position T−1 of a forward direction, position 0 of
// a reverse one (PyTorch's h_n), side by side as [B, D·H]. reverse lists
// the directions, as given to Recurrent.
func RecurrentLast(h *G.Node, reverse ...bool) (*G.Node, error) {
	if len(reverse) == 0 {
		return nil, fmt.Errorf("recurrent_last: no direction")
	}
	return Apply(recLast{reverse: reverse}, nil, h)
}

// recLast picks the last state of each direction; recLastGrad puts the
// gradient back at those positions (zero elsewhere).
type recLast struct{ reverse []bool }

func (recLast) Name() string { return "recurrent_last" }

func (k recLast) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	h := in[0]
	if h.Dims() != 3 || h[1] < 1 || h[2]%len(k.reverse) != 0 {
		return nil, fmt.Errorf("want states [batch, time ≥ 1, %d·H], got %v", len(k.reverse), h)
	}
	return tensor.Shape{h[0], h[2]}, nil
}

// positions calls f with each direction's offset in a state row and the
// time position of its last state.
func (k recLast) positions(t, size int, f func(off, pos int)) {
	h := size / len(k.reverse)
	for i, r := range k.reverse {
		pos := t - 1
		if r {
			pos = 0
		}
		f(i*h, pos)
	}
}

func (k recLast) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, recLastBody[float32], recLastBody[float64])
}

func recLastBody[T compute.Float](k recLast, o []T, in []*tensor.Dense) error {
	s := in[0].Shape()
	b, t, w := s[0], s[1], s[2]
	h, hd := data[T](in[0]), w/len(k.reverse)
	k.positions(t, w, func(off, pos int) {
		for r := range b {
			copy(o[r*w+off:r*w+off+hd], h[(r*t+pos)*w+off:])
		}
	})
	return nil
}

func (k recLast) Backward(in G.Nodes, _, grad *G.Node, _ []bool) (G.Nodes, error) {
	g, err := Apply(recLastGrad{k: k, t: in[0].Shape()[1]}, []bool{true}, grad)
	return G.Nodes{g}, err
}

type recLastGrad struct {
	k recLast
	t int
}

func (recLastGrad) Name() string { return "recurrent_last_grad" }

func (k recLastGrad) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	g := in[0]
	if g.Dims() != 2 {
		return nil, fmt.Errorf("want a gradient [batch, D·H], got %v", g)
	}
	return tensor.Shape{g[0], k.t, g[1]}, nil
}

func (k recLastGrad) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, recLastGradBody[float32], recLastGradBody[float64])
}

func recLastGradBody[T compute.Float](k recLastGrad, o []T, in []*tensor.Dense) error {
	s := in[0].Shape()
	b, w := s[0], s[1]
	g, hd := data[T](in[0]), w/len(k.k.reverse)
	clear(o)
	k.k.positions(k.t, w, func(off, pos int) {
		for r := range b {
			copy(o[(r*k.t+pos)*w+off:(r*k.t+pos)*w+off+hd], g[r*w+off:r*w+off+hd])
		}
	})
	return nil
}

func (recLastGrad) Backward(G.Nodes, *G.Node, *G.Node, []bool) (G.Nodes, error) {
	return nil, errSecondOrder
}
