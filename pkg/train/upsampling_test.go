package train

import (
	"testing"
)

// upsamplingDigitsYAML goes down to 2×2 and back up to 8×8 with both
// layers that grow an image.
const upsamplingDigitsYAML = `
name: t
data: {source: builtin:digits, shape: [1, 8, 8]}
model:
  kind: cnn
  layers:
    - {type: conv2d, filters: 4, kernel: 3, stride: 2, padding: 1, activation: relu}
    - {type: maxpool2d, size: 2}
    - {type: upsample2d, scale: 2}
    - {type: conv2d_transpose, filters: 3, kernel: 3, stride: 2, padding: 1, output_padding: 1, activation: relu}
    - {type: conv2d_transpose, filters: 2, kernel: 2}
    - {type: flatten}
    - {type: dense, units: 10}
train: {epochs: 1, batch_size: 50}
`

// TestUpsamplingStepDoesNotAllocate: a training step of a model with
// upsample2d and conv2d_transpose allocates nothing once warm, as one of
// conv2d and pooling does (TestLoopStepDoesNotAllocate).
func TestUpsamplingStepDoesNotAllocate(t *testing.T) {
	skipAllocationTest(t)
	l := newTestLoop(t, upsamplingDigitsYAML)
	l.NoPrefetch = true
	if n := stepAllocations(t, l); n != 0 {
		t.Errorf("%v allocations per step, want 0", n)
	}
}
