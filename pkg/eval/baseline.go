package eval

import (
	"fmt"
	"math"
	"strings"
	"text/tabwriter"
)

// Baseline is a naive forecast scored on the same samples as the model,
// in the units of the targets: the obvious a forecaster must beat.
type Baseline struct {
	Name  string  `json:"name"`  // persistence or seasonal_naive
	About string  `json:"about"` // what it forecasts, in words
	MSE   float64 `json:"mse"`
	RMSE  float64 `json:"rmse"`
	MAE   float64 `json:"mae"`
}

// ScoreBaseline scores the forecasts pred against truth (the same samples
// × targets layout).
func ScoreBaseline(name, about string, truth, pred []float64) Baseline {
	var sq, abs float64
	for i, t := range truth {
		d := pred[i] - t
		sq += d * d
		abs += math.Abs(d)
	}
	b := Baseline{Name: name, About: about}
	if n := float64(len(truth)); n > 0 {
		b.MSE, b.MAE = sq/n, abs/n
		b.RMSE = math.Sqrt(b.MSE)
	}
	return b
}

// writeBaselines prints the model's errors next to its baselines', and
// whether it beats each.
func (g *Regression) writeBaselines(b *strings.Builder, split string) {
	if g.BaselinesSkipped != "" {
		defer fmt.Fprintf(b, "%s\n", g.BaselinesSkipped)
	}
	if len(g.Baselines) == 0 {
		return
	}
	fmt.Fprintf(b, "\nforecast baselines on the same %d %s windows, in the targets' units:\n", g.N, split)
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "forecast\tMAE\tRMSE\tMSE\twhat it predicts")
	fmt.Fprintf(tw, "model\t%.6g\t%.6g\t%.6g\tthe trained network's output\n", g.MAE, math.Sqrt(g.MSE), g.MSE)
	for _, s := range g.Baselines {
		fmt.Fprintf(tw, "%s\t%.6g\t%.6g\t%.6g\t%s\n", strings.ReplaceAll(s.Name, "_", "-"), s.MAE, s.RMSE, s.MSE, s.About)
	}
	tw.Flush()
	for _, s := range g.Baselines {
		verdict := "beats"
		if !(g.MSE < s.MSE) {
			verdict = "does not beat"
		}
		fmt.Fprintf(b, "the model %s %s: its MSE is %.1f%% of %s's\n", verdict, strings.ReplaceAll(s.Name, "_", "-"), 100*g.MSE/s.MSE, strings.ReplaceAll(s.Name, "_", "-"))
	}
}
