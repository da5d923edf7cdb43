package run

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/dltrain/dltrain/pkg/config"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// PlotOptions are the inputs of Plot.
type PlotOptions struct {
	Run     string   // run directory
	Out     string   // where the figures go; default RUN/plots
	Formats []string // file formats: png, svg (default both)
	Stdout  io.Writer
}

// PlotSize is the size of every figure: 6 × 4 inches (576 × 384 pixels in
// PNG at 96 dpi, 432 × 288 points in SVG).
var PlotSize = struct{ W, H vg.Length }{6 * vg.Inch, 4 * vg.Inch}

// Plot draws a run's curves from its metrics.csv, one figure per kind:
// loss.* (train_loss, val_loss and the penalty when there is one),
// metrics.* (validation scores: accuracy, macro-F1, R²), errors.*
// (validation MSE and MAE, log axis) and lr.* (the learning rate),
// each against the epoch, with labelled axes and a legend; for an
// autoencoder on images, reconstructions.png (plot_reconstructions.go). It
// returns the files written.
func Plot(opt PlotOptions) ([]string, error) {
	cols, rows, err := readMetrics(filepath.Join(opt.Run, "metrics.csv"))
	if err != nil {
		return nil, err
	}
	if opt.Out == "" {
		opt.Out = filepath.Join(opt.Run, "plots")
	}
	if len(opt.Formats) == 0 {
		opt.Formats = []string{"png", "svg"}
	}
	for _, f := range opt.Formats {
		if f != "png" && f != "svg" {
			return nil, fmt.Errorf("%w: unknown plot format %q; known: png, svg", config.ErrInvalid, f)
		}
	}
	if err := os.MkdirAll(opt.Out, 0o755); err != nil {
		return nil, err
	}
	var loss, scores, errs []string
	for _, c := range cols {
		switch {
		case c == "train_loss" || c == "val_loss":
			loss = append(loss, c)
		case c == "penalty" && anyNonZero(rows[c]):
			loss = append(loss, c)
		case c == "val_mse" || c == "val_mae":
			errs = append(errs, c)
		case strings.HasPrefix(c, "val_"):
			scores = append(scores, c)
		}
	}
	// Scores (accuracy, F1, R²) share a scale; error metrics do not share
	// theirs with the scores nor with each other (MSE is about MAE
	// squared), so they get a figure of their own on a log axis.
	figures := []struct {
		name, title, ylabel string
		series              []string
		log                 bool
	}{
		{"loss", "Loss", "loss", loss, false},
		{"metrics", "Validation metrics", "value", scores, false},
		{"errors", "Validation errors", "error (log scale)", errs, true},
		{"lr", "Learning rate", "learning rate", []string{"lr"}, false},
	}
	var written []string
	run := filepath.Clean(opt.Run)
	for _, fig := range figures {
		if len(fig.series) == 0 {
			continue
		}
		title := fmt.Sprintf("%s — %s/%s", fig.title, filepath.Base(filepath.Dir(run)), filepath.Base(run))
		p, err := newFigure(title, fig.ylabel, fig.series, rows, fig.log)
		if err != nil {
			return written, err
		}
		if fig.name == "metrics" {
			p.Legend.Top = false // scores rise towards the top right: keep the legend out of their way
		}
		for _, f := range opt.Formats {
			path := filepath.Join(opt.Out, fig.name+"."+f)
			if err := p.Save(PlotSize.W, PlotSize.H, path); err != nil {
				return written, err
			}
			written = append(written, path)
			if opt.Stdout != nil {
				fmt.Fprintln(opt.Stdout, path)
			}
		}
	}
	if slices.Contains(opt.Formats, "png") { // an autoencoder's inputs over its reconstructions
		path, err := plotReconstructions(opt.Run, opt.Out)
		if err != nil {
			return written, fmt.Errorf("drawing %s: %w", ReconstructionsFile, err)
		}
		if path != "" {
			written = append(written, path)
			if opt.Stdout != nil {
				fmt.Fprintln(opt.Stdout, path)
			}
		}
	}
	return written, nil
}

// MaxMarkers is the most epochs a curve is drawn with a marker at each:
// past it the markers would merge into a thick line, so curves are lines.
const MaxMarkers = 50

// newFigure draws the series of rows against the epoch: labelled axes, a
// grid, a legend, ticks at the first and last epoch, and markers on each
// point while there are at most MaxMarkers epochs.
func newFigure(title, ylabel string, series []string, rows map[string][]float64, log bool) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "epoch"
	p.Y.Label.Text = ylabel
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	p.Legend.XOffs = -vg.Points(6) // the legend's line samples clear the right edge
	var args []any
	for _, s := range series {
		pts := points(rows["epoch"], rows[s])
		if log {
			pts = positive(pts)
			p.Y.Scale = plot.LogScale{}
			p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
		}
		args = append(args, s, pts)
	}
	add := plotutil.AddLinePoints
	if len(rows["epoch"]) > MaxMarkers {
		add = plotutil.AddLines
	}
	if err := add(p, args...); err != nil {
		return nil, err
	}
	if !log {
		widenFlat(&p.Y)
	}
	first, last := p.X.Min, p.X.Max
	p.X.Tick.Marker = epochTicks{first, last}
	p.X.Min, p.X.Max = first-0.5, last+0.5 // the first and last epoch's markers whole
	return p, nil
}

// epochTicks labels whole epochs only: the first and the last, and
// gonum's evenly spaced ticks between them that are not so close to
// either that their labels would collide.
type epochTicks struct{ first, last float64 }

// Ticks implements plot.Ticker.
func (e epochTicks) Ticks(_, _ float64) []plot.Tick {
	label := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	ticks := []plot.Tick{{Value: e.first, Label: label(e.first)}}
	if e.last <= e.first {
		return ticks
	}
	gap := (e.last - e.first) / 12
	for _, t := range (plot.DefaultTicks{}).Ticks(e.first, e.last) {
		if t.Label == "" || t.Value != math.Trunc(t.Value) || t.Value-e.first <= gap || e.last-t.Value <= gap {
			continue
		}
		ticks = append(ticks, plot.Tick{Value: t.Value, Label: label(t.Value)})
	}
	return append(ticks, plot.Tick{Value: e.last, Label: label(e.last)})
}

// widenFlat gives an axis whose data is one value (a constant learning
// rate, an accuracy of 1 at every epoch) a range from 0 to twice that
// value, so the value reads on the axis; left alone, the axis spans
// value ± 1 and a constant rate of 0.001 reads as 0 between -1 and 1.
func widenFlat(a *plot.Axis) {
	if a.Min != a.Max {
		return
	}
	switch v := a.Min; {
	case v > 0:
		a.Min, a.Max = 0, 2*v
	case v < 0:
		a.Min, a.Max = 2*v, 0
	default:
		a.Min, a.Max = -1, 1
	}
}

// positive keeps the points a log axis can show.
func positive(pts plotter.XYs) plotter.XYs {
	var out plotter.XYs
	for _, p := range pts {
		if p.Y > 0 {
			out = append(out, p)
		}
	}
	return out
}

func anyNonZero(v []float64) bool {
	for _, x := range v {
		if x != 0 {
			return true
		}
	}
	return false
}

// points pairs xs and ys, leaving out empty cells (NaN).
func points(xs, ys []float64) plotter.XYs {
	var out plotter.XYs
	for i := range xs {
		if ys[i] == ys[i] {
			out = append(out, plotter.XY{X: xs[i], Y: ys[i]})
		}
	}
	return out
}

// readMetrics reads metrics.csv into columns; an empty cell is NaN.
func readMetrics(path string) ([]string, map[string][]float64, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, fmt.Errorf("%w: %s not found: is this a run directory with at least one epoch done?", config.ErrInvalid, path)
	}
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s: %v", config.ErrInvalid, path, err)
	}
	if len(recs) < 2 {
		return nil, nil, fmt.Errorf("%w: %s has no epoch rows yet", config.ErrInvalid, path)
	}
	cols := recs[0]
	rows := map[string][]float64{}
	for i, r := range recs[1:] {
		for j, c := range cols {
			v := nan
			if j < len(r) && r[j] != "" {
				if v, err = strconv.ParseFloat(r[j], 64); err != nil {
					return nil, nil, fmt.Errorf("%w: %s:%d: column %s: %v", config.ErrInvalid, path, i+2, c, err)
				}
			}
			rows[c] = append(rows[c], v)
		}
	}
	return cols, rows, nil
}

var nan = func() float64 { z := 0.0; return z / z }()
