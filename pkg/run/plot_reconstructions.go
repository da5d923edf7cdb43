package run

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"

	"github.com/dltrain/dltrain/pkg/data"
	"github.com/dltrain/dltrain/pkg/models"
	"github.com/dltrain/dltrain/pkg/train"
)

// ReconstructionsFile is the figure of an autoencoder's test inputs over
// their reconstructions, under the run's plots directory.
const ReconstructionsFile = "reconstructions.png"

// reconstructionColumns is how many test samples the figure shows.
const reconstructionColumns = 10

// plotReconstructions draws, for a reconstruction run on image data, the
// first test samples (top row) over the best checkpoint's
// reconstructions of them (bottom row) as a PNG grid, and returns its
// path; "" when the run is not one (another task, samples that are not
// images, no best checkpoint or no test split yet). Both rows share one
// grey scale, that of the inputs shown.
func plotReconstructions(runDir, out string) (string, error) {
	cfg := filepath.Join(runDir, "config.yaml")
	if _, err := os.Stat(cfg); errors.Is(err, os.ErrNotExist) {
		return "", nil // the curves need only metrics.csv
	}
	exp, err := loadSaved(cfg)
	if err != nil || !data.SelfTask(exp.Data.Task) {
		return "", err
	}
	ckPath := filepath.Join(runDir, "checkpoints", "best.ckpt")
	if _, err := os.Stat(ckPath); errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	ck, err := train.LoadCheckpoint(ckPath)
	if err != nil {
		return "", err
	}
	s, _, err := prepare(exp, data.OpenReadOnly, false)
	if err != nil {
		return "", err
	}
	c, h, w, ok := imageShape(s.ds.Input)
	if !ok || s.ds.Test.N == 0 {
		return "", nil
	}
	if err := train.RestoreParams(s.model.Params(), ck.Params); err != nil {
		return "", fmt.Errorf("%s: %w", ckPath, err)
	}
	n := min(s.ds.Test.N, reconstructionColumns)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	size := s.ds.InputSize()
	rec := make([]float64, n*size)
	if _, err := s.session.PredictOutput(s.ds.Test, idx, models.OutputOut, rec); err != nil {
		return "", err
	}
	in := make([]float64, n*size)
	for i, v := range s.ds.Test.X[:n*size] {
		in[i] = float64(v)
	}
	img := reconstructionGrid(in, rec, n, c, h, w)
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return "", err
	}
	path := filepath.Join(out, ReconstructionsFile)
	return path, writeFileAtomic(path, buf.Bytes())
}

// imageShape reads a per-sample shape as an image: [C, H, W] with one
// (grey) or three (RGB) channels, or a flat square number of values (64
// as 8×8, 784 as 28×28).
func imageShape(s []int) (c, h, w int, ok bool) {
	switch {
	case len(s) == 3 && (s[0] == 1 || s[0] == 3):
		return s[0], s[1], s[2], true
	case len(s) == 1:
		r := int(math.Round(math.Sqrt(float64(s[0]))))
		return 1, r, r, r > 1 && r*r == s[0]
	}
	return 0, 0, 0, false
}

// reconstructionGrid lays n samples of c×h×w values out in a row, the
// inputs above their reconstructions, each pixel drawn as a square of
// about 64/h screen pixels, with a white margin around every image.
func reconstructionGrid(in, rec []float64, n, c, h, w int) *image.RGBA {
	zoom := max(1, 64/max(h, w))
	const gap = 4
	cellW, cellH := w*zoom+gap, h*zoom+gap
	img := image.NewRGBA(image.Rect(0, 0, n*cellW+gap, 2*cellH+gap))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range in {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	if !(hi > lo) {
		hi = lo + 1
	}
	level := func(v float64) uint8 {
		return uint8(math.Round(255 * math.Min(1, math.Max(0, (v-lo)/(hi-lo)))))
	}
	size := c * h * w
	for row, vals := range [][]float64{in, rec} {
		for k := range n {
			sample := vals[k*size : (k+1)*size]
			x0, y0 := gap+k*cellW, gap+row*cellH
			drawSample(img, sample, c, h, w, x0, y0, zoom, level)
		}
	}
	return img
}

// drawSample draws one sample of c channels (1: gray, 3: RGB) of h×w
// values, channel-major, into img at (x0, y0), each value a zoom×zoom
// block of level(value). The reconstruction plots and the GAN's sample
// grids share it.
func drawSample(img *image.RGBA, sample []float64, c, h, w, x0, y0, zoom int, level func(float64) uint8) {
	for y := range h {
		for x := range w {
			px := color.RGBA{A: 255}
			if c == 1 {
				g := level(sample[y*w+x])
				px.R, px.G, px.B = g, g, g
			} else {
				px.R, px.G, px.B = level(sample[y*w+x]), level(sample[h*w+y*w+x]), level(sample[2*h*w+y*w+x])
			}
			for dy := range zoom {
				for dx := range zoom {
					img.SetRGBA(x0+x*zoom+dx, y0+y*zoom+dy, px)
				}
			}
		}
	}
}
