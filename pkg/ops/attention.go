package ops

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/dltrain/dltrain/pkg/compute"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Attention configures one multi-head attention op. Heads must divide the
// model dimension D. Dropout is the probability of zeroing each attention
// weight after the softmax (kept weights scaled by 1/(1−Dropout), as
// PyTorch's), drawn from RNG: set it only in training graphs. Frozen keeps
// the first dropout mask instead of drawing one per forward pass (gradient
// checks).
type Attention struct {
	Heads   int
	Causal  bool
	Dropout float64
	RNG     *rand.Rand
	Frozen  bool
}

// AttentionWeights are the parameters of one attention op in the layout
// of PyTorch's nn.MultiheadAttention: In [3D, D] stacks W_q, W_k and W_v
// (each [D, D], applied as x·Wᵀ), InBias [3D] their biases, Out [D, D]
// and OutBias [D] the output projection (out_proj.weight, out_proj.bias).
type AttentionWeights struct {
	In, InBias, Out, OutBias *G.Node
}

// MultiheadAttention is PyTorch's nn.MultiheadAttention(D, Heads,
// batch_first=True) as one fused op: the queries come from q [B, Tq, D],
// the keys and values from kv [B, Tk, D] (kv nil: self-attention on q),
// each head scores with scaled dot products (1/√(D/Heads)), masked keys
// are left out of the softmax, the weights go through dropout, and the
// heads' outputs, side by side, through the output projection: [B, Tq, D].
//
// Masks: with a.Causal, query i attends only to keys j ≤ i (PyTorch's
// attn_mask = triu(ones(Tq, Tk), 1)); keep, when not nil, is a key-padding
// mask [B, Tk] holding 1 for a key to keep and 0 for padding (the opposite
// of PyTorch's boolean key_padding_mask, where True means pad). A query
// whose keys are all masked gets zero attention weights, so its output is
// OutBias and its gradient zero, where PyTorch gives NaN.
//
// The backward pass is one op too: it reuses the projections and weights
// the forward pass kept and writes every gradient in one sweep. wrtQ and
// wrtKV say whether the gradients of q and kv are built (with kv nil, wrtQ
// alone). Every product is a compute.Gemm; buffers are reused from step
// to step.
func MultiheadAttention(q, kv *G.Node, w AttentionWeights, keep *G.Node, a Attention, wrtQ, wrtKV bool) (*G.Node, error) {
	if a.Heads < 1 {
		return nil, fmt.Errorf("multihead_attention: heads must be >= 1, got %d", a.Heads)
	}
	if !(a.Dropout >= 0 && a.Dropout < 1) {
		return nil, fmt.Errorf("multihead_attention: dropout must be in [0, 1), got %v", a.Dropout)
	}
	if a.Dropout > 0 && a.RNG == nil {
		return nil, fmt.Errorf("multihead_attention: dropout %v needs a random stream", a.Dropout)
	}
	st := &attnState{Attention: a, self: kv == nil, masked: keep != nil}
	in := G.Nodes{q}
	wrt := []bool{wrtQ}
	if kv != nil {
		in, wrt = append(in, kv), append(wrt, wrtKV)
	}
	in = append(in, w.In, w.InBias, w.Out, w.OutBias)
	wrt = append(wrt, true, true, true, true)
	if keep != nil {
		in, wrt = append(in, keep), append(wrt, false)
	}
	return Apply(attention{st}, wrt, in...)
}

// attnState is what an attention op shares with its gradient: the
// configuration, the dropout mask and the buffers of the last forward
// pass, in the element type it ran in.
type attnState struct {
	Attention
	self, masked bool
	drop         []float64 // [B, H, Tq, Tk]: 0 or 1/(1−p) per weight
	w32          attnWork[float32]
	w64          attnWork[float64]
	j32          attnJob[float32]
	j64          attnJob[float64]
}

// attnWork holds an attention op's buffers, reused from step to step.
type attnWork[T compute.Float] struct {
	qp  []T // [B·Tq, D]: projected queries, head h in columns h·dh:(h+1)·dh
	kvp []T // [B·Tk, 2D]: projected keys, then values, in each row
	p   []T // [B, H, Tq, Tk]: softmax weights
	pd  []T // [B, H, Tq, Tk]: the weights after dropout (unused without)
	o   []T // [B·Tq, D]: the heads' outputs before the output projection
	// Backward: dO, dqp and dkvp are the gradients of o, qp and kvp; ds
	// [B, H, Tq, Tk] the score gradients; acc a column sum in float64.
	do, dqp, dkvp, ds []T
	acc               []float64
}

func workOf[T compute.Float](st *attnState) *attnWork[T] {
	return jobOf[attnWork[T]](&st.w32, &st.w64)
}

// attnDims are the sizes an attention op runs with.
type attnDims struct{ b, tq, tk, d, h, dh int }

func (st *attnState) dims(in []*tensor.Dense) attnDims {
	qs := in[0].Shape()
	tk := qs[1]
	if !st.self {
		tk = in[1].Shape()[1]
	}
	return attnDims{b: qs[0], tq: qs[1], tk: tk, d: qs[2], h: st.Heads, dh: qs[2] / st.Heads}
}

// inputs splits an attention op's inputs into q, kv, the four weights
// and the keep mask (nil when unmasked).
func (st *attnState) inputs(in []*tensor.Dense) (q, kv *tensor.Dense, w []*tensor.Dense, keep *tensor.Dense) {
	q, kv, i := in[0], in[0], 1
	if !st.self {
		kv, i = in[1], 2
	}
	w = in[i : i+4]
	if st.masked {
		keep = in[i+4]
	}
	return q, kv, w, keep
}

type attention struct{ st *attnState }

func (attention) Name() string { return "multihead_attention" }

func (k attention) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	q, kv, i := in[0], in[0], 1
	if !k.st.self {
		kv, i = in[1], 2
	}
	if q.Dims() != 3 || kv.Dims() != 3 || q[0] != kv[0] || q[2] != kv[2] {
		return nil, fmt.Errorf("want queries [batch, time, dim] and keys [batch, time, dim] of one batch and dim, got %v and %v", q, kv)
	}
	d := q[2]
	if d%k.st.Heads != 0 {
		return nil, fmt.Errorf("heads %d do not divide the dimension %d", k.st.Heads, d)
	}
	want := []tensor.Shape{{3 * d, d}, {3 * d}, {d, d}, {d}}
	for j, s := range want {
		if !in[i+j].Eq(s) {
			return nil, fmt.Errorf("weight %d is %v, want %v for dimension %d", j, in[i+j], s, d)
		}
	}
	if k.st.masked && !in[i+4].Eq(tensor.Shape{kv[0], kv[1]}) {
		return nil, fmt.Errorf("key padding mask %v, want [batch, keys] = %v", in[i+4], tensor.Shape{kv[0], kv[1]})
	}
	return q.Clone(), nil
}

func (k attention) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	d := k.st.dims(in)
	if k.st.Dropout > 0 {
		k.st.drawDropout(d.b * d.h * d.tq * d.tk)
	}
	return typed(k, out, in, attentionBody[float32], attentionBody[float64])
}

// drawDropout draws the dropout mask of n attention weights, unless the
// state is frozen with a mask of that size.
func (st *attnState) drawDropout(n int) {
	if st.Frozen && len(st.drop) == n {
		return
	}
	if cap(st.drop) < n {
		st.drop = make([]float64, n)
	}
	st.drop = st.drop[:n]
	scale := 1 / (1 - st.Dropout)
	for i := range st.drop {
		if st.RNG.Float64() < st.Dropout {
			st.drop[i] = 0
		} else {
			st.drop[i] = scale
		}
	}
}

func attentionBody[T compute.Float](k attention, out []T, in []*tensor.Dense) error {
	st, d := k.st, k.st.dims(in)
	w := workOf[T](st)
	qt, kvt, wt, keepT := st.inputs(in)
	q, kv := data[T](qt), data[T](kvt)
	win, bin, wout, bout := data[T](wt[0]), data[T](wt[1]), data[T](wt[2]), data[T](wt[3])
	var keep []T
	if keepT != nil {
		keep = data[T](keepT)
	}
	nq, nk, np := d.b*d.tq, d.b*d.tk, d.b*d.h*d.tq*d.tk
	w.qp, w.kvp, w.o = resize(w.qp, nq*d.d), resize(w.kvp, nk*2*d.d), resize(w.o, nq*d.d)
	w.p = resize(w.p, np)
	projectRows(w.qp, q, win[:d.d*d.d], bin[:d.d], nq, d.d, d.d)
	projectRows(w.kvp, kv, win[d.d*d.d:], bin[d.d:], nk, d.d, 2*d.d)
	pd := w.p
	if st.Dropout > 0 {
		w.pd = resize(w.pd, np)
		pd = w.pd
	}
	j := jobOf[attnJob[T]](&st.j32, &st.j64)
	*j = attnJob[T]{st: st, w: w, d: d, keep: keep, pd: pd, scale: T(1 / math.Sqrt(float64(d.dh)))}
	j.run()
	projectRows(out, w.o, wout, bout, nq, d.d, d.d)
	return nil
}

// projectRows is y = x·wᵀ + b over rows of x [rows, in], w [out, in]:
// PyTorch's F.linear, one product for all rows.
func projectRows[T compute.Float](y, x, w, b []T, rows, in, out int) {
	for r := range rows {
		copy(y[r*out:(r+1)*out], b[:out])
	}
	compute.Gemm(false, true, rows, out, in, 1, x, in, w, in, 1, y, out)
}

// maskedSoftmax turns each row of the scores s [tq, tk] into softmax
// weights over the keys the masks allow (key j ≤ row i when causal, keep
// nonzero when keep is not nil); the others get weight 0, and a row with
// none allowed is all zeros. Each row is shifted by its maximum,
// exponentiated (compute.ExpShift: float32 in float32, vectorized),
// summed (compute.Sum) and divided by its sum.
func maskedSoftmax[T compute.Float](s []T, tq, tk int, causal bool, keep []T) {
	for i := range tq {
		row := s[i*tk : (i+1)*tk]
		n := tk
		if causal {
			n = min(i+1, tk)
		}
		clear(row[n:])
		row = row[:n]
		var m T
		if keep == nil {
			m = compute.Max(row)
		} else {
			m = T(math.Inf(-1))
			for j, v := range row {
				if keep[j] != 0 && v > m {
					m = v
				}
			}
		}
		if math.IsInf(float64(m), -1) {
			clear(row)
			continue
		}
		compute.ExpShift(row, row, m)
		if keep != nil {
			for j := range row {
				if keep[j] == 0 {
					row[j] = 0
				}
			}
		}
		compute.DivConst(row, compute.Sum(row))
	}
}

// Backward differentiates the whole op in one kernel whose output packs
// the gradients of q (when asked), kv (when asked, cross-attention only),
// In, InBias, Out and OutBias one after the other; segment ops cut them
// out. The mask gets none.
func (k attention) Backward(in G.Nodes, _, grad *G.Node, wrt []bool) (G.Nodes, error) {
	args := append(append(G.Nodes{}, in...), grad)
	wrtArgs := make([]bool, len(args))
	wrtArgs[len(args)-1] = true
	bk := attentionGrad{st: k.st, wrt: append([]bool(nil), wrt...)}
	packed, err := Apply(bk, wrtArgs, args...)
	if err != nil {
		return nil, err
	}
	gs := make(G.Nodes, len(in))
	off := 0
	for i, n := range in {
		if !wrt[i] {
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

// attentionGrad computes, from an attention op's inputs and its output's
// gradient, and what its forward pass kept, the packed gradients of the
// inputs wrt selects.
type attentionGrad struct {
	st  *attnState
	wrt []bool
}

func (attentionGrad) Name() string { return "multihead_attention_grad" }

func (k attentionGrad) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	n := len(in) - 1
	if n != len(k.wrt) || !in[n].Eq(in[0]) {
		return nil, fmt.Errorf("want the op's %d inputs and a gradient of the queries' shape, got %v", len(k.wrt), in)
	}
	size := 0
	for i, s := range in[:n] {
		if k.wrt[i] {
			size += s.TotalSize()
		}
	}
	return tensor.Shape{size}, nil
}

func (k attentionGrad) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, attentionGradBody[float32], attentionGradBody[float64])
}

func attentionGradBody[T compute.Float](k attentionGrad, o []T, in []*tensor.Dense) error {
	st, d := k.st, k.st.dims(in)
	w := workOf[T](st)
	if len(w.qp) != d.b*d.tq*d.d || len(w.p) != d.b*d.h*d.tq*d.tk {
		return fmt.Errorf("the gradient ran before the forward pass on these shapes")
	}
	qt, kvt, wt, _ := st.inputs(in)
	q, kv, win, wout := data[T](qt), data[T](kvt), data[T](wt[0]), data[T](wt[2])
	dy := data[T](in[len(in)-1])
	nq, nk := d.b*d.tq, d.b*d.tk
	dq, dkv, dwin, dbin, dwout, dbout := splitGrads(k, o, d)
	w.do, w.dqp, w.dkvp = resize(w.do, nq*d.d), resize(w.dqp, nq*d.d), resize(w.dkvp, nk*2*d.d)
	w.ds, w.acc = resize(w.ds, d.b*d.h*d.tq*d.tk), resize(w.acc, 2*d.d)

	// Output projection: dOutBias = Σ dy, dOut = dyᵀ·o, do = dy·Out.
	columnSums(dbout, dy, nq, d.d, w.acc)
	compute.Gemm(true, false, d.d, d.d, nq, 1, dy, d.d, w.o, d.d, 0, dwout, d.d)
	compute.Gemm(false, false, nq, d.d, d.d, 1, dy, d.d, wout, d.d, 0, w.do, d.d)
	pd := w.p
	if st.Dropout > 0 {
		pd = w.pd
	}
	j := jobOf[attnJob[T]](&st.j32, &st.j64)
	*j = attnJob[T]{st: st, w: w, d: d, pd: pd, scale: T(1 / math.Sqrt(float64(d.dh))), backward: true}
	j.run()
	// Input projections: dIn = [dqpᵀ·q; dkvpᵀ·kv], dInBias their column sums.
	compute.Gemm(true, false, d.d, d.d, nq, 1, w.dqp, d.d, q, d.d, 0, dwin[:d.d*d.d], d.d)
	compute.Gemm(true, false, 2*d.d, d.d, nk, 1, w.dkvp, 2*d.d, kv, d.d, 0, dwin[d.d*d.d:], d.d)
	columnSums(dbin[:d.d], w.dqp, nq, d.d, w.acc)
	columnSums(dbin[d.d:], w.dkvp, nk, 2*d.d, w.acc)
	if dq != nil {
		compute.Gemm(false, false, nq, d.d, d.d, 1, w.dqp, d.d, win, d.d, 0, dq, d.d)
	}
	if st.self && dq != nil {
		compute.Gemm(false, false, nk, d.d, 2*d.d, 1, w.dkvp, 2*d.d, win[d.d*d.d:], d.d, 1, dq, d.d)
	}
	if dkv != nil {
		compute.Gemm(false, false, nk, d.d, 2*d.d, 1, w.dkvp, 2*d.d, win[d.d*d.d:], d.d, 0, dkv, d.d)
	}
	return nil
}

// splitGrads cuts the packed gradient o into the gradients of q and kv
// (nil when not asked for) and of the four weights.
func splitGrads[T compute.Float](k attentionGrad, o []T, d attnDims) (dq, dkv, dwin, dbin, dwout, dbout []T) {
	take := func(n int) []T {
		s := o[:n]
		o = o[n:]
		return s
	}
	if k.wrt[0] {
		dq = take(d.b * d.tq * d.d)
	}
	if !k.st.self && k.wrt[1] {
		dkv = take(d.b * d.tk * d.d)
	}
	return dq, dkv, take(3 * d.d * d.d), take(3 * d.d), take(d.d * d.d), take(d.d)
}

// columnSums writes the sums of the columns of x [rows, n] into out,
// accumulating in acc (at least n long) in float64.
func columnSums[T compute.Float](out, x []T, rows, n int, acc []float64) {
	acc = acc[:n]
	clear(acc)
	for r := range rows {
		for j, v := range x[r*n : (r+1)*n] {
			acc[j] += float64(v)
		}
	}
	for j, v := range acc {
		out[j] = T(v)
	}
}

// softmaxBack turns dp [tq, tk], the gradient of softmax weights p, into
// the gradient of the scores, row by row: p ⊙ (dp − Σ dp⊙p). A masked
// weight (p = 0) gets 0.
func softmaxBack[T compute.Float](dp, p []T, tq, tk int) {
	for i := range tq {
		dr, pr := dp[i*tk:(i+1)*tk], p[i*tk:(i+1)*tk]
		var dot float64
		for j, v := range pr {
			dot += float64(v) * float64(dr[j])
		}
		for j, v := range pr {
			dr[j] = T(float64(v) * (float64(dr[j]) - dot))
		}
	}
}

func (attentionGrad) Backward(G.Nodes, *G.Node, *G.Node, []bool) (G.Nodes, error) {
	return nil, errSecondOrder
}

// attnJob is the per-head part of an attention op's forward or backward
// pass, head by head over the B·H (batch, head) pairs: each pair reads
// and writes its own blocks of the buffers, so the pairs run on
// compute.Parallel's threads and the results do not depend on the cut.
type attnJob[T compute.Float] struct {
	st       *attnState
	w        *attnWork[T]
	d        attnDims
	keep     []T // the key-padding mask [B, Tk], or nil
	pd       []T // the weights after dropout (w.p without dropout)
	scale    T
	backward bool
}

// run runs every (batch, head) pair, one thread taking several when a
// head's products are small, and drops the references it held.
func (j *attnJob[T]) run() {
	per := j.d.tq * j.d.tk * max(j.d.dh, 1)
	compute.Parallel(j.d.b*j.d.h, max(1, bmmSmall/max(per, 1)/4), j)
	*j = attnJob[T]{}
}

func (j *attnJob[T]) Run(lo, hi int) {
	for bh := lo; bh < hi; bh++ {
		if j.backward {
			j.headBackward(bh)
		} else {
			j.headForward(bh)
		}
	}
}

// offsets returns the first element of pair bh's block of the weights
// ([B, H, Tq, Tk]), and of its queries, keys and values in qp and kvp.
func (j *attnJob[T]) offsets(bh int) (lo, qo, ko, vo int) {
	d := j.d
	b, h := bh/d.h, bh%d.h
	return bh * d.tq * d.tk, b*d.tq*d.d + h*d.dh, b*d.tk*2*d.d + h*d.dh, b*d.tk*2*d.d + d.d + h*d.dh
}

// headForward: scores = scale·Q·Kᵀ, masked softmax, dropout, O = Pd·V.
func (j *attnJob[T]) headForward(bh int) {
	d, w, st := j.d, j.w, j.st
	lo, qo, ko, vo := j.offsets(bh)
	n := d.tq * d.tk
	p := w.p[lo : lo+n]
	compute.Gemm(false, true, d.tq, d.tk, d.dh, j.scale, w.qp[qo:], d.d, w.kvp[ko:], 2*d.d, 0, p, d.tk)
	var keep []T
	if j.keep != nil {
		b := bh / d.h
		keep = j.keep[b*d.tk : (b+1)*d.tk]
	}
	maskedSoftmax(p, d.tq, d.tk, st.Causal, keep)
	pbh := p
	if st.Dropout > 0 {
		pbh = j.pd[lo : lo+n]
		for i, m := range st.drop[lo : lo+n] {
			pbh[i] = p[i] * T(m)
		}
	}
	compute.Gemm(false, false, d.tq, d.dh, d.tk, 1, pbh, d.tk, w.kvp[vo:], 2*d.d, 0, w.o[qo:], d.d)
}

// headBackward: dV = Pdᵀ·dO and dPd = dO·Vᵀ, back through dropout and
// the softmax to dS, then dQ = scale·dS·K and dK = scale·dSᵀ·Q.
func (j *attnJob[T]) headBackward(bh int) {
	d, w, st := j.d, j.w, j.st
	lo, qo, ko, vo := j.offsets(bh)
	n := d.tq * d.tk
	ds := w.ds[lo : lo+n]
	compute.Gemm(true, false, d.tk, d.dh, d.tq, 1, j.pd[lo:lo+n], d.tk, w.do[qo:], d.d, 0, w.dkvp[vo:], 2*d.d)
	compute.Gemm(false, true, d.tq, d.tk, d.dh, 1, w.do[qo:], d.d, w.kvp[vo:], 2*d.d, 0, ds, d.tk)
	if st.Dropout > 0 {
		for i, m := range st.drop[lo : lo+n] {
			ds[i] *= T(m)
		}
	}
	softmaxBack(ds, w.p[lo:lo+n], d.tq, d.tk)
	compute.Gemm(false, false, d.tq, d.dh, d.tk, j.scale, ds, d.tk, w.kvp[ko:], 2*d.d, 0, w.dqp[qo:], d.d)
	compute.Gemm(true, false, d.tk, d.dh, d.tq, j.scale, ds, d.tk, w.qp[qo:], d.d, 0, w.dkvp[ko:], 2*d.d)
}
