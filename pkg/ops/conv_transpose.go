package ops

import (
	"fmt"

	"github.com/dltrain/dltrain/pkg/compute"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// A transposed convolution is the adjoint of a convolution: its forward
// pass is the input gradient of the convolution it transposes, its input
// gradient is that convolution's forward pass, and its weight gradient is
// that convolution's weight gradient with the roles of input and output
// gradient swapped. So the kernels here hold the geometry of that
// convolution and run conv.go's arithmetic (im2col, col2im and one product
// per chunk of samples) on it.

// ConvTranspose returns the transposed convolution of x with the kernels
// w, plus the bias b (nil for none), as PyTorch's conv_transpose2d and
// conv_transpose1d with groups 1, channel first:
//
//	x (batch, C, H, W), w (C, F, KH, KW), b (F) -> (batch, F, OH, OW)
//	x (batch, C, L),    w (C, F, K),      b (F) -> (batch, F, OL)
//
// with OH = (H−1)·SH − PadT − PadB + DH·(KH−1) + outPad[0] + 1, and OW
// likewise with outPad[1]. win is the window of the convolution that
// maps the output back to the input's shape: its padding crops the
// output, and outPad adds rows at the bottom and columns at the right
// (PyTorch's output_padding; it must be smaller than the stride or the
// dilation of its axis). When wrtX is false the input gradient is not
// built.
func ConvTranspose(x, w, b *G.Node, win Window, outPad [2]int, wrtX bool) (*G.Node, error) {
	return ConvTransposeAct(x, w, b, win, outPad, "none", 0, wrtX)
}

// ConvTransposeAct returns activation(ConvTranspose(x, w, b)), fusing the
// activations whose derivative is a function of their output (relu,
// sigmoid, tanh) into the op as ConvAct does.
func ConvTransposeAct(x, w, b *G.Node, win Window, outPad [2]int, activation string, alpha float64, wrtX bool) (*G.Node, error) {
	k := &convTranspose{geom: transposed{win: win, outPad: outPad}, bias: b != nil, inner: convGradInput{win: win}}
	return applyFused(k, &k.act, x, w, b, activation, alpha, wrtX)
}

// transposed is the geometry of a transposed convolution: the window of
// the convolution it transposes and the output padding.
type transposed struct {
	win    Window
	outPad [2]int
}

// TransposedOut returns the output size of a transposed convolution with
// window w and output padding outPad over an input of h×wd: the size of
// the input that a convolution with window w maps to h×wd, with no row or
// column left over, plus the output padding; (H−1)·SH − PadT − PadB +
// DH·(KH−1) + outPad[0] + 1 rows. It may be 0 or negative: no output.
func (w Window) TransposedOut(h, wd int, outPad [2]int) (oh, ow int) {
	eh, ew := w.Extent()
	oh = (h-1)*w.SH - w.PadT - w.PadB + eh + outPad[0]
	ow = (wd-1)*w.SW - w.PadL - w.PadR + ew + outPad[1]
	return oh, ow
}

// OutSize is TransposedOut of t's window and output padding.
func (t transposed) OutSize(h, wd int) (oh, ow int) { return t.win.TransposedOut(h, wd, t.outPad) }

func (t transposed) check(x tensor.Shape) error {
	if err := t.win.check(); err != nil {
		return err
	}
	if x.Dims() == 3 && (t.win.KH != 1 || t.win.SH != 1 || t.win.DH != 1 || t.win.PadT+t.win.PadB != 0 || t.outPad[0] != 0) {
		return fmt.Errorf("a 1-D input %v needs a 1-D window, got %+v, output padding %v", x, t.win, t.outPad)
	}
	for i, s := range []int{t.win.SH, t.win.SW} {
		d := []int{t.win.DH, t.win.DW}[i]
		if op := t.outPad[i]; op < 0 || (op >= s && op >= d) {
			return fmt.Errorf("output padding %d must be >= 0 and smaller than the stride %d or the dilation %d", op, s, d)
		}
	}
	return nil
}

// dims returns the geometry of the transposed convolution of x by w as
// that of the convolution it transposes (convDims: its input is this op's
// output, its output this op's input), and the output shape.
func (t transposed) dims(x, w tensor.Shape) (convDims, tensor.Shape, error) {
	if err := t.check(x); err != nil {
		return convDims{}, nil, err
	}
	n, c, h, wd, err := planes(x)
	if err != nil {
		return convDims{}, nil, err
	}
	if w.Dims() != x.Dims() {
		return convDims{}, nil, fmt.Errorf("kernels %v do not match the input %v (want %d axes)", w, x, x.Dims())
	}
	kh, kw := 1, w[w.Dims()-1]
	if w.Dims() == 4 {
		kh = w[2]
	}
	if kh != t.win.KH || kw != t.win.KW {
		return convDims{}, nil, fmt.Errorf("kernels %v do not match the window %d×%d", w, t.win.KH, t.win.KW)
	}
	if w[0] != c {
		return convDims{}, nil, fmt.Errorf("kernels %v take %d channels, the input %v has %d", w, w[0], x, c)
	}
	f := w[1]
	oh, ow := t.OutSize(h, wd)
	if oh < 1 || ow < 1 {
		return convDims{}, nil, fmt.Errorf("the output of %v would be %d×%d", x, oh, ow)
	}
	out := tensor.Shape{n, f, oh, ow}
	if x.Dims() == 3 {
		out = tensor.Shape{n, f, ow}
	}
	return convDims{n: n, c: f, h: oh, w: ow, f: c, oh: h, ow: wd, ckk: f * kh * kw, p: h * wd}, out, nil
}

// geometry is dims for shapes that OutShape has accepted, without
// allocating (the Forward path).
func (t transposed) geometry(x, w tensor.Shape) convDims {
	n, c, h, wd, _ := planes(x)
	oh, ow := t.OutSize(h, wd)
	f := w[1]
	return convDims{n: n, c: f, h: oh, w: ow, f: c, oh: h, ow: wd, ckk: f * t.win.KH * t.win.KW, p: h * wd}
}

// convTranspose is the forward kernel: conv.go's input gradient of the
// transposed convolution, then the bias and the fused activation.
type convTranspose struct {
	geom  transposed
	bias  bool
	act   act // the fused activation; name "" for none
	inner convGradInput
}

func (k *convTranspose) Name() string {
	if k.act.name != "" {
		return "conv_transpose_" + k.act.name
	}
	return "conv_transpose"
}

func (k *convTranspose) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	_, out, err := k.geom.dims(in[0], in[1])
	if err != nil {
		return nil, err
	}
	if k.bias && (in[2].Dims() != 1 || in[2][0] != in[1][1]) {
		return nil, fmt.Errorf("bias %v does not match %d kernels", in[2], in[1][1])
	}
	return out, nil
}

func (k *convTranspose) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, convTransposeBody[float32], convTransposeBody[float64])
}

// convTransposeBody scatters the input through the kernels onto the
// output (col2im of Wᵀ·x, chunk by chunk of samples), then adds the bias
// and applies the fused activation plane by plane.
func convTransposeBody[T compute.Float](k *convTranspose, out []T, in []*tensor.Dense) error {
	d := k.geom.geometry(in[0].Shape(), in[1].Shape())
	b := biasOf[T](in, k.bias)
	convBackInput(&k.inner, d, out, data[T](in[1]), data[T](in[0]))
	if b == nil && k.act.name == "" {
		return nil
	}
	per := d.h * d.w
	for s := range d.n {
		o := out[s*d.c*per : (s+1)*d.c*per]
		if b != nil {
			for f, v := range b {
				compute.AddConst(o[f*per:(f+1)*per], o[f*per:(f+1)*per], v)
			}
		}
		if k.act.name != "" {
			actForward(k.act, o, o)
		}
	}
	return nil
}

// Backward: with dz = dy·f'(z) computed from the output when an
// activation is fused (dz = dy otherwise), dx is the convolution of dz,
// dW its weight gradient against x, and db = Σ dz per channel. The weight
// gradient reuses the patches of dz that the input gradient unrolled
// (dx is then its input only to order it after that op).
func (k *convTranspose) Backward(in G.Nodes, out, grad *G.Node, wrt []bool) (G.Nodes, error) {
	dz := grad
	var err error
	if k.act.name != "" {
		if dz, err = Apply(actGradOut(k.act), []bool{false, true}, out, grad); err != nil {
			return nil, err
		}
	}
	gs := make(G.Nodes, len(in))
	gw := &convTransposeGradWeight{geom: k.geom, w: in[1].Shape().Clone()}
	gw.inner.fwd = &conv{win: k.geom.win}
	if wrt[0] {
		gx := &convTransposeGradInput{geom: k.geom, x: in[0].Shape().Clone(), inner: conv{win: k.geom.win}}
		if gs[0], err = Apply(gx, []bool{false, true}, in[1], dz); err != nil {
			return nil, err
		}
		gw.inner.fwd = &gx.inner
	}
	if wrt[1] {
		args := G.Nodes{in[0], dz}
		if gs[0] != nil {
			args = append(args, gs[0])
		}
		if gs[1], err = Apply(gw, []bool{false, false, false}[:len(args)], args...); err != nil {
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

// convTransposeGradInput computes dx from (w, dz): the convolution of dz
// by w over the transposed window, whose output has x's shape. Its inner
// conv keeps the unrolled patches of dz, which the weight gradient reuses.
type convTransposeGradInput struct {
	geom  transposed
	x     tensor.Shape
	inner conv
}

func (k *convTransposeGradInput) Name() string { return "conv_transpose_grad_input" }

func (k *convTransposeGradInput) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	_, out, err := k.geom.dims(k.x, in[0])
	if err != nil {
		return nil, err
	}
	if !out.Eq(in[1]) {
		return nil, fmt.Errorf("output gradient %v does not match the output %v", in[1], out)
	}
	return k.x.Clone(), nil
}

func (k *convTransposeGradInput) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, convTransposeGradInputBody[float32], convTransposeGradInputBody[float64])
}

func convTransposeGradInputBody[T compute.Float](k *convTransposeGradInput, out []T, in []*tensor.Dense) error {
	convForward(&k.inner, k.geom.geometry(k.x, in[0].Shape()), out, data[T](in[1]), data[T](in[0]), nil)
	return nil
}

func (*convTransposeGradInput) Backward(G.Nodes, *G.Node, *G.Node, []bool) (G.Nodes, error) {
	return nil, errSecondOrder
}

// convTransposeGradWeight computes dW from (x, dz[, dx]): the weight
// gradient of the convolution of dz against the output gradient x,
// dW = x·patches(dz)ᵀ, with the patches that the input gradient's op
// unrolled when it ran on dz (dx, its output, is then an input only to
// order this op after it).
type convTransposeGradWeight struct {
	geom  transposed
	w     tensor.Shape
	inner convGradWeight
}

func (k *convTransposeGradWeight) Name() string { return "conv_transpose_grad_weight" }

func (k *convTransposeGradWeight) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	_, out, err := k.geom.dims(in[0], k.w)
	if err != nil {
		return nil, err
	}
	if !out.Eq(in[1]) {
		return nil, fmt.Errorf("output gradient %v does not match the output %v", in[1], out)
	}
	if len(in) == 3 && !in[2].Eq(in[0]) {
		return nil, fmt.Errorf("input gradient %v does not match the input %v", in[2], in[0])
	}
	return k.w.Clone(), nil
}

func (k *convTransposeGradWeight) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, convTransposeGradWeightBody[float32], convTransposeGradWeightBody[float64])
}

func convTransposeGradWeightBody[T compute.Float](k *convTransposeGradWeight, out []T, in []*tensor.Dense) error {
	convBackWeight(&k.inner, k.geom.geometry(in[0].Shape(), k.w), out, data[T](in[1]), data[T](in[0]))
	return nil
}

func (*convTransposeGradWeight) Backward(G.Nodes, *G.Node, *G.Node, []bool) (G.Nodes, error) {
	return nil, errSecondOrder
}
