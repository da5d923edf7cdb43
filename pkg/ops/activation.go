package ops

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/dltrain/dltrain/pkg/compute"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// activation is an element-wise function y = f(x) and its derivative
// expressed with x and y (whichever is cheaper), in float64: the
// reference, and the path of every dtype without its own loops. The hot
// activations also have whole-slice loops in the tensor's own dtype
// (pkg/compute), which skip the float64 round trip and the call per element.
type activation struct {
	f     func(x, alpha float64) float64
	deriv func(x, y, alpha float64) float64
	v32   loops[float32]
	v64   loops[float64]
	// byOutput says the derivative is a function of y alone: deriv and
	// the loops give f'(x) when handed y in place of x (relu: y > 0 iff
	// x > 0). Such an activation can be fused into the layer before it,
	// which then need not keep x.
	byOutput bool
}

// loops are an activation's whole-slice kernels for one dtype; nil
// fields fall back to f and deriv.
type loops[T compute.Float] struct {
	forward  func(out, x []T)
	backward func(dx, x, y, dy []T)
}

// loopsOf returns a's loops for T.
func loopsOf[T compute.Float](a *activation) loops[T] {
	if l, ok := any(a.v32).(loops[T]); ok {
		return l
	}
	return any(a.v64).(loops[T])
}

func reluLoops[T compute.Float]() loops[T] {
	return loops[T]{compute.Relu[T], func(dx, x, _, dy []T) { compute.ReluGrad(dx, x, dy) }}
}

// activations is every element-wise activation, by config name. softmax is
// not element-wise and has its own kernel.
var activations = map[string]activation{
	"relu": {
		f:        func(x, _ float64) float64 { return max(x, 0) },
		deriv:    func(x, _, _ float64) float64 { return step(x > 0) },
		v32:      reluLoops[float32](),
		v64:      reluLoops[float64](),
		byOutput: true,
	},
	"leaky_relu": {
		f: func(x, a float64) float64 {
			if x > 0 {
				return x
			}
			return a * x
		},
		deriv: func(x, _, a float64) float64 {
			if x > 0 {
				return 1
			}
			return a
		},
	},
	"elu": {
		f: func(x, a float64) float64 {
			if x > 0 {
				return x
			}
			return a * math.Expm1(x)
		},
		deriv: func(x, y, a float64) float64 {
			if x > 0 {
				return 1
			}
			return y + a
		},
	},
	"gelu": { // exact form x·Φ(x), as PyTorch's default
		f: func(x, _ float64) float64 { return x * normCDF(x) },
		deriv: func(x, _, _ float64) float64 {
			return normCDF(x) + x*math.Exp(-x*x/2)/math.Sqrt(2*math.Pi)
		},
	},
	"tanh": {
		f:        func(x, _ float64) float64 { return math.Tanh(x) },
		deriv:    func(_, y, _ float64) float64 { return 1 - y*y },
		v32:      loops[float32]{compute.Tanh[float32], func(dx, _, y, dy []float32) { compute.TanhGrad(dx, y, dy) }},
		byOutput: true,
	},
	"sigmoid": {
		f:        func(x, _ float64) float64 { return sigmoid(x) },
		deriv:    func(_, y, _ float64) float64 { return y * (1 - y) },
		v32:      loops[float32]{compute.Sigmoid[float32], func(dx, _, y, dy []float32) { compute.SigmoidGrad(dx, y, dy) }},
		byOutput: true,
	},
	"softplus": {
		f: func(x, _ float64) float64 {
			if x > 20 {
				return x
			}
			return math.Log1p(math.Exp(x))
		},
		deriv: func(x, _, _ float64) float64 { return sigmoid(x) },
	},
}

// DefaultAlpha is the slope or scale of leaky_relu (0.01) and elu (1.0)
// when the config does not give one, as in PyTorch.
var DefaultAlpha = map[string]float64{"leaky_relu": 0.01, "elu": 1.0}

// Activations lists every activation name the config accepts.
func Activations() []string {
	names := []string{"none", "softmax"}
	for n := range activations {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func step(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func normCDF(x float64) float64 { return 0.5 * (1 + math.Erf(x/math.Sqrt2)) }

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// Activate applies the named activation; "none" returns x itself.
func Activate(x *G.Node, name string, alpha float64) (*G.Node, error) {
	switch name {
	case "", "none", "linear":
		return x, nil
	case "softmax":
		return Apply(softmax{}, nil, x)
	}
	if _, ok := activations[name]; !ok {
		return nil, fmt.Errorf("unknown activation %q; known: %v", name, Activations())
	}
	return Apply(act{name: name, alpha: alpha}, nil, x)
}

type act struct {
	name  string
	alpha float64
}

func (a act) Name() string { return a.name }

func (act) OutShape(in []tensor.Shape) (tensor.Shape, error) { return in[0].Clone(), nil }

func (a act) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(a, out, in, actBody[float32], actBody[float64])
}

func actBody[T compute.Float](a act, out []T, in []*tensor.Dense) error {
	actForward(a, out, data[T](in[0]))
	return nil
}

func actForward[T compute.Float](a act, out, x []T) {
	def := activations[a.name]
	if l := loopsOf[T](&def); l.forward != nil {
		l.forward(out, x)
		return
	}
	f, alpha := def.f, a.alpha
	for i, v := range x {
		out[i] = T(f(float64(v), alpha))
	}
}

func (a act) Backward(in G.Nodes, out, grad *G.Node, _ []bool) (G.Nodes, error) {
	g, err := Apply(actGrad(a), []bool{false, false, true}, in[0], out, grad)
	return G.Nodes{g}, err
}

// actGrad computes dx = dy·f'(x) from (x, y, dy).
type actGrad act

func (a actGrad) Name() string { return a.name + "_grad" }

func (actGrad) OutShape(in []tensor.Shape) (tensor.Shape, error) { return in[0].Clone(), nil }

func (a actGrad) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(a, out, in, actGradBody[float32], actGradBody[float64])
}

func actGradBody[T compute.Float](a actGrad, dx []T, in []*tensor.Dense) error {
	actBackward(act(a), dx, data[T](in[0]), data[T](in[1]), data[T](in[2]))
	return nil
}

func actBackward[T compute.Float](a act, dx, x, y, dy []T) {
	def := activations[a.name]
	if l := loopsOf[T](&def); l.backward != nil {
		l.backward(dx, x, y, dy)
		return
	}
	d, alpha := def.deriv, a.alpha
	for i := range x {
		dx[i] = dy[i] * T(d(float64(x[i]), float64(y[i]), alpha))
	}
}

// actGradOut computes dx = dy·f'(x) from (y, dy), for activations whose
// derivative is a function of their output (byOutput).
type actGradOut act

func (a actGradOut) Name() string { return a.name + "_grad_out" }

func (actGradOut) OutShape(in []tensor.Shape) (tensor.Shape, error) { return in[0].Clone(), nil }

func (a actGradOut) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(a, out, in, actGradOutBody[float32], actGradOutBody[float64])
}

func actGradOutBody[T compute.Float](a actGradOut, dx []T, in []*tensor.Dense) error {
	y := data[T](in[0])
	actBackward(act(a), dx, y, y, data[T](in[1]))
	return nil
}

func (actGradOut) Backward(G.Nodes, *G.Node, *G.Node, []bool) (G.Nodes, error) {
	return nil, errSecondOrder
}

var errSecondOrder = errors.New("second derivatives are not supported")

func (actGrad) Backward(G.Nodes, *G.Node, *G.Node, []bool) (G.Nodes, error) {
	return nil, errSecondOrder
}

// softmax normalizes the last axis.
type softmax struct{}

func (softmax) Name() string { return "softmax" }

func (softmax) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	if in[0].Dims() < 1 {
		return nil, fmt.Errorf("want at least one axis, got %v", in[0])
	}
	return in[0].Clone(), nil
}

func (k softmax) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, softmaxBody[float32], softmaxBody[float64])
}

func softmaxBody[T compute.Float](_ softmax, out []T, in []*tensor.Dense) error {
	softmaxRows(out, data[T](in[0]), lastAxis(in[0]))
	return nil
}

// lastAxis is the size of t's last axis.
func lastAxis(t *tensor.Dense) int { return t.Shape()[t.Dims()-1] }

// softmaxRows writes the softmax of each row of length n, stably.
func softmaxRows[T compute.Float](out, x []T, n int) {
	for i := 0; i+n <= len(x); i += n {
		row, o := x[i:i+n], out[i:i+n]
		m := row[0]
		for _, v := range row {
			m = max(m, v)
		}
		var s float64
		for j, v := range row {
			e := math.Exp(float64(v - m))
			o[j] = T(e)
			s += e
		}
		inv := 1 / s
		for j := range o {
			o[j] = T(float64(o[j]) * inv)
		}
	}
}

func (softmax) Backward(_ G.Nodes, out, grad *G.Node, _ []bool) (G.Nodes, error) {
	g, err := Apply(softmaxGrad{}, []bool{false, true}, out, grad)
	return G.Nodes{g}, err
}

// softmaxGrad computes dx = y ⊙ (dy − Σ dy⊙y) row by row from (y, dy).
type softmaxGrad struct{}

func (softmaxGrad) Name() string { return "softmax_grad" }

func (softmaxGrad) OutShape(in []tensor.Shape) (tensor.Shape, error) { return in[0].Clone(), nil }

func (k softmaxGrad) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, softmaxGradBody[float32], softmaxGradBody[float64])
}

func softmaxGradBody[T compute.Float](_ softmaxGrad, dx []T, in []*tensor.Dense) error {
	softmaxBackward(dx, data[T](in[0]), data[T](in[1]), lastAxis(in[0]))
	return nil
}

func softmaxBackward[T compute.Float](dx, y, dy []T, n int) {
	for i := 0; i+n <= len(y); i += n {
		var dot T
		for j := i; j < i+n; j++ {
			dot += dy[j] * y[j]
		}
		for j := i; j < i+n; j++ {
			dx[j] = y[j] * (dy[j] - dot)
		}
	}
}

func (softmaxGrad) Backward(G.Nodes, *G.Node, *G.Node, []bool) (G.Nodes, error) {
	return nil, errSecondOrder
}
