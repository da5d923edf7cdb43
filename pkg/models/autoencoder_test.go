package models

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/config"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func autoencoderExperiment(t *testing.T, model string) (*config.Experiment, error) {
	t.Helper()
	return config.Parse("m.yaml", []byte("name: t\ndata: {source: builtin:digits, task: reconstruction}\nmodel: "+model+"\n"), nil, nil, Validate)
}

// TestAutoencoderBuild: parameters are named under encoder/ and decoder/,
// the outputs are "out" (the input's shape) and "code", and a forward pass
// gives both.
func TestAutoencoderBuild(t *testing.T) {
	e, err := autoencoderExperiment(t, `{kind: autoencoder,
  encoder: [{type: conv2d, filters: 4, kernel: 3, padding: same, activation: relu}, {type: maxpool2d, size: 2}, {type: flatten}, {type: dense, units: 6}],
  decoder: [{type: dense, units: 64}, {type: reshape, shape: [4, 4, 4]}, {type: upsample2d, scale: 2}, {type: conv2d, filters: 1, kernel: 3, padding: same, activation: sigmoid}]}`)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Build(Spec{Exp: e, Input: Shape{1, 8, 8}, Output: Shape{1, 8, 8}, InitRNG: rand.New(rand.NewPCG(1, 1))})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range m.Params().All() {
		names = append(names, p.Name)
	}
	want := "encoder/conv2d1/W encoder/conv2d1/b encoder/dense1/W encoder/dense1/b decoder/dense1/W decoder/dense1/b decoder/conv2d1/W decoder/conv2d1/b"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("params %s\nwant %s", got, want)
	}
	outs := m.Outputs()
	if len(outs) != 2 || outs[0].Name != OutputOut || outs[0].Shape.String() != "(1, 8, 8)" || outs[1].Name != OutputCode || outs[1].Shape.String() != "(6)" {
		t.Errorf("outputs %+v", outs)
	}
	if rows := m.Layers(); len(rows) != 8 || rows[3].Name != "encoder/dense1" || rows[4].Name != "decoder/dense1" {
		t.Errorf("layers %+v", rows)
	}
	g := NewGraph(m.Params(), false)
	x := G.NewTensor(g.G, tensor.Float32, 4, G.WithShape(3, 1, 8, 8), G.WithName("x"), G.WithInit(G.Ones()))
	got, err := Run(g, m, Tensors{InputX: x})
	if err != nil {
		t.Fatal(err)
	}
	if s := got[OutputOut].Shape(); !s.Eq(tensor.Shape{3, 1, 8, 8}) {
		t.Errorf("out shape %v", s)
	}
	if s := got[OutputCode].Shape(); !s.Eq(tensor.Shape{3, 6}) {
		t.Errorf("code shape %v", s)
	}
	if n, err := g.Tensor(OutputCode); err != nil || n != got[OutputCode] {
		t.Errorf("code is not readable by name: %v", err)
	}
}

// TestAutoencoderShapeProblems: a decoder that does not give back the
// input's shape is a problem naming model.decoder and the shapes, with a
// hint for each case; a layer that does not fit names its own key.
func TestAutoencoderShapeProblems(t *testing.T) {
	for _, tc := range []struct {
		name, model string
		input       Shape
		want        []string
	}{
		{"dense width", "{kind: autoencoder, encoder: [{type: dense, units: 4}], decoder: [{type: dense, units: 10}]}", Shape{64},
			[]string{"model.decoder:", "turns the code (4) into (10)", "input's shape (64)", "units: 64"}},
		{"channels", "{kind: autoencoder, encoder: [{type: conv2d, filters: 2, kernel: 1}], decoder: [{type: conv2d, filters: 3, kernel: 1}]}", Shape{1, 8, 8},
			[]string{"model.decoder:", "(3, 8, 8)", "(1, 8, 8)", "filters: 1"}},
		{"odd size", "{kind: autoencoder, encoder: [{type: maxpool2d, size: 2}], decoder: [{type: upsample2d, scale: 2}]}", Shape{1, 7, 7},
			[]string{"model.decoder:", "code (1, 3, 3) into (1, 6, 6)", "upsampling returns 6×6 images, not 7×7", "pooling floors odd sizes", "padding: same"}},
		{"flat to image", "{kind: autoencoder, encoder: [{type: flatten}, {type: dense, units: 4}], decoder: [{type: dense, units: 64}]}", Shape{1, 8, 8},
			[]string{"model.decoder:", "(64)", "(1, 8, 8)", "reshape"}},
		{"encoder layer", "{kind: autoencoder, encoder: [{type: dense, units: 4}], decoder: [{type: dense, units: 64}]}", Shape{1, 8, 8},
			[]string{"model.encoder[0]", "dense needs a flat input"}},
		{"decoder layer", "{kind: autoencoder, encoder: [{type: dense, units: 4}], decoder: [{type: conv2d, filters: 1, kernel: 3}]}", Shape{64},
			[]string{"model.decoder[0]", "conv2d"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := autoencoderExperiment(t, tc.model)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Build(Spec{Exp: e, Input: tc.input, Output: tc.input, InitRNG: rand.New(rand.NewPCG(1, 1))})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not hold %q", err, w)
				}
			}
		})
	}
}

// TestAutoencoderValidate: what is wrong with the model section is found
// when the config is loaded, before any data is read.
func TestAutoencoderValidate(t *testing.T) {
	for _, tc := range []struct {
		name, model string
		want        []string
	}{
		{"no stacks", "{kind: autoencoder}", []string{"model.encoder: an autoencoder needs its encoder layers", "model.decoder: an autoencoder needs its decoder layers"}},
		{"layers", "{kind: autoencoder, layers: [{type: dense, units: 3}], encoder: [{type: dense, units: 3}], decoder: [{type: dense, units: 64}]}",
			[]string{"model.layers: an autoencoder has model.encoder and model.decoder"}},
		{"bad layer", "{kind: autoencoder, encoder: [{type: dense, unit: 3}], decoder: [{type: dense, units: 64}]}", []string{"model.encoder[0].unit"}},
		{"encoder on mlp", "{kind: mlp, layers: [{type: dense, units: 64}], encoder: [{type: dense, units: 3}], corrupt: {kind: mask, rate: 0.1}}",
			[]string{"model.encoder: applies to model.kind autoencoder only; this model is mlp", "model.corrupt: applies to model.kind autoencoder only"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := autoencoderExperiment(t, tc.model)
			for _, w := range tc.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("error %v does not hold %q", err, w)
				}
			}
		})
	}
	_, err := config.Parse("m.yaml", []byte("name: t\ndata: {source: builtin:digits}\nmodel: {kind: autoencoder, encoder: [{type: dense, units: 3}], decoder: [{type: dense, units: 64}]}\n"), nil, nil, Validate)
	if err == nil || !strings.Contains(err.Error(), "model.kind: an autoencoder learns to give back its input: set data.task: reconstruction (got classification)") {
		t.Errorf("classification task: %v", err)
	}
}
