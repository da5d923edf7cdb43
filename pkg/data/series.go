package data

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/dltrain/dltrain/pkg/config"
)

// SeriesMeta records how a time series became samples: a window of
// Lookback steps of the Features columns, whose target is the Targets
// columns Horizon steps after the window's last step, after Difference
// rounds of differencing.
type SeriesMeta struct {
	Time       string `json:"time,omitempty"`
	Lookback   int    `json:"lookback"`
	Horizon    int    `json:"horizon"`
	Stride     int    `json:"stride"`
	Difference int    `json:"difference"`
}

// seriesSource reads a CSV of time steps (series:PATH), one row per step
// in time order, and cuts it into windows.
var seriesSource = sourceKind{
	tasks:   []string{"forecasting"},
	options: seriesOptions,
	digest:  func(ref string, _ config.Data) ([]SourceFile, error) { return fileDigests([]string{ref}) },
	load: func(exp *config.Experiment, path string, rep *Report) (*Dataset, error) {
		in, err := os.Open(path)
		if err != nil {
			return nil, badFile(path, "cannot read: %v", unwrapPath(err))
		}
		defer in.Close()
		return loadSeries(exp, path, in, "", exp.Data.Series.Time, rep)
	},
	check: func(e *config.Experiment, _ string) config.Problems {
		ps := append(orderedCheck(e), seriesCheck(e)...)
		if e.Data.Label == "" && len(e.Data.Targets) == 0 {
			ps = append(ps, e.Problem("data.targets", "a series source needs its target columns (data.targets, or data.label for one)"))
		}
		if len(e.Data.Targets) > 0 && e.Data.Label != "" {
			ps = append(ps, e.Problem("data.targets", "give either data.label or data.targets, not both"))
		}
		return ps
	},
}

// seriesCheck reports the data options that do not fit a series.
func seriesCheck(e *config.Experiment) config.Problems {
	var ps config.Problems
	d := e.Data
	if d.Clean.Missing == "drop" {
		ps = append(ps, e.Problem("data.clean.missing", "drop would join time steps that are not adjacent; use error, interpolate, mean, median or constant"))
	}
	for _, k := range []string{"data.clean.duplicates", "data.clean.constant", "data.preprocess.per_channel", "data.shape"} {
		if e.Changed(k) {
			ps = append(ps, e.Problem(k, "does not apply to a time series (windows are scaled per column)"))
		}
	}
	return ps
}

// loadSeries reads a table of time steps and cuts it into windows. The
// rows are split in time order into train, val and test parts first; a
// window belongs to the part its target lies in, and its inputs lie
// before its target, so no future value reaches training. Imputation
// and scaling are fitted on the training part only.
func loadSeries(exp *config.Experiment, file string, in io.Reader, defTarget, defTime string, rep *Report) (*Dataset, error) {
	d := exp.Data
	s := d.Series
	timeCol := s.Time
	if timeCol == "" {
		timeCol = defTime
	}
	targets := targetsOf(d, defTarget)
	c, _ := d.CSV.Comma(',')
	opt := csvOptions{header: d.CSV.Header, comma: c, key: timeCol}
	if len(d.Features) > 0 {
		opt.features = slices.Clone(d.Features)
		for _, t := range targets {
			if !slices.Contains(opt.features, t) {
				opt.features = append(opt.features, t)
			}
		}
	}
	f, err := readCSV(file, in, opt)
	if err != nil {
		return nil, err
	}
	inputs, err := columnsOf(f, d.Features, nil)
	if err != nil {
		return nil, err
	}
	tgt, err := columnsOf(f, targets, nil)
	if err != nil {
		return nil, err
	}
	n, w := f.rows(), f.width
	rep.add("read %d time steps of %s from %s", n, nouns(w, "column"), d.Source)
	tm, err := checkTimeOrder(f)
	if err != nil {
		return nil, err
	}
	if d.Clean.Missing == "error" {
		if err := cleanMissing(f, "error", rep); err != nil {
			return nil, err
		}
	}
	var filled *interpolation
	if d.Clean.Missing == "interpolate" && len(f.missing) > 0 {
		if filled, err = interpolateMissing(f, tm); err != nil {
			return nil, err
		}
		rep.add("filled %d missing cells (%s) by linear interpolation in time between the nearest known steps of their column (a gap at an end: the nearest known value)",
			filled.filled, f.rowList(filled.rows))
	}
	nTest, nVal := counts(n, d.Split)
	trainEnd, valEnd := n-nTest-nVal, n-nTest
	meta := Meta{Task: d.Task, Source: d.Source, Split: "time", Target: []int{len(tgt)},
		Series: &SeriesMeta{Time: timeCol, Lookback: s.Lookback, Horizon: s.Horizon, Stride: s.Stride, Difference: s.Difference}}
	for _, j := range inputs {
		meta.Features = append(meta.Features, f.features[j])
	}
	for _, j := range tgt {
		meta.Targets = append(meta.Targets, f.features[j])
	}
	if p := d.Clean.Missing; len(f.missing) > 0 && (p == "mean" || p == "median" || p == "constant") {
		rows := make([]int, 0, len(f.missing))
		for r := range f.missing {
			rows = append(rows, r)
		}
		slices.Sort(rows)
		if meta.Imputation, err = fitImputation(f, p, d.Clean.Fill, trainEnd); err != nil {
			return nil, err
		}
		k := meta.Imputation.apply(f)
		rep.add("filled %d missing cells (%s) with the %s of the training part only", k, f.rowList(rows), p)
	}
	for k := 1; k <= s.Difference; k++ {
		for t := n - 1; t >= k; t-- {
			for j := 0; j < w; j++ {
				f.x[t*w+j] -= f.x[(t-1)*w+j]
			}
		}
	}
	if s.Difference > 0 {
		rep.add("differenced every column %d time(s); targets are differences too", s.Difference)
	}
	// The input columns, scaled per column on the training part's rows.
	ni := len(inputs)
	cols := make([]float32, n*ni)
	for t := 0; t < n; t++ {
		for i, j := range inputs {
			cols[t*ni+i] = f.x[t*w+j]
		}
	}
	first := s.Difference // the first row every column is defined on
	if trainEnd > first {
		meta.Scaling = fitScaling(d.Preprocess.Scale, cols[first*ni:trainEnd*ni], ni, ni, 1)
		if meta.Scaling != nil {
			// Fitted per column and applied to the rows of columns (every
			// row: with Width set first, the last rows past a multiple of
			// the lookback stayed unscaled); a window [lookback, columns]
			// repeats the columns, which Width and the modulo in param
			// express for what reads windows later.
			meta.Scaling.Apply(cols)
			meta.Scaling.Width = s.Lookback * ni
			rep.add("fitted %s scaling per column on the %d training time steps only", meta.Scaling.Kind, trainEnd-first)
		}
	}
	meta.Input = []int{s.Lookback, ni}
	rows := targetRows([3]int{trainEnd, valEnd, n}, s)
	parts := cutWindows(f, cols, ni, tgt, rows, s)
	ds := &Dataset{Meta: meta, Train: parts[0], Val: parts[1], Test: parts[2]}
	for p, sp := range parts {
		sp.Naive = naiveForecasts(f, tgt, rows[p], s)
	}
	need := fmt.Sprintf("lookback %d + horizon %d", s.Lookback, s.Horizon)
	if s.Difference > 0 {
		need += fmt.Sprintf(" + difference %d", s.Difference)
	}
	if ds.Train.N == 0 {
		return nil, badFile(file, "the training part of the series (time steps 1 to %d of %d) is too short for one window (%s steps); lower data.series.lookback or raise data.split.train", trainEnd, n, need)
	}
	for p, frac := range []float64{d.Split.Val, d.Split.Test} {
		if frac > 0 && ds.Splits()[p+1].N == 0 {
			return nil, badFile(file, "the %s part of the series has no window: its target time steps are too few for stride %d; add data or set data.split.%s: 0", splitNames[p+1], s.Stride, splitNames[p+1])
		}
	}
	rep.add("cut windows of %d steps, targets %d step(s) ahead, stride %d: train %d, val %d, test %d; every window lies in the past of its target, and the split is in time order (train up to %s, test from %s)",
		s.Lookback, s.Horizon, s.Stride, ds.Train.N, ds.Val.N, ds.Test.N, timeAt(f, trainEnd-1), timeAt(f, valEnd))
	if filled != nil {
		if k := filled.leaks(rows, s.Horizon, s.Lookback); k != [3]int{} {
			rep.add("interpolation read values after the last input step (up to the target) into the inputs of %d train, %d val and %d test windows: those windows saw part of their future",
				k[0], k[1], k[2])
		}
	}
	return ds, nil
}

// targetRows lists the target time step of each window of each part of
// the series: part p holds the windows whose target t lies in
// [bounds[p-1], bounds[p]); targets step by the stride from the first
// possible one, wherever a part starts, so windows are aligned across
// parts.
func targetRows(bounds [3]int, s config.Series) [3][]int {
	var out [3][]int
	start := s.Difference + s.Lookback + s.Horizon - 1 // the first row every window input is defined on
	for p := range out {
		lo := 0
		if p > 0 {
			lo = bounds[p-1]
		}
		t0 := max(start, lo)
		if r := (t0 - start) % s.Stride; r != 0 {
			t0 += s.Stride - r
		}
		for t := t0; t < bounds[p]; t += s.Stride {
			out[p] = append(out[p], t)
		}
	}
	return out
}

// cutWindows cuts the windows of each part of the series, given their
// target rows. A window's inputs are the rows t−horizon−lookback+1 …
// t−horizon of cols (ni scaled input columns); its targets the tgt
// columns of row t of f.
func cutWindows(f *frame, cols []float32, ni int, tgt []int, rows [3][]int, s config.Series) [3]*Split {
	var parts [3]*Split
	w := f.width
	for p := range parts {
		sp := &Split{Name: splitNames[p]}
		for _, t := range rows[p] {
			in0 := t - s.Horizon - s.Lookback + 1
			sp.X = append(sp.X, cols[in0*ni:(in0+s.Lookback)*ni]...)
			for _, j := range tgt {
				sp.Y = append(sp.Y, f.x[t*w+j])
			}
			sp.Lines = append(sp.Lines, f.lines[t])
			sp.N++
		}
		parts[p] = sp
	}
	return parts
}

// timeAt names time step t: its time cell, or its line.
func timeAt(f *frame, t int) string {
	if t < 0 || t >= f.rows() {
		return "-"
	}
	if f.keys != nil {
		return f.keys[t]
	}
	return "line " + strconv.Itoa(f.lines[t])
}

// columnsOf finds named columns among the frame's features; empty names
// mean all but skip.
func columnsOf(f *frame, names []string, skip []string) ([]int, error) {
	var out []int
	if len(names) == 0 {
		for j, h := range f.features {
			if !slices.Contains(skip, h) {
				out = append(out, j)
			}
		}
		return out, nil
	}
	for _, name := range names {
		j, ok := columnIndex(f.features, name)
		if !ok {
			return nil, badf(f.file, 0, 0, "", "column %q does not exist; the numeric columns are: %s", name, strings.Join(f.features, ", "))
		}
		out = append(out, j)
	}
	return out, nil
}

// checkTimeOrder requires the time column, when there is one, to increase
// strictly down the file. Its cells are read as parseTimes reads a time
// split's: all numbers or all dates of one form, never text.
// It returns the parsed times (nil without a time column).
func checkTimeOrder(f *frame) (*times, error) {
	if f.keys == nil {
		return nil, nil
	}
	rows := make([]int, f.rows())
	for r := range rows {
		rows[r] = r
	}
	t, err := parseTimes(f, rows)
	if err != nil {
		return nil, err
	}
	for r := 1; r < f.rows(); r++ {
		if t.cmp(r-1, r) >= 0 {
			return nil, f.keyErr(r, "time %q does not come after %q (%s); a series must be in increasing time order", f.keys[r], f.keys[r-1], f.where(r-1))
		}
	}
	return t, nil
}
