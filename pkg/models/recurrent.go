package models

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/dltrain/dltrain/pkg/compute"
	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/ops"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// recurrent is an rnn, lstm or gru layer: PyTorch's nn.RNN, nn.LSTM and
// nn.GRU (batch_first, zero initial state) over a sample [T, F], each
// stacked layer and direction one fused op (ops.Recurrent). Its output is
// every step's state [T, D·units] with return_sequences, else the last
// state of each direction [D·units] (PyTorch's h_n of the top layer), D
// being 2 when bidirectional. Parameters are named as PyTorch's
// (weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, then _l1 …, and a
// _reverse suffix for the second direction), with the same shapes, so
// that weights map one to one.
type recurrent struct {
	kind       string
	cell       ops.Cell
	units      int
	layers     int
	returnSeq  bool
	bidir      bool
	dropout    float64
	forgetBias float64 // NaN: PyTorch's initialization
	mask       string  // the padding mask option (mask.go)
	// Initializers by config name; "" is PyTorch's uniform(±1/√units).
	init, recInit, biasInit string
	// w[l][d] are layer l's direction d's weight_ih, weight_hh, bias_ih
	// and bias_hh.
	w [][][4]*Param
}

// recurrentOf returns the constructor of the layer type kind: rnn, lstm
// or gru.
func recurrentOf(kind string) func(o *config.Options) Layer {
	return func(o *config.Options) Layer { return newRecurrent(kind, o) }
}

func newRecurrent(kind string, o *config.Options) Layer {
	r := &recurrent{
		kind:       kind,
		units:      o.Int("units", 0),
		layers:     o.Int("layers", 1),
		returnSeq:  o.Bool("return_sequences", false),
		bidir:      o.Bool("bidirectional", false),
		dropout:    o.Float("dropout", 0),
		forgetBias: math.NaN(),
		recInit:    o.String("recurrent_init", "orthogonal", InitializerNames()...),
		biasInit:   o.String("bias_init", "", InitializerNames()...),
		mask:       o.String("mask", maskAuto),
	}
	switch kind {
	case "rnn":
		r.cell = ops.CellRNNTanh
		if o.String("activation", "tanh", "tanh", "relu") == "relu" {
			r.cell = ops.CellRNNRelu
		}
	case "lstm":
		r.cell = ops.CellLSTM
		if o.Block().Has("forget_bias") {
			r.forgetBias = o.Float("forget_bias", 1)
			if math.IsInf(r.forgetBias, 0) || math.IsNaN(r.forgetBias) {
				o.Fail("forget_bias", "must be a finite number, got %v", r.forgetBias)
			}
		}
	case "gru":
		r.cell = ops.CellGRU
	}
	switch {
	case !o.Block().Has("units"):
		o.Fail("units", "is required: the size of the hidden state")
	case r.units < 1:
		o.Fail("units", "must be >= 1, got %d", r.units)
	}
	if r.layers < 1 {
		o.Fail("layers", "must be >= 1 (stacked layers), got %d", r.layers)
	}
	if !(r.dropout >= 0 && r.dropout < 1) {
		o.Fail("dropout", "must be in [0, 1), got %v", r.dropout)
	}
	if r.dropout > 0 && r.layers == 1 {
		o.Fail("dropout", "applies between stacked layers; with layers: 1 there is none (use a dropout layer after this one)")
	}
	return r
}

// setInit sets the initializer of the input weights (weight_ih).
func (r *recurrent) setInit(s string) { r.init = s }

// directions is 1 or 2.
func (r *recurrent) directions() int {
	if r.bidir {
		return 2
	}
	return 1
}

// paramName is PyTorch's name of a layer's direction's parameter.
func paramName(base string, layer, dir int) string {
	name := fmt.Sprintf("%s_l%d", base, layer)
	if dir == 1 {
		name += "_reverse"
	}
	return name
}

func (r *recurrent) Setup(s *Scope, in Shape) (Shape, error) {
	if len(in) != 2 {
		return nil, shapeErr("%s needs a sequence input [time, features], got %v; a 1-D sample is one step of features or a sequence of token ids (add {type: embedding} before it for ids, or {type: reshape, shape: [-1, 1]} for a series of scalars)", r.kind, in)
	}
	h, gh := r.units, r.cell.Gates()*r.units
	d := r.directions()
	pytorch := func(rng *rand.Rand, w []float64, _, _ int) { uniform(rng, w, 1/math.Sqrt(float64(h))) }
	pick := func(name string) Initializer {
		if name == "" {
			return pytorch
		}
		return initializers[name]
	}
	recInit := pick(r.recInit)
	if r.recInit == "orthogonal" { // rows are weight_hh's first axis, as torch.nn.init.orthogonal_
		recInit = func(rng *rand.Rand, w []float64, _, _ int) { orthogonal(rng, w, gh) }
	}
	r.w = make([][][4]*Param, r.layers)
	f := in[1]
	for l := range r.layers {
		r.w[l] = make([][4]*Param, d)
		for dir := range d {
			decl := []struct {
				base   string
				role   Role
				shape  []int
				init   Initializer
				fanIn  int
				fanOut int
			}{
				{"weight_ih", Weight, []int{gh, f}, pick(r.init), f, gh},
				{"weight_hh", Weight, []int{gh, h}, recInit, h, gh},
				{"bias_ih", Bias, []int{gh}, pick(r.biasInit), h, gh},
				{"bias_hh", Bias, []int{gh}, pick(r.biasInit), h, gh},
			}
			for i, p := range decl {
				var err error
				if r.w[l][dir][i], err = s.add(paramName(p.base, l, dir), p.role, p.shape, p.init, p.fanIn, p.fanOut); err != nil {
					return nil, err
				}
			}
			if !math.IsNaN(r.forgetBias) { // the forget gate's block, H to 2H: b_ih + b_hh = forget_bias
				setRange(r.w[l][dir][2].Value, h, 2*h, r.forgetBias)
				setRange(r.w[l][dir][3].Value, h, 2*h, 0)
			}
		}
		f = d * h
	}
	if r.returnSeq {
		return Shape{in[0], d * h}, nil
	}
	return Shape{d * h}, nil
}

// setRange sets elements [lo, hi) of a parameter's tensor to v; a
// parameter of a plan has no tensor (nil), and nothing to set.
func setRange(t *tensor.Dense, lo, hi int, v float64) {
	if t == nil {
		return
	}
	ops.Must(ops.Dispatch(t.Dtype(), rangeFill{t, lo, hi, v}, fillRange[float32], fillRange[float64]))
}

// rangeFill is setRange's arguments.
type rangeFill struct {
	t      *tensor.Dense
	lo, hi int
	v      float64
}

func fillRange[T compute.Float](a rangeFill) error {
	x := ops.Floats[T](a.t)
	for i := a.lo; i < a.hi; i++ {
		x[i] = T(a.v)
	}
	return nil
}

func (r *recurrent) Forward(g *Graph, x *G.Node) (*G.Node, error) {
	reverse := []bool{false, true}[:r.directions()]
	keep, err := maskFor(g, r.mask, r.kind, x)
	if err != nil {
		return nil, err
	}
	h := x
	for l, ws := range r.w {
		if l > 0 && g.Train && r.dropout > 0 {
			st := &ops.DropoutState{Rate: r.dropout, Group: 1, RNG: g.DropoutRNG, Frozen: g.FreezeDropout}
			g.Dropouts = append(g.Dropouts, st)
			var err error
			if h, err = ops.Dropout(h, st); err != nil {
				return nil, err
			}
		}
		dirs := make([]ops.RecurrentWeights, len(ws))
		for d, w := range ws {
			dirs[d] = ops.RecurrentWeights{IH: g.Node(w[0]), HH: g.Node(w[1]), BiasIH: g.Node(w[2]), BiasHH: g.Node(w[3]), Reverse: reverse[d]}
		}
		if h, err = ops.RecurrentMasked(h, keep, r.cell, l > 0 || g.NeedsGrad(x), dirs...); err != nil {
			return nil, fmt.Errorf("%s layer %d: %w", r.kind, l, err)
		}
	}
	if r.returnSeq {
		return h, nil
	}
	return ops.RecurrentLastMasked(h, keep, reverse...)
}

// FLOPs counts the products of every layer and direction (2 per
// multiply-add), not the gates' elementwise work.
func (r *recurrent) FLOPs(in, _ Shape) int64 {
	if len(in) != 2 {
		return 0
	}
	t, f, h := int64(in[0]), int64(in[1]), int64(r.units)
	gh, d := int64(r.cell.Gates())*h, int64(r.directions())
	var n int64
	for range r.layers {
		n += d * 2 * t * gh * (f + h)
		f = d * h
	}
	return n
}
