package data

import (
	"fmt"

	"github.com/dltrain/dltrain/pkg/config"
)

// Naive holds the naive forecasts of a forecasting split's windows, the
// baselines a forecaster must beat, N × targets each in the units of the
// split's targets (Y): what a model's predictions are scored in.
type Naive struct {
	// Persistence is each target column's value at the window's last
	// step (time t − horizon for a target at t): tomorrow as today. For
	// differenced targets (data.series.difference ≥ 1) it is zero, no
	// change: for difference 1 that is the level staying at its last
	// known value.
	Persistence []float32
	// Season is data.series.season (0: none). Seasonal holds the
	// seasonal-naive forecast: the target's value k·Season steps before
	// it, k the least whole number of seasons that reaches back to the
	// window's last step or earlier (k = ⌈horizon / season⌉), so it is
	// known when the forecast is made. Nil without a season, or when
	// SeasonalSkipped says why it could not be computed.
	Season          int
	Seasonal        []float32
	SeasonalSkipped string
}

// naiveForecasts computes the naive forecasts of the windows whose targets
// are at rows (tgt: the target columns of f, already differenced as the
// targets are).
func naiveForecasts(f *frame, tgt []int, rows []int, s config.Series) *Naive {
	w := f.width
	nv := &Naive{Persistence: make([]float32, 0, len(rows)*len(tgt)), Season: s.Season}
	for _, t := range rows {
		for _, j := range tgt {
			var v float32 // no change, for differenced targets
			if s.Difference == 0 {
				v = f.x[(t-s.Horizon)*w+j]
			}
			nv.Persistence = append(nv.Persistence, v)
		}
	}
	if s.Season == 0 {
		return nv
	}
	back := s.Season * ((s.Horizon + s.Season - 1) / s.Season)
	nv.Seasonal = make([]float32, 0, len(rows)*len(tgt))
	for _, t := range rows {
		if t-back < s.Difference { // before the first defined (differenced) step
			nv.Seasonal = nil
			nv.SeasonalSkipped = fmt.Sprintf("not computed: the window at %s would read the value %d steps before its target, before the series starts", f.where(t), back)
			return nv
		}
		for _, j := range tgt {
			nv.Seasonal = append(nv.Seasonal, f.x[(t-back)*w+j])
		}
	}
	return nv
}
