package gradcheck

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/dltrain/dltrain/pkg/models"
	"github.com/dltrain/dltrain/pkg/train"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// ErrMismatch is returned (wrapped) when a parameter's gradient differs
// from its finite-difference estimate by more than the tolerance.
var ErrMismatch = errors.New("gradient check failed")

// Options tunes a check. The zero value checks every element with ε = 1e-6
// against a tolerance of 1e-6.
type Options struct {
	Eps         float64 // finite-difference step for a loss up to 1 (scaled by |loss|^(1/3) above); default 1e-6
	Tolerance   float64 // largest relative error that passes; default 1e-6
	MaxElements int     // elements perturbed per parameter, evenly spaced; 0 means all
	Seed        uint64  // seeds the dropout masks
}

func (o Options) withDefaults() Options {
	if o.Eps == 0 {
		o.Eps = 1e-6
	}
	if o.Tolerance == 0 {
		o.Tolerance = 1e-6
	}
	return o
}

// Result is the comparison for one parameter. The relative error is
// max |analytic − numeric| / max(max |analytic|, max |numeric|) over the
// elements checked: scaled by the parameter's largest gradient, so that
// elements whose gradient is almost zero do not dominate.
type Result struct {
	Param   string  `json:"param"`
	Shape   []int   `json:"shape"`
	Checked int     `json:"checked"` // elements perturbed
	Size    int     `json:"size"`    // elements in the parameter
	RelErr  float64 `json:"rel_err"`
	AbsErr  float64 `json:"abs_err"`
	MaxGrad float64 `json:"max_grad"` // largest |gradient| among the elements checked
	// Zero is set when every analytic and numeric value is below
	// ZeroGradient: the gradient is zero (a bias followed by batch norm,
	// which cancels it), and the relative error, a ratio of rounding
	// noises, is reported as 0.
	Zero bool `json:"zero,omitempty"`
}

// ZeroGradient is the level under which a parameter's whole gradient
// counts as zero. Rounding in the loss, divided by 2ε, leaves finite
// differences of a zero gradient around 1e-10 in the models tested.
const ZeroGradient = 1e-8

// Report is the result of a check.
type Report struct {
	Loss      float64  `json:"loss"`
	Samples   int      `json:"samples"`
	Eps       float64  `json:"eps"`
	Tolerance float64  `json:"tolerance"`
	Results   []Result `json:"results"`
}

// Worst returns the result with the largest relative error.
func (r *Report) Worst() Result {
	var w Result
	for i, x := range r.Results {
		if i == 0 || x.RelErr > w.RelErr || math.IsNaN(x.RelErr) {
			w = x
		}
	}
	return w
}

// Err returns nil when every parameter passed, else an error wrapping
// ErrMismatch that names the ones that did not.
func (r *Report) Err() error {
	var bad []string
	for _, x := range r.Results {
		if !(x.RelErr <= r.Tolerance) {
			bad = append(bad, fmt.Sprintf("%s (%.3g)", x.Param, x.RelErr))
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return fmt.Errorf("%w: relative error above %g for %s", ErrMismatch, r.Tolerance, strings.Join(bad, ", "))
}

// Model checks the gradient of loss(m(x), y) with respect to every
// trainable parameter of m, whose store must hold float64 tensors. x is
// (batch, input...) and y the loss's targets for it. The parameters are
// perturbed in place and restored; the running statistics that training
// passes move (batch norm) are restored too.
func Model(ctx context.Context, m models.Model, loss train.Loss, x, y *tensor.Dense, opt Options) (*Report, error) {
	return Objective(ctx, m, train.Objective{Terms: []train.Term{{Loss: loss}}}, x, y, opt)
}

// Objective is Model for a training phase's objective, built as training
// builds it (train.Objective.Build: the weighted sum of its terms, each a
// loss over one named output, e.g. a GAN's discriminator reads "d_real"
// and "out"), checked with respect to its parameter group only (nil:
// every trainable parameter).
func Objective(ctx context.Context, m models.Model, obj train.Objective, x, y *tensor.Dense, opt Options) (*Report, error) {
	opt = opt.withDefaults()
	store := m.Params()
	if store.Dtype() != tensor.Float64 {
		return nil, fmt.Errorf("gradient checks run in float64; the model is %v (set model.dtype: float64)", store.Dtype())
	}
	defer restoreBuffers(store)()
	// Two graphs in training mode with dropout masks drawn from equal
	// streams: one computes the analytic gradients, the other only the
	// loss, which is all the finite differences need and half the work.
	params := obj.Params
	if params == nil {
		params = store.Trainable()
	}
	withGrad, err := build(m, &obj, params, x, y, opt.Seed, true)
	if err != nil {
		return nil, err
	}
	defer withGrad.vm.Close()
	lossOnly, err := build(m, &obj, params, x, y, opt.Seed, false)
	if err != nil {
		return nil, err
	}
	defer lossOnly.vm.Close()
	l0, err := withGrad.run()
	if err != nil {
		return nil, err
	}
	first := make([][]float64, len(withGrad.grads))
	for i, g := range withGrad.grads {
		first[i] = append([]float64(nil), g.Value().Data().([]float64)...)
	}
	// A second run must give the same loss and gradients bit for bit: an op
	// that keeps state between runs, or a machine that reuses a buffer it
	// should not, shows here.
	if l, err := withGrad.run(); err != nil || l != l0 {
		return nil, fmt.Errorf("a second run gives the loss %v, the first %v (%v)", l, l0, err)
	}
	for i, g := range withGrad.grads {
		for j, v := range g.Value().Data().([]float64) {
			if v != first[i][j] {
				return nil, fmt.Errorf("a second run gives another gradient for %s[%d]: %v, then %v", withGrad.params[i].Name, j, first[i][j], v)
			}
		}
	}
	if l1, err := lossOnly.run(); err != nil || l1 != l0 {
		return nil, fmt.Errorf("the loss-only graph gives %v, the gradient graph %v (%v): their dropout masks or batch statistics differ", l1, l0, err)
	}
	// The rounding error of a central difference is about ε_mach·|L|/step:
	// a loss of 1e7 (a regression on raw targets) would drown a 1e-6 step
	// in noise. The step grows with the cube root of the loss, as the
	// optimal central-difference step does (∝ (ε_mach·|L|/|L‴|)^(1/3)),
	// and is unchanged for losses up to 1.
	opt.Eps *= max(1, math.Cbrt(math.Abs(l0)))
	rep := &Report{Loss: l0, Samples: x.Shape()[0], Eps: opt.Eps, Tolerance: opt.Tolerance}
	for i, p := range withGrad.params {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		res, err := compare(p, first[i], lossOnly.run, opt)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.Name, err)
		}
		rep.Results = append(rep.Results, res)
	}
	return rep, nil
}

// compare perturbs p's elements one at a time and compares the central
// difference of the loss with the analytic gradient.
func compare(p *models.Param, analytic []float64, loss func() (float64, error), opt Options) (Result, error) {
	v := p.Value.Data().([]float64)
	res := Result{Param: p.Name, Shape: append([]int(nil), p.Value.Shape()...), Size: len(v)}
	step := 1
	if opt.MaxElements > 0 && len(v) > opt.MaxElements {
		step = (len(v) + opt.MaxElements - 1) / opt.MaxElements
	}
	var maxA, maxN float64
	for j := 0; j < len(v); j += step {
		orig := v[j]
		v[j] = orig + opt.Eps
		plus, err := loss()
		if err != nil {
			return res, err
		}
		v[j] = orig - opt.Eps
		minus, err := loss()
		v[j] = orig
		if err != nil {
			return res, err
		}
		num := (plus - minus) / (2 * opt.Eps)
		res.AbsErr = max(res.AbsErr, math.Abs(analytic[j]-num))
		if math.IsNaN(num) || math.IsNaN(analytic[j]) {
			res.AbsErr = math.NaN()
		}
		maxA, maxN = max(maxA, math.Abs(analytic[j])), max(maxN, math.Abs(num))
		res.Checked++
	}
	res.MaxGrad = max(maxA, maxN)
	switch {
	case math.IsNaN(res.AbsErr):
		res.RelErr = math.NaN()
	case res.MaxGrad < ZeroGradient:
		res.Zero = true
	default:
		res.RelErr = res.AbsErr / res.MaxGrad
	}
	return res, nil
}

// restoreBuffers snapshots every buffer (running statistics) of store and
// returns the function that puts them back.
func restoreBuffers(store *models.ParamStore) func() {
	saved := map[*models.Param][]float64{}
	for _, p := range store.All() {
		if !p.Trainable() {
			saved[p] = models.Float64s(p.Value)
		}
	}
	return func() {
		for p, v := range saved {
			copy(p.Value.Data().([]float64), v)
		}
	}
}

// graph is one compiled training-mode graph of the model and loss.
type graph struct {
	vm     G.VM
	cost   *G.Node
	params []*models.Param
	grads  G.Nodes
}

func build(m models.Model, obj *train.Objective, params []*models.Param, x, y *tensor.Dense, seed uint64, withGrads bool) (*graph, error) {
	g := models.NewGraph(m.Params(), true)
	g.FreezeDropout = true
	g.DropoutRNG = rand.New(rand.NewPCG(seed, 0x67726164))
	xn := G.NewTensor(g.G, tensor.Float64, x.Dims(), G.WithShape(x.Shape()...), G.WithName("x"), G.WithValue(x))
	yn := G.NewTensor(g.G, tensor.Float64, y.Dims(), G.WithShape(y.Shape()...), G.WithName("y"), G.WithValue(y))
	in := models.Tensors{models.InputX: xn}
	if ins := m.Inputs(); len(ins) > 1 && ins[1].Name == models.InputLabels {
		in[models.InputLabels] = yn // a conditional GAN's classes are its targets, as in a session
	}
	outs, err := models.Run(g, m, in)
	if err != nil {
		return nil, err
	}
	c := &graph{}
	if c.cost, err = obj.Build(nil, outs, yn); err != nil {
		return nil, err
	}
	if withGrads {
		var nodes G.Nodes
		for _, p := range params {
			c.params = append(c.params, p)
			nodes = append(nodes, g.Node(p))
		}
		if c.grads, err = G.Grad(c.cost, nodes...); err != nil {
			return nil, fmt.Errorf("building gradients: %w", err)
		}
	}
	c.vm = G.NewTapeMachine(g.G)
	return c, nil
}

func (c *graph) run() (float64, error) {
	defer c.vm.Reset()
	if err := c.vm.RunAll(); err != nil {
		return math.NaN(), err
	}
	switch v := c.cost.Value().(type) {
	case *G.F64:
		return float64(*v), nil
	}
	return math.NaN(), fmt.Errorf("the loss is %T, not a float64 scalar", c.cost.Value())
}
