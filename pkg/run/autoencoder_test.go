package run

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dltrain/dltrain/pkg/config"
)

// TestAutoencodersBeatPCA trains each shipped autoencoder config and
// checks that its test MSE is below that of PCA with as many components
// as its code, fitted on the same training split. Epochs are cut where
// the shipped count takes long; the comparison still has to hold.
func TestAutoencodersBeatPCA(t *testing.T) {
	if testing.Short() {
		t.Skip("trains four autoencoders for a few seconds each")
	}
	for _, tc := range []struct {
		config     string
		sets       []string
		components int
	}{
		{"digits-autoencoder.yaml", nil, 16},
		{"digits-denoising-autoencoder.yaml", []string{"train.epochs=60"}, 16},
		{"digits-conv-autoencoder.yaml", []string{"train.epochs=20"}, 16},
		{"mnist-autoencoder.yaml", []string{"train.epochs=40", "train.optimizer.lr=0.003"}, 32},
	} {
		t.Run(tc.config, func(t *testing.T) {
			start := time.Now()
			res, err := Train(context.Background(), TrainOptions{Config: filepath.Join("..", "..", "configs", tc.config), Sets: tc.sets,
				Out: t.TempDir(), Stdout: io.Discard, Stderr: io.Discard})
			if err != nil {
				t.Fatal(err)
			}
			r := res.Report.Reconstruction
			if r == nil || r.PCA == nil {
				t.Fatalf("no reconstruction report with a PCA baseline: %+v", res.Report)
			}
			t.Logf("test MSE %.5f, PCA (%d components) %.5f: %.1f%% of PCA's, after %v", r.MSE, r.PCA.Components, r.PCA.MSE, 100*r.MSE/r.PCA.MSE,
				time.Since(start).Round(time.Millisecond))
			if r.PCA.Components != tc.components {
				t.Errorf("PCA has %d components, want the code's %d", r.PCA.Components, tc.components)
			}
			if !(r.MSE < r.PCA.MSE) {
				t.Errorf("test MSE %.5f does not beat PCA's %.5f", r.MSE, r.PCA.MSE)
			}
			if res.Report.Metrics()["mse"] != r.MSE || !(r.MAE > 0) {
				t.Errorf("metrics %v", res.Report.Metrics())
			}
		})
	}
}

// TestAutoencoderBadInputIsRefusedBeforeTraining: each mistake is a config
// error (exit 2) naming the key and, for shapes, both shapes, and no run
// directory is created.
func TestAutoencoderBadInputIsRefusedBeforeTraining(t *testing.T) {
	const base = `
name: bad
data:
  source: builtin:digits
  task: reconstruction
  shape: [1, 8, 8]
  preprocess: {scale: minmax}
  split: {train: 0.7, val: 0.15, test: 0.15}
model:
  kind: autoencoder
  encoder: [{type: flatten}, {type: dense, units: 16}]
  decoder: [{type: dense, units: 64}, {type: reshape, shape: [1, 8, 8]}]
train: {epochs: 1, loss: mse}
`
	for _, tc := range []struct {
		name, from, to string
		want           []string
	}{
		{"label column", "task: reconstruction", "task: reconstruction\n  label: label", []string{"data.label", "no label column"}},
		{"decoder shape", "{type: dense, units: 64}, {type: reshape, shape: [1, 8, 8]}", "{type: dense, units: 32}",
			[]string{"model.decoder", "(16)", "(32)", "(1, 8, 8)"}},
		{"corrupt kind", "train: {epochs", "  corrupt: {kind: salt, rate: 0.1}\ntrain: {epochs", []string{"model.corrupt.kind", `unknown corruption "salt"`, "gaussian, mask"}},
		{"upsampling size", "encoder: [{type: flatten}, {type: dense, units: 16}]\n  decoder: [{type: dense, units: 64}, {type: reshape, shape: [1, 8, 8]}]",
			"encoder: [{type: conv2d, filters: 4, kernel: 3}, {type: maxpool2d, size: 2}]\n" +
				"  decoder: [{type: upsample2d, scale: 2}, {type: conv2d, filters: 1, kernel: 3, padding: same}]",
			[]string{"model.decoder", "(4, 3, 3)", "(1, 6, 6)", "(1, 8, 8)", "upsampling returns 6×6 images, not 8×8"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := strings.Replace(base, tc.from, tc.to, 1)
			if text == base {
				t.Fatal("the case changes nothing")
			}
			out := t.TempDir()
			_, err := Train(context.Background(), TrainOptions{Config: writeConfig(t, text), Out: out, Stdout: io.Discard, Stderr: io.Discard})
			if !errors.Is(err, config.ErrInvalid) {
				t.Fatalf("error %v, want a config error (exit 2)", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not hold %q", err, w)
				}
			}
			if entries, _ := os.ReadDir(out); len(entries) > 0 {
				t.Errorf("a run directory was created: %v", entries)
			}
		})
	}
}

// TestGradCheckAutoencoders checks the gradient of every parameter of each
// autoencoder kind, dense, convolutional and denoising (on corrupted
// inputs against clean targets), against finite differences.
func TestGradCheckAutoencoders(t *testing.T) {
	for _, tc := range []struct {
		config  string
		params  int // trainable tensors
		corrupt bool
	}{
		{"digits-autoencoder.yaml", 8, false},
		{"digits-conv-autoencoder.yaml", 10, false},
		{"digits-denoising-autoencoder.yaml", 8, true},
		{"mnist-autoencoder.yaml", 8, true},
	} {
		t.Run(tc.config, func(t *testing.T) {
			var out, notes strings.Builder
			rep, err := GradCheck(context.Background(), GradCheckOptions{Config: filepath.Join("..", "..", "configs", tc.config),
				Samples: 3, MaxElements: 25, Stdout: &out, Stderr: &notes})
			if err != nil {
				t.Fatalf("%v\n%s", err, out.String())
			}
			if len(rep.Results) != tc.params {
				t.Errorf("%d parameters checked, want %d", len(rep.Results), tc.params)
			}
			if w := rep.Worst(); !(w.RelErr <= 1e-6) || w.MaxGrad == 0 {
				t.Errorf("worst: %+v", w)
			}
			if got := strings.Contains(notes.String(), "corrupted the inputs"); got != tc.corrupt {
				t.Errorf("corrupted: %v, want %v; notes: %s", got, tc.corrupt, notes.String())
			}
		})
	}
}
