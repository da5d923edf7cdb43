package run

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"

	"github.com/dltrain/dltrain/pkg/augment"
	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/data"
	"github.com/dltrain/dltrain/pkg/gradcheck"
	"github.com/dltrain/dltrain/pkg/models"
	"github.com/dltrain/dltrain/pkg/train"
	"gorgonia.org/tensor"
)

// streamGradCheck is the random stream of the jitter (and the next one of
// random inputs); a gradient check draws nothing from the training streams.
const streamGradCheck uint64 = 0x6a697474

// GradCheckOptions are the inputs of GradCheck.
type GradCheckOptions struct {
	Config      string   // experiment file
	Sets        []string // --set key=value overrides
	Samples     int      // samples in the batch checked; default 4
	Tolerance   float64  // default 1e-6
	Eps         float64  // finite-difference step; default 1e-6
	MaxElements int      // elements perturbed per parameter; 0 means all
	Stdout      io.Writer
	Stderr      io.Writer // notes: where the inputs came from
	JSON        bool
}

// GradCheck builds the experiment's model in float64 and checks the
// gradient of its loss with respect to every trainable parameter against
// central finite differences, on the first samples of the training split
// in the epoch-1 order (or, when the data cannot be read and data.shape is
// set, on seeded random inputs of that shape). Biases and normalization
// parameters are jittered first (see gradcheck.Jitter); dropout masks are
// frozen. It returns the report, and an error wrapping
// gradcheck.ErrMismatch when a parameter is above the tolerance.
func GradCheck(ctx context.Context, opt GradCheckOptions) (*gradcheck.Report, error) {
	if opt.Samples == 0 {
		opt.Samples = 4
	}
	if opt.Samples < 1 || opt.Tolerance < 0 || opt.Eps < 0 || opt.MaxElements < 0 {
		return nil, fmt.Errorf("%w: --samples must be >= 1 and --tolerance, --eps, --max-elements >= 0", config.ErrInvalid)
	}
	exp, err := Load(opt.Config, opt.Sets)
	if err != nil {
		return nil, err
	}
	exp.Model.DType = "float64"
	fullBPTT(exp, opt.Stderr)
	spec := models.Spec{Exp: exp, InitRNG: data.RNG(exp.Seed, data.StreamInit), Check: memoryCheck(exp, false, opt.Samples)}
	ds, _, err := data.Load(exp)
	switch {
	case err == nil:
		spec.Input, spec.Output, spec.Vocab, spec.Classes = ds.Input, ds.ModelOutput(), ds.Vocab(), conditionalClasses(ds.Meta)
	case errors.Is(err, data.ErrBadData) && !errors.Is(err, config.ErrInvalid) && len(exp.Data.Shape) > 0:
		note(opt.Stderr, "cannot read the data (%v); checking on seeded random inputs of shape %v instead", err, exp.Data.Shape)
		spec.Input, ds = exp.Data.Shape, nil
	default:
		return nil, err
	}
	m, err := models.Build(spec)
	if err != nil {
		return nil, err
	}
	// A GAN has no one loss: each training phase's objective (the
	// discriminator's on real and generated samples, the generator's on
	// D's scores of its samples) is checked over its own parameters.
	var terms []checkTerms
	if gan, ok := m.(*models.GAN); ok {
		phases, err := ganPhases(exp, gan, 1)
		if err != nil {
			return nil, err
		}
		for _, ph := range phases {
			terms = append(terms, checkTerms{ph.Name, ph.Objective})
		}
	} else {
		loss, ps := train.NewLoss(exp.Train.Loss, exp.Data.Task)
		if len(ps) > 0 {
			return nil, ps
		}
		terms = []checkTerms{{"", train.Objective{Terms: []train.Term{{Loss: loss}}}}}
	}
	gradcheck.Jitter(m.Params(), rand.New(rand.NewPCG(exp.Seed, streamGradCheck)), 0.1)
	x, y := checkBatch(exp, ds, m, opt.Samples)
	if err := corruptBatch(exp, m, x, opt.Stderr); err != nil {
		return nil, err
	}
	note(opt.Stderr, "checking %d parameters (%d scalars) of %s on %d samples in float64",
		len(m.Params().Trainable()), m.Params().Count(), opt.Config, x.Shape()[0])
	var rep *gradcheck.Report
	for _, c := range terms {
		r, err := gradcheck.Objective(ctx, m, c.obj, x, y, gradcheck.Options{
			Eps: opt.Eps, Tolerance: opt.Tolerance, MaxElements: opt.MaxElements, Seed: exp.Seed})
		if err != nil {
			if c.phase != "" {
				err = fmt.Errorf("the %s phase's objective: %w", c.phase, err)
			}
			return nil, err
		}
		if c.phase != "" {
			note(opt.Stderr, "the %s phase's objective: loss %.6g over %d parameters", c.phase, r.Loss, len(r.Results))
		}
		if rep == nil {
			rep = r
		} else {
			rep.Results = append(rep.Results, r.Results...)
		}
	}
	if opt.Stdout != nil {
		if opt.JSON {
			var b []byte
			if b, err = json.MarshalIndent(rep, "", "  "); err == nil {
				_, err = fmt.Fprintln(opt.Stdout, string(b))
			}
		} else {
			err = rep.WriteText(opt.Stdout)
		}
		if err != nil {
			return rep, err
		}
	}
	return rep, rep.Err()
}

// checkBatch returns n samples as float64 tensors: the first of the
// training split in epoch 1's order, or seeded random ones when ds is nil.
func checkBatch(exp *config.Experiment, ds *data.Dataset, m models.Model, n int) (*tensor.Dense, *tensor.Dense) {
	inW := m.InputShape().Size()
	if ds != nil {
		n = min(n, ds.Train.N)
		idx := data.Order(ds.Train.N, exp.Seed, 0)[:n]
		x := make([]float64, n*inW)
		data.Gather(x, ds.Train.X, inW, idx)
		yw := ds.TargetSize()
		y := make([]float64, n*yw)
		data.Gather(y, ds.Train.Y, yw, idx)
		return tensor.New(tensor.WithShape(append([]int{n}, m.InputShape()...)...), tensor.WithBacking(x)),
			tensor.New(tensor.WithShape(append([]int{n}, ds.Target...)...), tensor.WithBacking(y))
	}
	rng := rand.New(rand.NewPCG(exp.Seed, streamGradCheck+1))
	x := make([]float64, n*inW)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	out := m.OutputShape().Size()
	xt := tensor.New(tensor.WithShape(append([]int{n}, m.InputShape()...)...), tensor.WithBacking(x))
	if data.ClassTask(exp.Data.Task) {
		y := make([]float64, n)
		for i := range y {
			y[i] = float64(rng.IntN(out))
		}
		return xt, tensor.New(tensor.WithShape(n), tensor.WithBacking(y))
	}
	y := make([]float64, n*out)
	for i := range y {
		y[i] = rng.NormFloat64()
	}
	return xt, tensor.New(tensor.WithShape(n, out), tensor.WithBacking(y))
}

// corruptBatch corrupts the inputs x (not the targets) as a denoising
// autoencoder's first training mini-batch is corrupted, so that the check
// is of the objective it trains on: the clean input from a corrupted one.
func corruptBatch(exp *config.Experiment, m models.Model, x *tensor.Dense, notes io.Writer) error {
	c, ps := augment.Corruption(exp.Model.Corrupt, augment.Input{Shape: m.InputShape()}, exp.Seed)
	if len(ps) > 0 {
		return ps
	}
	if c == nil {
		return nil
	}
	c.Apply64(x.Float64s(), x.Shape()[0], 0, 0, augment.NewSource())
	note(notes, "corrupted the inputs with model.corrupt (%s) as the first training mini-batch is; the targets stay clean", exp.Model.Corrupt.Kind)
	return nil
}

func note(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintln(w, data.Printable(fmt.Sprintf(format, args...)))
	}
}

// fullBPTT takes truncate off the model's recurrent layers, saying so: a
// truncated gradient is not the gradient of the loss, so finite
// differences of the loss cannot check it. The check is then of the full
// gradient through the same layers; truncation itself is checked against
// PyTorch's detach loop in pkg/ops and pkg/models.
func fullBPTT(exp *config.Experiment, notes io.Writer) {
	for i, b := range exp.Model.Layers {
		if !b.Has("truncate") {
			continue
		}
		opts := make(map[string]any, len(b.Opts))
		for k, v := range b.Opts {
			if k != "truncate" {
				opts[k] = v
			}
		}
		exp.Model.Layers[i].Opts = opts
		note(notes, "%s: truncate dropped for the check: finite differences check the full gradient (BPTT through every step), not a truncated one", b.Path)
	}
}

// checkTerms is one objective a gradient check checks: a training
// phase's loss terms over its parameter group (nil: every trainable one).
type checkTerms struct {
	phase string
	obj   train.Objective
}
