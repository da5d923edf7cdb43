package run

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/train"
)

// augmentYAML trains a small CNN on the digits as 1×8×8 images with
// flips and shifts, dropout, Adam, and a partial last batch.
const augmentYAML = `
name: augment
seed: 4
data: {source: builtin:digits, shape: [1, 8, 8]}
augment:
  - flip
  - {kind: shift, max_pixels: 1}
model:
  kind: cnn
  layers:
    - {type: conv2d, filters: 4, kernel: 3, padding: same, activation: relu}
    - {type: maxpool2d, size: 2}
    - {type: flatten}
    - {type: dropout, rate: 0.2}
    - {type: dense, units: 10}
train:
  epochs: 3
  batch_size: 50
  optimizer: {kind: adam, lr: 0.01}
`

// TestResumeIsExactWithAugment: augmentation has no state to save, so a
// run interrupted in the middle of epoch 2 and resumed ends with the
// same weights, metrics and test loss as one run straight; and the
// augmentation is really applied (a run without it ends elsewhere).
func TestResumeIsExactWithAugment(t *testing.T) {
	cfg := writeConfig(t, augmentYAML)
	straight, err := Train(context.Background(), TrainOptions{Config: cfg, Out: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := t.TempDir()
	// 1,259 training samples in batches of 50: 26 steps per epoch.
	if _, err := Train(ctx, TrainOptions{Config: cfg, Out: out, Hooks: []train.Hook{&stopAt{step: 37, cancel: cancel}}}); !errors.Is(err, train.ErrInterrupted) {
		t.Fatalf("interrupted run: %v", err)
	}
	var log bytes.Buffer
	resumed, err := Train(context.Background(), TrainOptions{Config: cfg, Out: out, Resume: "auto", Stderr: &log})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "resuming") {
		t.Fatalf("did not resume:\n%s", log.String())
	}
	last := func(dir string) *train.Checkpoint {
		ck, err := train.LoadCheckpoint(filepath.Join(dir, "checkpoints", "last.ckpt"))
		if err != nil {
			t.Fatal(err)
		}
		return ck
	}
	if !sameParams(last(straight.Dir).Params, last(resumed.Dir).Params) {
		t.Error("the resumed run's weights differ from the straight run's")
	}
	if a, b := metricsWithoutTime(t, straight.Dir), metricsWithoutTime(t, resumed.Dir); a != b {
		t.Errorf("metrics differ:\nstraight\n%s\nresumed\n%s", a, b)
	}
	if straight.Report.Loss != resumed.Report.Loss {
		t.Errorf("test loss %v straight, %v resumed", straight.Report.Loss, resumed.Report.Loss)
	}
	plain, err := Train(context.Background(), TrainOptions{Config: writeConfig(t, strings.Replace(augmentYAML,
		"augment:\n  - flip\n  - {kind: shift, max_pixels: 1}\n", "", 1)), Out: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if sameParams(last(straight.Dir).Params, last(plain.Dir).Params) {
		t.Error("training with augmentation ended with the weights of training without")
	}
}

// TestEvalIgnoresAugment: evaluating a checkpoint gives the same report
// whatever the run's augment list says: eval never augments.
func TestEvalIgnoresAugment(t *testing.T) {
	res, err := Train(context.Background(), TrainOptions{Config: writeConfig(t, augmentYAML), Out: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	report := func() string {
		var b bytes.Buffer
		if _, err := Eval(context.Background(), EvalOptions{Run: res.Dir, Checkpoint: "last", Split: "val", Stdout: &b, JSON: true}); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	with := report()
	cfg := filepath.Join(res.Dir, "config.yaml")
	text, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	other := strings.Replace(string(text), "max_pixels: 1", "max_pixels: 3", 1)
	if other == string(text) {
		t.Fatalf("no shift in the saved config:\n%s", text)
	}
	if err := os.WriteFile(cfg, []byte(other), 0o644); err != nil {
		t.Fatal(err)
	}
	if without := report(); with != without {
		t.Errorf("the report changed with the augment list:\n%s\n%s", with, without)
	}
}

// TestAugmentShapeErrorWritesNothing: an op that needs images, on
// samples that are not, is a config error naming its key, found before
// the run directory is made.
func TestAugmentShapeErrorWritesNothing(t *testing.T) {
	cfg := writeConfig(t, `
name: flat
data: {source: builtin:digits}
augment: [{kind: noise, std: 0.1}, flip]
model: {layers: [{type: dense, units: 10}]}
`)
	out := t.TempDir()
	_, err := Train(context.Background(), TrainOptions{Config: cfg, Out: out})
	if !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), "augment[1]") || !strings.Contains(err.Error(), "[64]") {
		t.Fatalf("got %v, want a config error at augment[1] naming the shape [64]", err)
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("%d entries written under %s", len(entries), out)
	}
}
