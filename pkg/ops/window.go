package ops

import (
	"fmt"

	"github.com/dltrain/dltrain/pkg/compute"
	"gorgonia.org/tensor"
)

// Window is the geometry of a window sliding over the spatial axes of a
// channel-first tensor: a convolution kernel or a pooling window. Tensors
// are (batch, channels, height, width) for 2-D windows and (batch,
// channels, length) for 1-D ones; a 1-D window has KH = SH = DH = 1 and no
// vertical padding, so one implementation serves both.
type Window struct {
	KH, KW                 int // window size
	SH, SW                 int // stride
	DH, DW                 int // dilation: 1 means adjacent elements
	PadT, PadB, PadL, PadR int // zero padding at the top, bottom, left and right
}

// Extent returns the span the dilated window covers: d·(k−1)+1 per axis.
func (w Window) Extent() (h, wd int) {
	return w.DH*(w.KH-1) + 1, w.DW*(w.KW-1) + 1
}

// Out returns the output size for an input of h×wd, or an error naming
// both sizes when the window does not fit in the padded input.
func (w Window) Out(h, wd int) (oh, ow int, err error) {
	eh, ew := w.Extent()
	ph, pw := h+w.PadT+w.PadB, wd+w.PadL+w.PadR
	if eh > ph || ew > pw {
		return 0, 0, fmt.Errorf("window %d×%d (dilated extent %d×%d) is larger than the padded input %d×%d",
			w.KH, w.KW, eh, ew, ph, pw)
	}
	return (ph-eh)/w.SH + 1, (pw-ew)/w.SW + 1, nil
}

// SamePadding returns the padding before and after an axis of size in that
// makes the output size ⌈in/stride⌉ (TensorFlow's and PyTorch's "same";
// the odd element goes after).
func SamePadding(in, k, stride, dilation int) (lo, hi int) {
	out := (in + stride - 1) / stride
	total := max((out-1)*stride+dilation*(k-1)+1-in, 0)
	return total / 2, total - total/2
}

func (w Window) check() error {
	if w.KH < 1 || w.KW < 1 || w.SH < 1 || w.SW < 1 || w.DH < 1 || w.DW < 1 ||
		w.PadT < 0 || w.PadB < 0 || w.PadL < 0 || w.PadR < 0 {
		return fmt.Errorf("invalid window %+v", w)
	}
	return nil
}

// identity reports whether the window is a 1×1 kernel with stride 1 and
// no padding, for which im2col is the input itself.
func (w Window) identity() bool {
	return w.KH == 1 && w.KW == 1 && w.SH == 1 && w.SW == 1 && w.PadT+w.PadB+w.PadL+w.PadR == 0
}

// planes splits a channel-first shape with a batch axis into batch,
// channels, height and width; a 1-D shape (batch, channels, length) has
// height 1.
func planes(s tensor.Shape) (n, c, h, w int, err error) {
	switch s.Dims() {
	case 3:
		return s[0], s[1], 1, s[2], nil
	case 4:
		return s[0], s[1], s[2], s[3], nil
	}
	return 0, 0, 0, 0, fmt.Errorf("want (batch, channels, length) or (batch, channels, height, width), got %v", s)
}

// outShape is the channel-first output shape of a window over in, with c
// output channels.
func (w Window) outShape(in tensor.Shape, c int) (tensor.Shape, error) {
	if err := w.check(); err != nil {
		return nil, err
	}
	n, _, h, wd, err := planes(in)
	if err != nil {
		return nil, err
	}
	if in.Dims() == 3 && (w.KH != 1 || w.SH != 1 || w.DH != 1 || w.PadT+w.PadB != 0) {
		return nil, fmt.Errorf("a 1-D input %v needs a 1-D window, got %+v", in, w)
	}
	oh, ow, err := w.Out(h, wd)
	if err != nil {
		return nil, err
	}
	if in.Dims() == 3 {
		return tensor.Shape{n, c, ow}, nil
	}
	return tensor.Shape{n, c, oh, ow}, nil
}

// scratch is working memory an op keeps between steps: numbered slots of
// each dtype.
type scratch struct {
	f32 [][]float32
	f64 [][]float64
}

// slots returns s's slots of dtype T.
func slots[T compute.Float](s *scratch) *[][]T {
	if _, ok := any(*new(T)).(float32); ok {
		return any(&s.f32).(*[][]T)
	}
	return any(&s.f64).(*[][]T)
}

// grow returns slot i of s resized to n elements, reusing its memory when
// it is large enough. The contents are not cleared.
func grow[T compute.Float](s *scratch, i, n int) []T {
	bufs := slots[T](s)
	for len(*bufs) <= i {
		*bufs = append(*bufs, nil)
	}
	if cap((*bufs)[i]) < n {
		(*bufs)[i] = make([]T, n)
	}
	(*bufs)[i] = (*bufs)[i][:n]
	return (*bufs)[i]
}

// slot returns slot i of s as it is (nil if never grown).
func slot[T compute.Float](s *scratch, i int) []T {
	bufs := slots[T](s)
	if i >= len(*bufs) {
		return nil
	}
	return (*bufs)[i]
}
