package train

import (
	"fmt"
	"sort"
	"strings"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/models"
	"gorgonia.org/tensor"
)

// Optimizer updates parameters in place from their gradients.
type Optimizer interface {
	// Step applies one update to each parameter from the gradient at the
	// same index, with learning rate lr.
	Step(lr float64, params []*models.Param, grads []*tensor.Dense) error
	// LR is the base learning rate from the config.
	LR() float64
	// State returns everything the optimizer needs to continue exactly.
	State() OptimizerState
	// SetState restores what State returned; buffers must match the
	// parameters by name and size.
	SetState(OptimizerState) error
}

// OptimizerState is an optimizer's step count and per-parameter buffers,
// keyed "param/buffer" (e.g. "dense1/W/m").
type OptimizerState struct {
	Steps   int64
	Buffers map[string][]float64
}

// optimizers is every optimizer, by config name.
var optimizers = map[string]func(o *config.Options) Optimizer{
	"sgd":  newSGD,
	"adam": newAdam,
}

// OptimizerNames lists the known optimizers.
func OptimizerNames() []string {
	out := make([]string, 0, len(optimizers))
	for k := range optimizers {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// NewOptimizer builds the optimizer a block describes.
func NewOptimizer(b config.Block) (Optimizer, config.Problems) {
	newOpt, ok := optimizers[b.Kind]
	if !ok {
		return nil, config.Problems{b.Problem("kind", "unknown optimizer %q; known: %s", b.Kind, strings.Join(OptimizerNames(), ", "))}
	}
	o := b.Read()
	opt := newOpt(o)
	return opt, o.Done()
}

// buffers holds named per-parameter state of one dtype.
type buffers[T float32 | float64] map[string][]T

func (b buffers[T]) get(name string, n int) []T {
	s, ok := b[name]
	if !ok || len(s) != n {
		s = make([]T, n)
		b[name] = s
	}
	return s
}

func (b buffers[T]) export(into map[string][]float64) {
	for k, v := range b {
		f := make([]float64, len(v))
		for i, x := range v {
			f[i] = float64(x)
		}
		into[k] = f
	}
}

func (b buffers[T]) load(from map[string][]float64) {
	clear(b)
	for k, v := range from {
		s := make([]T, len(v))
		for i, x := range v {
			s[i] = T(x)
		}
		b[k] = s
	}
}

// state keeps an optimizer's buffers in both dtypes; only the one matching
// the model's parameters is used.
type state struct {
	steps int64
	f32   buffers[float32]
	f64   buffers[float64]
}

func newState() state { return state{f32: buffers[float32]{}, f64: buffers[float64]{}} }

func (s *state) State() OptimizerState {
	out := OptimizerState{Steps: s.steps, Buffers: map[string][]float64{}}
	s.f32.export(out.Buffers)
	s.f64.export(out.Buffers)
	return out
}

func checkPair(p *models.Param, g *tensor.Dense) error {
	if g == nil || g.Shape().TotalSize() != p.Value.Shape().TotalSize() || g.Dtype() != p.Value.Dtype() {
		return fmt.Errorf("internal: gradient of %s does not match the parameter", p.Name)
	}
	return nil
}
