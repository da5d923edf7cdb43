package run

import (
	"context"
	"io"
	"path/filepath"
	"testing"

	"github.com/dltrain/dltrain/pkg/data"
)

// persistenceMSE is the test MSE of forecasting each window's target by
// its last input value (unscaled), on the test windows of the config.
func persistenceMSE(t *testing.T, path string) float64 {
	t.Helper()
	exp, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	ds, _, err := data.Load(exp)
	if err != nil {
		t.Fatal(err)
	}
	s, sc := ds.Test, ds.Meta.Scaling
	w := ds.Meta.InputSize()
	if len(sc.Shift) != 1 || ds.Meta.TargetSize() != 1 {
		t.Fatalf("want one series column and one target, got scaling %+v and target %v", sc, ds.Meta.Target)
	}
	var sum float64
	for i := range s.N {
		last := float64(s.X[(i+1)*w-1])/sc.Mul[0] + sc.Shift[0]
		d := last - float64(s.Y[i])
		sum += d * d
	}
	return sum / float64(s.N)
}

// TestSunspotsRecurrentForecasters trains the shipped LSTM and GRU
// forecasters on the built-in sunspots end to end (200 epochs each) and
// reports their test MSE next to the MLP forecaster's and the persistence
// forecast's (next year = this year) on the same test windows. Each
// recurrent model must beat persistence.
func TestSunspotsRecurrentForecasters(t *testing.T) {
	if testing.Short() {
		t.Skip("trains three forecasters for 200 epochs")
	}
	cfg := func(name string) string { return filepath.Join("..", "..", "configs", name) }
	persistence := persistenceMSE(t, cfg("sunspots-lstm.yaml"))
	t.Logf("persistence: test MSE %.1f", persistence)
	for _, name := range []string{"sunspots-forecast.yaml", "sunspots-lstm.yaml", "sunspots-gru.yaml"} {
		t.Run(name, func(t *testing.T) {
			res, err := Train(context.Background(), TrainOptions{Config: cfg(name), Out: t.TempDir(), Stdout: io.Discard, Stderr: io.Discard})
			if err != nil {
				t.Fatal(err)
			}
			r := res.Report.Regression
			t.Logf("%s: test MSE %.1f, MAE %.2f, R² %.4f on %d windows", name, r.MSE, r.MAE, r.R2, r.N)
			if name != "sunspots-forecast.yaml" && !(r.MSE < persistence) {
				t.Errorf("test MSE %.1f does not beat persistence's %.1f", r.MSE, persistence)
			}
		})
	}
}
