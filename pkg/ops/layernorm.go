package ops

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/dltrain/dltrain/pkg/compute"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// LayerNorm normalizes x over its trailing axes, as PyTorch's layer_norm
// with normalized_shape = gamma's shape: each run of D = |gamma| trailing
// values gets zero mean and unit (biased) variance, then is scaled by gamma
// and shifted by beta element by element. It is the same in training and
// evaluation. When wrtX is false the input gradient is not built.
func LayerNorm(x, gamma, beta *G.Node, eps float64, wrtX bool) (*G.Node, error) {
	return Apply(layerNorm{eps: eps, st: new(lnStats)}, []bool{wrtX, true, true}, x, gamma, beta)
}

type layerNorm struct {
	eps float64
	st  *lnStats // the forward pass's row statistics, read by the gradients
}

// lnStats are the mean and 1/σ of every row of a layer norm's input, as
// PyTorch saves them for the backward pass: the forward pass computes
// them, the gradients of x and gamma read them back instead of computing
// them again (the same values, so the same bits). x is the input they
// belong to.
type lnStats struct {
	x         unsafe.Pointer
	n         int
	mean, inv []float64
}

// lnRowStats returns the statistics of the rows of d values of x: those
// kept by st when they are of x and fresh is false, else computed (and
// kept). A nil st computes them into fresh slices.
func lnRowStats[T compute.Float](st *lnStats, x []T, d int, eps float64, fresh bool) (mean, inv []float64) {
	if st == nil {
		st = new(lnStats)
	}
	p := unsafe.Pointer(unsafe.SliceData(x))
	if !fresh && st.x == p && st.n == len(x) {
		return st.mean, st.inv
	}
	rows := len(x) / d
	st.mean, st.inv = resize(st.mean, rows), resize(st.inv, rows)
	for r := range rows {
		st.mean[r], st.inv[r] = rowStats(x[r*d:(r+1)*d], eps)
	}
	st.x, st.n = p, len(x)
	return st.mean, st.inv
}

func (layerNorm) Name() string { return "layernorm" }

// checkTrailing checks that the last axes of x are the shape p.
func checkTrailing(x, p tensor.Shape) error {
	if p.Dims() == 0 || p.Dims() >= x.Dims() {
		return fmt.Errorf("normalized shape %v must be the trailing axes of %v (after the batch)", p, x)
	}
	if !tensor.Shape(x[x.Dims()-p.Dims():]).Eq(p) {
		return fmt.Errorf("normalized shape %v is not the trailing shape of %v", p, x)
	}
	return nil
}

func (layerNorm) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	if err := checkTrailing(in[0], in[1]); err != nil {
		return nil, err
	}
	if !in[1].Eq(in[2]) {
		return nil, fmt.Errorf("gamma %v and beta %v differ", in[1], in[2])
	}
	return in[0].Clone(), nil
}

func (k layerNorm) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, layerNormBody[float32], layerNormBody[float64])
}

func layerNormBody[T compute.Float](k layerNorm, o []T, in []*tensor.Dense) error {
	layerNormForward(k.st, k.eps, o, data[T](in[0]), data[T](in[1]), data[T](in[2]))
	return nil
}

// rowStats returns the mean and 1/√(biased variance + eps) of a row.
func rowStats[T compute.Float](row []T, eps float64) (mean, inv float64) {
	var s float64
	for _, v := range row {
		s += float64(v)
	}
	mean = s / float64(len(row))
	var q float64
	for _, v := range row {
		d := float64(v) - mean
		q += d * d
	}
	return mean, 1 / math.Sqrt(q/float64(len(row))+eps)
}

func layerNormForward[T compute.Float](st *lnStats, eps float64, y, x, gamma, beta []T) {
	d := len(gamma)
	means, invs := lnRowStats(st, x, d, eps, true)
	for r := 0; r+d <= len(x); r += d {
		row := x[r : r+d]
		mean, inv := means[r/d], invs[r/d]
		for j, v := range row {
			y[r+j] = T((float64(v)-mean)*inv)*gamma[j] + beta[j]
		}
	}
}

func (k layerNorm) Backward(in G.Nodes, _, grad *G.Node, wrt []bool) (G.Nodes, error) {
	gs := make(G.Nodes, 3)
	var err error
	if wrt[0] {
		if gs[0], err = Apply(layerNormGradX{eps: k.eps, st: k.st}, []bool{false, false, true}, in[0], in[1], grad); err != nil {
			return nil, err
		}
	}
	gamma := in[1].Shape().Clone()
	if gs[1], err = Apply(layerNormGradGamma{eps: k.eps, st: k.st, shape: gamma, acc: new([]float64)}, []bool{false, true}, in[0], grad); err != nil {
		return nil, err
	}
	if gs[2], err = Apply(trailingSum{shape: gamma, acc: new([]float64)}, nil, grad); err != nil {
		return nil, err
	}
	return gs, nil
}

// layerNormGradX computes dx from (x, gamma, dy) row by row: with g = γ⊙dy
// and x̂ the normalized row, dx = (g − mean(g) − x̂·mean(g⊙x̂))/σ.
type layerNormGradX struct {
	eps float64
	st  *lnStats
}

func (layerNormGradX) Name() string { return "layernorm_grad_x" }

func (layerNormGradX) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	if err := checkTrailing(in[0], in[1]); err != nil {
		return nil, err
	}
	return in[0].Clone(), nil
}

func (k layerNormGradX) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, layerNormGradXBody[float32], layerNormGradXBody[float64])
}

func layerNormGradXBody[T compute.Float](k layerNormGradX, o []T, in []*tensor.Dense) error {
	layerNormBackX(k.st, k.eps, o, data[T](in[0]), data[T](in[1]), data[T](in[2]))
	return nil
}

func layerNormBackX[T compute.Float](st *lnStats, eps float64, dx, x, gamma, dy []T) {
	d := len(gamma)
	means, invs := lnRowStats(st, x, d, eps, false)
	for r := 0; r+d <= len(x); r += d {
		row := x[r : r+d]
		mean, inv := means[r/d], invs[r/d]
		var sumG, sumGXhat float64
		for j, v := range row {
			g := float64(dy[r+j]) * float64(gamma[j])
			sumG += g
			sumGXhat += g * (float64(v) - mean) * inv
		}
		mg, mgx := sumG/float64(d), sumGXhat/float64(d)
		for j, v := range row {
			g := float64(dy[r+j]) * float64(gamma[j])
			dx[r+j] = T((g - mg - (float64(v)-mean)*inv*mgx) * inv)
		}
	}
}

func (layerNormGradX) Backward(G.Nodes, *G.Node, *G.Node, []bool) (G.Nodes, error) {
	return nil, errSecondOrder
}

// layerNormGradGamma computes dγ = Σ over rows of dy⊙x̂ from (x, dy).
type layerNormGradGamma struct {
	eps   float64
	st    *lnStats
	shape tensor.Shape
	acc   *[]float64 // the sums' scratch, kept from step to step
}

func (layerNormGradGamma) Name() string { return "layernorm_grad_gamma" }

func (k layerNormGradGamma) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	if err := checkTrailing(in[0], k.shape); err != nil {
		return nil, err
	}
	if !in[0].Eq(in[1]) {
		return nil, fmt.Errorf("x %v and dy %v differ", in[0], in[1])
	}
	return k.shape.Clone(), nil
}

func (k layerNormGradGamma) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, layerNormGradGammaBody[float32], layerNormGradGammaBody[float64])
}

func layerNormGradGammaBody[T compute.Float](k layerNormGradGamma, o []T, in []*tensor.Dense) error {
	layerNormBackGamma(k.st, k.eps, o, data[T](in[0]), data[T](in[1]), sumScratch(k.acc, len(o)))
	return nil
}

func layerNormBackGamma[T compute.Float](st *lnStats, eps float64, dg, x, dy []T, acc []float64) {
	d := len(dg)
	clear(acc)
	means, invs := lnRowStats(st, x, d, eps, false)
	for r := 0; r+d <= len(x); r += d {
		row := x[r : r+d]
		mean, inv := means[r/d], invs[r/d]
		for j, v := range row {
			acc[j] += float64(dy[r+j]) * (float64(v) - mean) * inv
		}
	}
	for j, v := range acc {
		dg[j] = T(v)
	}
}

func (layerNormGradGamma) Backward(G.Nodes, *G.Node, *G.Node, []bool) (G.Nodes, error) {
	return nil, errSecondOrder
}

// trailingSum sums x over its leading axes, keeping the trailing shape:
// the gradient of an element-wise shift broadcast over rows.
type trailingSum struct {
	shape tensor.Shape
	acc   *[]float64 // the sums' scratch, kept from step to step
}

func (trailingSum) Name() string { return "trailing_sum" }

func (k trailingSum) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	if err := checkTrailing(in[0], k.shape); err != nil {
		return nil, err
	}
	return k.shape.Clone(), nil
}

func (k trailingSum) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, trailingSumBody[float32], trailingSumBody[float64])
}

func trailingSumBody[T compute.Float](k trailingSum, o []T, in []*tensor.Dense) error {
	sumRows(o, data[T](in[0]), sumScratch(k.acc, len(o)))
	return nil
}

// sumRows sums the consecutive rows of len(out) values of x into out,
// accumulating in acc (len(out) long) in float64.
func sumRows[T compute.Float](out, x []T, acc []float64) {
	d := len(out)
	clear(acc)
	for r := 0; r+d <= len(x); r += d {
		for j, v := range x[r : r+d] {
			acc[j] += float64(v)
		}
	}
	for j, v := range acc {
		out[j] = T(v)
	}
}

func (k trailingSum) Backward(in G.Nodes, _, grad *G.Node, _ []bool) (G.Nodes, error) {
	return nil, errSecondOrder
}

// sumScratch returns *buf resized to n, allocating only when it is too
// small; a nil buf (a kernel made without one) gets a fresh slice.
func sumScratch(buf *[]float64, n int) []float64 {
	if buf == nil {
		return make([]float64, n)
	}
	if cap(*buf) < n {
		*buf = make([]float64, n)
	}
	*buf = (*buf)[:n]
	return *buf
}
