package models

import (
	"strings"

	"github.com/dltrain/dltrain/pkg/config"
	"gorgonia.org/tensor"
)

// Plan is a model as Build would make it, worked out from shapes alone:
// every layer with its output shape and parameter counts. Making a plan
// allocates no parameter and draws no random number, so that a model too
// large for the machine is refused before it is built (Spec.Check), and
// building after planning gives the same weights as building alone.
type Plan struct {
	Kind   string
	Input  Shape
	Output Shape
	DType  tensor.Dtype
	// Layers are the rows of Model.Layers: nested layers follow their
	// block, one level deeper.
	Layers []PlannedLayer
}

// PlannedLayer is one layer of a plan with the config block it comes
// from, for problems that name it.
type PlannedLayer struct {
	LayerInfo
	Block config.Block
}

// newStore is the parameter store a kind builds spec's model in: one that
// records shapes only when spec is a plan's.
func (spec Spec) newStore() *ParamStore {
	s := NewParamStore(DType(spec.Exp.Model.DType))
	s.planned = spec.planned
	return s
}

// PlanModel works out the model spec describes without building it.
// Problems with the layer stack are the ones Build would report.
func PlanModel(spec Spec) (*Plan, error) {
	k, ok := kinds[spec.Exp.Model.Kind]
	if !ok {
		return nil, config.Problems{spec.Exp.Problem("model.kind", "unknown model kind %q; known: %s",
			spec.Exp.Model.Kind, strings.Join(Kinds(), ", "))}
	}
	spec.planned, spec.Check = true, nil
	m, err := k.Build(spec)
	if err != nil {
		return nil, err
	}
	p := &Plan{Kind: spec.Exp.Model.Kind, Input: m.InputShape(), Output: m.OutputShape(), DType: m.Params().Dtype()}
	for _, l := range m.Layers() {
		p.Layers = append(p.Layers, PlannedLayer{LayerInfo: l, Block: l.block})
	}
	return p, nil
}
