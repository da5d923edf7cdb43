package models

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/ops"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestUnitsAuto: units: auto on the last dense layer takes the last axis
// of the output the loss asks for, on a flat input (classes, targets) and
// per position of a sequence (a vocabulary at every position).
func TestUnitsAuto(t *testing.T) {
	for _, tc := range []struct {
		name, model string
		in, out     Shape
		params      int
	}{
		{"classes", "{layers: [{type: dense, units: 8, activation: relu}, {type: dense, units: auto}]}", Shape{4}, Shape{3}, 4*8 + 8 + 8*3 + 3},
		{"regression targets", "{layers: [{type: dense, units: auto}]}", Shape{5}, Shape{2}, 5*2 + 2},
		{"vocabulary per position", "{layers: [{type: embedding, dim: 4}, {type: lstm, units: 6, return_sequences: true}, {type: dense, units: auto}]}",
			Shape{7}, Shape{7, 11}, 11*4 + 4*6*(4+6) + 2*4*6 + 6*11 + 11},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Build(Spec{Exp: experiment(t, tc.model), Input: tc.in, Output: tc.out, Vocab: 11, InitRNG: rand.New(rand.NewPCG(1, 1))})
			if err != nil {
				t.Fatal(err)
			}
			if !equalShapes(m.OutputShape(), tc.out) || m.Params().Count() != tc.params {
				t.Errorf("output %v with %d parameters, want %v with %d", m.OutputShape(), m.Params().Count(), tc.out, tc.params)
			}
		})
	}
}

// TestUnitsAutoOnlyLast: units: auto on any layer but the last is a config
// problem naming that layer's units key; an auto inside a residual block
// fails its setup; a model built without a known output cannot size it.
func TestUnitsAutoOnlyLast(t *testing.T) {
	for _, tc := range []struct{ model, want string }{
		{"{layers: [{type: dense, units: auto}, {type: dense, units: 3}]}", "model.layers[0].units: auto takes the size of the model's output from the data, so it applies only to the model's last layer, model.layers[1]"},
		{"{kind: autoencoder, encoder: [{type: dense, units: auto}], decoder: [{type: dense, units: auto}]}", "model.encoder[0].units: auto"},
	} {
		t.Run(strings.Fields(tc.want)[0], func(t *testing.T) {
			data := "builtin:iris"
			if strings.Contains(tc.model, "autoencoder") {
				data = "builtin:iris, task: reconstruction"
			}
			_, err := config.Parse("m.yaml", []byte("name: t\ndata: {source: "+data+"}\nmodel: "+tc.model+"\n"), nil, nil, Validate)
			if !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
	e := experiment(t, "{layers: [{type: residual, layers: [{type: dense, units: auto}]}, {type: dense, units: 3}]}")
	if _, err := Build(Spec{Exp: e, Input: Shape{4}, Output: Shape{3}, InitRNG: rand.New(rand.NewPCG(1, 1))}); err == nil || !strings.Contains(err.Error(), "units: auto applies only to the last layer") {
		t.Errorf("auto inside a residual block: %v", err)
	}
	e = experiment(t, "{layers: [{type: dense, units: auto}]}")
	if _, err := Build(Spec{Exp: e, Input: Shape{4}, InitRNG: rand.New(rand.NewPCG(1, 1))}); err == nil || !strings.Contains(err.Error(), "model.layers[0].units: auto takes the size from the data, which is not known here") {
		t.Errorf("auto without an output: %v", err)
	}
}

// TestEmbeddingVocabFromData: an embedding without vocab has a row per id
// of the data's vocabulary; with neither, its setup says what to set.
func TestEmbeddingVocabFromData(t *testing.T) {
	e := experiment(t, "{layers: [{type: embedding, dim: 3, padding_id: 4}]}")
	m, err := Build(Spec{Exp: e, Input: Shape{5}, Vocab: 9, InitRNG: rand.New(rand.NewPCG(1, 1))})
	if err != nil {
		t.Fatal(err)
	}
	if p := m.Params().All()[0]; p.Name != "embedding1/weight" || !equalShapes(Shape(p.Value.Shape()), Shape{9, 3}) {
		t.Errorf("%s %v, want embedding1/weight (9, 3)", p.Name, p.Value.Shape())
	}
	if tok, ok := InputTokens(m); !ok || tok.Vocab != 9 || tok.Block.Path != "model.layers[0]" {
		t.Errorf("InputTokens = %+v, %v", tok, ok)
	}
	_, err = Build(Spec{Exp: e, Input: Shape{5}, InitRNG: rand.New(rand.NewPCG(1, 1))})
	if err == nil || !strings.Contains(err.Error(), "vocab is not set and the data's inputs (5) are not token ids") {
		t.Errorf("no vocabulary: %v", err)
	}
	_, err = Build(Spec{Exp: e, Input: Shape{5}, Vocab: 4, InitRNG: rand.New(rand.NewPCG(1, 1))})
	if err == nil || !strings.Contains(err.Error(), "padding_id 4 is not an id of the vocabulary [0, 4)") {
		t.Errorf("padding beyond the data's vocabulary: %v", err)
	}
	if _, ok := InputTokens(must(t, experiment(t, "{layers: [{type: dense, units: 3}]}"))); ok {
		t.Error("a dense model reads token ids")
	}
}

func must(t *testing.T, e *config.Experiment) Model {
	t.Helper()
	m, err := Build(Spec{Exp: e, Input: Shape{4}, InitRNG: rand.New(rand.NewPCG(1, 1))})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestDenseOnSequenceIsPerPosition: a dense layer on (T, F) gives each
// position what the same layer gives that position's F values alone.
func TestDenseOnSequenceIsPerPosition(t *testing.T) {
	const tl, f, units = 3, 4, 5
	e := experiment(t, "{dtype: float64, layers: [{type: dense, units: 5, activation: tanh}]}")
	seq, err := Build(Spec{Exp: e, Input: Shape{tl, f}, InitRNG: rand.New(rand.NewPCG(1, 1))})
	if err != nil {
		t.Fatal(err)
	}
	flat, err := Build(Spec{Exp: e, Input: Shape{f}, InitRNG: rand.New(rand.NewPCG(1, 1))})
	if err != nil {
		t.Fatal(err)
	}
	if !equalShapes(seq.OutputShape(), Shape{tl, units}) {
		t.Fatalf("output %v", seq.OutputShape())
	}
	x := make([]float64, tl*f)
	for i := range x {
		x[i] = float64(i%7)/3 - 1
	}
	got := forwardIDs(t, seq, Shape{tl, f}, x)
	want := forwardIDs(t, flat, Shape{tl}, x) // the T positions as a batch of T flat samples
	for i := range got {
		if d := got[i] - want[i]; d > 1e-12 || d < -1e-12 {
			t.Fatalf("output %d: %v per position, %v alone", i, got[i], want[i])
		}
	}
}

// forwardIDs runs m's evaluation graph on one sample x of shape in (or,
// when in has one axis less than x's values make, a batch of them).
func forwardIDs(t *testing.T, m Model, in Shape, x []float64) []float64 {
	t.Helper()
	shape := append([]int{1}, in...)
	if len(in) == 1 && len(x) != in[0] { // a batch of in[0] flat samples
		shape = []int{in[0], len(x) / in[0]}
	}
	g := NewGraph(m.Params(), false)
	xn := G.NewTensor(g.G, tensor.Float64, len(shape), G.WithShape(shape...), G.WithName("x"),
		G.WithValue(tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float64(nil), x...)))))
	y, err := Apply(g, m, xn)
	if err != nil {
		t.Fatal(err)
	}
	mc, err := ops.NewMachine(g.G)
	if err != nil {
		t.Fatal(err)
	}
	if err := mc.RunAll(); err != nil {
		t.Fatal(err)
	}
	return values(y.Value().(*tensor.Dense))
}

// TestCausalAgreesWithTheOutputs: Causal's verdict on each stack matches
// what its outputs do: in a causal stack, changing the tokens after
// position t never changes an output at t or before; in the others some
// change does, and the error names the layer that looks ahead.
func TestCausalAgreesWithTheOutputs(t *testing.T) {
	const tl, vocab = 6, 9
	for _, tc := range []struct {
		name, layers, notCausal string
	}{
		{"lstm lm", "{type: embedding, dim: 4}, {type: lstm, units: 5, return_sequences: true}, {type: dense, units: auto}", ""},
		{"gru 2 layers", "{type: embedding, dim: 4}, {type: gru, units: 5, layers: 2, return_sequences: true}, {type: dense, units: auto}", ""},
		{"rnn layernorm linear", "{type: embedding, dim: 4}, {type: rnn, units: 4, return_sequences: true}, {type: layernorm}, {type: linear, units: 4, activation: relu}, {type: dense, units: auto}", ""},
		{"causal transformer lm", "{type: embedding, dim: 8}, {type: positional, kind: learned, max_length: 6}, {type: transformer_encoder, layers: 2, heads: 2, ff: 16, dropout: 0, causal: true}, {type: dense, units: auto}", ""},
		{"causal attention", "{type: embedding, dim: 8}, {type: positional, kind: sinusoidal}, {type: multihead_attention, heads: 2, causal: true}, {type: dense, units: auto}", ""},
		{"bidirectional lstm", "{type: embedding, dim: 4}, {type: lstm, units: 5, bidirectional: true, return_sequences: true}, {type: dense, units: auto}", `layer 1 (lstm "lstm1") reads later positions: it is bidirectional`},
		{"encoder", "{type: embedding, dim: 8}, {type: transformer_encoder, heads: 2, ff: 16, dropout: 0}, {type: dense, units: auto}", `layer 1 (transformer_encoder "transformer_encoder1") reads later positions: its attention is not causal`},
		{"attention", "{type: embedding, dim: 8}, {type: multihead_attention, heads: 2}, {type: dense, units: auto}", "its attention is not causal"},
		{"conv1d", "{type: embedding, dim: 4}, {type: reshape, shape: [4, 6]}, {type: conv1d, filters: 4, kernel: 3, padding: same}, {type: reshape, shape: [6, 4]}, {type: dense, units: auto}", "a reshape layer mixes the positions"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := experiment(t, "{kind: sequential, dtype: float64, layers: ["+tc.layers+"]}")
			m, err := Build(Spec{Exp: e, Input: Shape{tl}, Output: Shape{tl, vocab}, Vocab: vocab, InitRNG: rand.New(rand.NewPCG(3, 4))})
			if err != nil {
				t.Fatal(err)
			}
			cerr := Causal(m)
			if (cerr == nil) != (tc.notCausal == "") || (cerr != nil && !strings.Contains(cerr.Error(), tc.notCausal)) {
				t.Fatalf("Causal = %v, want %q", cerr, tc.notCausal)
			}
			base := []float64{1, 5, 2, 8, 3, 7}
			ref := forwardIDs(t, m, Shape{tl}, base)
			looksAhead := false
			for pos := 1; pos < tl; pos++ {
				changed := append([]float64(nil), base...)
				for j := pos; j < tl; j++ {
					changed[j] = float64((int(changed[j]) + 4) % vocab)
				}
				out := forwardIDs(t, m, Shape{tl}, changed)
				for i := range pos * vocab {
					if out[i] != ref[i] {
						looksAhead = true
					}
				}
			}
			if looksAhead != (tc.notCausal != "") {
				t.Errorf("changing later tokens changed earlier outputs: %v; Causal says %v", looksAhead, cerr)
			}
		})
	}
	if err := Causal(&Autoencoder{}); err == nil {
		t.Error("an autoencoder is causal")
	}
}
