package run

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/data"
	"github.com/dltrain/dltrain/pkg/models"
	"github.com/dltrain/dltrain/pkg/train"
)

var mnistCGAN = filepath.Join("..", "..", "configs", "mnist-cgan.yaml")

// TestConditionalGANTrainsDeterministicallyAndSamples: the conditional
// config trains end to end; two runs of one seed write identical
// checkpoints; the epoch grid has one row per class; samples of one seed
// asked for two classes share their noise but differ; a class is given
// by name or index, an unknown one is refused listing the classes; without
// a class, each sample's class is drawn (seeded) and every class comes up.
func TestConditionalGANTrainsDeterministicallyAndSamples(t *testing.T) {
	sets := []string{"train.epochs=2", "train.batch_size=100", "train.sample_every=2"}
	var ckpts [][]byte
	var dir string
	for range 2 {
		res, err := Train(context.Background(), TrainOptions{Config: mnistCGAN, Sets: sets, Out: t.TempDir()})
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
	ck, err := train.LoadCheckpoint(filepath.Join(dir, "checkpoints", "last.ckpt"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range ck.Params {
		names = append(names, p.Name)
	}
	for _, want := range []string{"generator/label_embedding/weight", "discriminator/label_embedding/weight"} {
		if !slices.Contains(names, want) {
			t.Errorf("the checkpoint has no %s: %v", want, names)
		}
	}
	// 10 rows of 8 digits of 28×28 zoomed 2×, 2-pixel margins.
	if w, h := pngSize(t, filepath.Join(dir, "plots", "samples-epoch-2.png")); w != 8*58+2 || h != 10*58+2 {
		t.Errorf("the epoch grid is %d×%d pixels, want 8 columns by 10 rows (466×582)", w, h)
	}
	ctx := context.Background()
	gen := func(class string, seed uint64) *Generated {
		t.Helper()
		g, err := GenerateClasses(ctx, GenerateOptions{Run: dir, N: 40, Seed: seed, Class: class})
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	seven, sevenAgain, three := gen("7", 5), gen("7", 5), gen("3", 5)
	if !slices.Equal(seven.Samples, sevenAgain.Samples) || slices.Equal(seven.Samples, three.Samples) {
		t.Error("class 7 twice with one seed gave other samples, or class 3 the same ones")
	}
	if seven.Classes[0] != 7 || seven.Classes[39] != 7 || !slices.Equal(seven.Names, []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}) {
		t.Errorf("classes %v, names %v", seven.Classes, seven.Names)
	}
	mixed, mixedAgain := gen("", 5), gen("", 5)
	if !slices.Equal(mixed.Classes, mixedAgain.Classes) || !slices.Equal(mixed.Samples, mixedAgain.Samples) {
		t.Error("one seed drew other classes or samples")
	}
	seen := map[int]bool{}
	for _, c := range mixed.Classes {
		seen[c] = true
	}
	if len(seen) < 8 {
		t.Errorf("40 samples without a class drew only the classes %v", seen)
	}
	for _, v := range mixed.Samples {
		if v < -1e-3 || v > 255.001 {
			t.Fatalf("sample value %v outside the data's 0–255", v)
		}
	}
	_, _, err = Generate(ctx, GenerateOptions{Run: dir, N: 4, Class: "seven"})
	if !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), `"seven" is not a class`) || !strings.Contains(err.Error(), "0, 1, 2, 3, 4, 5, 6, 7, 8, 9") {
		t.Errorf("an unknown class: %v", err)
	}
	out := t.TempDir()
	err = Sample(ctx, SampleOptions{Run: dir, N: 20, Class: "2", Output: filepath.Join(out, "twos.npy"), Grid: filepath.Join(out, "twos.png")})
	if err != nil {
		t.Fatal(err)
	}
	shape, vals, err := data.ReadNpy(filepath.Join(out, "twos.npy"))
	twos, gerr := GenerateClasses(ctx, GenerateOptions{Run: dir, N: 20, Seed: 1, Class: "2"}) // the run's seed
	if err != nil || gerr != nil || !slices.Equal(shape, []int{20, 784}) || !slices.Equal(vals, twos.Samples) {
		t.Errorf("twos.npy: shape %v, %v, %v; or not the samples of class 2 of the run's seed", shape, err, gerr)
	}
	if err := Sample(ctx, SampleOptions{Run: dir, N: 25, Grid: filepath.Join(out, "all.png")}); err != nil {
		t.Fatal(err)
	}
	if w, h := pngSize(t, filepath.Join(out, "all.png")); w != 3*58+2 || h != 10*58+2 {
		t.Errorf("sample --n 25 --grid of 10 classes is %d×%d pixels, want 3 columns by 10 rows", w, h)
	}
	// A grid's columns share their noise: two rows of one class are the
	// same samples, a row of another class is not.
	exp, ck2, meta, path, err := openRun(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	g, err := generateFrom(sampleRun{exp: exp, ck: ck2, meta: meta, path: path}, GenerateOptions{N: 12, Seed: 5}, nil, []int{3, 3, 5})
	if err != nil {
		t.Fatal(err)
	}
	row := func(r int) []float32 { return g.Samples[r*4*784 : (r+1)*4*784] }
	// Close, not bit-equal: OpenBLAS's gemm may round a batch row by its
	// position in the batch (its kernels block rows), so one input at two
	// positions can differ in the last bits there.
	near := func(a, b []float32) bool {
		for i := range a {
			if d := float64(a[i] - b[i]); d > 1e-3 || d < -1e-3 {
				return false
			}
		}
		return true
	}
	if !near(row(0), row(1)) || near(row(0), row(2)) || !slices.Equal(g.Classes, []int{3, 3, 3, 3, 3, 3, 3, 3, 5, 5, 5, 5}) {
		t.Errorf("grid rows of classes 3, 3, 5: the two rows of 3 differ, or the row of 5 equals them; classes %v", g.Classes)
	}
}

// pngSize is the width and height of a PNG file.
func pngSize(t *testing.T, path string) (int, int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	return b.Dx(), b.Dy()
}

// TestConditionalGANResumeIsExact: a conditional GAN interrupted in the
// middle of an epoch and resumed ends with the weights and metrics of an
// uninterrupted run (the fake classes come from the saved stream too), for
// bce and for wgan_gp.
func TestConditionalGANResumeIsExact(t *testing.T) {
	for _, c := range []struct {
		name string
		sets []string
	}{
		{"bce", nil},
		// wgan_gp: ε and the penalty's labels come from the saved
		// stream and the batch too; two straight runs of one seed are
		// also identical.
		{"wgan_gp", []string{"train.loss=wgan_gp", "train.discriminator.steps=3",
			"model.discriminator=[{type: dense, units: 64, activation: leaky_relu, alpha: 0.2}, {type: dense, units: 1}]"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			testConditionalResume(t, append([]string{"train.epochs=2", "train.batch_size=100", "train.sample_every=0"}, c.sets...)) // 20 steps per epoch
		})
	}
}

// testConditionalResume trains mnist-cgan with sets straight, and
// interrupted at step 27 and resumed, and compares the two; with
// wgan_gp, also a second straight run's checkpoint with the first's.
func testConditionalResume(t *testing.T, sets []string) {
	straight, err := Train(context.Background(), TrainOptions{Config: mnistCGAN, Sets: sets, Out: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(sets, "train.loss=wgan_gp") {
		again, err := Train(context.Background(), TrainOptions{Config: mnistCGAN, Sets: sets, Out: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		a, aerr := os.ReadFile(filepath.Join(straight.Dir, "checkpoints", "last.ckpt"))
		b, berr := os.ReadFile(filepath.Join(again.Dir, "checkpoints", "last.ckpt"))
		if aerr != nil || berr != nil || !bytes.Equal(a, b) {
			t.Errorf("two runs of one seed wrote different checkpoints (%v, %v)", aerr, berr)
		}
	}
	resumeMatches(t, mnistCGAN, sets, 27, straight)
}

// TestConditionalGANPhasesTouchOnlyTheirNetwork: an epoch of the
// discriminator's phase alone changes none of the generator's
// parameters (its label embedding included), and an epoch of the
// generator's phase alone none of the discriminator's; each changes all
// of its own, its label embedding included; for bce and for wgan_gp
// (whose critic phase also differentiates the penalty).
func TestConditionalGANPhasesTouchOnlyTheirNetwork(t *testing.T) {
	for _, loss := range []string{"bce", "wgan_gp"} {
		t.Run(loss, func(t *testing.T) { testConditionalPhaseIsolation(t, loss) })
	}
}

// testConditionalPhaseIsolation runs each phase of a small mnist-cgan of
// the loss alone for an epoch and checks which parameters it changed.
func testConditionalPhaseIsolation(t *testing.T, loss string) {
	exp, err := Load(mnistCGAN, []string{"train.epochs=1", "train.sample_every=0", "train.batch_size=200", "train.loss=" + loss,
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
			changed := func(p *models.Param) bool { return !slices.Equal(models.Float64s(p.Value), before[p.Name]) }
			embeddings := 0
			for _, p := range other {
				if changed(p) {
					t.Errorf("the %s phase changed %s", name, p.Name)
				}
			}
			for _, p := range own {
				// A Wasserstein critic's last bias adds to D(real) and
				// D(fake) alike: its gradient is 0 (in PyTorch too), and
				// Adam leaves it as it was.
				if loss == "wgan_gp" && p.Name == "discriminator/dense2/b" {
					if changed(p) {
						t.Errorf("the wgan_gp critic's last bias moved; its gradient is 0")
					}
					continue
				}
				if !changed(p) {
					t.Errorf("the %s phase left its own %s as it was", name, p.Name)
				}
				if strings.Contains(p.Name, "label_embedding") {
					embeddings++
				}
			}
			if embeddings != 1 {
				t.Errorf("the %s has %d label embeddings, want 1", name, embeddings)
			}
		})
	}
}

// TestConditionalGANPhasesPassGradCheck: both phases' objectives of a
// conditional GAN, with its labels (the real ones from the data, the
// fake ones drawn and frozen), match finite differences over their own
// parameters, each label embedding included; a convolutional
// discriminator reads the labels as constant channels. With wgan_gp the
// critic's objective includes the gradient penalty (ε frozen too).
func TestConditionalGANPhasesPassGradCheck(t *testing.T) {
	for _, c := range []struct {
		name, config string
		sets         []string
	}{
		{"dense", mnistCGAN, []string{"model.latent=4", "model.label_dim=3",
			"model.generator=[{type: dense, units: 8, activation: leaky_relu, alpha: 0.2}, {type: dense, units: 784, activation: tanh}]",
			"model.discriminator=[{type: dense, units: 4, activation: leaky_relu, alpha: 0.2}, {type: dense, units: 1}]"}},
		{"conv", digitsDCGAN, []string{"model.conditional=true", "model.latent=4", "model.label_dim=2", "train.sample_every=0",
			"model.generator=[{type: dense, units: 64, activation: tanh}, {type: reshape, shape: [1, 8, 8]}]",
			"model.discriminator=[{type: conv2d, filters: 3, kernel: 4, stride: 2, padding: 1, activation: leaky_relu, alpha: 0.2}, {type: flatten}, {type: dense, units: 1}]"}},
		// wgan_gp: the penalty of x̂ scored with the real labels, its
		// gradient through the critic's input-gradient graph; with a tanh
		// or sigmoid first layer it reaches the label embedding too.
		{"wgan_gp dense", mnistCGAN, []string{"train.loss=wgan_gp", "model.latent=4", "model.label_dim=3",
			"model.generator=[{type: dense, units: 8, activation: leaky_relu, alpha: 0.2}, {type: dense, units: 784, activation: tanh}]",
			"model.discriminator=[{type: dense, units: 4, activation: tanh}, {type: dense, units: 3, activation: leaky_relu, alpha: 0.2}, {type: dense, units: 1}]"}},
		{"wgan_gp conv", digitsDCGAN, []string{"train.loss=wgan_gp", "model.conditional=true", "model.latent=4", "model.label_dim=2", "train.sample_every=0",
			"model.generator=[{type: dense, units: 64, activation: tanh}, {type: reshape, shape: [1, 8, 8]}]",
			"model.discriminator=[{type: conv2d, filters: 3, kernel: 4, stride: 2, padding: 1, activation: sigmoid}, {type: conv2d, filters: 2, kernel: 3, stride: 2, padding: 1, activation: leaky_relu, alpha: 0.2}, {type: flatten}, {type: dense, units: 1}]"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			rep, err := GradCheck(context.Background(), GradCheckOptions{Config: c.config, Sets: c.sets, MaxElements: 100, Stderr: io.Discard})
			if err != nil {
				t.Fatal(err)
			}
			var checked []string
			worst := 0.0
			for _, r := range rep.Results {
				checked = append(checked, r.Param)
				worst = max(worst, r.RelErr)
			}
			t.Logf("%d parameters, worst relative error %.3g", len(checked), worst)
			for _, want := range []string{"generator/label_embedding/weight", "discriminator/label_embedding/weight"} {
				if !slices.Contains(checked, want) {
					t.Errorf("%s was not checked (checked: %v)", want, checked)
				}
			}
			if err := rep.Err(); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestConditionalGANBadInput: each mistake is a config problem before
// training, naming its key.
func TestConditionalGANBadInput(t *testing.T) {
	for _, c := range []struct {
		name   string
		config string
		sets   []string
		want   []string
	}{
		{"no labels", mnistGAN, []string{"model.conditional=true"}, []string{"data.source", "model.conditional", "idx:IMAGES,LABELS"}},
		{"label_dim without conditional", mnistGAN, []string{"model.label_dim=4"}, []string{"model.label_dim", "conditional GAN only"}},
		{"negative label_dim", mnistCGAN, []string{"model.label_dim=-1"}, []string{"model.label_dim", "got -1"}},
		{"wgan_gp batch norm critic", mnistCGAN, []string{"train.loss=wgan_gp", "model.discriminator=[{type: dense, units: 8}, {type: batchnorm}, {type: dense, units: 1}]"},
			[]string{"model.discriminator[1].type", "batchnorm", "per-sample gradient norm"}},
		{"discriminator shape", mnistCGAN, []string{"model.discriminator=[{type: dense, units: 2}]"}, []string{"model.discriminator", "(794)", "(2)"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Train(context.Background(), TrainOptions{Config: c.config, Sets: append(c.sets, "train.epochs=1"), Out: t.TempDir()})
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

// TestJudgeConditionalGAN: eval --judge on a conditional GAN also scores
// the samples against the classes they were drawn for: every class comes
// up without --class, only the one asked for with it, and the counts add
// up to the samples drawn; the report in judge.json holds it; an unknown
// class is refused.
func TestJudgeConditionalGAN(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a judge and a GAN")
	}
	judge := trainJudge(t, "train.epochs=1")
	ctx := context.Background()
	res, err := Train(ctx, TrainOptions{Config: mnistCGAN, Sets: []string{"train.epochs=1", "train.sample_every=0"}, Out: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	r, err := Judge(ctx, JudgeOptions{Judge: judge, Run: res.Dir, N: 200, Stdout: &text})
	if err != nil {
		t.Fatal(err)
	}
	a := r.ClassAccuracy
	if a == nil || a.N != 200 || len(a.PerClass) != 10 {
		t.Fatalf("class accuracy %+v", a)
	}
	drawn, correct := 0, 0
	for _, d := range a.PerClass {
		drawn, correct = drawn+d.Drawn, correct+d.Correct
	}
	if drawn != 200 || correct != a.Correct || a.Accuracy != float64(a.Correct)/200 {
		t.Errorf("per class: %d drawn, %d right; overall %d right, accuracy %v", drawn, correct, a.Correct, a.Accuracy)
	}
	if !strings.Contains(text.String(), "class accuracy") {
		t.Errorf("the printed report has no class accuracy:\n%s", text.String())
	}
	b, err := os.ReadFile(filepath.Join(res.Dir, "eval", "judge.json"))
	if err != nil || !bytes.Contains(b, []byte(`"class_accuracy"`)) {
		t.Errorf("judge.json: %v\n%s", err, b)
	}
	r, err = Judge(ctx, JudgeOptions{Judge: judge, Run: res.Dir, N: 50, Class: "3"})
	if err != nil {
		t.Fatal(err)
	}
	if a := r.ClassAccuracy; a == nil || a.N != 50 || len(a.PerClass) != 1 || a.PerClass[0].Class != "3" || a.PerClass[0].Drawn != 50 {
		t.Errorf("--class 3: %+v", a)
	}
	if _, err := Judge(ctx, JudgeOptions{Judge: judge, Run: res.Dir, N: 5, Class: "ten"}); !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), "its classes are 0, 1") {
		t.Errorf("an unknown class: %v", err)
	}
}

// TestConditionalGANSummary: the summary lists each network's label
// embedding ([classes, label_dim], label_dim defaulting to the number of
// classes) before its layers, counts them in the total, and shows the
// networks' widened inputs (noise + embedding, pixels + embedding).
func TestConditionalGANSummary(t *testing.T) {
	for _, c := range []struct {
		sets []string
		dim  int
	}{{nil, 10}, {[]string{"model.label_dim=0"}, 10}, {[]string{"model.label_dim=3"}, 3}} {
		s, err := Summary(SummaryOptions{Config: mnistCGAN, Sets: c.sets})
		if err != nil {
			t.Fatal(err)
		}
		var rows []string
		sum := 0
		for _, l := range s.Layers {
			rows = append(rows, l.Name)
			sum += l.Params
		}
		want := []string{"generator/label_embedding", "generator/dense1", "generator/dense2",
			"discriminator/label_embedding", "discriminator/dense1", "discriminator/dense2"}
		if !slices.Equal(rows, want) {
			t.Errorf("label_dim %d: rows %v, want %v", c.dim, rows, want)
		}
		// Embeddings 10×dim each; G: (64+dim)·256+256, 256·784+784; D: (784+dim)·256+256, 256+1.
		params := 2*10*c.dim + (64+c.dim)*256 + 256 + 256*784 + 784 + (784+c.dim)*256 + 256 + 257
		if sum != params || s.Params != params {
			t.Errorf("label_dim %d: rows hold %d parameters, the summary %d; want %d", c.dim, sum, s.Params, params)
		}
	}
}

// TestConditionalGANLearnsTheClasses: after training on the MNIST
// sample, the judge puts the samples in the class they were drawn for
// well above chance (10%), in several classes: the generator follows its
// labels, and the discriminator checks them (a GAN that ignored the
// labels would stay near 10%). On these 2,000 digits the GAN first
// collapses to a few classes and follows its labels only later (class
// accuracy about 0.1 after 15 or 30 epochs, 0.33 after 60), hence the 60
// epochs.
func TestConditionalGANLearnsTheClasses(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a judge, and a GAN for 60 epochs")
	}
	judge := trainJudge(t)
	ctx := context.Background()
	res, err := Train(ctx, TrainOptions{Config: mnistCGAN, Sets: []string{"train.epochs=60", "train.sample_every=0"}, Out: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	followsClasses(t, judge, res.Dir, 0.2, 0.25, 4)
}

var digitsCDCGAN = filepath.Join("..", "..", "configs", "digits-cdcgan.yaml")

// TestConditionalDCGANLearnsTheClasses: configs/digits-cdcgan.yaml (a
// convolutional discriminator reading the label embedding as channels, a
// transposed-convolution generator with batch norm) trains end to end
// with bce and with wgan_gp; its epoch grid has one row of 8×8 digits per
// class; and after 15 epochs of bce a digits CNN puts its samples in
// the class they were drawn for far above chance (10%) (measured with the
// config's 30-epoch judge: 0.28 after 10 epochs, 0.57 after 12, 0.60
// after 15, 0.74–0.88 after the config's 20; docs/gans.md).
func TestConditionalDCGANLearnsTheClasses(t *testing.T) {
	ctx := context.Background()
	res, err := Train(ctx, TrainOptions{Config: digitsCDCGAN, Out: t.TempDir(), Sets: []string{"train.epochs=1", "train.sample_every=1",
		"train.loss=wgan_gp", "train.discriminator.steps=2"}})
	if err != nil {
		t.Fatal(err)
	}
	// 10 rows of 8 digits of 8×8 zoomed 7×, 2-pixel margins.
	if w, h := pngSize(t, filepath.Join(res.Dir, "plots", "samples-epoch-1.png")); w != 8*58+2 || h != 10*58+2 {
		t.Errorf("the epoch grid is %d×%d pixels, want 8 columns by 10 rows (466×582)", w, h)
	}
	if testing.Short() {
		t.Skip("trains a digits judge and the GAN for 15 epochs")
	}
	judge, err := Train(ctx, TrainOptions{Config: filepath.Join("..", "..", "configs", "digits-cnn.yaml"), Out: t.TempDir(), Sets: []string{"train.epochs=10"}})
	if err != nil {
		t.Fatal(err)
	}
	res, err = Train(ctx, TrainOptions{Config: digitsCDCGAN, Out: t.TempDir(), Sets: []string{"train.epochs=15", "train.sample_every=0"}})
	if err != nil {
		t.Fatal(err)
	}
	followsClasses(t, judge.Dir, res.Dir, 0.4, 0.5, 5)
}

// followsClasses judges 500 samples (seed 2) of the conditional GAN run
// with the classifier run judge, and fails the test unless their class
// accuracy is at least acc and more than n-1 classes are above perClass.
func followsClasses(t *testing.T, judge, run string, acc, perClass float64, n int) {
	t.Helper()
	r, err := Judge(context.Background(), JudgeOptions{Judge: judge, Run: run, N: 500, Seed: 2, SeedSet: true})
	if err != nil {
		t.Fatal(err)
	}
	a := r.ClassAccuracy
	above := 0
	for _, d := range a.PerClass {
		if d.Accuracy > perClass {
			above++
		}
	}
	t.Logf("class accuracy %.3f (%d/%d), confident and right %d; %d classes above %g", a.Accuracy, a.Correct, a.N, a.ConfidentCorrect, above, perClass)
	if a.Accuracy < acc || above < n {
		t.Errorf("class accuracy %.3f, %d classes above %g: the samples do not follow their classes", a.Accuracy, above, perClass)
	}
}
