package run

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/data"
	"github.com/dltrain/dltrain/pkg/eval"
)

// judgeConfig is the shipped judge: a LeNet on the MNIST sample of
// testdata, whose test split is the 500 t10k digits there.
const judgeConfig = "../../configs/mnist8k-lenet-judge.yaml"

// trainJudge trains the shipped judge config briefly; sets change it.
func trainJudge(t *testing.T, sets ...string) string {
	t.Helper()
	res, err := Train(context.Background(), TrainOptions{Config: judgeConfig, Out: t.TempDir(),
		Sets: append([]string{"train.epochs=4"}, sets...)})
	if err != nil {
		t.Fatal(err)
	}
	return res.Dir
}

// t10kSample reads the shipped t10k digits (the judge's test split) in
// pixel units, [500, 784].
func t10kSample(t *testing.T) []float32 {
	t.Helper()
	f, err := os.Open("../../testdata/mnist/t10k-images-idx3-ubyte.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(z)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, len(b)-16)
	for i, v := range b[16:] {
		x[i] = float32(v)
	}
	return x
}

// writeSamples writes samples as a .npy file under dir.
func writeSamples(t *testing.T, dir, name string, shape []int, x []float32) string {
	t.Helper()
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := data.WriteNpy(f, shape, x); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestJudge scores known samples with a LeNet trained on digits: its own
// test digits, given as a samples file, score exactly as its test split
// (the saved preprocessing equals the data path's); uniform noise falls
// in few classes and blank images are never confident; any layout of 784 values per sample is read, another
// count is refused naming both shapes.
func TestJudge(t *testing.T) {
	judge := trainJudge(t)
	dir := t.TempDir()
	digits := t10kSample(t)
	realFile := writeSamples(t, dir, "real.npy", []int{500, 784}, digits)
	rng := rand.New(rand.NewPCG(1, 2))
	noise := make([]float32, 500*784)
	for i := range noise {
		noise[i] = 255 * rng.Float32()
	}
	noiseFile := writeSamples(t, dir, "noise.npy", []int{500, 784}, noise)
	ctx := context.Background()

	t.Run("its test digits score as its test split", func(t *testing.T) {
		r, err := Judge(ctx, JudgeOptions{Judge: judge, Samples: realFile})
		if err != nil {
			t.Fatal(err)
		}
		got, want := r.Samples, r.Real
		got.Source, want.Source = "", ""
		if !reflect.DeepEqual(got, want) {
			t.Errorf("the test digits as samples:\n%+v\nas the test split:\n%+v", got, want)
		}
		if r.Real.N != 500 || r.Real.ConfidentShare < 0.5 || r.Real.Coverage != 10 {
			t.Errorf("real digits: n %d, confident %.3f, coverage %d; want 500, ≥ 0.5, 10", r.Real.N, r.Real.ConfidentShare, r.Real.Coverage)
		}
		b, err := os.ReadFile(filepath.Join(dir, "judge.json"))
		if err != nil {
			t.Fatal(err)
		}
		var saved eval.JudgeReport
		if err := json.Unmarshal(b, &saved); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(&saved, r) {
			t.Errorf("judge.json holds\n%+v\nthe report is\n%+v", saved, *r)
		}
	})

	// A softmax classifier is often confident about what it never saw
	// (the 8,000-digit judge calls 94% of uniform noise an 8): coverage,
	// not confidence, is what tells noise from digits.
	t.Run("uniform noise covers few classes", func(t *testing.T) {
		r, err := Judge(ctx, JudgeOptions{Judge: judge, Samples: noiseFile, Output: filepath.Join(dir, "noise-judge.json")})
		if err != nil {
			t.Fatal(err)
		}
		if s := r.Samples; s.N != 500 || s.Coverage > 3 {
			t.Errorf("noise: n %d, coverage %d (%v), confident %.3f", s.N, s.Coverage, s.Covered, s.ConfidentShare)
		}
		if _, err := os.Stat(filepath.Join(dir, "noise-judge.json")); err != nil {
			t.Errorf("--output: %v", err)
		}
	})

	t.Run("blank images are not confident", func(t *testing.T) {
		file := writeSamples(t, t.TempDir(), "blank.npy", []int{100, 784}, make([]float32, 100*784))
		r, err := Judge(ctx, JudgeOptions{Judge: judge, Samples: file})
		if err != nil {
			t.Fatal(err)
		}
		if s := r.Samples; s.N != 100 || s.Confident != 0 || s.Coverage != 1 {
			t.Errorf("blank: n %d, confident %d, coverage %d", s.N, s.Confident, s.Coverage)
		}
	})

	t.Run("thresholds", func(t *testing.T) {
		strict, err := Judge(ctx, JudgeOptions{Judge: judge, Samples: realFile, Confidence: 0.99, MinShare: 0.12})
		if err != nil {
			t.Fatal(err)
		}
		loose, err := Judge(ctx, JudgeOptions{Judge: judge, Samples: realFile, Confidence: 0.5})
		if err != nil {
			t.Fatal(err)
		}
		if !(strict.Samples.Confident < loose.Samples.Confident) || strict.Samples.Coverage >= 10 || strict.Confidence != 0.99 {
			t.Errorf("confidence 0.99: %d confident, %d classes covered at 12%%; confidence 0.5: %d", strict.Samples.Confident, strict.Samples.Coverage, loose.Samples.Confident)
		}
		for _, o := range []JudgeOptions{{Confidence: 1}, {Confidence: -0.5}, {MinShare: 1.5}} {
			o.Judge, o.Samples = judge, realFile
			if _, err := Judge(ctx, o); !errors.Is(err, config.ErrInvalid) {
				t.Errorf("%+v: %v", o, err)
			}
		}
	})

	for _, c := range []struct {
		name  string
		shape []int
		bad   string // a part of the error; "" when accepted
	}{
		{"flat", []int{500, 784}, ""},
		{"images", []int{500, 28, 28}, ""},
		{"channels", []int{500, 1, 28, 28}, ""},
		{"other count", []int{500, 28, 27}, "samples of shape [28 27] (756 values); the judge " + judge + " takes samples of shape [1 28 28] (784 values)"},
		{"no sample shape", []int{500 * 784}, "the samples have shape [392000]; the judge " + judge + " takes samples of shape [1 28 28]"},
	} {
		t.Run("shape "+c.name, func(t *testing.T) {
			n := 1
			for _, d := range c.shape {
				n *= d
			}
			file := writeSamples(t, t.TempDir(), "s.npy", c.shape, digits[:n])
			_, err := Judge(ctx, JudgeOptions{Judge: judge, Samples: file})
			switch {
			case c.bad == "" && err != nil:
				t.Errorf("refused: %v", err)
			case c.bad != "" && (!errors.Is(err, data.ErrBadData) || !strings.Contains(err.Error(), c.bad)):
				t.Errorf("got %v, want an ErrBadData with %q", err, c.bad)
			}
		})
	}

	t.Run("a classifier as the GAN run", func(t *testing.T) {
		_, err := Judge(ctx, JudgeOptions{Judge: judge, Run: judge, N: 10})
		if !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), "needs a GAN run") ||
			!strings.Contains(err.Error(), "data.task: classification") {
			t.Errorf("got %v", err)
		}
	})

	t.Run("samples and a run", func(t *testing.T) {
		for _, o := range []JudgeOptions{{Samples: realFile, Run: judge, N: 10}, {}, {Run: judge}} {
			o.Judge = judge
			if _, err := Judge(ctx, o); !errors.Is(err, config.ErrInvalid) {
				t.Errorf("%+v: %v", o, err)
			}
		}
	})
}

// TestJudgeRefusals: a judge that does not classify is refused naming its
// task; a judge without a test split is refused, since its scores of
// generated samples would have nothing real to stand next to.
func TestJudgeRefusals(t *testing.T) {
	ctx := context.Background()
	samples := writeSamples(t, t.TempDir(), "s.npy", []int{500, 784}, t10kSample(t))
	t.Run("regression", func(t *testing.T) {
		res, err := Train(ctx, TrainOptions{Config: "../../configs/penguins-mass-regression.yaml", Out: t.TempDir(), Sets: []string{"train.epochs=1"}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = Judge(ctx, JudgeOptions{Judge: res.Dir, Samples: samples})
		if !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), "is a regression run (data.task: regression)") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("no test split", func(t *testing.T) {
		judge := trainJudge(t, "train.epochs=1", "data.split.test=0",
			"data.source=idx:../testdata/mnist/train-images-idx3-ubyte.gz,../testdata/mnist/train-labels-idx1-ubyte.gz")
		_, err := Judge(ctx, JudgeOptions{Judge: judge, Samples: samples})
		if !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), "has no test split") {
			t.Errorf("got %v", err)
		}
	})
}
