package run

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"gonum.org/v1/plot"
)

// TestPlotWritesReadableFigures trains two epochs and plots them: every
// PNG decodes at 576 × 384 pixels and every SVG is 6 × 4 inches (432 × 288
// points) with the axis labels and legend entries in it.
func TestPlotWritesReadableFigures(t *testing.T) {
	cfg := writeConfig(t, resumeYAML)
	res, err := Train(context.Background(), TrainOptions{Config: cfg, Out: t.TempDir(), Sets: []string{"train.epochs=2"}})
	if err != nil {
		t.Fatal(err)
	}
	files, err := Plot(PlotOptions{Run: res.Dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 6 {
		t.Fatalf("wrote %v, want loss, metrics and lr in PNG and SVG", files)
	}
	want := map[string][]string{
		"loss":    {"epoch", "loss", "train_loss", "val_loss", "penalty"},
		"metrics": {"epoch", "value", "val_accuracy", "val_macro_f1"},
		"lr":      {"epoch", "learning rate", "lr"},
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		switch filepath.Ext(f) {
		case ".png":
			img, err := png.Decode(bytesReader(b))
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if s := img.Bounds().Size(); s.X != 576 || s.Y != 384 {
				t.Errorf("%s: %v pixels, want 576 × 384", f, s)
			}
		case ".svg":
			var svg struct {
				Width  string `xml:"width,attr"`
				Height string `xml:"height,attr"`
			}
			if err := xml.Unmarshal(b, &svg); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if svg.Width != "432pt" || svg.Height != "288pt" {
				t.Errorf("%s: %s × %s, want 432pt × 288pt", f, svg.Width, svg.Height)
			}
			name := filepath.Base(f[:len(f)-4])
			for _, text := range want[name] {
				if !containsText(b, text) {
					t.Errorf("%s has no %q (axis label or legend)", f, text)
				}
			}
		}
	}
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

func containsText(b []byte, s string) bool { return bytes.Contains(b, []byte(">"+s+"<")) }

// TestPlotRegressionSeparatesScalesFromErrors: a regression run's R² is
// plotted apart from its MSE and MAE (which drew R² as a flat line at 0
// on one linear axis), and the errors on a log axis.
func TestPlotRegressionSeparatesScalesFromErrors(t *testing.T) {
	res, err := Train(context.Background(), TrainOptions{Config: "../../configs/penguins-mass-regression.yaml", Out: t.TempDir(), Sets: []string{"train.epochs=3"}})
	if err != nil {
		t.Fatal(err)
	}
	files, err := Plot(PlotOptions{Run: res.Dir, Formats: []string{"svg"}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"metrics.svg": {"val_r2"},
		"errors.svg":  {"val_mse", "val_mae", "error (log scale)"},
	}
	unwanted := map[string][]string{"metrics.svg": {"val_mse", "val_mae"}, "errors.svg": {"val_r2"}}
	seen := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(f)
		for _, s := range want[name] {
			seen++
			if !containsText(b, s) {
				t.Errorf("%s has no %q", name, s)
			}
		}
		for _, s := range unwanted[name] {
			if containsText(b, s) {
				t.Errorf("%s has %q", name, s)
			}
		}
	}
	if seen != 4 {
		t.Errorf("wrote %v, want metrics.svg and errors.svg", files)
	}
}

// TestWidenFlat: a series of one value (a constant learning rate) gets an
// axis from 0 to twice the value, where gonum's default (value ± 1) shows
// a rate of 0.001 as 0 between -1 and 1.
func TestWidenFlat(t *testing.T) {
	for _, tc := range []struct{ v, min, max float64 }{
		{0.001, 0, 0.002}, {-2, -4, 0}, {0, -1, 1},
	} {
		a := plot.New().Y
		a.Min, a.Max = tc.v, tc.v
		widenFlat(&a)
		if a.Min != tc.min || a.Max != tc.max {
			t.Errorf("flat %g: axis [%g, %g], want [%g, %g]", tc.v, a.Min, a.Max, tc.min, tc.max)
		}
	}
	a := plot.New().Y
	a.Min, a.Max = 0.1, 0.3
	widenFlat(&a)
	if a.Min != 0.1 || a.Max != 0.3 {
		t.Errorf("a varying series' axis changed: [%g, %g]", a.Min, a.Max)
	}
}

// TestEpochTicks: the epoch axis is labelled at the first and the last
// epoch, only at whole epochs, in order, and no label sits so close to
// another that they collide.
func TestEpochTicks(t *testing.T) {
	for _, tc := range []struct{ first, last float64 }{{1, 1}, {1, 2}, {1, 7}, {1, 13}, {3, 37}, {1, 100}, {1, 1000}, {51, 60}} {
		t.Run(fmt.Sprintf("%g-%g", tc.first, tc.last), func(t *testing.T) {
			ticks := epochTicks{tc.first, tc.last}.Ticks(tc.first-0.5, tc.last+0.5)
			var labelled []float64
			for _, k := range ticks {
				if k.Label == "" {
					continue
				}
				if k.Value != math.Trunc(k.Value) || k.Label != strconv.Itoa(int(k.Value)) {
					t.Errorf("tick %v labelled %q: not a whole epoch", k.Value, k.Label)
				}
				labelled = append(labelled, k.Value)
			}
			if len(labelled) == 0 || labelled[0] != tc.first || labelled[len(labelled)-1] != tc.last {
				t.Fatalf("labelled ticks %v do not start at epoch %g and end at epoch %g", labelled, tc.first, tc.last)
			}
			for i := 1; i < len(labelled); i++ {
				if d := labelled[i] - labelled[i-1]; d <= 0 || d < (tc.last-tc.first)/12 {
					t.Errorf("labelled ticks %v: %g and %g are out of order or collide", labelled, labelled[i-1], labelled[i])
				}
			}
		})
	}
}

// TestFigureMarkers: each epoch gets a marker up to MaxMarkers epochs;
// past that the curves are plain lines (markers would merge into a blur).
func TestFigureMarkers(t *testing.T) {
	for _, n := range []int{2, MaxMarkers, MaxMarkers + 1, 300} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			rows := map[string][]float64{}
			for i := range n {
				rows["epoch"] = append(rows["epoch"], float64(i+1))
				rows["train_loss"] = append(rows["train_loss"], 1/float64(i+1))
				rows["val_loss"] = append(rows["val_loss"], 2/float64(i+1))
			}
			p, err := newFigure("t", "loss", []string{"train_loss", "val_loss"}, rows, false)
			if err != nil {
				t.Fatal(err)
			}
			want := 2 * n
			if n > MaxMarkers {
				want = 0
			}
			if got := len(p.GlyphBoxes(p)); got != want {
				t.Errorf("%d markers for %d epochs of two curves, want %d", got, n, want)
			}
		})
	}
}
