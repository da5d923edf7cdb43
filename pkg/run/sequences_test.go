package run

import (
	"bytes"
	"context"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/data"
)

// majority is the test accuracy of always predicting the test split's
// most frequent class.
func majority(t *testing.T, cfg string) float64 {
	t.Helper()
	exp, err := Load(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ds, _, err := data.Load(exp)
	if err != nil {
		t.Fatal(err)
	}
	count := map[float32]int{}
	for _, y := range ds.Test.Y {
		count[y]++
	}
	most := 0
	for _, n := range count {
		most = max(most, n)
	}
	return float64(most) / float64(ds.Test.N)
}

// TestAustenTextClassifiers trains the shipped text classifiers on the
// Austen passages (configs/austen-*.yaml; short budgets here), checks that
// each beats the majority class on the test split, that eval of the run
// gives the training's test accuracy again, and that predict reads new
// texts from a CSV with the text column (one of them all unseen words).
func TestAustenTextClassifiers(t *testing.T) {
	if testing.Short() {
		t.Skip("trains three text classifiers")
	}
	input := filepath.Join(t.TempDir(), "new.csv")
	texts := "text,id\n\"Mr. Darcy and Elizabeth walked on to Longbourn.\",1\n\"Zyx qwv, plorf!\",2\n"
	if err := os.WriteFile(input, []byte(texts), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		config string
		epochs string
		want   float64 // test accuracy the short run must exceed
	}{
		{"austen-bag-of-words.yaml", "6", 0.4},
		{"austen-bilstm.yaml", "4", 0.3},
		{"austen-transformer.yaml", "3", 0.25},
	} {
		t.Run(c.config, func(t *testing.T) {
			cfg := filepath.Join("..", "..", "configs", c.config)
			base := majority(t, cfg)
			res, err := Train(context.Background(), TrainOptions{Config: cfg, Out: t.TempDir(), Sets: []string{"train.epochs=" + c.epochs},
				Stdout: io.Discard, Stderr: io.Discard})
			if err != nil {
				t.Fatal(err)
			}
			acc := res.Report.Classification.Accuracy
			t.Logf("%s epochs: test accuracy %.4f; majority class %.4f", c.epochs, acc, base)
			if acc <= c.want || acc <= base {
				t.Errorf("test accuracy %.4f, want > %.2f and > the majority class's %.4f", acc, c.want, base)
			}
			rep, err := Eval(context.Background(), EvalOptions{Run: res.Dir, Split: "test", Stdout: io.Discard})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Classification.Accuracy != acc {
				t.Errorf("eval gives test accuracy %.4f, training gave %.4f", rep.Classification.Accuracy, acc)
			}
			var out bytes.Buffer
			var notes []string
			preds, err := Predict(context.Background(), PredictOptions{Run: res.Dir, Input: input, Stdout: &out,
				Logf: func(format string, args ...any) { notes = append(notes, format) }})
			if err != nil {
				t.Fatal(err)
			}
			novels := []string{"emma", "mansfield_park", "northanger_abbey", "persuasion", "pride_and_prejudice", "sense_and_sensibility"}
			if len(preds) != 2 || !slices.Contains(novels, preds[0].Predicted) || preds[1].Input != "line 3" {
				t.Fatalf("predictions %+v", preds)
			}
			var sum float64
			for _, p := range preds[0].Probabilities {
				sum += p
			}
			if math.Abs(sum-1) > 1e-5 || !strings.Contains(out.String(), "pride_and_prejudice") {
				t.Errorf("probabilities sum to %v; output:\n%s", sum, out.String())
			}
			if len(notes) == 0 {
				t.Error("predict noted nothing about unknown tokens")
			}
		})
	}
}

// sequenceArrays writes a seeded sequence task as npy arrays [N, T, F]:
// class 1 when the first feature rises over the sequence (its last half
// sums higher than its first half), and as regression target that
// difference; the second feature is noise.
func sequenceArrays(t *testing.T, dir string) {
	t.Helper()
	const n, steps, f = 400, 12, 2
	rng := rand.New(rand.NewPCG(3, 9))
	x := make([]float32, n*steps*f)
	cls, reg := make([]float32, n), make([]float32, n)
	for i := range n {
		slope := rng.Float64()*2 - 1
		var d float64
		for s := range steps {
			v := slope*float64(s)/steps + 0.3*rng.NormFloat64()
			x[(i*steps+s)*f] = float32(v)
			x[(i*steps+s)*f+1] = float32(rng.NormFloat64())
			if s < steps/2 {
				d -= v
			} else {
				d += v
			}
		}
		reg[i] = float32(d)
		if d > 0 {
			cls[i] = 1
		}
	}
	for name, a := range map[string]struct {
		shape []int
		v     []float32
	}{"x.npy": {[]int{n, steps, f}, x}, "class.npy": {[]int{n}, cls}, "reg.npy": {[]int{n}, reg}} {
		w, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := data.WriteNpy(w, a.shape, a.v); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSequenceArrays: npy arrays [N, T, F] are the input of recurrent
// models as they are (samples [T, F]), for classification (a GRU's last
// state) and regression (a bidirectional LSTM); each beats the trivial
// answer on the test split (the majority class; the training mean's MSE,
// R² > 0).
func TestSequenceArrays(t *testing.T) {
	if testing.Short() {
		t.Skip("trains two recurrent models")
	}
	dir := t.TempDir()
	sequenceArrays(t, dir)
	cfg := filepath.Join(dir, "c.yaml")
	write := func(yaml string) {
		if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(`name: arrays-gru
seed: 1
data: {source: "npy:x.npy,class.npy", task: classification, split: {train: 0.7, val: 0.15, test: 0.15}}
model: {layers: [{type: gru, units: 16}, {type: dense, units: 2}]}
train: {epochs: 15, batch_size: 32, optimizer: {kind: adam, lr: 0.01}}
`)
	base := majority(t, cfg)
	res, err := Train(context.Background(), TrainOptions{Config: cfg, Out: dir, Stdout: io.Discard, Stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	acc := res.Report.Classification.Accuracy
	t.Logf("GRU on [N, 12, 2] arrays: test accuracy %.4f; majority class %.4f", acc, base)
	if acc < base+0.2 {
		t.Errorf("test accuracy %.4f, want at least the majority class's %.4f + 0.2", acc, base)
	}
	write(`name: arrays-lstm
seed: 1
data: {source: "npy:x.npy,reg.npy", task: regression, split: {train: 0.7, val: 0.15, test: 0.15}}
model: {layers: [{type: lstm, units: 16, bidirectional: true}, {type: dense, units: 1}]}
train: {epochs: 15, batch_size: 32, loss: mse, optimizer: {kind: adam, lr: 0.01}}
`)
	res, err = Train(context.Background(), TrainOptions{Config: cfg, Out: dir, Stdout: io.Discard, Stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	r := res.Report.Regression
	t.Logf("bidirectional LSTM regression on [N, 12, 2] arrays: test MSE %.4f, R² %.4f", r.MSE, r.R2)
	if r.R2 < 0.5 {
		t.Errorf("test R² %.4f, want >= 0.5", r.R2)
	}
}
