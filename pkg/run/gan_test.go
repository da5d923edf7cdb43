package run

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/data"
	"github.com/dltrain/dltrain/pkg/models"
	"github.com/dltrain/dltrain/pkg/train"
)

var (
	mnistGAN    = filepath.Join("..", "..", "configs", "mnist-gan.yaml")
	digitsDCGAN = filepath.Join("..", "..", "configs", "digits-dcgan.yaml")
)

// TestGANTrainsDeterministicallyAndSamples: the DCGAN config trains end
// to end; two runs of one seed write identical checkpoints; metrics.csv
// has the GAN's columns; the epoch grid is written; samples come back in
// the data's units (0–16 for the digits) and the same seed gives the same
// samples.
func TestGANTrainsDeterministicallyAndSamples(t *testing.T) {
	sets := []string{"train.epochs=2", "train.sample_every=2"}
	var ckpts [][]byte
	var dir string
	for range 2 {
		res, err := Train(context.Background(), TrainOptions{Config: digitsDCGAN, Sets: sets, Out: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(res.Dir, "checkpoints", "last.ckpt"))
		if err != nil {
			t.Fatal(err)
		}
		ckpts, dir = append(ckpts, b), res.Dir
	}
	if !bytes.Equal(ckpts[0], ckpts[1]) {
		t.Error("two runs of one seed wrote different checkpoints")
	}
	m, err := os.ReadFile(filepath.Join(dir, "metrics.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(m), "epoch,step,lr,train_loss,penalty,d_fake,d_loss,d_real,g_loss,elapsed_s\n") {
		t.Errorf("metrics.csv:\n%s", m)
	}
	if _, err := os.Stat(filepath.Join(dir, "plots", "samples-epoch-2.png")); err != nil {
		t.Error(err)
	}
	a, shape, err := Generate(context.Background(), GenerateOptions{Run: dir, N: 10, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := Generate(context.Background(), GenerateOptions{Run: dir, N: 10, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if len(shape) != 3 || shape[0] != 1 || shape[1] != 8 || len(a) != 640 {
		t.Fatalf("shape %v, %d values", shape, len(a))
	}
	for i, v := range a {
		if v != b[i] || v < -1e-3 || v > 16.001 {
			t.Fatalf("sample value %d: %v (again %v); want the same, in [0, 16]", i, v, b[i])
		}
	}
	out := t.TempDir()
	err = Sample(context.Background(), SampleOptions{Run: dir, N: 9, Output: filepath.Join(out, "s.npy"), Grid: filepath.Join(out, "s.png")})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"s.npy", "s.png"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	// eval without --judge has nothing to score (it used to panic in the
	// reconstruction metrics).
	if _, err := Eval(context.Background(), EvalOptions{Run: dir, Split: "train"}); !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), "judged by its samples") {
		t.Errorf("eval of a GAN run: %v", err)
	}
	if _, err := Predict(context.Background(), PredictOptions{Run: dir, Input: filepath.Join(out, "s.npy")}); !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), "nothing to predict") {
		t.Errorf("predict on a GAN run: %v", err)
	}
	if _, _, err := Generate(context.Background(), GenerateOptions{Run: dir, N: 4, Class: "3"}); !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), "needs a conditional GAN") {
		t.Errorf("--class on an unconditional GAN: %v", err)
	}
}

// TestGANResumeIsExact: a GAN interrupted in the middle of an epoch and
// resumed ends with the weights and metrics of an uninterrupted run (the
// noise comes from the saved dropout stream, both optimizers' states and
// the per-phase sums from the checkpoint).
func TestGANResumeIsExact(t *testing.T) {
	sets := []string{"train.epochs=2", "train.batch_size=100"} // 20 steps per epoch
	straight, err := Train(context.Background(), TrainOptions{Config: mnistGAN, Sets: sets, Out: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	resumeMatches(t, mnistGAN, sets, 27, straight)
}

// TestGANPhasesTouchOnlyTheirNetwork: an epoch of the discriminator's
// phase alone changes none of the generator's parameters or batch norm
// running statistics, and an epoch of the generator's phase alone none
// of the discriminator's. The rule: a phase updates its own network's
// weights and running statistics; the other network runs on batch
// statistics in it and keeps its running ones.
func TestGANPhasesTouchOnlyTheirNetwork(t *testing.T) {
	exp, err := Load(digitsDCGAN, []string{"train.epochs=1", "train.sample_every=0",
		// batch norm in the discriminator too, so both networks have running statistics
		"model.discriminator=[{type: conv2d, filters: 8, kernel: 4, stride: 2, padding: 1}, {type: batchnorm}, {type: leaky_relu, alpha: 0.2}, {type: flatten}, {type: dense, units: 1}]"})
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"discriminator", "generator"} {
		t.Run(name, func(t *testing.T) {
			s, _, err := prepare(exp, data.Open, true)
			if err != nil {
				t.Fatal(err)
			}
			loop, err := newLoop(s)
			if err != nil {
				t.Fatal(err)
			}
			gan := s.model.(*models.GAN)
			own, other := gan.DiscriminatorParams(), gan.GeneratorParams()
			if i == 1 {
				own, other = other, own
			}
			before := train.CaptureParams(s.model.Params())
			loop.Phases = loop.Phases[i : i+1]
			if err := loop.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			after := map[string][]float64{}
			for _, p := range s.model.Params().All() {
				after[p.Name] = models.Float64s(p.Value)
			}
			changed := func(p *models.Param) bool {
				for _, r := range before {
					if r.Name == p.Name {
						for j, v := range r.F32 {
							if float64(v) != after[p.Name][j] {
								return true
							}
						}
					}
				}
				return false
			}
			buffers := 0
			for _, p := range other {
				if changed(p) {
					t.Errorf("the %s phase changed %s", name, p.Name)
				}
			}
			for _, p := range own {
				if !changed(p) {
					t.Errorf("the %s phase left its own %s as it was", name, p.Name)
				}
				if p.Role == models.Buffer {
					buffers++
				}
			}
			if buffers == 0 {
				t.Errorf("the %s has no running statistics to check", name)
			}
		})
	}
}

// TestGANBadInput: each mistake is a config problem before training,
// naming its key and, for shapes, both of them.
func TestGANBadInput(t *testing.T) {
	for _, c := range []struct {
		name string
		sets []string
		want []string
	}{
		{"discriminator steps 0", []string{"train.discriminator.steps=0"}, []string{"train.discriminator.steps", "got 0"}},
		{"generator shape", []string{"model.generator=[{type: dense, units: 100, activation: tanh}]"}, []string{"model.generator", "(100)", "(784)"}},
		{"discriminator shape", []string{"model.discriminator=[{type: dense, units: 2}]"}, []string{"model.discriminator", "(2)", "one score per sample"}},
		{"conditional without labels", []string{"model.conditional=true"}, []string{"data.source", "model.conditional", "idx:IMAGES,LABELS"}},
		{"wgan_gp critic with dropout", []string{"train.loss=wgan_gp", "model.discriminator=[{type: dense, units: 8, activation: leaky_relu}, {type: dropout, rate: 0.3}, {type: dense, units: 1}]"},
			[]string{"model.discriminator[1].type", "dropout", "wgan_gp"}},
		{"wgan_gp critic with batch norm", []string{"train.loss=wgan_gp", "model.discriminator=[{type: dense, units: 8}, {type: batchnorm}, {type: leaky_relu}, {type: dense, units: 1}]"},
			[]string{"model.discriminator[1].type", "batch norm", "per-sample gradient norm"}},
		{"wgan_gp critic with gelu", []string{"train.loss=wgan_gp", "model.discriminator=[{type: dense, units: 8, activation: leaky_relu}, {type: dense, units: 1, activation: gelu}]"},
			[]string{"model.discriminator[1].activation", "gelu", "none, relu, leaky_relu, tanh and sigmoid"}},
		{"wgan_gp critic with layer norm", []string{"train.loss=wgan_gp", "data.shape=[1, 28, 28]", "model.generator=[{type: dense, units: 784, activation: tanh}, {type: reshape, shape: [1, 28, 28]}]",
			"model.discriminator=[{type: conv2d, filters: 2, kernel: 3}, {type: maxpool2d, size: 2}, {type: flatten}, {type: layernorm}, {type: dense, units: 1}]"},
			[]string{"model.discriminator[3].type", "layernorm", "not built yet", "maxpool2d"}},
		{"wgan_gp negative weight", []string{"train.loss.kind=wgan_gp", "train.loss.gp_weight=-1"}, []string{"train.loss.gp_weight"}},
		{"early stopping", []string{"train.early_stopping.patience=3"}, []string{"train.early_stopping", "refused for a GAN"}},
		{"held-out split", []string{"data.split.val=0.2", "data.split.train=0.8"}, []string{"data.split", "judged by its samples"}},
		{"train.optimizer", []string{"train.optimizer.lr=0.1"}, []string{"train.optimizer", "train.generator and train.discriminator"}},
		{"grid of non-images", []string{"data.shape=[2, 392]", "model.generator=[{type: dense, units: 784, activation: tanh}, {type: reshape, shape: [2, 392]}]",
			"model.discriminator=[{type: flatten}, {type: dense, units: 1}]"}, []string{"train.sample_every", "[2 392]"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Train(context.Background(), TrainOptions{Config: mnistGAN, Sets: append(c.sets, "train.epochs=1"), Out: t.TempDir()})
			var ps config.Problems
			if !errors.As(err, &ps) {
				t.Fatalf("want config problems, got %v", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q is not in: %v", w, err)
				}
			}
		})
	}
}

// TestGANGridLooksLikeDigits: after a short real training on the MNIST
// sample, the epoch grid is neither blank nor noise: mostly dark
// background (MNIST's mean pixel is about 33 of 255) with bright strokes,
// its pixels far from uniform.
func TestGANGridLooksLikeDigits(t *testing.T) {
	if testing.Short() {
		t.Skip("trains 10 epochs")
	}
	res, err := Train(context.Background(), TrainOptions{Config: mnistGAN, Sets: []string{"train.epochs=10"}, Out: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(res.Dir, "plots", "samples-epoch-10.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	// The first sample's cell: 28×28 pixels zoomed 2×, after a 2-pixel margin.
	var sum, sq float64
	dark, bright, n := 0, 0, 0
	for k := 0; k < 8; k++ { // the first row of samples
		x0 := 2 + k*58
		for y := 2; y < 58; y++ {
			for x := x0; x < x0+56; x++ {
				r, _, _, _ := img.At(x, y).RGBA()
				v := float64(r >> 8)
				sum, sq, n = sum+v, sq+v*v, n+1
				if v < 64 {
					dark++
				}
				if v > 192 {
					bright++
				}
			}
		}
	}
	mean := sum / float64(n)
	sd := math.Sqrt(sq/float64(n) - mean*mean)
	t.Logf("grid: mean %.1f, sd %.1f, dark %.2f, bright %.2f", mean, sd, float64(dark)/float64(n), float64(bright)/float64(n))
	if mean < 10 || mean > 90 || sd < 40 || float64(dark)/float64(n) < 0.5 || float64(bright)/float64(n) < 0.03 {
		t.Errorf("the grid does not look like digits: mean %.1f, sd %.1f, dark share %.2f, bright share %.2f", mean, sd, float64(dark)/float64(n), float64(bright)/float64(n))
	}
}

// TestSampleRefusesAClassifier: sample on a run that is not generative is
// a usage error naming the run's task.
func TestSampleRefusesAClassifier(t *testing.T) {
	res, err := Train(context.Background(), TrainOptions{Config: filepath.Join("..", "..", "configs", "iris-mlp.yaml"), Sets: []string{"train.epochs=1"}, Out: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	err = Sample(context.Background(), SampleOptions{Run: res.Dir, N: 4, Output: filepath.Join(t.TempDir(), "s.npy")})
	if !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), "data.task: classification") {
		t.Errorf("got %v", err)
	}
	if _, _, err := Generate(context.Background(), GenerateOptions{Run: res.Dir, N: 4}); !errors.Is(err, config.ErrInvalid) {
		t.Errorf("Generate: %v", err)
	}
}

// TestWGANGPTrainsDeterministicallyAndResumesExactly: the wgan_gp config
// trains end to end with finite losses and logs the mean gradient
// penalty (gp); two runs of one seed write identical
// checkpoints (ε comes from the seeded stream); a run interrupted in the
// middle of an epoch and resumed ends with the straight run's weights
// and metrics.
func TestWGANGPTrainsDeterministicallyAndResumesExactly(t *testing.T) {
	mnistWGAN := filepath.Join("..", "..", "configs", "mnist-wgan-gp.yaml")
	sets := []string{"train.epochs=2", "train.batch_size=100", "train.sample_every=0", "train.discriminator.steps=2"} // 20 steps per epoch
	var ckpts [][]byte
	var straight *TrainResult
	for range 2 {
		res, err := Train(context.Background(), TrainOptions{Config: mnistWGAN, Sets: sets, Out: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(res.Dir, "checkpoints", "last.ckpt"))
		if err != nil {
			t.Fatal(err)
		}
		ckpts, straight = append(ckpts, b), res
	}
	if !bytes.Equal(ckpts[0], ckpts[1]) {
		t.Error("two runs of one seed wrote different checkpoints")
	}
	m := metricsWithoutTime(t, straight.Dir)
	if strings.Contains(m, "NaN") || strings.Contains(m, "Inf") || !strings.HasPrefix(m, "epoch,step,lr,train_loss,penalty,d_fake,d_loss,d_real,g_loss,gp") {
		t.Errorf("metrics.csv:\n%s", m)
	}
	out := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first, err := Train(ctx, TrainOptions{Config: mnistWGAN, Sets: sets, Out: out, Hooks: []train.Hook{&stopAt{step: 27, cancel: cancel}}})
	if !errors.Is(err, train.ErrInterrupted) {
		t.Fatalf("interrupted run: %v", err)
	}
	resumed, err := Train(context.Background(), TrainOptions{Config: mnistWGAN, Sets: sets, Out: out, Resume: first.Dir})
	if err != nil {
		t.Fatal(err)
	}
	a, err := train.LoadCheckpoint(filepath.Join(straight.Dir, "checkpoints", "last.ckpt"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := train.LoadCheckpoint(filepath.Join(resumed.Dir, "checkpoints", "last.ckpt"))
	if err != nil {
		t.Fatal(err)
	}
	if !sameParams(a.Params, b.Params) {
		t.Error("the resumed run's weights differ from the straight run's")
	}
	if x := metricsWithoutTime(t, resumed.Dir); x != m {
		t.Errorf("metrics differ:\nstraight\n%s\nresumed\n%s", m, x)
	}
}

// TestWGANGPPhasesTouchOnlyTheirNetwork: with wgan_gp, whose critic loss
// also reads the generator's samples through the gradient penalty, an
// epoch of the critic's phase alone changes no generator weight, and an
// epoch of the generator's phase alone no critic weight; each changes its
// own.
func TestWGANGPPhasesTouchOnlyTheirNetwork(t *testing.T) {
	exp, err := Load(filepath.Join("..", "..", "configs", "mnist-wgan-gp.yaml"), []string{"train.epochs=1", "train.sample_every=0", "train.batch_size=200",
		"model.generator=[{type: dense, units: 16, activation: leaky_relu, alpha: 0.2}, {type: dense, units: 784, activation: tanh}]",
		"model.discriminator=[{type: dense, units: 16, activation: leaky_relu, alpha: 0.2}, {type: dense, units: 1}]"})
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"discriminator", "generator"} {
		t.Run(name, func(t *testing.T) {
			s, _, err := prepare(exp, data.Open, true)
			if err != nil {
				t.Fatal(err)
			}
			loop, err := newLoop(s)
			if err != nil {
				t.Fatal(err)
			}
			gan := s.model.(*models.GAN)
			own, other := gan.DiscriminatorParams(), gan.GeneratorParams()
			if i == 1 {
				own, other = other, own
			}
			before := map[string][]float64{}
			for _, p := range s.model.Params().All() {
				before[p.Name] = models.Float64s(p.Value)
			}
			loop.Phases = loop.Phases[i : i+1]
			if err := loop.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			changed := func(p *models.Param) bool {
				for j, v := range models.Float64s(p.Value) {
					if v != before[p.Name][j] {
						return true
					}
				}
				return false
			}
			for _, p := range other {
				if changed(p) {
					t.Errorf("the %s phase changed %s", name, p.Name)
				}
			}
			for _, p := range own {
				// The critic's last bias adds the same to D(real) and
				// D(fake) and nothing to ∇ₓD: its gradient is 0.
				if !changed(p) && p.Name != "discriminator/dense2/b" {
					t.Errorf("the %s phase left its own %s as it was", name, p.Name)
				}
			}
		})
	}
}
