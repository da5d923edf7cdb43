package train

import (
	"testing"

	"github.com/dltrain/dltrain/pkg/compute"
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
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	if compute.ProductsAllocate() {
		t.Skip("this build's matrix products are gonum's, which allocate on every call")
	}
	l := newTestLoop(t, upsamplingDigitsYAML)
	l.NoPrefetch = true
	batches := l.epochBatches()
	step := func() {
		if l.State.Batch >= len(batches) {
			l.State.Batch = 0
		}
		if _, err := l.step(batches, 1); err != nil {
			t.Fatal(err)
		}
	}
	for range len(batches) + 1 { // every batch size's graph, and the optimizer's state
		step()
	}
	if n := testing.AllocsPerRun(2*len(batches), step); n != 0 {
		t.Errorf("%v allocations per step, want 0", n)
	}
}
