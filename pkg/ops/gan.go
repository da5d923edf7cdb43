package ops

import (
	"fmt"
	"math/rand/v2"

	"github.com/dltrain/dltrain/pkg/compute"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// ScoreFunc is a loss of one score (a discriminator's output for one
// sample) and its derivative: the pieces a GAN's losses are sums of.
type ScoreFunc struct {
	Name string
	F    func(s float64) float64
	DF   func(s float64) float64 // dF/ds
}

// ScoreLoss returns the mean of f.F over every element of scores, a
// scalar; its gradient with respect to scores is g·f.DF(s)/n. It reads no
// target: a GAN's losses compare a score with a fixed label (real or
// fake), which f holds.
func ScoreLoss(f ScoreFunc, scores *G.Node) (*G.Node, error) {
	return Apply(scoreLoss{f}, []bool{true}, scores)
}

type scoreLoss struct{ f ScoreFunc }

func (k scoreLoss) Name() string { return k.f.Name }

func (scoreLoss) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	if in[0].TotalSize() == 0 {
		return nil, fmt.Errorf("no score to take the loss of")
	}
	return tensor.ScalarShape(), nil
}

func (k scoreLoss) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, scoreLossBody[float32], scoreLossBody[float64])
}

func scoreLossBody[T compute.Float](k scoreLoss, out []T, in []*tensor.Dense) error {
	s := data[T](in[0])
	var sum float64 // accumulated in float64 whatever the element type
	for _, v := range s {
		sum += k.f.F(float64(v))
	}
	out[0] = T(sum / float64(len(s)))
	return nil
}

func (k scoreLoss) Backward(in G.Nodes, _, grad *G.Node, _ []bool) (G.Nodes, error) {
	g, err := Apply(scoreLossGrad(k), []bool{false, true}, in[0], grad)
	return G.Nodes{g}, err
}

// scoreLossGrad is g·DF(s)/n for every score s.
type scoreLossGrad scoreLoss

func (k scoreLossGrad) Name() string { return k.f.Name + "_grad" }

func (scoreLossGrad) OutShape(in []tensor.Shape) (tensor.Shape, error) { return in[0].Clone(), nil }

func (k scoreLossGrad) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, scoreLossGradBody[float32], scoreLossGradBody[float64])
}

func scoreLossGradBody[T compute.Float](k scoreLossGrad, ds []T, in []*tensor.Dense) error {
	s, g := data[T](in[0]), data[T](in[1])[0]
	scale := float64(g) / float64(len(s))
	for i, v := range s {
		ds[i] = T(scale * k.f.DF(float64(v)))
	}
	return nil
}

func (scoreLossGrad) Backward(G.Nodes, *G.Node, *G.Node, []bool) (G.Nodes, error) {
	return nil, errSecondOrder
}

// NoiseState is what one noise op draws from: a GAN generator's input
// z ~ N(0, 1).
type NoiseState struct {
	// RNG is the stream the values are drawn from; a training graph's is
	// the run's dropout stream, which checkpoints save, so a resumed run
	// draws what the uninterrupted one would have.
	RNG *rand.Rand
	// Reseed, when set, is called before every draw: an evaluation graph
	// draws the same noise at every run and leaves the training stream
	// alone.
	Reseed func()
	// Frozen keeps the values of the first draw (gradient checks).
	Frozen bool
	last   []float64
}

// Noise returns a (batch, size) tensor of independent standard normal
// values, batch being like's first dimension, drawn anew at every run of
// the graph from st. It depends on like only for its batch size: no
// gradient flows to it.
func Noise(like *G.Node, size int, st *NoiseState) (*G.Node, error) {
	if size < 1 {
		return nil, fmt.Errorf("noise size must be >= 1, got %d", size)
	}
	if st == nil || st.RNG == nil {
		return nil, fmt.Errorf("noise needs a random stream")
	}
	return Apply(noise{size: size, st: st}, []bool{false}, like)
}

type noise struct {
	size int
	st   *NoiseState
}

func (noise) Name() string { return "noise" }

func (k noise) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	if in[0].Dims() < 1 {
		return nil, fmt.Errorf("noise needs a batch dimension, got %v", in[0])
	}
	return tensor.Shape{in[0][0], k.size}, nil
}

func (k noise) Forward(out *tensor.Dense, _ []*tensor.Dense) error {
	st := k.st
	st.draw(out.Shape().TotalSize(), (*rand.Rand).NormFloat64)
	return typed(st, out, nil, copyNoise[float32], copyNoise[float64])
}

// draw fills st.last with n values of next, unless the state is frozen
// and already holds n (a gradient check replays the same draw).
func (st *NoiseState) draw(n int, next func(*rand.Rand) float64) {
	if st.Frozen && len(st.last) == n {
		return
	}
	if st.Reseed != nil {
		st.Reseed()
	}
	if cap(st.last) < n {
		st.last = make([]float64, n)
	}
	st.last = st.last[:n]
	for i := range st.last {
		st.last[i] = next(st.RNG)
	}
}

func copyNoise[T compute.Float](st *NoiseState, out []T, _ []*tensor.Dense) error {
	for i, v := range st.last {
		out[i] = T(v)
	}
	return nil
}

func (noise) Backward(_ G.Nodes, _, _ *G.Node, _ []bool) (G.Nodes, error) {
	return G.Nodes{nil}, nil
}

// RandomClasses returns a (batch) tensor of class indices drawn uniformly
// from [0, classes), as numbers of like's dtype, batch being like's first
// dimension, drawn anew at every run of the graph from st (as Noise): the
// labels a conditional GAN's generator is asked for. No gradient flows to
// like.
func RandomClasses(like *G.Node, classes int, st *NoiseState) (*G.Node, error) {
	if classes < 1 {
		return nil, fmt.Errorf("random classes: the number of classes must be >= 1, got %d", classes)
	}
	if st == nil || st.RNG == nil {
		return nil, fmt.Errorf("random classes need a random stream")
	}
	k := randomClasses{st: st, next: func(r *rand.Rand) float64 { return float64(r.IntN(classes)) }}
	return Apply(k, []bool{false}, like)
}

// randomClasses is RandomClasses' op; next draws one class (made once, so
// that a step does not allocate a closure).
type randomClasses struct {
	st   *NoiseState
	next func(*rand.Rand) float64
}

func (randomClasses) Name() string { return "random_classes" }

func (randomClasses) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	if in[0].Dims() < 1 {
		return nil, fmt.Errorf("random classes need a batch dimension, got %v", in[0])
	}
	return tensor.Shape{in[0][0]}, nil
}

func (k randomClasses) Forward(out *tensor.Dense, _ []*tensor.Dense) error {
	k.st.draw(out.Shape().TotalSize(), k.next)
	return typed(k.st, out, nil, copyNoise[float32], copyNoise[float64])
}

func (randomClasses) Backward(_ G.Nodes, _, _ *G.Node, _ []bool) (G.Nodes, error) {
	return G.Nodes{nil}, nil
}
