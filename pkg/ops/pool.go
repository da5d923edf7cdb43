package ops

import (
	"fmt"
	"unsafe"

	"github.com/dltrain/dltrain/pkg/compute"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Gorgonia's AveragePool2D and AveragePool1D compute wrong values and
// gradients, and its GlobalAveragePool2D panics when differentiated
// (GORGONIA_NOTES.md); these kernels replace them, and max pooling too so
// that every pooling op shares one window geometry with convolutions.

// MaxPool returns the maximum of each window of x, channel first: (batch,
// C, H, W) or (batch, C, L). Padding never wins: it reads as −∞. A tie
// sends the gradient to the first maximum in row-major order. The forward
// pass keeps the index of each window's maximum for the backward pass.
func MaxPool(x *G.Node, win Window) (*G.Node, error) {
	return Apply(&pool{win: win}, nil, x)
}

// AvgPool returns the mean of each window of x. With includePad the sum is
// divided by the whole window size, padding counted as zeros (PyTorch's
// count_include_pad=True); without it, by the number of input elements the
// window covers.
func AvgPool(x *G.Node, win Window, includePad bool) (*G.Node, error) {
	return Apply(&pool{win: win, avg: true, includePad: includePad}, nil, x)
}

type pool struct {
	win        Window
	avg        bool
	includePad bool
	// Max pooling: the index in its plane of each output's maximum (-1
	// for a window of padding only), from the last forward pass over the
	// input whose first element is idxOf.
	idx   []int32
	idxOf unsafe.Pointer
	jobs  poolJobs
}

func (p *pool) Name() string {
	if p.avg {
		return "avgpool"
	}
	return "maxpool"
}

func (p *pool) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	if in[0].Dims() < 3 {
		return nil, fmt.Errorf("want (batch, channels, length) or (batch, channels, height, width), got %v", in[0])
	}
	return p.win.outShape(in[0], in[0][1])
}

// poolDims is batch·channels planes of h×w in and oh×ow out.
type poolDims struct{ planes, h, w, oh, ow int }

// dims is the geometry of an input that OutShape has accepted; it does
// not allocate.
func (p *pool) dims(x tensor.Shape) poolDims {
	n, c, h, w, _ := planes(x)
	oh, ow, _ := p.win.Out(h, w)
	return poolDims{planes: n * c, h: h, w: w, oh: oh, ow: ow}
}

func (p *pool) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(p, out, in, poolBody[float32], poolBody[float64])
}

func poolBody[T compute.Float](p *pool, o []T, in []*tensor.Dense) error {
	d := p.dims(in[0].Shape())
	poolRun(p, d, jobOf[poolJob[T]](&p.jobs.f32, &p.jobs.f64), o, data[T](in[0]), nil)
	return nil
}

// poolJobs are a pooling op's forward or backward pass cut by planes for
// compute.Parallel, one per dtype, kept in the op so that handing them
// out allocates nothing.
type poolJobs struct {
	f32 poolJob[float32]
	f64 poolJob[float64]
}

// poolJob is the forward pass (dy nil: out from x) or the backward pass
// (out is dx, from x and dy) over planes lo to hi−1.
type poolJob[T compute.Float] struct {
	p          *pool
	d          poolDims
	out, x, dy []T
	kept       bool // backward: p.idx holds the maxima of x
}

// poolRun runs the forward pass (dy nil) or the backward pass of p over
// every plane.
func poolRun[T compute.Float](p *pool, d poolDims, j *poolJob[T], out, x, dy []T) {
	if dy == nil && !p.avg {
		p.markIndexes(x, d)
	}
	*j = poolJob[T]{p: p, d: d, out: out, x: x, dy: dy}
	if dy != nil && !p.avg {
		j.kept = len(x) > 0 && p.idxOf == unsafe.Pointer(&x[0]) && len(p.idx) == len(dy)
	}
	compute.Parallel(d.planes, max(1, (1<<14)/max(d.h*d.w, 1)), j)
	*j = poolJob[T]{}
}

func (j *poolJob[T]) Run(lo, hi int) {
	p, d := j.p, j.d
	for pl := lo; pl < hi; pl++ {
		plane := j.x[pl*d.h*d.w : (pl+1)*d.h*d.w]
		if j.dy != nil { // out is dx, of the input's size
			poolBackward(p, d, j.out[pl*d.h*d.w:(pl+1)*d.h*d.w], plane, j.dy[pl*d.oh*d.ow:(pl+1)*d.oh*d.ow], pl, j.kept)
			continue
		}
		o := j.out[pl*d.oh*d.ow : (pl+1)*d.oh*d.ow]
		if p.avg {
			avgPoolForward(p, d, o, plane)
		} else {
			maxPoolForward(p, d, o, plane, p.idx[pl*d.oh*d.ow:(pl+1)*d.oh*d.ow])
		}
	}
}

// halves reports whether the window is 2×2 with stride 2, undilated and
// unpadded: the common max pooling, which has its own kernel.
func (p *pool) halves() bool {
	w := p.win
	return w.KH == 2 && w.KW == 2 && w.SH == 2 && w.SW == 2 && w.DH == 1 && w.DW == 1 &&
		w.PadT+w.PadB+w.PadL+w.PadR == 0
}

// markIndexes sizes the index buffer for d and records that it will hold
// the maxima of x.
func (p *pool) markIndexes(x any, d poolDims) {
	n := d.planes * d.oh * d.ow
	if cap(p.idx) < n {
		p.idx = make([]int32, n)
	}
	p.idx = p.idx[:n]
	p.idxOf = nil
	switch v := x.(type) {
	case []float32:
		if len(v) > 0 {
			p.idxOf = unsafe.Pointer(&v[0])
		}
	case []float64:
		if len(v) > 0 {
			p.idxOf = unsafe.Pointer(&v[0])
		}
	}
}

// argmax returns the input index of the maximum of output (y, x)'s window
// of one plane (the first in row-major order on a tie), or -1 when the
// window holds only padding.
func argmax[T compute.Float](plane []T, w Window, d poolDims, y, x int) int {
	ih0, iw0 := y*w.SH-w.PadT, x*w.SW-w.PadL
	if ih0 >= 0 && iw0 >= 0 && ih0+(w.KH-1)*w.DH < d.h && iw0+(w.KW-1)*w.DW < d.w {
		// The window lies inside the input: no bounds to check.
		best := ih0*d.w + iw0
		bv := plane[best]
		for ki := 0; ki < w.KH; ki++ {
			row := (ih0+ki*w.DH)*d.w + iw0
			for kj := 0; kj < w.KW; kj++ {
				if v := plane[row+kj*w.DW]; v > bv {
					best, bv = row+kj*w.DW, v
				}
			}
		}
		return best
	}
	best := -1
	var bv T
	for ki := 0; ki < w.KH; ki++ {
		ih := ih0 + ki*w.DH
		if ih < 0 || ih >= d.h {
			continue
		}
		row := plane[ih*d.w : (ih+1)*d.w]
		for kj := 0; kj < w.KW; kj++ {
			iw := iw0 + kj*w.DW
			if iw < 0 || iw >= d.w {
				continue
			}
			if v := row[iw]; best < 0 || v > bv {
				best, bv = ih*d.w+iw, v
			}
		}
	}
	return best
}

// windowSum returns the sum of output (y, x)'s window of one plane and the
// number of input elements it covers.
func windowSum[T compute.Float](plane []T, w Window, d poolDims, y, x int) (sum T, n int) {
	ih0, iw0 := y*w.SH-w.PadT, x*w.SW-w.PadL
	for ki := 0; ki < w.KH; ki++ {
		ih := ih0 + ki*w.DH
		if ih < 0 || ih >= d.h {
			continue
		}
		row := plane[ih*d.w : (ih+1)*d.w]
		for kj := 0; kj < w.KW; kj++ {
			if iw := iw0 + kj*w.DW; iw >= 0 && iw < d.w {
				sum += row[iw]
				n++
			}
		}
	}
	return sum, n
}

// spreadWindow adds g to every input element of output (y, x)'s window.
func spreadWindow[T compute.Float](grad []T, w Window, d poolDims, y, x int, g T) {
	ih0, iw0 := y*w.SH-w.PadT, x*w.SW-w.PadL
	for ki := 0; ki < w.KH; ki++ {
		ih := ih0 + ki*w.DH
		if ih < 0 || ih >= d.h {
			continue
		}
		row := grad[ih*d.w : (ih+1)*d.w]
		for kj := 0; kj < w.KW; kj++ {
			if iw := iw0 + kj*w.DW; iw >= 0 && iw < d.w {
				row[iw] += g
			}
		}
	}
}

// divisor is what the sum of a window covering n input elements is
// divided by.
func (p *pool) divisor(n int) int {
	if p.includePad {
		return p.win.KH * p.win.KW
	}
	return n
}

// maxPoolForward pools one plane into o, the index of each maximum into
// idx: through the 2×2 kernel for float32 2×2 windows.
func maxPoolForward[T compute.Float](p *pool, d poolDims, o, plane []T, idx []int32) {
	if o32, ok := any(o).([]float32); ok && p.halves() {
		compute.MaxPool2x2(o32, idx, any(plane).([]float32), d.oh, d.ow, d.w)
		return
	}
	for y := 0; y < d.oh; y++ {
		for xo := 0; xo < d.ow; xo++ {
			i := argmax(plane, p.win, d, y, xo)
			idx[y*d.ow+xo] = int32(i)
			if i >= 0 {
				o[y*d.ow+xo] = plane[i]
			} else {
				o[y*d.ow+xo] = 0
			}
		}
	}
}

// avgPoolForward pools one plane into o.
func avgPoolForward[T compute.Float](p *pool, d poolDims, o, plane []T) {
	for y := 0; y < d.oh; y++ {
		for xo := 0; xo < d.ow; xo++ {
			s, n := windowSum(plane, p.win, d, y, xo)
			if div := p.divisor(n); div > 0 {
				s /= T(div)
			}
			o[y*d.ow+xo] = s
		}
	}
}

// Backward: the output is an input of the gradient op only to order it
// after the forward op, whose indexes of the maxima it reads.
func (p *pool) Backward(in G.Nodes, out, grad *G.Node, _ []bool) (G.Nodes, error) {
	g, err := Apply(&poolGrad{fwd: p, x: in[0].Shape().Clone()}, []bool{false, false, true}, in[0], out, grad)
	return G.Nodes{g}, err
}

// poolGrad computes dx from (x, y, dy): each output's gradient goes to its
// window's maximum (max pooling, at the index the forward pass kept, or
// recomputed from x when it has not kept them for x) or is spread evenly
// over the window (average pooling).
type poolGrad struct {
	fwd  *pool
	x    tensor.Shape
	jobs poolJobs
}

func (p *poolGrad) Name() string { return p.fwd.Name() + "_grad" }

func (p *poolGrad) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	out, err := p.fwd.OutShape(in[:1])
	if err != nil {
		return nil, err
	}
	if !out.Eq(in[1]) || !out.Eq(in[2]) {
		return nil, fmt.Errorf("output %v and its gradient %v do not match the output %v", in[1], in[2], out)
	}
	return in[0].Clone(), nil
}

func (p *poolGrad) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(p, out, in, poolGradBody[float32], poolGradBody[float64])
}

func poolGradBody[T compute.Float](p *poolGrad, o []T, in []*tensor.Dense) error {
	d := p.fwd.dims(in[0].Shape())
	poolRun(p.fwd, d, jobOf[poolJob[T]](&p.jobs.f32, &p.jobs.f64), o, data[T](in[0]), data[T](in[2]))
	return nil
}

// poolBackward sets g, the gradient of plane number pl, from dyp, its
// output's: at the maxima the forward pass kept when kept, else found
// again, or spread over the windows (average pooling).
func poolBackward[T compute.Float](p *pool, d poolDims, g, plane, dyp []T, pl int, kept bool) {
	clear(g)
	switch {
	case !p.avg && kept:
		for o, i := range p.idx[pl*d.oh*d.ow : (pl+1)*d.oh*d.ow] {
			if i >= 0 {
				g[i] += dyp[o]
			}
		}
	case !p.avg:
		for y := 0; y < d.oh; y++ {
			for xo := 0; xo < d.ow; xo++ {
				if i := argmax(plane, p.win, d, y, xo); i >= 0 {
					g[i] += dyp[y*d.ow+xo]
				}
			}
		}
	default:
		for y := 0; y < d.oh; y++ {
			for xo := 0; xo < d.ow; xo++ {
				v := dyp[y*d.ow+xo]
				_, n := windowSum(plane, p.win, d, y, xo)
				if div := p.divisor(n); div > 0 {
					v /= T(div)
				}
				spreadWindow(g, p.win, d, y, xo, v)
			}
		}
	}
}

// PoolGradient returns the gradient of a pooling with respect to its
// input x, given y = MaxPool or AvgPool of x (the node those returned) and
// dy, the gradient with respect to y: the backward pass as a node of its
// own, differentiable with respect to dy (a gradient penalty
// differentiates a critic's input gradient once more).
func PoolGradient(x, y, dy *G.Node) (*G.Node, error) {
	o, ok := y.Op().(*op)
	if !ok {
		return nil, fmt.Errorf("pool gradient: %v is not a pooling", y.Op())
	}
	p, ok := o.k.(*pool)
	if !ok {
		return nil, fmt.Errorf("pool gradient: %s is not a pooling", o.k.Name())
	}
	return Apply(&poolGrad{fwd: p, x: x.Shape().Clone()}, []bool{false, false, true}, x, y, dy)
}

// Backward: dx is linear in dy, so its gradient with respect to dy is the
// adjoint map on grad: grad read at each window's maximum of x (max
// pooling; the maxima do not move under a small change of x, so no
// gradient flows to x), or grad averaged over each window with the
// forward pass's divisor (average pooling, which reads x only for its
// shape).
func (p *poolGrad) Backward(in G.Nodes, _, grad *G.Node, _ []bool) (G.Nodes, error) {
	var g *G.Node
	var err error
	if p.fwd.avg {
		g, err = AvgPool(grad, p.fwd.win, p.fwd.includePad)
	} else {
		g, err = Apply(&poolPick{fwd: p.fwd}, []bool{false, false}, in[0], grad)
	}
	return G.Nodes{nil, nil, g}, err
}

// poolPick reads g (x's shape) at the maximum of each window of x: the
// gradient of max pooling's backward pass with respect to its dy.
type poolPick struct{ fwd *pool }

func (*poolPick) Name() string { return "maxpool_grad_grad" }

func (p *poolPick) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	if !in[0].Eq(in[1]) {
		return nil, fmt.Errorf("input %v and gradient %v differ", in[0], in[1])
	}
	return p.fwd.OutShape(in[:1])
}

func (p *poolPick) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(p, out, in, poolPickBody[float32], poolPickBody[float64])
}

func poolPickBody[T compute.Float](p *poolPick, o []T, in []*tensor.Dense) error {
	f := p.fwd
	d := f.dims(in[0].Shape())
	x, g := data[T](in[0]), data[T](in[1])
	kept := len(x) > 0 && f.idxOf == unsafe.Pointer(&x[0]) && len(f.idx) == len(o)
	for pl := range d.planes {
		plane, gp := x[pl*d.h*d.w:(pl+1)*d.h*d.w], g[pl*d.h*d.w:(pl+1)*d.h*d.w]
		for k := range d.oh * d.ow {
			i := 0
			if kept {
				i = int(f.idx[pl*d.oh*d.ow+k])
			} else {
				i = argmax(plane, f.win, d, k/d.ow, k%d.ow)
			}
			o[pl*d.oh*d.ow+k] = 0
			if i >= 0 {
				o[pl*d.oh*d.ow+k] = gp[i]
			}
		}
	}
	return nil
}

func (*poolPick) Backward(G.Nodes, *G.Node, *G.Node, []bool) (G.Nodes, error) {
	return nil, errSecondOrder
}

// GlobalAvgPool averages a channel-first tensor over every spatial
// position: (batch, C, ...) -> (batch, C).
func GlobalAvgPool(x *G.Node) (*G.Node, error) { return Apply(globalAvgPool{}, nil, x) }

type globalAvgPool struct{}

func (globalAvgPool) Name() string { return "global_avgpool" }

func (globalAvgPool) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	if in[0].Dims() < 3 {
		return nil, fmt.Errorf("want (batch, channels, spatial...), got %v", in[0])
	}
	return tensor.Shape{in[0][0], in[0][1]}, nil
}

func (globalAvgPool) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(globalAvgPool{}, out, in, globalAvgPoolBody[float32], globalAvgPoolBody[float64])
}

func globalAvgPoolBody[T compute.Float](_ globalAvgPool, o []T, in []*tensor.Dense) error {
	_, _, per := channelLayout(in[0].Shape())
	meanRuns(o, data[T](in[0]), per)
	return nil
}

// meanRuns writes the mean of each run of per consecutive values of x.
func meanRuns[T compute.Float](out, x []T, per int) {
	for i := range out {
		var s float64
		for _, v := range x[i*per : (i+1)*per] {
			s += float64(v)
		}
		out[i] = T(s / float64(per))
	}
}

func (globalAvgPool) Backward(in G.Nodes, _, grad *G.Node, _ []bool) (G.Nodes, error) {
	g, err := Apply(spreadRuns{shape: in[0].Shape().Clone()}, nil, grad)
	return G.Nodes{g}, err
}

// spreadRuns is the gradient of a mean over runs: each value of (batch,
// C), divided by the run length, is repeated over its run.
type spreadRuns struct{ shape tensor.Shape }

func (spreadRuns) Name() string { return "global_avgpool_grad" }

func (s spreadRuns) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	if in[0].TotalSize() != s.shape[0]*s.shape[1] {
		return nil, fmt.Errorf("gradient %v does not match the pooled %v", in[0], s.shape)
	}
	return s.shape.Clone(), nil
}

func (s spreadRuns) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(s, out, in, spreadRunsBody[float32], spreadRunsBody[float64])
}

func spreadRunsBody[T compute.Float](s spreadRuns, o []T, in []*tensor.Dense) error {
	_, _, per := channelLayout(s.shape)
	spread(o, data[T](in[0]), per)
	return nil
}

func spread[T compute.Float](out, g []T, per int) {
	inv := 1 / T(per)
	for i, v := range g {
		fill(out[i*per:(i+1)*per], v*inv)
	}
}

// GlobalAvgPoolGradient returns the gradient of GlobalAvgPool with
// respect to its input of shape x, given dy (batch, C): the backward pass
// as a node of its own, differentiable with respect to dy.
func GlobalAvgPoolGradient(dy *G.Node, x tensor.Shape) (*G.Node, error) {
	return Apply(spreadRuns{shape: x.Clone()}, nil, dy)
}

// Backward: spreading is linear; its adjoint is the mean over each run.
func (s spreadRuns) Backward(_ G.Nodes, _, grad *G.Node, _ []bool) (G.Nodes, error) {
	g, err := GlobalAvgPool(grad)
	return G.Nodes{g}, err
}
