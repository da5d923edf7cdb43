package train

import (
	"testing"
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
	skipAllocationTest(t)
	l := newTestLoop(t, recurrentSunspotsYAML)
	l.NoPrefetch = true
	if n := stepAllocations(t, l); n != 0 {
		t.Errorf("%v allocations per step, want 0", n)
	}
}
