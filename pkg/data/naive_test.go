package data

import (
	"strings"
	"testing"
)

// TestNaiveForecasts: persistence is the target column at the window's
// last step (zero change for differenced targets); the seasonal-naive
// forecast the target ⌈horizon/season⌉ seasons back, on every split's
// windows. seriesCSV's b is t² at t = line − 1.
func TestNaiveForecasts(t *testing.T) {
	cases := []struct {
		name, opts        string
		persist, seasonal func(t int) float32 // of the target's t
	}{
		{"levels, season 3 (horizon 2: one season back)", "season: 3",
			func(t int) float32 { return float32((t - 2) * (t - 2)) }, func(t int) float32 { return float32((t - 3) * (t - 3)) }},
		{"season 1 shorter than the horizon 2: two seasons back", "season: 1",
			func(t int) float32 { return float32((t - 2) * (t - 2)) }, func(t int) float32 { return float32((t - 2) * (t - 2)) }},
		{"differenced: no change; the seasonal value is a difference", "season: 4, difference: 1",
			func(int) float32 { return 0 }, func(t int) float32 { return float32(2*(t-4) - 1) }},
		{"no season", "",
			func(t int) float32 { return float32((t - 2) * (t - 2)) }, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := strings.Replace(seriesConfig, "stride: 1}", "stride: 1, "+c.opts+"}", 1)
			ds, _ := mustLoad(t, cfg, map[string]string{"s.csv": seriesCSV(30)})
			for _, s := range ds.Splits() {
				nv := s.Naive
				if nv == nil || len(nv.Persistence) != s.N {
					t.Fatalf("%s: naive forecasts %+v for %d windows", s.Name, nv, s.N)
				}
				if (c.seasonal == nil) != (nv.Seasonal == nil) {
					t.Fatalf("%s: seasonal %v", s.Name, nv.Seasonal)
				}
				for i := range s.N {
					tt := s.Lines[i] - 1
					if got, want := nv.Persistence[i], c.persist(tt); got != want {
						t.Errorf("%s window %d (t=%d): persistence %v, want %v", s.Name, i, tt, got, want)
					}
					if c.seasonal != nil {
						if got, want := nv.Seasonal[i], c.seasonal(tt); got != want {
							t.Errorf("%s window %d (t=%d): seasonal naive %v, want %v", s.Name, i, tt, got, want)
						}
					}
				}
			}
		})
	}
}

// TestNaiveSeasonBeforeTheStart: a season reaching before the series'
// first step for some window leaves the seasonal forecast out, saying why.
func TestNaiveSeasonBeforeTheStart(t *testing.T) {
	cfg := strings.Replace(seriesConfig, "stride: 1}", "stride: 1, season: 9}", 1)
	ds, _ := mustLoad(t, cfg, map[string]string{"s.csv": seriesCSV(30)})
	if ds.Train.Naive.Seasonal != nil || !strings.Contains(ds.Train.Naive.SeasonalSkipped, "9 steps before its target, before the series starts") {
		t.Errorf("train: %+v", ds.Train.Naive)
	}
	if ds.Test.Naive.Seasonal == nil {
		t.Errorf("test: %+v", ds.Test.Naive)
	}
}
