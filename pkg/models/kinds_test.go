package models

import (
	"math/rand/v2"
	"testing"
)

// TestEveryKindBuildsAndValidates runs over the registry: every kind has
// both functions, accepts a plain stack, and builds a model whose
// signature is x -> out with the shapes asked for.
func TestEveryKindBuildsAndValidates(t *testing.T) {
	for _, name := range Kinds() {
		t.Run(name, func(t *testing.T) {
			k := kinds[name]
			if k.Build == nil || k.Validate == nil {
				t.Fatalf("kind %s lacks Build or Validate", name)
			}
			e := experiment(t, "{kind: "+name+", layers: [{type: flatten}, {type: dense, units: 3}]}")
			if ps := Validate(e); len(ps) > 0 {
				t.Fatal(ps)
			}
			m, err := Build(Spec{Exp: e, Input: Shape{1, 2, 2}, Output: Shape{3}, InitRNG: rand.New(rand.NewPCG(1, 1))})
			if err != nil {
				t.Fatal(err)
			}
			in, out := m.Inputs(), m.Outputs()
			if len(in) != 1 || in[0].Name != InputX || in[0].Shape.String() != "(1, 2, 2)" ||
				out[0].Name != OutputOut || out[0].Shape.String() != "(3)" {
				t.Errorf("signature %v -> %v, want x (1, 2, 2) -> out (3)", in, out)
			}
		})
	}
}
