package models

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/config"
)

// TestPlanMatchesBuild: a plan describes every layer as the built model
// does (names, output shapes, parameter and buffer counts, FLOPs), names
// each layer's config block, and building through a plan gives the same
// weights as building alone (planning draws no random number).
func TestPlanMatchesBuild(t *testing.T) {
	for _, c := range []struct {
		name, model string
		in, out     Shape
	}{
		{"mlp", "{layers: [{type: dense, units: 16, activation: relu}, {type: dropout, rate: 0.1}, {type: dense, units: 3}]}", Shape{4}, Shape{3}},
		{"cnn", `{kind: cnn, layers: [{type: conv2d, filters: 4, kernel: 3, padding: same}, {type: batchnorm},
			{type: residual, layers: [{type: conv2d, filters: 8, kernel: 3, stride: 2, padding: same}]},
			{type: maxpool2d, size: 2}, {type: flatten}, {type: dense, units: 10}]}`, Shape{1, 8, 8}, Shape{10}},
		{"autoencoder", `{kind: autoencoder, encoder: [{type: dense, units: 8, activation: relu}, {type: dense, units: 2}],
			decoder: [{type: dense, units: 8, activation: relu}, {type: dense, units: 64}]}`, Shape{64}, nil},
		// Parameters set after their draw (a padding row, forget-gate
		// biases): a plan has no tensors to set.
		{"embedding_padding_lstm_forget_bias", "{layers: [{type: embedding, dim: 4, vocab: 9, padding_id: 0}, {type: lstm, units: 3, forget_bias: 1}, {type: dense, units: 3}]}", Shape{5}, Shape{3}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var e *config.Experiment
			if c.name != "autoencoder" {
				e = experiment(t, c.model)
			} else {
				var err error
				e, err = config.Parse("m.yaml", []byte("name: t\ndata: {source: builtin:digits, task: reconstruction}\nmodel: "+c.model+"\n"), nil, nil, Validate)
				if err != nil {
					t.Fatal(err)
				}
			}
			spec := Spec{Exp: e, Input: c.in, Output: c.out, InitRNG: rand.New(rand.NewPCG(1, 1))}
			plan, err := PlanModel(spec)
			if err != nil {
				t.Fatal(err)
			}
			alone, err := Build(Spec{Exp: e, Input: c.in, Output: c.out, InitRNG: rand.New(rand.NewPCG(1, 1))})
			if err != nil {
				t.Fatal(err)
			}
			var checked *Plan
			spec.Check = func(p *Plan) error { checked = p; return nil }
			planned, err := Build(spec)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(plan, checked) {
				t.Errorf("Check was given %+v, PlanModel gives %+v", checked, plan)
			}
			infos := alone.Layers()
			if len(plan.Layers) != len(infos) || !plan.Output.equal(alone.OutputShape()) {
				t.Fatalf("plan has %d layers and output %v; the model %d and %v", len(plan.Layers), plan.Output, len(infos), alone.OutputShape())
			}
			for i, l := range plan.Layers {
				if !reflect.DeepEqual(l.LayerInfo, infos[i]) || l.Block.Path == "" {
					t.Errorf("layer %d: plan %+v (block %q), model %+v", i, l.LayerInfo, l.Block.Path, infos[i])
				}
			}
			for i, p := range planned.Params().All() {
				a, b := Float64s(p.Value), Float64s(alone.Params().All()[i].Value)
				if !reflect.DeepEqual(a, b) {
					t.Fatalf("%s differs when built through a plan", p.Name)
				}
			}
		})
	}
}

func (s Shape) equal(o Shape) bool { return equalShapes(s, o) }

// TestPlanOfAHugeModelAllocatesNothing: a layer of 10^12 units plans at
// once (building it would need 16 TB), and an error from Check stops Build
// before any parameter is allocated.
func TestPlanOfAHugeModelAllocatesNothing(t *testing.T) {
	e := experiment(t, "{layers: [{type: dense, units: 1000000000000}, {type: dense, units: 3}]}")
	spec := Spec{Exp: e, Input: Shape{4}, Output: Shape{3}, InitRNG: rand.New(rand.NewPCG(1, 1))}
	plan, err := PlanModel(spec)
	if err != nil {
		t.Fatal(err)
	}
	if l := plan.Layers[0]; l.Params != 5e12 || l.Block.Path != "model.layers[0]" || !strings.Contains(l.Block.Problem("", "x").Error(), "m.yaml:") {
		t.Errorf("first layer %+v at %q", l.LayerInfo, l.Block.Path)
	}
	if l := plan.Layers[1]; l.Params != 3e12+3 {
		t.Errorf("second layer has %d parameters, want 3,000,000,000,003", l.Params)
	}
	ae, err := config.Parse("m.yaml", []byte("name: t\ndata: {source: builtin:digits, task: reconstruction}\n"+
		"model: {kind: autoencoder, encoder: [{type: dense, units: 1000000000000}], decoder: [{type: dense, units: 64}]}\n"), nil, nil, Validate)
	if err != nil {
		t.Fatal(err)
	}
	if plan, err := PlanModel(Spec{Exp: ae, Input: Shape{64}}); err != nil || plan.Layers[0].Params != 65e12 {
		t.Errorf("autoencoder plan: %v, %+v", err, plan)
	}
	tooBig := errors.New("too big")
	spec.Check = func(*Plan) error { return tooBig }
	if _, err := Build(spec); !errors.Is(err, tooBig) {
		t.Errorf("Build: %v, want Check's error", err)
	}
}
