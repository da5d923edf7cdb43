package models

import (
	"fmt"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/ops"
	G "gorgonia.org/gorgonia"
)

// residual is a residual block, y = act(F(x) + P(x)) (He et al. 2016):
// F is the block's own layer stack and P the identity when F keeps the
// shape, else a learned projection: a 1×1 convolution (strided to match a
// smaller output) on channel-first inputs, a dense layer on flat ones.
type residual struct {
	block      config.Block // the residual's own
	blocks     []config.Block
	inner      []parsed        // the parsed blocks
	problems   config.Problems // of the nested blocks, reported by parseLayer
	parsed     bool
	activation string
	alpha      float64
	init       string

	layers []builtLayer // F, after Setup
	proj   *builtLayer  // P; nil for the identity
}

func newResidual(o *config.Options) Layer {
	r := &residual{activation: o.String("activation", "none", ops.Activations()...)}
	r.alpha = o.Float("alpha", ops.DefaultAlpha[r.activation])
	list, isList := o.Block().Opts["layers"].([]any)
	blocks := o.Blocks("layers", "type")
	switch {
	case !o.Block().Has("layers"):
		o.Fail("layers", "is required: the block's layers, e.g. [{type: conv2d, filters: 16, kernel: 3, padding: same}]")
	case isList && len(list) == 0:
		o.Fail("layers", "the block has no layers")
	}
	r.block, r.blocks = o.Block(), blocks
	return r
}

// parse reads the nested blocks. It runs on first use rather than in
// newResidual, which is itself in the layerTypes map that parsing reads:
// Go forbids that initialization cycle.
func (r *residual) parse() {
	if !r.parsed {
		r.inner, r.problems = parseBlocks(r.blocks)
		r.parsed = true
	}
}

func (r *residual) nestedProblems() config.Problems {
	r.parse()
	return r.problems
}

func (r *residual) setInit(s string) { r.init = s }

func (r *residual) sublayers() []builtLayer {
	if r.proj == nil {
		return r.layers
	}
	return append(append([]builtLayer(nil), r.layers...), *r.proj)
}

func (r *residual) Setup(s *Scope, in Shape) (Shape, error) {
	if r.parse(); len(r.problems) > 0 {
		return nil, r.problems
	}
	if r.init != "" {
		s.Init = r.init
	}
	layers, out, ps := setupStack(r.inner, s, in)
	if len(ps) > 0 {
		return nil, ps
	}
	r.layers = layers
	if equalShapes(in, out) {
		return out, nil
	}
	proj, err := projection(in, out)
	if err != nil {
		return nil, err
	}
	ps2 := s.Child("projection")
	if _, err := proj.Setup(ps2, in); err != nil {
		return nil, fmt.Errorf("projection: %w", err)
	}
	typ := "dense"
	if c, ok := proj.(*convLayer); ok {
		typ = c.typ
	}
	b := r.block // the projection has no block of its own: the residual's
	b.Kind = typ
	r.proj = &builtLayer{Layer: proj, info: describeLayer(ps2, b, proj, in, out)}
	return out, nil
}

// projection returns the layer that maps the block's input shape to its
// output shape, or an error naming both when none can.
func projection(in, out Shape) (Layer, error) {
	switch {
	case len(in) == 1 && len(out) == 1:
		return &dense{units: out[0], activation: "none", useBias: true}, nil
	case len(in) == len(out) && (len(in) == 2 || len(in) == 3):
		dims := len(in) - 1
		w := windowSpec{dims: dims, kernel: repeat(1, dims), dilation: repeat(1, dims), pad: repeat(0, 2*dims), padText: "valid"}
		for i := 1; i < len(in); i++ {
			s := strideFor(in[i], out[i])
			if s == 0 {
				return nil, fmt.Errorf("the block's layers turn %v into %v, and no 1×1 projection can match axis %d (%d -> %d) with a stride; "+
					"change the layers so the sizes match (e.g. padding: same)", in, out, i, in[i], out[i])
			}
			w.stride = append(w.stride, s)
		}
		typ := "conv2d"
		if dims == 1 {
			typ = "conv1d"
		}
		return &convLayer{typ: typ, filters: out[0], win: w, useBias: true, activation: "none"}, nil
	}
	return nil, fmt.Errorf("the block's layers turn %v into %v, and no projection matches them "+
		"(a 1×1 convolution needs channel-first shapes of the same rank, a dense layer two flat ones)", in, out)
}

// strideFor returns the stride s for which a 1×1 window over n positions
// gives m outputs, ⌊(n−1)/s⌋ + 1 = m, or 0 when there is none.
func strideFor(n, m int) int {
	for s := 1; s <= n; s++ {
		if (n-1)/s+1 == m {
			return s
		}
	}
	return 0
}

func (r *residual) Forward(g *Graph, x *G.Node) (*G.Node, error) {
	h, err := forwardStack(g, r.layers, x)
	if err != nil {
		return nil, err
	}
	skip := x
	if r.proj != nil {
		if skip, err = r.proj.Forward(g, x); err != nil {
			return nil, fmt.Errorf("projection: %w", err)
		}
	}
	y, err := ops.Add(h, skip)
	if err != nil {
		return nil, err
	}
	return ops.Activate(y, r.activation, r.alpha)
}

// FLOPs counts the addition; the block's layers have rows of their own.
func (r *residual) FLOPs(_, out Shape) int64 { return int64(out.Size()) }
