package ops

import (
	"fmt"

	"github.com/dltrain/dltrain/pkg/compute"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Upsample repeats every element of a channel-first tensor sh times down
// and sw times across: nearest-neighbour upsampling by integer factors, as
// PyTorch's nn.Upsample(scale_factor=(sh, sw), mode="nearest"), where
// output (i, j) reads input (⌊i/sh⌋, ⌊j/sw⌋):
//
//	x (batch, C, H, W) -> (batch, C, H·sh, W·sw)
//	x (batch, C, L)    -> (batch, C, L·sw)        (sh must be 1)
//
// Its gradient sums each sh×sw block of the output gradient.
func Upsample(x *G.Node, sh, sw int) (*G.Node, error) {
	return Apply(&upsample{sh: sh, sw: sw}, nil, x)
}

type upsample struct {
	sh, sw int
	jobs   upsampleJobs
}

func (*upsample) Name() string { return "upsample_nearest" }

func (u *upsample) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	if u.sh < 1 || u.sw < 1 {
		return nil, fmt.Errorf("scale %d×%d: each factor must be >= 1", u.sh, u.sw)
	}
	n, c, h, w, err := planes(in[0])
	if err != nil {
		return nil, err
	}
	if in[0].Dims() == 3 {
		if u.sh != 1 {
			return nil, fmt.Errorf("a 1-D input %v takes one scale factor, got %d×%d", in[0], u.sh, u.sw)
		}
		return tensor.Shape{n, c, w * u.sw}, nil
	}
	return tensor.Shape{n, c, h * u.sh, w * u.sw}, nil
}

// upsampleDims is the geometry of a call: batch·channels planes of h×w
// in, scaled by sh×sw.
type upsampleDims struct{ planes, h, w, sh, sw int }

func (u *upsample) dims(x tensor.Shape) upsampleDims {
	n, c, h, w, _ := planes(x)
	return upsampleDims{planes: n * c, h: h, w: w, sh: u.sh, sw: u.sw}
}

func (u *upsample) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(u, out, in, upsampleBody[float32], upsampleBody[float64])
}

func upsampleBody[T compute.Float](u *upsample, out []T, in []*tensor.Dense) error {
	runUpsample(jobOf[upsampleJob[T]](&u.jobs.f32, &u.jobs.f64), u.dims(in[0].Shape()), false, out, data[T](in[0]))
	return nil
}

// Backward: the gradient is the block sum of the output's gradient.
func (u *upsample) Backward(in G.Nodes, _, grad *G.Node, _ []bool) (G.Nodes, error) {
	g, err := Apply(&upsampleGrad{sh: u.sh, sw: u.sw, x: in[0].Shape().Clone()}, nil, grad)
	return G.Nodes{g}, err
}

// upsampleGrad sums each sh×sw block of dy (the gradient of an upsampled
// tensor) into one element of dx, shaped as the upsample's input x.
type upsampleGrad struct {
	sh, sw int
	x      tensor.Shape
	jobs   upsampleJobs
}

func (*upsampleGrad) Name() string { return "upsample_nearest_grad" }

func (k *upsampleGrad) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	want, err := (&upsample{sh: k.sh, sw: k.sw}).OutShape([]tensor.Shape{k.x})
	if err != nil {
		return nil, err
	}
	if !want.Eq(in[0]) {
		return nil, fmt.Errorf("gradient %v does not match the upsampled %v", in[0], want)
	}
	return k.x.Clone(), nil
}

func (k *upsampleGrad) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, upsampleGradBody[float32], upsampleGradBody[float64])
}

func upsampleGradBody[T compute.Float](k *upsampleGrad, out []T, in []*tensor.Dense) error {
	d := (&upsample{sh: k.sh, sw: k.sw}).dims(k.x)
	runUpsample(jobOf[upsampleJob[T]](&k.jobs.f32, &k.jobs.f64), d, true, out, data[T](in[0]))
	return nil
}

// Backward: the block sum is linear, and its adjoint is the upsampling.
func (k *upsampleGrad) Backward(_ G.Nodes, _, grad *G.Node, _ []bool) (G.Nodes, error) {
	g, err := Upsample(grad, k.sh, k.sw)
	return G.Nodes{g}, err
}

// upsampleJobs are an upsampling op's passes cut by planes for
// compute.Parallel, one per dtype, kept in the op so that handing them
// out allocates nothing.
type upsampleJobs struct {
	f32 upsampleJob[float32]
	f64 upsampleJob[float64]
}

// upsampleJob upsamples planes lo to hi−1 of small into big or, with sum,
// sums the blocks of big into small.
type upsampleJob[T compute.Float] struct {
	d          upsampleDims
	sum        bool
	small, big []T
}

func runUpsample[T compute.Float](j *upsampleJob[T], d upsampleDims, sum bool, dst, src []T) {
	*j = upsampleJob[T]{d: d, sum: sum, small: src, big: dst}
	if sum {
		j.small, j.big = dst, src
	}
	compute.Parallel(d.planes, max(1, (1<<14)/max(d.h*d.w*d.sh*d.sw, 1)), j)
	*j = upsampleJob[T]{} // keep no tensor alive
}

func (j *upsampleJob[T]) Run(lo, hi int) {
	d := j.d
	bw := d.w * d.sw // a row of the big plane
	for pl := lo; pl < hi; pl++ {
		small := j.small[pl*d.h*d.w : (pl+1)*d.h*d.w]
		big := j.big[pl*d.h*d.sh*bw : (pl+1)*d.h*d.sh*bw]
		for y := range d.h {
			row, block := small[y*d.w:(y+1)*d.w], big[y*d.sh*bw:(y+1)*d.sh*bw]
			if j.sum {
				sumBlockRow(row, block, d.sw, bw)
			} else {
				repeatRow(block, row, d.sw, bw)
			}
		}
	}
}

// repeatRow writes row, each element repeated sw times, into the first
// bw-long row of block, then copies that row over the block's other rows.
func repeatRow[T compute.Float](block, row []T, sw, bw int) {
	first := block[:bw]
	if sw == 1 {
		copy(first, row)
	} else {
		for i, v := range row {
			fill(first[i*sw:(i+1)*sw], v)
		}
	}
	for r := bw; r < len(block); r += bw {
		copy(block[r:r+bw], first)
	}
}

// sumBlockRow sets each element of row to the sum of its sh×sw block, the
// block's rows being the bw-long rows of block.
func sumBlockRow[T compute.Float](row, block []T, sw, bw int) {
	clear(row)
	for r := 0; r < len(block); r += bw {
		src := block[r : r+bw]
		if sw == 1 {
			compute.Add(row, src)
			continue
		}
		for i := range row {
			var s T
			for _, v := range src[i*sw : (i+1)*sw] {
				s += v
			}
			row[i] += s
		}
	}
}
