package models

import (
	"fmt"

	"github.com/dltrain/dltrain/pkg/config"
	G "gorgonia.org/gorgonia"
)

// Sequential is a stack of layers applied in order. The mlp and cnn kinds
// are both sequential; they differ only in the layers their configs use.
type Sequential struct {
	kind   string
	store  *ParamStore
	in     Shape
	out    Shape
	layers []builtLayer
}

type builtLayer struct {
	Layer
	info LayerInfo
}

var _ Model = (*Sequential)(nil)

func buildSequential(kind string) func(Spec) (Model, error) {
	return func(spec Spec) (Model, error) {
		e := spec.Exp
		store := NewParamStore(DType(e.Model.DType))
		m := &Sequential{kind: kind, store: store, in: spec.Input}
		shape := spec.Input
		counts := map[string]int{}
		var ps config.Problems
		for i, b := range e.Model.Layers {
			l, name, lps := parseLayer(b)
			if len(lps) > 0 {
				ps = append(ps, lps...)
				continue
			}
			counts[b.Kind]++
			if name == "" {
				name = fmt.Sprintf("%s%d", b.Kind, counts[b.Kind])
			}
			scope := &Scope{Store: store, Name: name, Init: e.Model.Init, RNG: spec.InitRNG}
			out, err := l.Setup(scope, shape)
			if err != nil {
				ps = append(ps, b.Problem("", "layer %d (%s %q): %v", i, b.Kind, name, err))
				break // later shapes would only repeat this problem
			}
			info := LayerInfo{Name: name, Type: b.Kind, Output: out}
			for _, p := range scope.added {
				if p.Trainable() {
					info.Params += p.Value.Shape().TotalSize()
				}
			}
			if f, ok := l.(FLOPer); ok {
				info.FLOPs = f.FLOPs(shape, out)
			}
			m.layers = append(m.layers, builtLayer{Layer: l, info: info})
			shape = out
		}
		if len(ps) == 0 && spec.Output != nil && !equalShapes(shape, spec.Output) {
			last := e.Model.Layers[len(e.Model.Layers)-1]
			ps = append(ps, last.Problem("", "the model's output %v does not match what the loss needs, %v; "+
				"make the last layer produce %v (for example a dense layer with units: %d)", shape, spec.Output, spec.Output, spec.Output.Size()))
		}
		if len(ps) > 0 {
			return nil, ps
		}
		m.out = shape
		return m, nil
	}
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

// InputShape implements Model.
func (m *Sequential) InputShape() Shape { return m.in }

// OutputShape implements Model.
func (m *Sequential) OutputShape() Shape { return m.out }

// Forward implements Model.
func (m *Sequential) Forward(g *Graph, x *G.Node) (*G.Node, error) {
	var err error
	for _, l := range m.layers {
		if x, err = l.Forward(g, x); err != nil {
			return nil, fmt.Errorf("layer %s: %w", l.info.Name, err)
		}
	}
	return x, nil
}

// Layers implements Model.
func (m *Sequential) Layers() []LayerInfo {
	out := make([]LayerInfo, len(m.layers))
	for i, l := range m.layers {
		out[i] = l.info
	}
	return out
}
