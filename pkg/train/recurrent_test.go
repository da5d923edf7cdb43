package train

import (
	"testing"

	"github.com/dltrain/dltrain/pkg/compute"
)

// recurrentSunspotsYAML stacks a bidirectional LSTM with dropout between
// its layers and a GRU on the sunspots windows [8, 1]; 205 training
// windows in batches of 32 end on a partial batch, a graph of its own.
const recurrentSunspotsYAML = `
name: t
data:
  source: builtin:sunspots
  task: forecasting
  series: {lookback: 8}
model:
  layers:
    - {type: lstm, units: 8, layers: 2, bidirectional: true, dropout: 0.2, return_sequences: true}
    - {type: gru, units: 6}
    - {type: dense, units: 1}
train: {epochs: 1, batch_size: 32, loss: mse}
`

// TestRecurrentStepDoesNotAllocate: a training step through the fused
// recurrent ops (both directions, stacked, dropout between layers, the
// last state) and Adam allocates nothing once warm.
func TestRecurrentStepDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	if compute.ProductsAllocate() {
		t.Skip("this build's matrix products are gonum's, which allocate on every call")
	}
	l := newTestLoop(t, recurrentSunspotsYAML)
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
	for range len(batches) + 1 {
		step()
	}
	if n := testing.AllocsPerRun(2*len(batches), step); n != 0 {
		t.Errorf("%v allocations per step, want 0", n)
	}
}
