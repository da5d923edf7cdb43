package ops

import (
	"fmt"

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
// Each sample's patches are unrolled (im2col) and multiplied by the kernel
// matrix in one GEMM that writes the sample's output in place, so no
// transpose follows. When wrtX is false the input gradient is not built.
func Conv(x, w, b *G.Node, win Window, wrtX bool) (*G.Node, error) {
	if b == nil {
		return Apply(&conv{win: win}, []bool{wrtX, true}, x, w)
	}
	return Apply(&conv{win: win, bias: true}, []bool{wrtX, true, true}, x, w, b)
}

// conv is the forward kernel. Its scratch holds one im2col buffer per
// worker, kept from step to step.
type conv struct {
	win  Window
	bias bool
	scr  scratch
}

func (k *conv) Name() string { return "conv" }

// convDims is the geometry of one call: batch, channels in and out,
// spatial sizes in and out, and the rows of the unrolled patch matrix.
type convDims struct {
	n, c, h, w, f, oh, ow int
	ckk, p                int // c·kh·kw rows and oh·ow columns of a sample's im2col
}

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
	d, _, err := k.dims(in[0].Shape(), in[1].Shape())
	if err != nil {
		return err
	}
	switch o := out.Data().(type) {
	case []float32:
		convForward(k, d, o, data[float32](in[0]), data[float32](in[1]), biasOf[float32](in, k.bias))
	case []float64:
		convForward(k, d, o, data[float64](in[0]), data[float64](in[1]), biasOf[float64](in, k.bias))
	}
	return nil
}

func biasOf[T float32 | float64](in []*tensor.Dense, has bool) []T {
	if !has {
		return nil
	}
	return data[T](in[2])
}

func convForward[T compute.Float](k *conv, d convDims, out, x, w, b []T) {
	identity := k.win.identity()
	var cols [][]T
	if !identity {
		cols = buffers[T](&k.scr, workers(d.n), d.ckk*d.p)
	}
	parallel(d.n, func(worker, lo, hi int) {
		for s := lo; s < hi; s++ {
			xs := x[s*d.c*d.h*d.w : (s+1)*d.c*d.h*d.w]
			ys := out[s*d.f*d.p : (s+1)*d.f*d.p]
			col := xs
			if !identity {
				col = cols[worker]
				im2col(col, xs, d, k.win)
			}
			var beta T
			if b != nil {
				for f, v := range b {
					fill(ys[f*d.p:(f+1)*d.p], v)
				}
				beta = 1
			}
			compute.Gemm(false, false, d.f, d.p, d.ckk, 1, w, d.ckk, col, d.p, beta, ys, d.p)
		}
	})
}

func fill[T compute.Float](s []T, v T) {
	for i := range s {
		s[i] = v
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

// im2col writes the patches of one sample x (c, h, w) as the columns of
// col (c·kh·kw, oh·ow); padding reads as zeros.
func im2col[T compute.Float](col, x []T, d convDims, win Window) {
	row := 0
	for ci := 0; ci < d.c; ci++ {
		plane := x[ci*d.h*d.w : (ci+1)*d.h*d.w]
		for ki := 0; ki < win.KH; ki++ {
			for kj := 0; kj < win.KW; kj++ {
				dst := col[row*d.p : (row+1)*d.p]
				row++
				off := kj*win.DW - win.PadL
				lo, hi := validRange(d.ow, d.w, win.SW, off)
				for y := 0; y < d.oh; y++ {
					out := dst[y*d.ow : (y+1)*d.ow]
					ih := y*win.SH - win.PadT + ki*win.DH
					if ih < 0 || ih >= d.h {
						clear(out)
						continue
					}
					src := plane[ih*d.w : (ih+1)*d.w]
					clear(out[:lo])
					clear(out[hi:])
					if win.SW == 1 {
						copy(out[lo:hi], src[lo+off:hi+off])
						continue
					}
					for i := lo; i < hi; i++ {
						out[i] = src[i*win.SW+off]
					}
				}
			}
		}
	}
}

// col2im is the adjoint of im2col: it adds each column entry of col back
// onto the input position it was read from. dx must be cleared first.
func col2im[T compute.Float](dx, col []T, d convDims, win Window) {
	row := 0
	for ci := 0; ci < d.c; ci++ {
		plane := dx[ci*d.h*d.w : (ci+1)*d.h*d.w]
		for ki := 0; ki < win.KH; ki++ {
			for kj := 0; kj < win.KW; kj++ {
				src := col[row*d.p : (row+1)*d.p]
				row++
				off := kj*win.DW - win.PadL
				lo, hi := validRange(d.ow, d.w, win.SW, off)
				for y := 0; y < d.oh; y++ {
					ih := y*win.SH - win.PadT + ki*win.DH
					if ih < 0 || ih >= d.h {
						continue
					}
					in := src[y*d.ow : (y+1)*d.ow]
					dst := plane[ih*d.w : (ih+1)*d.w]
					for i := lo; i < hi; i++ {
						dst[i*win.SW+off] += in[i]
					}
				}
			}
		}
	}
}

func (k *conv) Backward(in G.Nodes, _, grad *G.Node, wrt []bool) (G.Nodes, error) {
	gs := make(G.Nodes, len(in))
	var err error
	if wrt[0] {
		if gs[0], err = Apply(&convGradInput{win: k.win, x: in[0].Shape().Clone()}, []bool{false, true}, in[1], grad); err != nil {
			return nil, err
		}
	}
	if wrt[1] {
		if gs[1], err = Apply(&convGradWeight{win: k.win, w: in[1].Shape().Clone()}, []bool{false, true}, in[0], grad); err != nil {
			return nil, err
		}
	}
	if k.bias && wrt[2] {
		if gs[2], err = ChannelSum(grad); err != nil {
			return nil, err
		}
	}
	return gs, nil
}

// convGradInput computes dx from (w, dy): each sample's patch gradient
// wᵀ·dy, folded back onto the input by col2im.
type convGradInput struct {
	win Window
	x   tensor.Shape
	scr scratch
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
	d, _, err := (&conv{win: k.win}).dims(k.x, in[0].Shape())
	if err != nil {
		return err
	}
	switch o := out.Data().(type) {
	case []float32:
		convBackInput(k, d, o, data[float32](in[0]), data[float32](in[1]))
	case []float64:
		convBackInput(k, d, o, data[float64](in[0]), data[float64](in[1]))
	}
	return nil
}

func convBackInput[T compute.Float](k *convGradInput, d convDims, dx, w, dy []T) {
	identity := k.win.identity()
	var cols [][]T
	if !identity {
		cols = buffers[T](&k.scr, workers(d.n), d.ckk*d.p)
	}
	parallel(d.n, func(worker, lo, hi int) {
		for s := lo; s < hi; s++ {
			dxs := dx[s*d.c*d.h*d.w : (s+1)*d.c*d.h*d.w]
			dys := dy[s*d.f*d.p : (s+1)*d.f*d.p]
			if identity {
				compute.Gemm(true, false, d.ckk, d.p, d.f, 1, w, d.ckk, dys, d.p, 0, dxs, d.p)
				continue
			}
			col := cols[worker]
			compute.Gemm(true, false, d.ckk, d.p, d.f, 1, w, d.ckk, dys, d.p, 0, col, d.p)
			clear(dxs)
			col2im(dxs, col, d, k.win)
		}
	})
}

func (*convGradInput) Backward(G.Nodes, *G.Node, *G.Node, []bool) (G.Nodes, error) {
	return nil, errSecondOrder
}

// convGradWeight computes dw from (x, dy): Σ over samples of dy·patchesᵀ.
// Each worker sums its samples into its own buffer; the buffers are then
// added in worker order, so the result does not depend on scheduling.
type convGradWeight struct {
	win Window
	w   tensor.Shape
	scr scratch
}

func (k *convGradWeight) Name() string { return "conv_grad_weight" }

func (k *convGradWeight) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	_, out, err := (&conv{win: k.win}).dims(in[0], k.w)
	if err != nil {
		return nil, err
	}
	if !out.Eq(in[1]) {
		return nil, fmt.Errorf("output gradient %v does not match the output %v", in[1], out)
	}
	return k.w.Clone(), nil
}

func (k *convGradWeight) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	d, _, err := (&conv{win: k.win}).dims(in[0].Shape(), k.w)
	if err != nil {
		return err
	}
	switch o := out.Data().(type) {
	case []float32:
		convBackWeight(k, d, o, data[float32](in[0]), data[float32](in[1]))
	case []float64:
		convBackWeight(k, d, o, data[float64](in[0]), data[float64](in[1]))
	}
	return nil
}

func convBackWeight[T compute.Float](k *convGradWeight, d convDims, dw, x, dy []T) {
	identity := k.win.identity()
	nw := workers(d.n)
	size := d.f * d.ckk
	// Buffer layout per worker: its partial dw, then its im2col buffer.
	colSize := d.ckk * d.p
	if identity {
		colSize = 0
	}
	bufs := buffers[T](&k.scr, nw, size+colSize)
	parallel(d.n, func(worker, lo, hi int) {
		acc := bufs[worker][:size]
		if worker == 0 {
			acc = dw
		}
		clear(acc)
		for s := lo; s < hi; s++ {
			xs := x[s*d.c*d.h*d.w : (s+1)*d.c*d.h*d.w]
			dys := dy[s*d.f*d.p : (s+1)*d.f*d.p]
			col := xs
			if !identity {
				col = bufs[worker][size:]
				im2col(col, xs, d, k.win)
			}
			compute.Gemm(false, true, d.f, d.ckk, d.p, 1, dys, d.p, col, d.p, 1, acc, d.ckk)
		}
	})
	for wk := 1; wk < nw; wk++ {
		for i, v := range bufs[wk][:size] {
			dw[i] += v
		}
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
	n, c, per := channelLayout(in[0].Shape())
	switch o := out.Data().(type) {
	case []float32:
		sumChannels(o, data[float32](in[0]), n, c, per)
	case []float64:
		sumChannels(o, data[float64](in[0]), n, c, per)
	}
	return nil
}

func sumChannels[T compute.Float](out, x []T, n, c, per int) {
	for ch := 0; ch < c; ch++ {
		var s float64
		for i := 0; i < n; i++ {
			for _, v := range x[(i*c+ch)*per : (i*c+ch+1)*per] {
				s += float64(v)
			}
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
	n, c, per := channelLayout(b.shape)
	switch o := out.Data().(type) {
	case []float32:
		broadcastChannels(o, data[float32](in[0]), n, c, per)
	case []float64:
		broadcastChannels(o, data[float64](in[0]), n, c, per)
	}
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
