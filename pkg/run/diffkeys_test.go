package run

import (
	"slices"
	"testing"
)

// TestDiffKeysOlderConfig: a config saved by an older binary lacks the
// keys added since; a key absent on one side is no difference when the
// other side holds its default (or a zero value), and still is one when
// the other side holds something else. Without this, every run trained
// before a model kind was added stops loading for predict and eval.
func TestDiffKeysOlderConfig(t *testing.T) {
	older := []byte("model:\n  kind: cnn\n  init: he_normal\n")
	for _, c := range []struct {
		name  string
		newer string
		want  []string
	}{
		{"defaults added", "model:\n  kind: cnn\n  init: he_normal\n  norm: post\n  encoder_layers: 2\n  latent: 0\n  generator: []\n", nil},
		{"a non-default value", "model:\n  kind: cnn\n  init: he_normal\n  norm: pre\n", []string{"model.norm"}},
		{"a changed value", "model:\n  kind: mlp\n  init: he_normal\n", []string{"model.kind"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := diffKeys([]byte(c.newer), older); !slices.Equal(got, c.want) {
				t.Errorf("diffKeys(newer, older) = %v, want %v", got, c.want)
			}
			if got := diffKeys(older, []byte(c.newer)); !slices.Equal(got, c.want) {
				t.Errorf("diffKeys(older, newer) = %v, want %v", got, c.want)
			}
		})
	}
}
