package models

import (
	"math/rand/v2"
	"testing"

	"github.com/dltrain/dltrain/pkg/config"
)

// TestEveryKindBuildsAndValidates runs over the registry: every kind has
// both functions, accepts a plain stack (an autoencoder: its encoder and
// decoder stacks), and builds a model whose signature is x -> out with
// the shapes asked for.
func TestEveryKindBuildsAndValidates(t *testing.T) {
	for _, name := range Kinds() {
		t.Run(name, func(t *testing.T) {
			k := kinds[name]
			if k.Build == nil || k.Validate == nil {
				t.Fatalf("kind %s lacks Build or Validate", name)
			}
			if name == seq2seqTask { // built for token sequences, not a plain stack
				e := seq2seqExperiment(t, "dim: 4, heads: 2")
				m, err := Build(Spec{Exp: e, Input: Shape{5}, Sequences: &Sequences{SourceLength: 3, TargetLength: 2, SourceVocab: 6, TargetVocab: 7}, InitRNG: rand.New(rand.NewPCG(1, 1))})
				if err != nil {
					t.Fatal(err)
				}
				if in, out := m.Inputs(), m.Outputs(); len(in) != 1 || in[0].Shape.String() != "(5)" || out[0].Shape.String() != "(2, 7)" {
					t.Errorf("signature %v -> %v, want x (5) -> out (2, 7)", in, out)
				}
				return
			}
			var e *config.Experiment
			output := Shape{3}
			if name == "autoencoder" { // its own stacks, and the input's shape out
				var err error
				e, err = autoencoderExperiment(t, "{kind: autoencoder, encoder: [{type: flatten}, {type: dense, units: 3}], decoder: [{type: dense, units: 4}, {type: reshape, shape: [1, 2, 2]}]}")
				if err != nil {
					t.Fatal(err)
				}
				output = Shape{1, 2, 2}
			} else if name == "gan" { // a generator to the input's shape, a discriminator to one score
				var err error
				e, err = config.Parse("m.yaml", []byte("name: t\ndata: {source: builtin:digits, task: generation}\nmodel: "+
					"{kind: gan, latent: 2, generator: [{type: dense, units: 4}, {type: reshape, shape: [1, 2, 2]}], discriminator: [{type: flatten}, {type: dense, units: 1}]}\n"), nil, nil, Validate)
				if err != nil {
					t.Fatal(err)
				}
				output = Shape{1}
			} else {
				e = experiment(t, "{kind: "+name+", layers: [{type: flatten}, {type: dense, units: 3}]}")
			}
			if ps := Validate(e); len(ps) > 0 {
				t.Fatal(ps)
			}
			m, err := Build(Spec{Exp: e, Input: Shape{1, 2, 2}, Output: output, InitRNG: rand.New(rand.NewPCG(1, 1))})
			if err != nil {
				t.Fatal(err)
			}
			in, out := m.Inputs(), m.Outputs()
			if len(in) != 1 || in[0].Name != InputX || in[0].Shape.String() != "(1, 2, 2)" ||
				out[0].Name != OutputOut || out[0].Shape.String() != output.String() {
				t.Errorf("signature %v -> %v, want x (1, 2, 2) -> out %v", in, out, output)
			}
		})
	}
}
