package ops

import (
	"fmt"
	"unsafe"

	"github.com/dltrain/dltrain/pkg/compute"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Conv returns the convolution of x with the kernels w, plus the bias b
// (nil for none), over the window geometry win (its KH, KW must match w).
// Like PyTorch's conv1d/conv2d it is a cross-correlation, channel first:
//
//	x (batch, C, H, W), w (F, C, KH, KW), b (F) -> (batch, F, OH, OW)
//	x (batch, C, L),    w (F, C, K),      b (F) -> (batch, F, OL)
//
// The patches of the whole batch are unrolled (im2col) into one matrix and
// multiplied by the kernel matrix in one product, whose rows are then
// written out channel first with the bias; the backward pass reuses the
// unrolled patches for the weight gradient. When wrtX is false the input
// gradient is not built.
func Conv(x, w, b *G.Node, win Window, wrtX bool) (*G.Node, error) {
	return ConvAct(x, w, b, win, "none", 0, wrtX)
}

// ConvAct returns activation(Conv(x, w, b)). As Dense does, it fuses the
// activations whose derivative is a function of their output (relu,
// sigmoid, tanh) into the convolution: applied to the output as it is
// written, with the backward pass starting from the output. Other
// activations follow as their own op.
func ConvAct(x, w, b *G.Node, win Window, activation string, alpha float64, wrtX bool) (*G.Node, error) {
	k := &conv{win: win, bias: b != nil}
	return applyFused(k, &k.act, x, w, b, activation, alpha, wrtX)
}

// applyFused applies the kernel k of a weighted layer to x, w and b (b
// may be nil). An activation whose derivative is a function of its
// output is fused into k, through its act field kAct; any other follows
// as an op of its own.
func applyFused(k Kernel, kAct *act, x, w, b *G.Node, activation string, alpha float64, wrtX bool) (*G.Node, error) {
	def, fused := activations[activation]
	fused = fused && def.byOutput
	if fused {
		*kAct = act{name: activation, alpha: alpha}
	}
	var y *G.Node
	var err error
	if b == nil {
		y, err = Apply(k, []bool{wrtX, true}, x, w)
	} else {
		y, err = Apply(k, []bool{wrtX, true, true}, x, w, b)
	}
	if err != nil || fused {
		return y, err
	}
	return Activate(y, activation, alpha)
}

// conv is the forward kernel. Its scratch (kept from step to step) holds
// the unrolled patches in slot 0, the product before it is written out in
// slot 1 and the padded kernel matrix in slot 2.
type conv struct {
	win  Window
	bias bool
	act  act // the fused activation; name "" for none
	scr  scratch
	jobs convJobs
	// colsOf is the first element of the input whose patches, for the
	// whole batch, slot 0 holds (nil when the batch was unrolled in
	// chunks): the weight gradient reuses them.
	colsOf unsafe.Pointer
}

func (k *conv) Name() string {
	if k.act.name != "" {
		return "conv_" + k.act.name
	}
	return "conv"
}

// convDims is the geometry of one call: batch, channels in and out,
// spatial sizes in and out, and the rows of the unrolled patch matrix.
type convDims struct {
	n, c, h, w, f, oh, ow int
	ckk, p                int // c·kh·kw rows and oh·ow columns per sample of the patch matrix
}

// colBudget bounds the unrolled patches held at once, in elements (16 MiB
// in float32): a batch whose patches exceed it is unrolled in chunks of
// samples, and the weight gradient then unrolls them again.
var colBudget = 1 << 22 // a variable so that tests can force chunks

// chunk is the number of samples unrolled at once.
func (d convDims) chunk() int { return max(1, min(d.n, colBudget/max(d.ckk*d.p, 1))) }

func (k *conv) dims(x, w tensor.Shape) (convDims, tensor.Shape, error) {
	if w.Dims() != x.Dims() {
		return convDims{}, nil, fmt.Errorf("kernels %v do not match the input %v (want %d axes)", w, x, x.Dims())
	}
	kh, kw := 1, w[w.Dims()-1]
	if w.Dims() == 4 {
		kh = w[2]
	}
	if kh != k.win.KH || kw != k.win.KW {
		return convDims{}, nil, fmt.Errorf("kernels %v do not match the window %d×%d", w, k.win.KH, k.win.KW)
	}
	out, err := k.win.outShape(x, w[0])
	if err != nil {
		return convDims{}, nil, err
	}
	n, c, h, wd, _ := planes(x)
	if w[1] != c {
		return convDims{}, nil, fmt.Errorf("kernels %v take %d channels, the input %v has %d", w, w[1], x, c)
	}
	_, f, oh, ow, _ := planes(out)
	return convDims{n: n, c: c, h: h, w: wd, f: f, oh: oh, ow: ow, ckk: c * kh * kw, p: oh * ow}, out, nil
}

// geometry is the convDims of shapes that OutShape has accepted, without
// allocating (Forward's path).
func (k *conv) geometry(x, w tensor.Shape) convDims {
	n, c, h, wd, _ := planes(x)
	oh, ow, _ := k.win.Out(h, wd)
	return convDims{n: n, c: c, h: h, w: wd, f: w[0], oh: oh, ow: ow, ckk: c * k.win.KH * k.win.KW, p: oh * ow}
}

func (k *conv) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	_, out, err := k.dims(in[0], in[1])
	if err != nil {
		return nil, err
	}
	if k.bias && (in[2].Dims() != 1 || in[2][0] != in[1][0]) {
		return nil, fmt.Errorf("bias %v does not match %d kernels", in[2], in[1][0])
	}
	return out, nil
}

func (k *conv) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, convBody[float32], convBody[float64])
}

func convBody[T compute.Float](k *conv, o []T, in []*tensor.Dense) error {
	d := k.geometry(in[0].Shape(), in[1].Shape())
	convForward(k, d, o, data[T](in[0]), data[T](in[1]), biasOf[T](in, k.bias))
	return nil
}

func biasOf[T compute.Float](in []*tensor.Dense, has bool) []T {
	if !has {
		return nil
	}
	return data[T](in[2])
}

// convForward computes, chunk by chunk of samples, the product W·cols of
// the kernels (F × C·KH·KW) with the patches (C·KH·KW × samples·OH·OW) in
// one call, then writes each kernel's row for each sample to the output
// with the bias, and applies the fused activation. In float32 the kernel
// matrix is padded with zero rows to a multiple of 8, the height of the
// product's tiles, so that no tile of the product is partial.
func convForward[T compute.Float](k *conv, d convDims, out, x, w, b []T) {
	cs := d.chunk()
	cols := grow[T](&k.scr, 0, d.ckk*cs*d.p)
	fp, wp := w, d.f
	if _, f32 := any(w).([]float32); f32 && d.f%8 != 0 {
		wp = (d.f + 7) &^ 7
		fp = grow[T](&k.scr, 2, wp*d.ckk)
		copy(fp, w)
		clear(fp[len(w):])
	}
	y := grow[T](&k.scr, 1, wp*cs*d.p)
	jobs := jobsOf[T](&k.jobs)
	for s0 := 0; s0 < d.n; s0 += cs {
		nc := min(cs, d.n-s0)
		np := nc * d.p
		jobs.patches = patchJob[T]{cols: cols[:d.ckk*np], x: x, d: d, win: k.win, s0: s0, nc: nc}
		compute.Parallel(nc, d.grain(d.ckk*d.p), &jobs.patches)
		compute.Gemm(false, false, wp, np, d.ckk, 1, fp, d.ckk, cols, np, 0, y, np)
		jobs.write = writeJob[T]{out: out, y: y, b: b, d: d, s0: s0, nc: nc, act: k.act}
		compute.Parallel(nc, d.grain(d.f*d.p), &jobs.write)
	}
	jobs.patches, jobs.write = patchJob[T]{}, writeJob[T]{} // keep no tensor alive
	k.colsOf = nil
	if cs == d.n && len(x) > 0 {
		k.colsOf = unsafe.Pointer(&x[0])
	}
}

// convJobs are the parts of a conv op's work that compute.Parallel cuts
// by samples, one set per dtype, kept in the op so that handing them out
// allocates nothing.
type convJobs struct {
	f32 convJobsOf[float32]
	f64 convJobsOf[float64]
}

type convJobsOf[T compute.Float] struct {
	patches patchJob[T]
	write   writeJob[T]
	layout  layoutJob[T]
}

func jobsOf[T compute.Float](j *convJobs) *convJobsOf[T] {
	if p, ok := any(&j.f32).(*convJobsOf[T]); ok {
		return p
	}
	return any(&j.f64).(*convJobsOf[T])
}

// grain is the number of samples worth handing to another core when each
// has perSample values to move: about 16k.
func (d convDims) grain(perSample int) int { return max(1, (1<<14)/max(perSample, 1)) }

// patchJob unrolls the patches of samples s0+lo to s0+hi−1 of x into cols
// (im2col), or, with fold, adds them back from cols into x (col2im).
type patchJob[T compute.Float] struct {
	fold    bool
	cols, x []T
	d       convDims
	win     Window
	s0, nc  int
}

func (j *patchJob[T]) Run(lo, hi int) {
	if j.fold {
		col2im(j.x, j.cols, j.d, j.win, j.s0, j.nc, lo, hi)
	} else {
		im2col(j.cols, j.x, j.d, j.win, j.s0, j.nc, lo, hi)
	}
}

// writeJob writes the product's rows of samples s0+lo to s0+hi−1 into the
// output, channel first, with the bias and the fused activation.
type writeJob[T compute.Float] struct {
	out, y, b []T
	d         convDims
	s0, nc    int
	act       act
}

func (j *writeJob[T]) Run(lo, hi int) {
	d, np := j.d, j.nc*j.d.p
	for s := lo; s < hi; s++ {
		for f := range d.f {
			dst := j.out[((j.s0+s)*d.f+f)*d.p:][:d.p]
			src := j.y[f*np+s*d.p:][:d.p]
			if j.b == nil {
				copy(dst, src)
			} else {
				compute.AddConst(dst, src, j.b[f])
			}
		}
		if j.act.name != "" {
			o := j.out[(j.s0+s)*d.f*d.p : (j.s0+s+1)*d.f*d.p]
			actForward(j.act, o, o)
		}
	}
}

// layoutJob copies the output gradient of samples s0+lo to s0+hi−1, dy
// (batch, f, p), into dst as f rows of nc·p: the layout of the product.
type layoutJob[T compute.Float] struct {
	dst, dy []T
	d       convDims
	s0, nc  int
}

func (j *layoutJob[T]) Run(lo, hi int) {
	d, np := j.d, j.nc*j.d.p
	for s := lo; s < hi; s++ {
		for f := range d.f {
			copy(j.dst[f*np+s*d.p:][:d.p], j.dy[((j.s0+s)*d.f+f)*d.p:][:d.p])
		}
	}
}

// validRange returns the outputs [lo, hi) of an axis of out positions whose
// input index i·stride + off falls inside [0, size).
func validRange(out, size, stride, off int) (lo, hi int) {
	if off < 0 {
		lo = (-off + stride - 1) / stride
	}
	if size-1-off >= 0 {
		hi = (size-1-off)/stride + 1
	}
	hi = min(hi, out)
	return min(lo, hi), hi
}

// im2col writes the patches of the nc samples from s0 of x (batch, c, h,
// w) as the columns of cols: c·kh·kw rows of nc·oh·ow columns, sample
// after sample; those of samples s0+lo to s0+hi−1. Padding reads as zeros.
func im2col[T compute.Float](cols, x []T, d convDims, win Window, s0, nc, lo, hi int) {
	np := nc * d.p
	var buf [maxTaps]patchRow
	taps := patchRows(buf[:0], d, win)
	for s := lo; s < hi; s++ {
		xs := x[(s0+s)*d.c*d.h*d.w:][:d.c*d.h*d.w]
		for ci := 0; ci < d.c; ci++ {
			plane := xs[ci*d.h*d.w : (ci+1)*d.h*d.w]
			for t, r := range taps {
				dst := cols[(ci*len(taps)+t)*np+s*d.p:][:d.p]
				if r.padded {
					clear(dst)
				}
				if r.y0 >= r.y1 || r.x0 >= r.x1 {
					continue
				}
				if win.SW == 1 {
					compute.Copy2D(dst[r.y0*d.ow+r.x0:], d.ow, plane[r.src:], win.SH*d.w, r.y1-r.y0, r.x1-r.x0)
					continue
				}
				for y := r.y0; y < r.y1; y++ {
					out, src := dst[y*d.ow:(y+1)*d.ow], plane[r.src+(y-r.y0)*win.SH*d.w:]
					for i := r.x0; i < r.x1; i++ {
						out[i] = src[(i-r.x0)*win.SW]
					}
				}
			}
		}
	}
}

// patchRow is where one row of the patch matrix, kernel tap (ki, kj),
// reads a plane: outputs y0 ≤ y < y1 and x0 ≤ x < x1 read the input, from
// index src on (for (y0, x0)) with strides SH·w and SW; the other outputs
// read padding (padded is then set).
type patchRow struct {
	y0, y1, x0, x1, src int
	padded              bool
}

// maxTaps is the number of kernel taps whose patchRows fit the callers'
// stack buffer; larger kernels allocate.
const maxTaps = 64

// patchRows appends the patchRow of every tap (ki, kj) of the window, in
// row-major order, to taps.
func patchRows(taps []patchRow, d convDims, win Window) []patchRow {
	for ki := 0; ki < win.KH; ki++ {
		for kj := 0; kj < win.KW; kj++ {
			offH, offW := ki*win.DH-win.PadT, kj*win.DW-win.PadL
			y0, y1 := validRange(d.oh, d.h, win.SH, offH)
			x0, x1 := validRange(d.ow, d.w, win.SW, offW)
			r := patchRow{y0: y0, y1: y1, x0: x0, x1: x1, padded: y0 > 0 || y1 < d.oh || x0 > 0 || x1 < d.ow}
			r.src = (y0*win.SH+offH)*d.w + x0*win.SW + offW
			taps = append(taps, r)
		}
	}
	return taps
}

// col2im is the adjoint of im2col: it sets dx of samples s0+lo to
// s0+hi−1 to the sum of the entries of cols (the patches of the nc
// samples from s0) read from each input position. Channels are the
// innermost loop: consecutive taps of one channel add to overlapping rows,
// and loading what the previous one has just stored stalls.
func col2im[T compute.Float](dx, cols []T, d convDims, win Window, s0, nc, lo, hi int) {
	np := nc * d.p
	var buf [maxTaps]patchRow
	taps := patchRows(buf[:0], d, win)
	for s := lo; s < hi; s++ {
		dxs := dx[(s0+s)*d.c*d.h*d.w:][:d.c*d.h*d.w]
		clear(dxs)
		for t, r := range taps {
			if r.y0 >= r.y1 || r.x0 >= r.x1 {
				continue
			}
			for ci := 0; ci < d.c; ci++ {
				plane := dxs[ci*d.h*d.w : (ci+1)*d.h*d.w]
				src := cols[(ci*len(taps)+t)*np+s*d.p:][:d.p]
				if win.SW == 1 {
					compute.Add2D(plane[r.src:], win.SH*d.w, src[r.y0*d.ow+r.x0:], d.ow, r.y1-r.y0, r.x1-r.x0)
					continue
				}
				for y := r.y0; y < r.y1; y++ {
					in, dst := src[y*d.ow:(y+1)*d.ow], plane[r.src+(y-r.y0)*win.SH*d.w:]
					for i := r.x0; i < r.x1; i++ {
						dst[(i-r.x0)*win.SW] += in[i]
					}
				}
			}
		}
	}
}

// Backward: with dz = dy·f'(z) computed from the output when an
// activation is fused (dz = dy otherwise), dx = col2im(Wᵀ·dz), dW =
// dz·colsᵀ and db = Σ dz per channel.
func (k *conv) Backward(in G.Nodes, out, grad *G.Node, wrt []bool) (G.Nodes, error) {
	dz := grad
	var err error
	if k.act.name != "" {
		if dz, err = Apply(actGradOut(k.act), []bool{false, true}, out, grad); err != nil {
			return nil, err
		}
	}
	gs := make(G.Nodes, len(in))
	if wrt[0] {
		if gs[0], err = Apply(&convGradInput{win: k.win, x: in[0].Shape().Clone()}, []bool{false, true}, in[1], dz); err != nil {
			return nil, err
		}
	}
	if wrt[1] {
		// The output is an input only to order this op after the forward
		// one, whose unrolled patches it reads.
		g := &convGradWeight{fwd: k, w: in[1].Shape().Clone()}
		if gs[1], err = Apply(g, []bool{false, false, true}, in[0], out, dz); err != nil {
			return nil, err
		}
	}
	if k.bias && wrt[2] {
		if gs[2], err = ChannelSum(dz); err != nil {
			return nil, err
		}
	}
	return gs, nil
}

// convGradInput computes dx from (w, dz): the patch gradients Wᵀ·dz of a
// chunk of samples in one product, folded back onto the input by col2im.
// Its scratch holds dz channel first (slot 0) and the patch gradients
// (slot 1).
type convGradInput struct {
	win  Window
	x    tensor.Shape
	scr  scratch
	jobs convJobs
}

func (k *convGradInput) Name() string { return "conv_grad_input" }

func (k *convGradInput) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	_, out, err := (&conv{win: k.win}).dims(k.x, in[0])
	if err != nil {
		return nil, err
	}
	if !out.Eq(in[1]) {
		return nil, fmt.Errorf("output gradient %v does not match the output %v", in[1], out)
	}
	return k.x.Clone(), nil
}

func (k *convGradInput) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, convGradInputBody[float32], convGradInputBody[float64])
}

func convGradInputBody[T compute.Float](k *convGradInput, o []T, in []*tensor.Dense) error {
	d := (&conv{win: k.win}).geometry(k.x, in[0].Shape())
	convBackInput(k, d, o, data[T](in[0]), data[T](in[1]))
	return nil
}

func convBackInput[T compute.Float](k *convGradInput, d convDims, dx, w, dy []T) {
	cs := d.chunk()
	dyc := grow[T](&k.scr, 0, d.f*cs*d.p)
	cols := grow[T](&k.scr, 1, d.ckk*cs*d.p)
	jobs := jobsOf[T](&k.jobs)
	for s0 := 0; s0 < d.n; s0 += cs {
		nc := min(cs, d.n-s0)
		np := nc * d.p
		jobs.layout = layoutJob[T]{dst: dyc, dy: dy, d: d, s0: s0, nc: nc}
		compute.Parallel(nc, d.grain(d.f*d.p), &jobs.layout)
		compute.Gemm(true, false, d.ckk, np, d.f, 1, w, d.ckk, dyc, np, 0, cols, np)
		jobs.patches = patchJob[T]{fold: true, cols: cols[:d.ckk*np], x: dx, d: d, win: k.win, s0: s0, nc: nc}
		compute.Parallel(nc, d.grain(d.ckk*d.p), &jobs.patches)
	}
	jobs.layout, jobs.patches = layoutJob[T]{}, patchJob[T]{}
}

func (*convGradInput) Backward(G.Nodes, *G.Node, *G.Node, []bool) (G.Nodes, error) {
	return nil, errSecondOrder
}

// convGradWeight computes dW from (x, y, dz): dz·colsᵀ, summed over the
// chunks of samples in order, with the patches the forward op unrolled
// when it kept them for the whole batch (y, its output, is an input only
// so that this op runs after it). Its scratch holds dz channel first (slot
// 0) and, when it must unroll the patches itself, those (slot 1).
type convGradWeight struct {
	fwd  *conv
	w    tensor.Shape
	scr  scratch
	jobs convJobs
}

func (k *convGradWeight) Name() string { return "conv_grad_weight" }

func (k *convGradWeight) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	_, out, err := k.fwd.dims(in[0], k.w)
	if err != nil {
		return nil, err
	}
	if !out.Eq(in[1]) || !out.Eq(in[2]) {
		return nil, fmt.Errorf("output %v and its gradient %v do not match the output %v", in[1], in[2], out)
	}
	return k.w.Clone(), nil
}

func (k *convGradWeight) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, convGradWeightBody[float32], convGradWeightBody[float64])
}

func convGradWeightBody[T compute.Float](k *convGradWeight, o []T, in []*tensor.Dense) error {
	d := k.fwd.geometry(in[0].Shape(), k.w)
	convBackWeight(k, d, o, data[T](in[0]), data[T](in[2]))
	return nil
}

func convBackWeight[T compute.Float](k *convGradWeight, d convDims, dw, x, dy []T) {
	cs := d.chunk()
	dyc := grow[T](&k.scr, 0, d.f*cs*d.p)
	var cols []T
	reuse := cs == d.n && len(x) > 0 && k.fwd.colsOf == unsafe.Pointer(&x[0])
	if reuse {
		cols = slot[T](&k.fwd.scr, 0)[:d.ckk*d.n*d.p]
	} else {
		cols = grow[T](&k.scr, 1, d.ckk*cs*d.p)
	}
	jobs := jobsOf[T](&k.jobs)
	defer func() { jobs.layout, jobs.patches = layoutJob[T]{}, patchJob[T]{} }()
	for s0 := 0; s0 < d.n; s0 += cs {
		nc := min(cs, d.n-s0)
		np := nc * d.p
		if !reuse {
			jobs.patches = patchJob[T]{cols: cols[:d.ckk*np], x: x, d: d, win: k.fwd.win, s0: s0, nc: nc}
			compute.Parallel(nc, d.grain(d.ckk*d.p), &jobs.patches)
		}
		jobs.layout = layoutJob[T]{dst: dyc, dy: dy, d: d, s0: s0, nc: nc}
		compute.Parallel(nc, d.grain(d.f*d.p), &jobs.layout)
		var beta T
		if s0 > 0 {
			beta = 1
		}
		compute.Gemm(false, true, d.f, d.ckk, np, 1, dyc, np, cols, np, beta, dw, d.ckk)
	}
}

func (*convGradWeight) Backward(G.Nodes, *G.Node, *G.Node, []bool) (G.Nodes, error) {
	return nil, errSecondOrder
}

// ChannelSum sums a channel-first tensor (batch, C, ...) over every axis
// but the channel: the gradient of a per-channel bias or shift.
func ChannelSum(x *G.Node) (*G.Node, error) { return Apply(channelSum{}, nil, x) }

type channelSum struct{}

func (channelSum) Name() string { return "channel_sum" }

func (channelSum) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	if in[0].Dims() < 2 {
		return nil, fmt.Errorf("want (batch, channels, ...), got %v", in[0])
	}
	return tensor.Shape{in[0][1]}, nil
}

// channelLayout returns batch, channels and the elements per channel of a
// sample for a (batch, C, ...) shape.
func channelLayout(s tensor.Shape) (n, c, per int) {
	return s[0], s[1], s.TotalSize() / max(s[0]*s[1], 1)
}

func (channelSum) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(channelSum{}, out, in, channelSumBody[float32], channelSumBody[float64])
}

func channelSumBody[T compute.Float](_ channelSum, o []T, in []*tensor.Dense) error {
	n, c, per := channelLayout(in[0].Shape())
	sumChannels(o, data[T](in[0]), n, c, per)
	return nil
}

// sumChannels sums each channel's run of each sample (vectorized in
// float32), the runs in float64.
func sumChannels[T compute.Float](out, x []T, n, c, per int) {
	for ch := 0; ch < c; ch++ {
		var s float64
		for i := 0; i < n; i++ {
			s += float64(compute.Sum(x[(i*c+ch)*per : (i*c+ch+1)*per]))
		}
		out[ch] = T(s)
	}
}

func (channelSum) Backward(in G.Nodes, _, grad *G.Node, _ []bool) (G.Nodes, error) {
	g, err := Apply(channelBroadcast{shape: in[0].Shape().Clone()}, nil, grad)
	return G.Nodes{g}, err
}

// channelBroadcast repeats a per-channel vector (C) over a (batch, C, ...)
// shape.
type channelBroadcast struct{ shape tensor.Shape }

func (channelBroadcast) Name() string { return "channel_broadcast" }

func (b channelBroadcast) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	if in[0].Dims() != 1 || b.shape.Dims() < 2 || in[0][0] != b.shape[1] {
		return nil, fmt.Errorf("cannot broadcast %v over the channels of %v", in[0], b.shape)
	}
	return b.shape.Clone(), nil
}

func (b channelBroadcast) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(b, out, in, channelBroadcastBody[float32], channelBroadcastBody[float64])
}

func channelBroadcastBody[T compute.Float](b channelBroadcast, o []T, in []*tensor.Dense) error {
	n, c, per := channelLayout(b.shape)
	broadcastChannels(o, data[T](in[0]), n, c, per)
	return nil
}

func broadcastChannels[T compute.Float](out, v []T, n, c, per int) {
	for i := 0; i < n; i++ {
		for ch := 0; ch < c; ch++ {
			fill(out[(i*c+ch)*per:(i*c+ch+1)*per], v[ch])
		}
	}
}

func (channelBroadcast) Backward(_ G.Nodes, _, grad *G.Node, _ []bool) (G.Nodes, error) {
	g, err := ChannelSum(grad)
	return G.Nodes{g}, err
}

func fill[T compute.Float](s []T, v T) {
	for i := range s {
		s[i] = v
	}
}
