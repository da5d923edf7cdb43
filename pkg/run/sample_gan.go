package run

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/data"
	"github.com/dltrain/dltrain/pkg/models"
	"github.com/dltrain/dltrain/pkg/ops"
	"github.com/dltrain/dltrain/pkg/train"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// generateBatch bounds the samples one generator graph makes at once,
// so that thousands of samples of a convolutional generator do not hold
// every activation at the same time.
const generateBatch = 256

// GenerateOptions are the inputs of Generate.
type GenerateOptions struct {
	Run        string // run directory of a GAN (data.task: generation)
	Checkpoint string // "best" (""), "last" or a checkpoint file
	N          int    // samples to generate, >= 1
	Seed       uint64 // the noise's seed: the same seed gives the same samples
	// Class is the class a conditional GAN draws every sample of: a name
	// of the data's classes or its index; "" draws each sample's class
	// uniformly (seeded). An unconditional GAN refuses it.
	Class string
}

// Generated is what a GAN drew: N samples one after the other, in the
// data's original units, the per-sample shape, and for a conditional GAN
// the class each sample was drawn for (nil otherwise) and the class names.
type Generated struct {
	Samples []float32
	Shape   []int
	Classes []int
	Names   []string
}

// Generate draws N samples from a trained GAN: noise z ~ N(0, 1) from a
// stream of Seed, through the generator in evaluation mode (batch norm on
// its running statistics), the data's scaling undone, so the samples are
// in the units of the source (0–255 for 8-bit images). It returns the N
// samples one after the other and the per-sample shape (the data's,
// data.shape). A conditional GAN's samples are of Class, or each of a
// class drawn uniformly (GenerateClasses also returns which). A run that
// is not a GAN, or a class that is not one of the run's, is refused with
// config.ErrInvalid.
func Generate(ctx context.Context, opt GenerateOptions) ([]float32, []int, error) {
	g, err := GenerateClasses(ctx, opt)
	if err != nil {
		return nil, nil, err
	}
	return g.Samples, g.Shape, nil
}

// GenerateClasses is Generate, also returning the class of each sample
// of a conditional GAN.
func GenerateClasses(_ context.Context, opt GenerateOptions) (*Generated, error) {
	exp, ck, meta, path, err := openRun(opt.Run, opt.Checkpoint)
	if err != nil {
		return nil, err
	}
	if meta.Task != ganTask {
		return nil, fmt.Errorf("%w: run %s is a %s run (data.task: %s), not a GAN (data.task: %s)", config.ErrInvalid, opt.Run, meta.Task, meta.Task, ganTask)
	}
	s := sampleRun{exp: exp, ck: ck, meta: meta, path: path}
	classes, err := sampleClasses(s.meta, opt.Class, opt.N, opt.Seed)
	if err != nil {
		return nil, err
	}
	return generateFrom(s, opt, classes, nil)
}

// sampleClasses are the classes n samples of a run are drawn for: none
// for an unconditional GAN (which refuses a class), class for every
// sample, or without one each drawn uniformly from a stream of seed (its
// own, so that the noise of a seed is the same whatever the classes).
func sampleClasses(meta data.Meta, class string, n int, seed uint64) ([]int, error) {
	if !meta.Conditional {
		if class != "" {
			return nil, fmt.Errorf("%w: sample: --class %s needs a conditional GAN (model.conditional: true, trained on labelled data); this run's GAN is unconditional", config.ErrInvalid, class)
		}
		return nil, nil
	}
	out := make([]int, n)
	if class == "" {
		rng := data.RNG(seed, data.StreamSampleClass)
		for i := range out {
			out[i] = rng.IntN(len(meta.Classes))
		}
		return out, nil
	}
	k, err := classIndex(meta.Classes, class)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i] = k
	}
	return out, nil
}

// classIndex is the index of class among names: a name, or else an index
// 0..len(names)−1; anything else is an error listing the classes.
func classIndex(names []string, class string) (int, error) {
	if k := slices.Index(names, class); k >= 0 {
		return k, nil
	}
	if k, err := strconv.Atoi(class); err == nil && k >= 0 && k < len(names) {
		return k, nil
	}
	return 0, fmt.Errorf("%w: --class %q is not a class of this run; its classes are %s (a name, or its index 0 to %d)",
		config.ErrInvalid, class, strings.Join(names, ", "), len(names)-1)
}

// generateFrom draws opt.N samples from a run already opened, each of
// its class of classes (nil: an unconditional GAN); with rows (a
// conditional GAN's grid), opt.N / len(rows) samples of each class of
// rows instead, column j of every row from the same noise.
func generateFrom(s sampleRun, opt GenerateOptions, classes, rows []int) (*Generated, error) {
	if opt.N < 1 {
		return nil, fmt.Errorf("%w: sample: --n must be >= 1, got %d", config.ErrInvalid, opt.N)
	}
	st, err := build(s.exp, s.meta, false, min(opt.N, generateBatch))
	if err != nil {
		return nil, err
	}
	if err := train.RestoreParams(st.model.Params(), s.ck.Params); err != nil {
		return nil, fmt.Errorf("%s: %w", s.path, err)
	}
	gan, err := ganModel(st.model)
	if err != nil {
		return nil, err
	}
	gen := newGenerator(gan)
	rng := data.RNG(opt.Seed, data.StreamSample)
	var vals []float64
	if rows != nil {
		cols := opt.N / len(rows)
		vals, classes, err = gen.runRows(rng, rows, cols)
	} else {
		vals, err = gen.run(rng, opt.N, classes)
	}
	if err != nil {
		return nil, err
	}
	s.meta.UnscaleInputs(vals)
	out := make([]float32, len(vals))
	for i, v := range vals {
		out[i] = float32(v)
	}
	g := &Generated{Samples: out, Shape: gan.InputShape(), Classes: classes}
	if classes != nil {
		g.Names = s.meta.Classes
	}
	return g, nil
}

// generator runs a GAN's generator in evaluation mode, one graph per
// batch size, bound to the model's parameters (so a training hook sees
// the weights as they are when it runs).
type generator struct {
	gan    *models.GAN
	graphs map[int]*genGraph
}

type genGraph struct {
	z, labels *tensor.Dense // labels: a conditional GAN's classes, nil otherwise
	out       *G.Node
	vm        *ops.Machine
}

func newGenerator(gan *models.GAN) *generator {
	return &generator{gan: gan, graphs: map[int]*genGraph{}}
}

// run generates n samples from noise drawn from rng, in the model's
// (scaled) units, one after the other; a conditional GAN's sample i is of
// class classes[i] (classes is nil for an unconditional one).
func (g *generator) run(rng *rand.Rand, n int, classes []int) ([]float64, error) {
	return g.generate(drawNoise(rng, n*g.gan.Latent()), classes)
}

// runRows generates a conditional GAN's grid: a row of cols samples for
// each class of rows, column j of every row from the same noise (drawn
// from rng), so that a column shows one noise across the classes; it
// also returns each sample's class.
func (g *generator) runRows(rng *rand.Rand, rows []int, cols int) ([]float64, []int, error) {
	col := drawNoise(rng, cols*g.gan.Latent())
	z := make([]float64, 0, len(rows)*len(col))
	classes := make([]int, 0, len(rows)*cols)
	for _, c := range rows {
		z = append(z, col...)
		for range cols {
			classes = append(classes, c)
		}
	}
	vals, err := g.generate(z, classes)
	return vals, classes, err
}

// drawNoise draws n values z ~ N(0, 1) from rng.
func drawNoise(rng *rand.Rand, n int) []float64 {
	z := make([]float64, n)
	for i := range z {
		z[i] = rng.NormFloat64()
	}
	return z
}

// generate runs the generator on the noise z (Latent values per sample),
// in batches of at most generateBatch samples, sample i of class
// classes[i] for a conditional GAN.
func (g *generator) generate(z []float64, classes []int) ([]float64, error) {
	latent := g.gan.Latent()
	n := len(z) / latent
	out := make([]float64, 0, n*g.gan.InputShape().Size())
	for lo := 0; lo < n; lo += generateBatch {
		b := min(generateBatch, n-lo)
		gg, err := g.graph(b)
		if err != nil {
			return nil, err
		}
		if err := ops.Dispatch(gg.z.Dtype(), fillArgs{gg.z, z[lo*latent : (lo+b)*latent]}, fillFrom[float32], fillFrom[float64]); err != nil {
			return nil, err
		}
		if gg.labels != nil {
			ls := make([]float64, b)
			for i := range ls {
				ls[i] = float64(classes[lo+i])
			}
			if err := ops.Dispatch(gg.labels.Dtype(), fillArgs{gg.labels, ls}, fillFrom[float32], fillFrom[float64]); err != nil {
				return nil, err
			}
		}
		if err := gg.vm.RunAll(); err != nil {
			gg.vm.Reset()
			return nil, err
		}
		out = append(out, models.Float64s(gg.out.Value().(*tensor.Dense))...)
		gg.vm.Reset()
	}
	return out, nil
}

// graph returns the generator's graph for batches of b samples.
func (g *generator) graph(b int) (*genGraph, error) {
	if gg, ok := g.graphs[b]; ok {
		return gg, nil
	}
	store := g.gan.Params()
	mg := models.NewGraph(store, false)
	dt := store.Dtype()
	zt := tensor.New(tensor.WithShape(b, g.gan.Latent()), tensor.Of(dt))
	z := G.NewTensor(mg.G, dt, 2, G.WithShape(b, g.gan.Latent()), G.WithName("z"), G.WithValue(zt))
	mg.Input = z
	var lt *tensor.Dense
	var labels *G.Node
	if g.gan.Conditional() {
		lt = tensor.New(tensor.WithShape(b), tensor.Of(dt))
		labels = G.NewTensor(mg.G, dt, 1, G.WithShape(b), G.WithName("labels"), G.WithValue(lt))
	}
	out, err := g.gan.GenerateClasses(mg, z, labels)
	if err != nil {
		return nil, err
	}
	vm, err := ops.NewMachineFor(mg.G, out)
	if err != nil {
		return nil, err
	}
	gg := &genGraph{z: zt, labels: lt, out: out, vm: vm}
	g.graphs[b] = gg
	return gg, nil
}

// fillArgs is a tensor and the values it takes.
type fillArgs struct {
	t    *tensor.Dense
	vals []float64
}

func fillFrom[T interface{ ~float32 | ~float64 }](a fillArgs) error {
	dst := ops.Floats[T](a.t)
	for i, v := range a.vals {
		dst[i] = T(v)
	}
	return nil
}

// sampleGenerated generates samples from a generative (GAN) run and
// writes them as .npy (--output) and as an image grid (--grid).
func sampleGenerated(ctx context.Context, s sampleRun, opt SampleOptions) error {
	if opt.Output == "" && opt.Grid == "" {
		return fmt.Errorf("%w: sample: give --output FILE.npy, --grid FILE.png or both: a GAN's samples are written to files", config.ErrInvalid)
	}
	seed := s.exp.Seed
	if opt.SeedSet {
		seed = uint64(opt.Seed)
	}
	var c, h, w int
	if opt.Grid != "" {
		var err error
		if c, h, w, err = gridShape(s.meta.Input, "--grid"); err != nil {
			return err
		}
	}
	classes, err := sampleClasses(s.meta, opt.Class, opt.N, seed)
	if err != nil {
		return err
	}
	gopt := GenerateOptions{Checkpoint: opt.Checkpoint, N: opt.N, Seed: seed, Class: opt.Class}
	var g *Generated
	if opt.Output != "" {
		if g, err = generateFrom(s, gopt, classes, nil); err != nil {
			return err
		}
		var b bytes.Buffer
		if err := data.WriteNpy(&b, append([]int{opt.N}, g.Shape...), g.Samples); err != nil {
			return err
		}
		if err := writeOutput(opt.Output, b.Bytes()); err != nil {
			return err
		}
		logSample(opt, "wrote %d samples of shape %v to %s", opt.N, g.Shape, opt.Output)
	}
	if opt.Grid == "" {
		return nil
	}
	cols := squareColumns(opt.N)
	var rows []int
	if s.meta.Conditional && opt.Class == "" {
		// One row per class, as many columns as n samples need; a column
		// shows one noise across the classes.
		k := len(s.meta.Classes)
		cols = (opt.N + k - 1) / k
		gopt.N, rows, g = k*cols, allClasses(k), nil
	}
	if g == nil {
		if g, err = generateFrom(s, gopt, classes, rows); err != nil {
			return err
		}
	}
	lo, hi := pixelRange(s.meta, g.Samples)
	f64 := make([]float64, len(g.Samples))
	for i, v := range g.Samples {
		f64[i] = float64(v)
	}
	if err := writeGrid(opt.Grid, sampleGridCols(f64, gopt.N, cols, c, h, w, lo, hi)); err != nil {
		return err
	}
	what := fmt.Sprintf("%d samples", gopt.N)
	if g.Classes != nil && opt.Class == "" {
		what = fmt.Sprintf("%d samples, one row of %d per class (%s), each column from one noise", gopt.N, cols, strings.Join(g.Names, ", "))
	} else if g.Classes != nil {
		what = fmt.Sprintf("%d samples of class %s", gopt.N, g.Names[g.Classes[0]])
	}
	logSample(opt, "wrote a grid of %s (%d×%d) to %s", what, h, w, opt.Grid)
	return nil
}

// allClasses is 0, 1, ..., k−1: a grid's rows, one per class.
func allClasses(k int) []int {
	out := make([]int, k)
	for i := range out {
		out[i] = i
	}
	return out
}

func logSample(opt SampleOptions, format string, args ...any) {
	if opt.Logf != nil {
		opt.Logf(format, args...)
	}
}

// gridShape is how samples of shape s are drawn as images: [C, H, W]
// with 1 or 3 channels, or a flat [N] with N a square (MNIST's [784] is
// 28×28, grey). Any other shape is refused naming key (the flag or
// setting that asked for images).
func gridShape(s []int, key string) (c, h, w int, err error) {
	c, h, w, ok := imageShape(s)
	if !ok {
		return 0, 0, 0, fmt.Errorf("%w: %s draws samples as images, but they have shape %v: a grid needs [1, H, W] or [3, H, W] (data.shape), "+
			"or a flat [N] with N a square (shape [784] is drawn 28×28)", config.ErrInvalid, key, s)
	}
	return c, h, w, nil
}

// pixelRange is the range of original units drawn from black to white:
// the range the data's scaling maps to [−1, 1] (symmetric) or [0, 1]
// (minmax), so that grids of different epochs share one scale; else the
// samples' own range.
func pixelRange(meta data.Meta, vals []float32) (lo, hi float64) {
	if sc := meta.Scaling; sc != nil && len(sc.Shift) > 0 && (sc.Kind == "symmetric" || sc.Kind == "minmax") {
		a, b := -1.0, 1.0
		if sc.Kind == "minmax" {
			a = 0
		}
		return a/sc.Mul[0] + sc.Shift[0], b/sc.Mul[0] + sc.Shift[0]
	}
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, v := range vals {
		lo, hi = math.Min(lo, float64(v)), math.Max(hi, float64(v))
	}
	return lo, hi
}

// sampleGrid lays n samples of c×h×w values out in a square grid (as
// many columns as the root of n, rounded up): see sampleGridCols.
func sampleGrid(vals []float64, n, c, h, w int, lo, hi float64) *image.RGBA {
	return sampleGridCols(vals, n, squareColumns(n), c, h, w, lo, hi)
}

// squareColumns is the number of columns of a square grid of n samples.
func squareColumns(n int) int { return int(math.Ceil(math.Sqrt(float64(n)))) }

// sampleGridCols lays n samples of c×h×w values out in rows of cols,
// each pixel a square of about 56/h screen pixels, values from lo
// (black) to hi (white), with a white margin around every image.
func sampleGridCols(vals []float64, n, cols, c, h, w int, lo, hi float64) *image.RGBA {
	zoom := max(1, 56/max(h, w))
	const gap = 2
	rows := (n + cols - 1) / cols
	cellW, cellH := w*zoom+gap, h*zoom+gap
	img := image.NewRGBA(image.Rect(0, 0, cols*cellW+gap, rows*cellH+gap))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	if !(hi > lo) {
		hi = lo + 1
	}
	level := func(v float64) uint8 {
		return uint8(math.Round(255 * math.Min(1, math.Max(0, (v-lo)/(hi-lo)))))
	}
	size := c * h * w
	for k := range n {
		sample := vals[k*size : (k+1)*size]
		x0, y0 := gap+(k%cols)*cellW, gap+(k/cols)*cellH
		drawSample(img, sample, c, h, w, x0, y0, zoom, level)
	}
	return img
}

// writeGrid writes img as a PNG file, atomically.
func writeGrid(path string, img image.Image) error {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return err
	}
	return writeOutput(path, b.Bytes())
}

// sampleGridHook writes plots/samples-epoch-E.png every Every epochs of a
// GAN's training: the generator's samples of one fixed noise batch (drawn
// from the run's seed), so that grids of different epochs compare.
type sampleGridHook struct {
	train.NopHook
	Dir     string
	Every   int
	Meta    data.Meta
	Seed    uint64
	gen     *generator
	c, h, w int
}

// gridSamples is how many samples a training grid shows; a conditional
// GAN's shows gridColumns samples of each class, one row per class.
const (
	gridSamples = 64
	gridColumns = 8
)

// AfterEpoch implements train.Hook.
func (k *sampleGridHook) AfterEpoch(_ *train.Loop, s train.EpochStats) error {
	if s.Epoch%k.Every != 0 {
		return nil
	}
	n, cols := gridSamples, squareColumns(gridSamples)
	var vals []float64
	var err error
	if k.gen.gan.Conditional() {
		n, cols = k.gen.gan.Classes()*gridColumns, gridColumns
		vals, _, err = k.gen.runRows(data.RNG(k.Seed, data.StreamSample), allClasses(k.gen.gan.Classes()), cols)
	} else {
		vals, err = k.gen.run(data.RNG(k.Seed, data.StreamSample), n, nil)
	}
	if err != nil {
		return err
	}
	k.Meta.UnscaleInputs(vals)
	f32 := make([]float32, len(vals))
	for i, v := range vals {
		f32[i] = float32(v)
	}
	lo, hi := pixelRange(k.Meta, f32)
	path := filepath.Join(k.Dir, "plots", fmt.Sprintf("samples-epoch-%d.png", s.Epoch))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return writeGrid(path, sampleGridCols(vals, n, cols, k.c, k.h, k.w, lo, hi))
}

// newSampleGridHook is the hook of train.sample_every, or nil when it is
// 0; samples that are not images are a problem naming the key.
func newSampleGridHook(s *setup, dir string) (train.Hook, error) {
	every := s.exp.Train.SampleEvery
	if every == 0 || s.exp.Data.Task != ganTask {
		return nil, nil
	}
	gan, err := ganModel(s.model)
	if err != nil {
		return nil, err
	}
	c, h, w, ok := imageShape(s.ds.Input)
	if !ok {
		return nil, config.Problems{s.exp.Problem("train.sample_every", "draws samples as images, but they have shape %v: a grid needs data.shape [1, H, W] or [3, H, W], "+
			"or a flat [N] with N a square ([784] is drawn 28×28); set sample_every: 0", s.ds.Input)}
	}
	return &sampleGridHook{Dir: dir, Every: every, Meta: s.ds.Meta, Seed: s.exp.Seed, gen: newGenerator(gan), c: c, h: h, w: w}, nil
}
