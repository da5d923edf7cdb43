package models

import (
	"errors"
	"fmt"

	"github.com/dltrain/dltrain/pkg/config"
	G "gorgonia.org/gorgonia"
)

// Sequential is a stack of layers applied in order, from the input "x"
// to the output "out": the mlp and cnn kinds (mlp.go, cnn.go) build one.
type Sequential struct {
	Signature
	kind    string
	padMask bool // define MaskName from the token ids x (mask.go)
	store   *ParamStore
	layers  []builtLayer
}

// builtLayer is a layer after Setup, with what a summary shows of it.
type builtLayer struct {
	Layer
	info LayerInfo
}

var _ Model = (*Sequential)(nil)

// buildSequential builds the stack of model.layers for a model kind.
func buildSequential(kind string, spec Spec) (*Sequential, error) {
	{
		e := spec.Exp
		store := spec.newStore()
		ls, ps := parseBlocks(e.Model.Layers)
		if len(ps) > 0 {
			return nil, ps
		}
		if ps := autoUnits(ls, spec.Output); len(ps) > 0 {
			return nil, ps
		}
		root := &Scope{Store: store, Init: e.Model.Init, BiasInit: e.Model.BiasInit, RNG: spec.InitRNG, Vocab: spec.Vocab}
		layers, shape, ps := setupStack(ls, root, spec.Input)
		if len(ps) == 0 && spec.Output != nil && !equalShapes(shape, spec.Output) {
			last := e.Model.Layers[len(e.Model.Layers)-1]
			ps = append(ps, last.Problem("", "the model's output %v does not match what the loss needs, %v; "+
				"make the last layer produce %v (for example a dense layer with units: %d)", shape, spec.Output, spec.Output, spec.Output.Size()))
		}
		if len(ps) > 0 {
			return nil, ps
		}
		sig := Signature{In: []TensorSpec{{InputX, spec.Input}}, Out: []TensorSpec{{OutputOut, shape}}}
		if spec.PadMask && len(spec.Input) != 1 {
			return nil, fmt.Errorf("a padding mask needs token ids [time] per sample, got %v", spec.Input)
		}
		return &Sequential{Signature: sig, kind: kind, padMask: spec.PadMask, store: store, layers: layers}, nil
	}
}

// setupStack sets up layers one after the other from the input shape in,
// each in a child scope of parent named after the layer (by default its
// type and a counter: conv2d1, conv2d2, ...). The first layer whose Setup
// fails stops it, since later shapes would only repeat the problem; the
// problem names the layer's key path, index, type, name and shapes.
func setupStack(ls []parsed, parent *Scope, in Shape) ([]builtLayer, Shape, config.Problems) {
	counts := map[string]int{}
	shape := in
	var out []builtLayer
	for i, l := range ls {
		b := l.block
		counts[b.Kind]++
		name := l.name
		if name == "" {
			name = fmt.Sprintf("%s%d", b.Kind, counts[b.Kind])
		}
		scope := parent.Child(name)
		next, err := l.Setup(scope, shape)
		if err != nil {
			var nested config.Problems
			if errors.As(err, &nested) {
				return nil, nil, nested
			}
			return nil, nil, config.Problems{b.Problem("", "layer %d (%s %q): %v", i, b.Kind, scope.Name, err)}
		}
		out = append(out, builtLayer{Layer: l.Layer, info: describeLayer(scope, b, l.Layer, shape, next)})
		shape = next
	}
	return out, shape, nil
}

// describeLayer is the summary row of a layer of block b set up in scope.
func describeLayer(s *Scope, b config.Block, l Layer, in, out Shape) LayerInfo {
	info := LayerInfo{Name: s.Name, Type: b.Kind, Output: out, block: b}
	for _, p := range s.added {
		if p.Trainable() {
			info.Params += p.Size()
		} else {
			info.Buffers += p.Size()
		}
	}
	if f, ok := l.(FLOPer); ok {
		info.FLOPs = f.FLOPs(in, out)
	}
	return info
}

// forwardStack applies layers in order.
func forwardStack(g *Graph, layers []builtLayer, x *G.Node) (*G.Node, error) {
	var err error
	for _, l := range layers {
		if x, err = l.Forward(g, x); err != nil {
			return nil, fmt.Errorf("layer %s: %w", l.info.Name, err)
		}
	}
	return x, nil
}

// flattenInfo lists the rows of layers, each block followed by its own
// layers one level deeper.
func flattenInfo(layers []builtLayer, depth int) []LayerInfo {
	var out []LayerInfo
	for _, l := range layers {
		info := l.info
		info.Depth = depth
		out = append(out, info)
		if n, ok := l.Layer.(interface{ sublayers() []builtLayer }); ok {
			out = append(out, flattenInfo(n.sublayers(), depth+1)...)
		}
	}
	return out
}

func equalShapes(a, b Shape) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Params implements Model.
func (m *Sequential) Params() *ParamStore { return m.store }

// Forward implements Model: the layers in order on "x" give "out".
func (m *Sequential) Forward(g *Graph, in Tensors) (Tensors, error) {
	x, ok := in[InputX]
	if !ok {
		return nil, fmt.Errorf("a %s model needs its input %q", m.kind, InputX)
	}
	if m.padMask {
		if err := definePadMask(g, x); err != nil {
			return nil, err
		}
	}
	out, err := forwardStack(g, m.layers, x)
	if err != nil {
		return nil, err
	}
	return Tensors{OutputOut: out}, nil
}

// Layers implements Model: one row per layer, the layers of a residual
// block following it one level deeper.
func (m *Sequential) Layers() []LayerInfo { return flattenInfo(m.layers, 0) }
