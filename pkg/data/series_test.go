package data

import (
	"fmt"
	"math"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/config"
)

// seriesCSV is a two-column series: t, a = 10·t, b = t², for t = 1..n.
func seriesCSV(n int) string {
	var b strings.Builder
	b.WriteString("t,a,b\n")
	for t := 1; t <= n; t++ {
		fmt.Fprintf(&b, "%d,%d,%d\n", t, 10*t, t*t)
	}
	return b.String()
}

const seriesConfig = `
name: t
data:
  source: series:s.csv
  task: forecasting
  targets: [b]
  series: {time: t, lookback: 3, horizon: 2, stride: 1}
  preprocess: {scale: none}
  split: {train: 0.6, val: 0.2, test: 0.2}
`

// TestSeriesWindows: a window of lookback steps, the target horizon steps
// after its last step, every value where it belongs.
func TestSeriesWindows(t *testing.T) {
	ds, _ := mustLoad(t, seriesConfig, map[string]string{"s.csv": seriesCSV(20)})
	if !slices.Equal(ds.Input, []int{3, 2}) || !slices.Equal(ds.Target, []int{1}) || !slices.Equal(ds.Features, []string{"a", "b"}) {
		t.Fatalf("input %v target %v features %v", ds.Input, ds.Target, ds.Features)
	}
	for _, s := range ds.Splits() {
		for i := 0; i < s.N; i++ {
			target := s.Lines[i] - 1 // line 2 holds t = 1
			x := s.X[i*6 : i*6+6]
			first := target - 2 - 3 + 1
			want := []float32{float32(10 * first), float32(first * first), float32(10 * (first + 1)), float32((first + 1) * (first + 1)),
				float32(10 * (first + 2)), float32((first + 2) * (first + 2))}
			if !slices.Equal(x, want) || s.Y[i] != float32(target*target) {
				t.Fatalf("%s window %d (target t=%d): %v -> %v", s.Name, i, target, x, s.Y[i])
			}
		}
	}
}

// TestTimeSplitPromise: no training window's target or input lies at or
// after the first val or test time step, for any stride and horizon.
func TestTimeSplitPromise(t *testing.T) {
	for _, p := range []struct{ lookback, horizon, stride, diff int }{{3, 1, 1, 0}, {4, 3, 2, 1}, {2, 5, 3, 2}, {1, 1, 4, 0}} {
		t.Run(fmt.Sprint(p), func(t *testing.T) {
			cfg := strings.Replace(seriesConfig, "{time: t, lookback: 3, horizon: 2, stride: 1}",
				fmt.Sprintf("{time: t, lookback: %d, horizon: %d, stride: %d, difference: %d}", p.lookback, p.horizon, p.stride, p.diff), 1)
			ds, _ := mustLoad(t, cfg, map[string]string{"s.csv": seriesCSV(60)})
			lastTrain := slices.Max(ds.Train.Lines)
			for _, s := range []*Split{ds.Val, ds.Test} {
				if s.N > 0 && slices.Min(s.Lines) <= lastTrain {
					t.Errorf("%s target line %d is not after the last training target line %d", s.Name, slices.Min(s.Lines), lastTrain)
				}
			}
			if slices.Max(ds.Val.Lines) >= slices.Min(ds.Test.Lines) {
				t.Errorf("val reaches into test")
			}
			// 60 rows, 0.6/0.2/0.2: the training part is lines 2..37.
			if lastTrain > 37 {
				t.Errorf("a training target lies at line %d, past the training part", lastTrain)
			}
		})
	}
}

// TestSeriesScalingFromTrainOnly: changing a value in the test part of the
// series changes nothing fitted, nor any training sample.
func TestSeriesScalingFromTrainOnly(t *testing.T) {
	cfg := strings.Replace(seriesConfig, "scale: none", "scale: standard", 1)
	a, _ := mustLoad(t, cfg, map[string]string{"s.csv": seriesCSV(30)})
	changed := strings.Replace(seriesCSV(30), "29,290,841", "29,-5000,99999", 1)
	b, _ := mustLoad(t, cfg, map[string]string{"s.csv": changed})
	if !slices.Equal(a.Scaling.Shift, b.Scaling.Shift) || !slices.Equal(a.Scaling.Mul, b.Scaling.Mul) {
		t.Errorf("scaling changed with a test value: %+v vs %+v", a.Scaling, b.Scaling)
	}
	if !sameBits(a.Train.X, b.Train.X) || !sameBits(a.Train.Y, b.Train.Y) || (sameBits(a.Test.X, b.Test.X) && sameBits(a.Test.Y, b.Test.Y)) {
		t.Error("training samples changed, or the test change did not show")
	}
}

// TestSeriesDifference: differencing once turns t² into 2t−1.
func TestSeriesDifference(t *testing.T) {
	cfg := strings.Replace(seriesConfig, "stride: 1}", "stride: 1, difference: 1}", 1)
	ds, rep := mustLoad(t, cfg, map[string]string{"s.csv": seriesCSV(20)})
	for i := 0; i < ds.Train.N; i++ {
		tt := ds.Train.Lines[i] - 1
		if ds.Train.Y[i] != float32(2*tt-1) || ds.Train.X[i*6] != 10 {
			t.Fatalf("window %d: %v -> %v", i, ds.Train.X[i*6:i*6+6], ds.Train.Y[i])
		}
	}
	if !strings.Contains(strings.Join(rep.Notes, "\n"), "differenced every column 1 time(s)") {
		t.Errorf("notes %q", rep.Notes)
	}
}

// TestSeriesBadInput: out-of-order time, a series too short for a window,
// and row dropping are refused.
func TestSeriesBadInput(t *testing.T) {
	swapped := strings.Replace(seriesCSV(20), "5,50,25\n6,60,36\n", "6,60,36\n5,50,25\n", 1)
	_, _, err := load(t, seriesConfig, map[string]string{"s.csv": swapped})
	wantBadData(t, err, "s.csv:7:1: column \"t\"", `time "5" does not come after "6" (line 6)`, "increasing time order")
	// A stray text cell is named, not read as a switch to text order
	// (where "10" comes before "9").
	_, _, err = load(t, seriesConfig, map[string]string{"s.csv": strings.Replace(seriesCSV(20), "\n4,", "\nx,", 1)})
	wantBadData(t, err, "s.csv:5:1: column \"t\"", `time "x" is not a number, but the first time (line 2) is "1"`)
	_, _, err = load(t, seriesConfig, map[string]string{"s.csv": seriesCSV(6)})
	wantBadData(t, err, "s.csv", "too short for one window (lookback 3 + horizon 2 steps)")
	_, _, err = load(t, seriesConfig+"  clean: {missing: drop}\n", nil)
	wantBadData(t, err, "data.clean.missing", "would join time steps")
	_, _, err = load(t, strings.Replace(seriesConfig, "targets: [b]", "targets: [zz]", 1), map[string]string{"s.csv": seriesCSV(20)})
	wantBadData(t, err, `"zz" does not exist`)
	gap := strings.Replace(seriesCSV(20), "7,70,49", "7,,49", 1)
	_, _, err = load(t, seriesConfig, map[string]string{"s.csv": gap})
	wantBadData(t, err, "s.csv:8:3", "missing")
	ds, _, err := load(t, seriesConfig+"  clean: {missing: mean}\n", map[string]string{"s.csv": gap})
	if err != nil || ds.Imputation == nil {
		t.Fatalf("mean: %v", err)
	}
}

// TestSunspots: the built-in series with its defaults.
func TestSunspots(t *testing.T) {
	ds, _ := mustLoad(t, "name: t\ndata:\n  source: builtin:sunspots\n  task: forecasting\n  series: {lookback: 5}\n", nil)
	if !slices.Equal(ds.Input, []int{5, 1}) || !slices.Equal(ds.Targets, []string{"SUNACTIVITY"}) || ds.Train.N+ds.Val.N+ds.Test.N != 309-5 {
		t.Errorf("input %v targets %v samples %d", ds.Input, ds.Targets, ds.Train.N+ds.Val.N+ds.Test.N)
	}
	_, _, err := load(t, "name: t\ndata:\n  source: builtin:sunspots\n", nil)
	wantBadData(t, err, "data.task", "set data.task: forecasting")
}

// TestSunspotsConfigSaysWhatPrepareDoes: the years the example config's
// comment gives for its split are those prepare reports.
func TestSunspotsConfigSaysWhatPrepareDoes(t *testing.T) {
	path := repoFile("configs", "sunspots-forecast.yaml")
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	comment := strings.Join(strings.Fields(strings.ReplaceAll(string(text), "#", "")), " ")
	exp, err := config.Load(path, nil, Validate)
	if err != nil {
		t.Fatal(err)
	}
	_, rep, err := Load(exp)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`train up to (\d+), test from (\d+)`).FindStringSubmatch(strings.Join(rep.Notes, "\n"))
	if m == nil {
		t.Fatalf("no split years in the notes %q", rep.Notes)
	}
	for _, want := range []string{"train up to " + m[1], "test from " + m[2]} {
		if !strings.Contains(comment, want) {
			t.Errorf("the comment of %s does not say %q", path, want)
		}
	}
}

// TestSeriesScalesEveryStep: every time step's input is scaled, the last
// ones too (309 years are not a multiple of the 12-year lookback, and the
// years past the last multiple were once left raw). With stride 1 and
// horizon 1, each window's last input, unscaled, is the previous window's
// target.
func TestSeriesScalesEveryStep(t *testing.T) {
	ds, _ := mustLoad(t, "name: t\ndata:\n  source: builtin:sunspots\n  task: forecasting\n  series: {lookback: 12, horizon: 1, stride: 1}\n", nil)
	sc, w := ds.Scaling, ds.InputSize()
	for _, s := range ds.Splits() {
		for i := 1; i < s.N; i++ {
			last := float64(s.X[(i+1)*w-1])/sc.Mul[0] + sc.Shift[0]
			if math.Abs(last-float64(s.Y[i-1])) > 1e-3 {
				t.Fatalf("%s window %d: last input %.4f unscaled, want the previous target %.4f", s.Name, i, last, s.Y[i-1])
			}
		}
	}
}
