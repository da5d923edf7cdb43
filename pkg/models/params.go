package models

import (
	"fmt"
	"math"
	"math/rand/v2"

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
	Value *tensor.Dense
	// Frozen is set for the weights of a layer set trainable: false: no
	// training phase updates them, as for a Buffer, but they keep their role.
	Frozen bool
}

// Trainable reports whether optimizers update the parameter: a weight,
// bias or norm parameter that is not frozen.
func (p *Param) Trainable() bool { return p.Role != Buffer && !p.Frozen }

// ParamStore holds every parameter of a model, in declaration order.
type ParamStore struct {
	dtype  tensor.Dtype
	params []*Param
	byName map[string]*Param
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
	n := tensor.Shape(shape).TotalSize()
	vals := make([]float64, n)
	init(rng, vals, fanIn, fanOut)
	var t *tensor.Dense
	switch s.dtype {
	case tensor.Float32:
		v32 := make([]float32, n)
		for i, v := range vals {
			v32[i] = float32(v)
		}
		t = tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v32))
	default:
		t = tensor.New(tensor.WithShape(shape...), tensor.WithBacking(vals))
	}
	p := &Param{Name: name, Role: role, Value: t}
	s.params = append(s.params, p)
	s.byName[name] = p
	return p, nil
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
		n += p.Value.Shape().TotalSize()
	}
	return n
}

// Float64s returns a copy of a parameter's values as float64.
func Float64s(t *tensor.Dense) []float64 {
	switch t.Dtype() {
	case tensor.Float32:
		d := t.Float32s()
		out := make([]float64, len(d))
		for i, v := range d {
			out[i] = float64(v)
		}
		return out
	case tensor.Float64:
		d := t.Float64s()
		return append([]float64(nil), d...)
	}
	return nil
}

// FirstNonFinite returns the name of the first parameter holding a NaN or
// an infinity, or "".
func (s *ParamStore) FirstNonFinite() string {
	for _, p := range s.params {
		switch p.Value.Dtype() {
		case tensor.Float32:
			d := p.Value.Float32s()
			for _, v := range d {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					return p.Name
				}
			}
		case tensor.Float64:
			d := p.Value.Float64s()
			for _, v := range d {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					return p.Name
				}
			}
		}
	}
	return ""
}
