package train

import (
	"testing"
)

// transformerDigitsYAML reads the digits as 8 rows of 8 pixels through
// every Transformer layer, with dropout (in the attention too) so that
// the masks' draws are part of the step.
const transformerDigitsYAML = `
name: t
data: {source: builtin:digits, shape: [8, 8]}
model:
  layers:
    - {type: linear, units: 8, activation: relu}
    - {type: positional, kind: learned, max_length: 8}
    - {type: multihead_attention, heads: 2, causal: true, dropout: 0.1}
    - {type: positional}
    - {type: transformer_encoder, layers: 2, heads: 2, ff: 16, dropout: 0.1, norm: pre, activation: gelu}
    - {type: transformer_encoder, heads: 4, ff: 16, dropout: 0.1}
    - {type: sequence_pool, mode: mean}
    - {type: dense, units: 10}
train: {epochs: 1, batch_size: 50}
`

// TestTransformerStepDoesNotAllocate: a training step of a model with
// every Transformer layer allocates nothing once warm.
func TestTransformerStepDoesNotAllocate(t *testing.T) {
	skipAllocationTest(t)
	l := newTestLoop(t, transformerDigitsYAML)
	l.NoPrefetch = true
	if n := stepAllocations(t, l); n != 0 {
		t.Errorf("%v allocations per step, want 0", n)
	}
}
