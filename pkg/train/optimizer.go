package train

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/dltrain/dltrain/pkg/compute"
	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/models"
	"github.com/dltrain/dltrain/pkg/ops"
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
	// SetState restores what State returned; every buffer must belong to
	// one of params, with its size.
	SetState(st OptimizerState, params []*models.Param) error
}

// MomentumCycler is an optimizer whose momentum a schedule may set before
// each step, as PyTorch's OneCycleLR does: SGD's momentum (and so
// momentum and nesterov), RMSprop's momentum, Adam's and AdamW's beta1.
type MomentumCycler interface {
	SetMomentum(m float64)
}

// Decayer is an optimizer whose update includes decoupled weight decay
// (AdamW); the training loop applies it with the regularization's
// exclusions.
type Decayer interface {
	WeightDecay() float64
}

// OptimizerState is an optimizer's step count and per-parameter buffers,
// keyed "param/buffer" (e.g. "dense1/W/m").
type OptimizerState struct {
	Steps   int64
	Buffers SortedMap[[]float64]
}

// optimizers is every optimizer, by config name.
var optimizers = map[string]func(o *config.Options) Optimizer{
	"sgd":      newSGD,
	"momentum": newMomentum,
	"nesterov": newNesterov,
	"adam":     newAdam,
	"adamw":    newAdamW,
	"rmsprop":  newRMSprop,
	"adagrad":  newAdagrad,
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
	ps := o.Done()
	if _, decays := opt.(Decayer); b.Has("weight_decay") && !decays {
		ps = append(ps, b.Problem("weight_decay", "%s takes no weight_decay: use train.regularization.l2 "+
			"(an L2 penalty, what torch's weight_decay does for %s) or train.regularization.weight_decay (decoupled)", b.Kind, b.Kind))
		ps = slices.DeleteFunc(ps, func(p *config.Problem) bool {
			return p.Key == b.Path+".weight_decay" && strings.HasPrefix(p.Msg, "unknown option")
		})
	}
	return opt, ps
}

// paramUpdate is what an optimizer's update of one parameter reads: the
// optimizer's arguments for this step o, the parameter p and its
// gradient g.
type paramUpdate[O any] struct {
	o O
	p *models.Param
	g *tensor.Dense
}

// floatsOf returns the parameter's values and its gradient's as []T.
func floatsOf[T compute.Float, O any](u paramUpdate[O]) (w, g []T) {
	return ops.Floats[T](u.p.Value), ops.Floats[T](u.g)
}

// stepEach runs an optimizer's update of one parameter on each parameter
// with its gradient, in their element type: f32 and f64 are one generic
// function instantiated twice (adamStep[float32], adamStep[float64]), so
// that each optimizer writes its update once. A gradient that does not
// match its parameter, or a dtype other than float32 and float64, is an
// error.
func stepEach[O any](o O, params []*models.Param, grads []*tensor.Dense, f32, f64 func(paramUpdate[O]) error) error {
	for i, p := range params {
		if err := checkPair(p, grads[i]); err != nil {
			return err
		}
		if err := ops.Dispatch(p.Value.Dtype(), paramUpdate[O]{o: o, p: p, g: grads[i]}, f32, f64); err != nil {
			return fmt.Errorf("parameter %s: %w", p.Name, err)
		}
	}
	return nil
}

// buffers holds named per-parameter state of one dtype.
type buffers[T compute.Float] map[string][]T

func (b buffers[T]) get(name string, n int) []T {
	return b.getInit(name, n, 0)
}

// getInit returns the buffer, created filled with init when new.
func (b buffers[T]) getInit(name string, n int, init T) []T {
	s, ok := b[name]
	if !ok || len(s) != n {
		s = make([]T, n)
		if init != 0 {
			for i := range s {
				s[i] = init
			}
		}
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
	keys  map[[2]string]string // "param/buffer" keys, built once, not at every step
}

// key returns the buffer key "param/buffer".
func (s *state) key(param, buffer string) string {
	if s.keys == nil {
		s.keys = map[[2]string]string{}
	}
	k, ok := s.keys[[2]string{param, buffer}]
	if !ok {
		k = param + "/" + buffer
		s.keys[[2]string{param, buffer}] = k
	}
	return k
}

func newState() state { return state{f32: buffers[float32]{}, f64: buffers[float64]{}} }

// buffersOf returns the state's buffers of element type T.
func buffersOf[T compute.Float](s *state) buffers[T] { return *ops.Pick[buffers[T]](&s.f32, &s.f64) }

// stateLoad is what SetState loads: the state and the saved buffers.
type stateLoad struct {
	s    *state
	from map[string][]float64
}

func loadBuffers[T compute.Float](l stateLoad) error {
	buffersOf[T](l.s).load(l.from)
	return nil
}

func (s *state) State() OptimizerState {
	out := OptimizerState{Steps: s.steps, Buffers: map[string][]float64{}}
	s.f32.export(out.Buffers)
	s.f64.export(out.Buffers)
	return out
}

// SetState implements Optimizer for every optimizer: buffers are named
// "param/buffer" and must match a parameter's size.
func (s *state) SetState(st OptimizerState, params []*models.Param) error {
	sizes := map[string]int{}
	for _, p := range params {
		sizes[p.Name] = p.Value.Shape().TotalSize()
	}
	var bad []string
	for k, v := range st.Buffers {
		i := strings.LastIndexByte(k, '/')
		n, ok := sizes[k[:max(i, 0)]]
		if i < 0 || !ok || n != len(v) {
			bad = append(bad, fmt.Sprintf("%s (%d values)", k, len(v)))
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return fmt.Errorf("%w: optimizer state does not match the model's parameters: %s", ErrBadCheckpoint, strings.Join(bad, ", "))
	}
	s.steps = st.Steps
	clear(s.f32)
	clear(s.f64)
	if len(params) == 0 { // then st holds no buffers: each would belong to none
		return nil
	}
	return ops.Dispatch(params[0].Value.Dtype(), stateLoad{s: s, from: st.Buffers}, loadBuffers[float32], loadBuffers[float64])
}

func checkPair(p *models.Param, g *tensor.Dense) error {
	if g == nil || g.Shape().TotalSize() != p.Value.Shape().TotalSize() || g.Dtype() != p.Value.Dtype() {
		return fmt.Errorf("internal: gradient of %s does not match the parameter", p.Name)
	}
	return nil
}
