package models

import (
	"fmt"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/ops"
)

// windowSpec is the geometry a convolution or pooling layer reads from
// its options, for 1 or 2 spatial axes; padding is resolved against the
// input size at Setup.
type windowSpec struct {
	dims     int   // spatial axes: 1 (length) or 2 (height, width)
	kernel   []int // per axis
	stride   []int
	dilation []int
	same     bool  // padding: same
	pad      []int // before and after each axis: [top, bottom, left, right] or [left, right]
	padText  string
}

// readWindow reads the window options of a layer over dims spatial axes.
// sizeKey names the window size option ("kernel" or "size"), required when
// defSize is 0; the stride defaults to defStride, or to the window size
// when defStride is 0 (pooling); dilation is read when asked for.
func readWindow(o *config.Options, dims int, sizeKey string, defSize, defStride int, dilation bool) windowSpec {
	w := windowSpec{dims: dims}
	if defSize == 0 && !o.Block().Has(sizeKey) {
		o.Fail(sizeKey, "is required (e.g. %s: 3)", sizeKey)
	}
	w.kernel = perAxis(o, sizeKey, o.Ints(sizeKey, []int{max(defSize, 1)}), dims, 1)
	w.stride = perAxis(o, "stride", o.Ints("stride", nil), dims, 1)
	switch {
	case w.stride != nil:
	case defStride > 0:
		w.stride = repeat(defStride, dims)
	default:
		w.stride = append([]int(nil), w.kernel...)
	}
	w.dilation = repeat(1, dims)
	if dilation {
		if d := perAxis(o, "dilation", o.Ints("dilation", nil), dims, 1); d != nil {
			w.dilation = d
		}
	}
	w.readPadding(o)
	return w
}

func repeat(v, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// perAxis expands an option given as one value or one per axis, each at
// least lo; nil when v is nil.
func perAxis(o *config.Options, key string, v []int, dims, lo int) []int {
	if v == nil {
		return nil
	}
	if len(v) == 1 {
		v = repeat(v[0], dims)
	}
	if len(v) != dims {
		o.Fail(key, "give one value or %d (one per spatial axis), got %d", dims, len(v))
		return repeat(1, dims)
	}
	for _, x := range v {
		if x < lo {
			o.Fail(key, "must be >= %d, got %v", lo, v)
			return repeat(1, dims)
		}
	}
	return v
}

// readPadding reads padding: valid, same, one number for every side, one
// per axis (applied before and after), or, in 2-D, [top, bottom, left,
// right].
func (w *windowSpec) readPadding(o *config.Options) {
	w.pad = repeat(0, 2*w.dims)
	w.padText = "valid"
	if _, isText := o.Block().Opts["padding"].(string); isText || !o.Block().Has("padding") {
		switch o.String("padding", "valid", "valid", "same") {
		case "same":
			w.same, w.padText = true, "same"
		}
		return
	}
	v := o.Ints("padding", nil)
	if v == nil {
		return
	}
	for _, p := range v {
		if p < 0 {
			o.Fail("padding", "must be >= 0, got %v", v)
			return
		}
	}
	switch {
	case len(v) == 1:
		w.pad = repeat(v[0], 2*w.dims)
	case len(v) == w.dims:
		for i, p := range v {
			w.pad[2*i], w.pad[2*i+1] = p, p
		}
	case len(v) == 2*w.dims && w.dims == 2:
		copy(w.pad, v)
	default:
		forms := "valid, same, a number, or [before, after]"
		if w.dims == 2 {
			forms = "valid, same, a number, [height, width] or [top, bottom, left, right]"
		}
		o.Fail("padding", "expected %s, got %v", forms, v)
		return
	}
	w.padText = fmt.Sprint(v)
}

// spatial returns the height and width of a channel-first per-sample
// shape for this window (height 1 in 1-D).
func (w windowSpec) spatial(in Shape) (h, wd int) {
	if w.dims == 1 {
		return 1, in[1]
	}
	return in[1], in[2]
}

// inputForm describes the per-sample input the window needs.
func (w windowSpec) inputForm() string {
	if w.dims == 1 {
		return "(channels, length)"
	}
	return "(channels, height, width)"
}

// checkInput checks that in is a channel-first input for this window.
func (w windowSpec) checkInput(typ string, in Shape) error {
	if len(in) == w.dims+1 {
		return nil
	}
	hint := "set data.shape (e.g. [1, 8, 8]) or add {type: reshape, shape: [...]} before it"
	if w.dims == 1 {
		hint = "set data.shape (e.g. [1, 64]) or add {type: reshape, shape: [...]} before it"
	}
	return fmt.Errorf("%s needs a %s input, got %v; %s", typ, w.inputForm(), in, hint)
}

// resolve returns the window over an input of spatial size h×wd, with
// "same" padding worked out.
func (w windowSpec) resolve(h, wd int) ops.Window {
	k := func(i int) int { return w.kernel[i] }
	win := ops.Window{KH: 1, KW: k(w.dims - 1), SH: 1, SW: w.stride[w.dims-1], DH: 1, DW: w.dilation[w.dims-1]}
	if w.dims == 2 {
		win.KH, win.SH, win.DH = k(0), w.stride[0], w.dilation[0]
	}
	switch {
	case w.same:
		win.PadL, win.PadR = ops.SamePadding(wd, win.KW, win.SW, win.DW)
		if w.dims == 2 {
			win.PadT, win.PadB = ops.SamePadding(h, win.KH, win.SH, win.DH)
		}
	case w.dims == 2:
		win.PadT, win.PadB, win.PadL, win.PadR = w.pad[0], w.pad[1], w.pad[2], w.pad[3]
	default:
		win.PadL, win.PadR = w.pad[0], w.pad[1]
	}
	return win
}

// out returns the output spatial size, or an error naming the window and
// the padded input when the window does not fit.
func (w windowSpec) out(what string, win ops.Window, in Shape) (oh, ow int, err error) {
	h, wd := w.spatial(in)
	oh, ow, err = win.Out(h, wd)
	if err == nil {
		return oh, ow, nil
	}
	eh, ew := win.Extent()
	ph, pw := h+win.PadT+win.PadB, wd+win.PadL+win.PadR
	size := w.dimText(win.KH, win.KW)
	if eh != win.KH || ew != win.KW {
		size += fmt.Sprintf(" (dilated to %s)", w.dimText(eh, ew))
	}
	return 0, 0, fmt.Errorf("%s %s is larger than the padded input %s (input %v, padding %s)",
		what, size, w.dimText(ph, pw), in, w.padText)
}

// dimText writes a size as "5×5" in 2-D, "5" in 1-D.
func (w windowSpec) dimText(h, wd int) string {
	if w.dims == 1 {
		return fmt.Sprint(wd)
	}
	return fmt.Sprintf("%d×%d", h, wd)
}

// outShape is the per-sample output shape for c channels.
func (w windowSpec) outShape(c, oh, ow int) Shape {
	if w.dims == 1 {
		return Shape{c, ow}
	}
	return Shape{c, oh, ow}
}
