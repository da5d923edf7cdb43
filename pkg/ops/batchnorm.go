package ops

import (
	"errors"
	"fmt"
	"math"

	"github.com/dltrain/dltrain/pkg/compute"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// RunningStats are a batch norm layer's running mean and variance, one
// value per channel, which a training pass updates in place as PyTorch
// does: stat = (1 − Momentum)·stat + Momentum·batch statistic, the
// variance term being the unbiased batch variance.
type RunningStats struct {
	Mean, Var *tensor.Dense
	Momentum  float64
}

// BatchNorm normalizes x (batch, C, ...) per channel with the statistics of
// the batch (mean and biased variance over the batch and every spatial
// position), then scales by gamma and shifts by beta (both (C)). When stats
// is not nil, every forward pass also updates the running statistics. This
// is the training form; evaluation graphs use BatchNormInference. When
// wrtX is false the input gradient is not built.
func BatchNorm(x, gamma, beta *G.Node, eps float64, stats *RunningStats, wrtX bool) (*G.Node, error) {
	return Apply(&batchNorm{eps: eps, stats: stats}, []bool{wrtX, true, true}, x, gamma, beta)
}

// BatchNormInference normalizes x per channel with fixed statistics mean
// and variance (C), then scales and shifts. It changes nothing.
func BatchNormInference(x, gamma, beta, mean, variance *G.Node, eps float64) (*G.Node, error) {
	return Apply(batchNormInference{eps: eps}, []bool{false, false, false, false, false}, x, gamma, beta, mean, variance)
}

func checkChannels(x tensor.Shape, vecs ...tensor.Shape) error {
	if x.Dims() < 2 {
		return fmt.Errorf("want (batch, channels, ...), got %v", x)
	}
	for _, v := range vecs {
		if v.Dims() != 1 || v[0] != x[1] {
			return fmt.Errorf("per-channel parameter %v does not match the %d channels of %v", v, x[1], x)
		}
	}
	return nil
}

type batchNorm struct {
	eps   float64
	stats *RunningStats
	jobs  channelJobs
}

// channelJobs are a batch norm pass cut by channels for compute.Parallel,
// one per dtype, kept in the op so that handing them out allocates
// nothing (a closure would, at every step).
type channelJobs struct {
	f32 channelJob[float32]
	f64 channelJob[float64]
}

// channelJob is the forward pass (dy nil: y from x, moving the running
// statistics rm and rv when they are not nil) or the input gradient (y is
// dx, from x, gamma and dy) over channels lo to hi−1.
type channelJob[T compute.Float] struct {
	eps, mom                      float64
	n, c, per                     int
	y, x, gamma, beta, rm, rv, dy []T
}

// runChannels runs j over every channel and lets go of its slices.
func runChannels[T compute.Float](j *channelJob[T]) {
	compute.Parallel(j.c, max(1, (1<<14)/max(j.n*j.per, 1)), j)
	*j = channelJob[T]{}
}

func (j *channelJob[T]) Run(lo, hi int) {
	for ch := lo; ch < hi; ch++ {
		if j.dy != nil {
			batchNormBackXChannel(j, ch)
		} else {
			batchNormForwardChannel(j, ch)
		}
	}
}

func (*batchNorm) Name() string { return "batchnorm" }

func (*batchNorm) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	if err := checkChannels(in[0], in[1], in[2]); err != nil {
		return nil, err
	}
	if n, c, per := channelLayout(in[0]); n*per < 2 {
		return nil, fmt.Errorf("training batch norm needs more than one value per channel, got %d for input %v (%d channels); "+
			"a batch of one flat sample cannot be normalized", n*per, in[0], c)
	}
	return in[0].Clone(), nil
}

func (k *batchNorm) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, batchNormBody[float32], batchNormBody[float64])
}

func batchNormBody[T compute.Float](k *batchNorm, o []T, in []*tensor.Dense) error {
	mom := 0.0
	var rm, rv *tensor.Dense
	if k.stats != nil {
		mom, rm, rv = k.stats.Momentum, k.stats.Mean, k.stats.Var
		if rm.Dtype() != in[0].Dtype() || rv.Dtype() != in[0].Dtype() {
			return fmt.Errorf("running statistics are %v, the input %v", rm.Dtype(), in[0].Dtype())
		}
	}
	n, c, per := channelLayout(in[0].Shape())
	j := jobOf[channelJob[T]](&k.jobs.f32, &k.jobs.f64)
	*j = channelJob[T]{eps: k.eps, mom: mom, n: n, c: c, per: per, y: o, x: data[T](in[0]), gamma: data[T](in[1]), beta: data[T](in[2]),
		rm: optData[T](rm), rv: optData[T](rv)}
	runChannels(j)
	return nil
}

// optData is data for a tensor that may be nil.
func optData[T compute.Float](t *tensor.Dense) []T {
	if t == nil {
		return nil
	}
	return data[T](t)
}

// channelStats returns the mean and biased variance of channel ch of x,
// accumulated in float64 in two passes.
func channelStats[T compute.Float](x []T, n, c, per, ch int) (mean, variance float64) {
	var s float64
	for i := 0; i < n; i++ {
		for _, v := range x[(i*c+ch)*per : (i*c+ch+1)*per] {
			s += float64(v)
		}
	}
	m := float64(n * per)
	mean = s / m
	var q float64
	for i := 0; i < n; i++ {
		for _, v := range x[(i*c+ch)*per : (i*c+ch+1)*per] {
			d := float64(v) - mean
			q += d * d
		}
	}
	return mean, q / m
}

// batchNormForwardChannel normalizes channel ch with its batch
// statistics and, when j.rm and j.rv are not nil, moves its running
// statistics by momentum j.mom.
func batchNormForwardChannel[T compute.Float](j *channelJob[T], ch int) {
	n, c, per := j.n, j.c, j.per
	m := float64(n * per)
	mean, variance := channelStats(j.x, n, c, per, ch)
	inv := 1 / math.Sqrt(variance+j.eps)
	scale := float64(j.gamma[ch]) * inv
	shift := float64(j.beta[ch]) - mean*scale
	affine(j.y, j.x, n, c, per, ch, scale, shift)
	if j.rm != nil {
		j.rm[ch] = T((1-j.mom)*float64(j.rm[ch]) + j.mom*mean)
		j.rv[ch] = T((1-j.mom)*float64(j.rv[ch]) + j.mom*variance*m/(m-1))
	}
}

// affine writes y = scale·x + shift over channel ch.
func affine[T compute.Float](y, x []T, n, c, per, ch int, scale, shift float64) {
	a, b := T(scale), T(shift)
	for i := 0; i < n; i++ {
		lo, hi := (i*c+ch)*per, (i*c+ch+1)*per
		for j := lo; j < hi; j++ {
			y[j] = x[j]*a + b
		}
	}
}

func (k *batchNorm) Backward(in G.Nodes, _, grad *G.Node, wrt []bool) (G.Nodes, error) {
	gs := make(G.Nodes, 3)
	var err error
	if wrt[0] {
		if gs[0], err = Apply(&batchNormGradX{eps: k.eps}, []bool{false, false, true}, in[0], in[1], grad); err != nil {
			return nil, err
		}
	}
	if gs[1], err = Apply(batchNormGradGamma{eps: k.eps}, []bool{false, true}, in[0], grad); err != nil {
		return nil, err
	}
	if gs[2], err = ChannelSum(grad); err != nil {
		return nil, err
	}
	return gs, nil
}

// batchNormGradX computes dx from (x, gamma, dy), the batch statistics
// recomputed from x: with x̂ the normalized input and m the values per
// channel, dx = γ/σ · (dy − mean(dy) − x̂·mean(dy·x̂)).
type batchNormGradX struct {
	eps  float64
	jobs channelJobs
}

func (*batchNormGradX) Name() string { return "batchnorm_grad_x" }

func (*batchNormGradX) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	if err := checkChannels(in[0], in[1]); err != nil {
		return nil, err
	}
	return in[0].Clone(), nil
}

func (k *batchNormGradX) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, batchNormGradXBody[float32], batchNormGradXBody[float64])
}

func batchNormGradXBody[T compute.Float](k *batchNormGradX, o []T, in []*tensor.Dense) error {
	n, c, per := channelLayout(in[0].Shape())
	j := jobOf[channelJob[T]](&k.jobs.f32, &k.jobs.f64)
	*j = channelJob[T]{eps: k.eps, n: n, c: c, per: per, y: o, x: data[T](in[0]), gamma: data[T](in[1]), dy: data[T](in[2])}
	runChannels(j)
	return nil
}

// batchNormBackXChannel writes the input gradient of channel ch into j.y.
func batchNormBackXChannel[T compute.Float](j *channelJob[T], ch int) {
	n, c, per := j.n, j.c, j.per
	m := float64(n * per)
	x, dy, dx := j.x, j.dy, j.y
	mean, variance := channelStats(x, n, c, per, ch)
	inv := 1 / math.Sqrt(variance+j.eps)
	var sumDy, sumDyXhat float64
	for i := 0; i < n; i++ {
		for k := (i*c + ch) * per; k < (i*c+ch+1)*per; k++ {
			g := float64(dy[k])
			sumDy += g
			sumDyXhat += g * (float64(x[k]) - mean) * inv
		}
	}
	k := float64(j.gamma[ch]) * inv
	meanDy, meanDyXhat := sumDy/m, sumDyXhat/m
	for i := 0; i < n; i++ {
		for l := (i*c + ch) * per; l < (i*c+ch+1)*per; l++ {
			xhat := (float64(x[l]) - mean) * inv
			dx[l] = T(k * (float64(dy[l]) - meanDy - xhat*meanDyXhat))
		}
	}
}

func (*batchNormGradX) Backward(G.Nodes, *G.Node, *G.Node, []bool) (G.Nodes, error) {
	return nil, errSecondOrder
}

// batchNormGradGamma computes dγ = Σ dy·x̂ per channel from (x, dy).
type batchNormGradGamma struct{ eps float64 }

func (batchNormGradGamma) Name() string { return "batchnorm_grad_gamma" }

func (batchNormGradGamma) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	if in[0].Dims() < 2 || !in[0].Eq(in[1]) {
		return nil, fmt.Errorf("want x and dy of one shape (batch, channels, ...), got %v and %v", in[0], in[1])
	}
	return tensor.Shape{in[0][1]}, nil
}

func (k batchNormGradGamma) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, batchNormGradGammaBody[float32], batchNormGradGammaBody[float64])
}

func batchNormGradGammaBody[T compute.Float](k batchNormGradGamma, o []T, in []*tensor.Dense) error {
	batchNormBackGamma(k.eps, in[0].Shape(), o, data[T](in[0]), data[T](in[1]))
	return nil
}

func batchNormBackGamma[T compute.Float](eps float64, s tensor.Shape, dg, x, dy []T) {
	n, c, per := channelLayout(s)
	for ch := 0; ch < c; ch++ {
		mean, variance := channelStats(x, n, c, per, ch)
		inv := 1 / math.Sqrt(variance+eps)
		var acc float64
		for i := 0; i < n; i++ {
			for j := (i*c + ch) * per; j < (i*c+ch+1)*per; j++ {
				acc += float64(dy[j]) * (float64(x[j]) - mean) * inv
			}
		}
		dg[ch] = T(acc)
	}
}

func (batchNormGradGamma) Backward(G.Nodes, *G.Node, *G.Node, []bool) (G.Nodes, error) {
	return nil, errSecondOrder
}

// batchNormInference is y = γ·(x − mean)/√(var + eps) + β with fixed
// statistics.
type batchNormInference struct{ eps float64 }

func (batchNormInference) Name() string { return "batchnorm_inference" }

func (batchNormInference) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	if err := checkChannels(in[0], in[1:]...); err != nil {
		return nil, err
	}
	return in[0].Clone(), nil
}

func (k batchNormInference) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, batchNormInferenceBody[float32], batchNormInferenceBody[float64])
}

func batchNormInferenceBody[T compute.Float](k batchNormInference, o []T, in []*tensor.Dense) error {
	batchNormInfer(k.eps, in[0].Shape(), o, data[T](in[0]), data[T](in[1]), data[T](in[2]),
		data[T](in[3]), data[T](in[4]))
	return nil
}

func batchNormInfer[T compute.Float](eps float64, s tensor.Shape, y, x, gamma, beta, mean, variance []T) {
	n, c, per := channelLayout(s)
	for ch := 0; ch < c; ch++ {
		scale := float64(gamma[ch]) / math.Sqrt(float64(variance[ch])+eps)
		affine(y, x, n, c, per, ch, scale, float64(beta[ch])-float64(mean[ch])*scale)
	}
}

var errInferenceGrad = errors.New("batch norm with running statistics is not differentiated (evaluation graphs build no gradients)")

func (batchNormInference) Backward(G.Nodes, *G.Node, *G.Node, []bool) (G.Nodes, error) {
	return nil, errInferenceGrad
}
