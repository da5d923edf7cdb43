package train

import "math"

// EarlyStopping ends training when a logged metric has not improved for
// Patience epochs; an improvement must beat the best by more than
// MinDelta (Keras' EarlyStopping). Whether or not it triggers, the loop
// ends with the weights of the best epoch restored.
type EarlyStopping struct {
	Metric   string
	Max      bool // larger is better
	Patience int
	MinDelta float64
}

// StopState is early stopping's progress, saved in checkpoints.
type StopState struct {
	Best  float64 // best value so far; NaN before the first epoch
	Epoch int     // epoch (1-based) of Best
	Bad   int     // epochs since Best
}

// Observe records one epoch's metrics and says whether to stop.
func (e *EarlyStopping) Observe(st *StopState, epoch int, metrics map[string]float64) bool {
	v, ok := metrics[e.Metric]
	if !ok || math.IsNaN(v) {
		return false
	}
	improved := math.IsNaN(st.Best) || (e.Max && v-e.MinDelta > st.Best) || (!e.Max && v+e.MinDelta < st.Best)
	if improved {
		st.Best, st.Epoch, st.Bad = v, epoch, 0
		return false
	}
	st.Bad++
	return st.Bad >= e.Patience
}
