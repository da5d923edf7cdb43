package models

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/dltrain/dltrain/pkg/compute"
	"github.com/dltrain/dltrain/pkg/ops"
	"gorgonia.org/tensor"
)

// Role says what a parameter is, which decides whether weight decay and L1
// or L2 penalties apply and whether the optimizer updates it.
type Role int

const (
	// Weight is a trained weight (kernels, matrices): penalized by default.
	Weight Role = iota
	// Bias is a trained offset: not penalized by default.
	Bias
	// Norm is a trained normalization scale or shift: not penalized by default.
	Norm
	// Buffer is state that is not trained, such as batch norm running
	// statistics; it is saved in checkpoints.
	Buffer
)

func (r Role) String() string {
	return [...]string{"weight", "bias", "norm", "buffer"}[r]
}

// Param is one named tensor of a model.
type Param struct {
	Name  string
	Role  Role
	Value *tensor.Dense // nil in a plan (PlanModel)
	// Frozen is set for the weights of a layer set trainable: false: no
	// training phase updates them, as for a Buffer, but they keep their role.
	Frozen bool
	shape  []int // a planned parameter's shape
}

// Trainable reports whether optimizers update the parameter: a weight,
// bias or norm parameter that is not frozen.
func (p *Param) Trainable() bool { return p.Role != Buffer && !p.Frozen }

// Size is the number of scalars of the parameter; for a planned one whose
// shape overflows an int, math.MaxInt.
func (p *Param) Size() int {
	if p.Value != nil {
		return p.Value.Shape().TotalSize()
	}
	n := 1
	for _, d := range p.shape {
		if d > 0 && n > math.MaxInt/d {
			return math.MaxInt
		}
		n *= d
	}
	return n
}

// ParamStore holds every parameter of a model, in declaration order.
type ParamStore struct {
	dtype  tensor.Dtype
	params []*Param
	byName map[string]*Param
	// planned: Add records names and shapes only, allocating no tensor
	// and drawing no random number (PlanModel).
	planned bool
}

// NewParamStore returns an empty store for tensors of dtype.
func NewParamStore(dtype tensor.Dtype) *ParamStore {
	return &ParamStore{dtype: dtype, byName: map[string]*Param{}}
}

// Dtype is the element type of every tensor in the store.
func (s *ParamStore) Dtype() tensor.Dtype { return s.dtype }

// Add declares a parameter with values drawn by init (fan-in and fan-out
// given for scaled initializers). Names must be unique.
func (s *ParamStore) Add(name string, role Role, shape []int, init Initializer, fanIn, fanOut int, rng *rand.Rand) (*Param, error) {
	if _, dup := s.byName[name]; dup {
		return nil, fmt.Errorf("parameter %q declared twice; give the layers distinct names", name)
	}
	if s.planned {
		p := &Param{Name: name, Role: role, shape: slices.Clone(shape)}
		s.params = append(s.params, p)
		s.byName[name] = p
		return p, nil
	}
	n := tensor.Shape(shape).TotalSize()
	vals := make([]float64, n)
	init(rng, vals, fanIn, fanOut)
	t, err := ops.DispatchValue(s.dtype, initial{shape, vals}, initialTensor[float32], initialTensor[float64])
	if err != nil {
		return nil, fmt.Errorf("parameter %q: %w", name, err)
	}
	p := &Param{Name: name, Role: role, Value: t}
	s.params = append(s.params, p)
	s.byName[name] = p
	return p, nil
}

// initial is a parameter's shape and initial values.
type initial struct {
	shape []int
	vals  []float64
}

// initialTensor returns a tensor of element type T holding the initial
// values.
func initialTensor[T compute.Float](a initial) *tensor.Dense {
	v := make([]T, len(a.vals))
	for i, x := range a.vals {
		v[i] = T(x)
	}
	return tensor.New(tensor.WithShape(a.shape...), tensor.WithBacking(v))
}

// Get returns the parameter called name, or nil.
func (s *ParamStore) Get(name string) *Param { return s.byName[name] }

// All returns every parameter in declaration order.
func (s *ParamStore) All() []*Param { return s.params }

// Trainable returns the parameters optimizers update, in declaration order.
func (s *ParamStore) Trainable() []*Param {
	var out []*Param
	for _, p := range s.params {
		if p.Trainable() {
			out = append(out, p)
		}
	}
	return out
}

// Count returns the number of trainable scalars.
func (s *ParamStore) Count() int {
	n := 0
	for _, p := range s.Trainable() {
		n += p.Size()
	}
	return n
}

// Float64s returns a copy of a parameter's values as float64 (t must be
// float32 or float64, as every parameter is).
func Float64s(t *tensor.Dense) []float64 {
	return ops.MustValue(ops.DispatchValue(t.Dtype(), t, float64sOf[float32], float64sOf[float64]))
}

func float64sOf[T compute.Float](t *tensor.Dense) []float64 {
	d := ops.Floats[T](t)
	out := make([]float64, len(d))
	for i, v := range d {
		out[i] = float64(v)
	}
	return out
}

// FirstNonFinite returns the name of the first parameter holding a NaN or
// an infinity, or "".
func (s *ParamStore) FirstNonFinite() string {
	for _, p := range s.params {
		if !ops.MustValue(ops.DispatchValue(p.Value.Dtype(), p.Value, allFinite[float32], allFinite[float64])) {
			return p.Name
		}
	}
	return ""
}

func allFinite[T compute.Float](t *tensor.Dense) bool { return compute.AllFinite(ops.Floats[T](t)) }
