package run

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/data"
	"github.com/dltrain/dltrain/pkg/train"
)

// resumeYAML trains the digits with everything that carries state across a
// resume: dropout (RNG stream), Adam moments, a reduce-on-plateau schedule
// after a warm-up, early stopping counters, L2, and an odd batch size so
// the epoch ends on a partial batch.
const resumeYAML = `
name: resume
seed: 3
data: {source: builtin:digits}
model:
  layers:
    - {type: dense, units: 32, activation: relu}
    - {type: dropout, rate: 0.3}
    - {type: dense, units: 10}
train:
  epochs: 6
  batch_size: 50
  optimizer: {kind: adam, lr: 0.01}
  schedule: {kind: reduce_on_plateau, patience: 0, factor: 0.5, warmup_steps: 10}
  regularization: {l2: 1.0e-4}
  early_stopping: {patience: 5}
  checkpoint: {metric: val_accuracy}
`

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "exp.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// resumeMatches trains cfg with sets interrupted after step and resumed,
// and checks that the resumed run ends with the weights and metrics of
// straight, an uninterrupted run of the same cfg and sets; it returns
// the resumed run.
func resumeMatches(t *testing.T, cfg string, sets []string, step int64, straight *TrainResult) *TrainResult {
	t.Helper()
	out := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first, err := Train(ctx, TrainOptions{Config: cfg, Sets: sets, Out: out, Hooks: []train.Hook{&stopAt{step: step, cancel: cancel}}})
	if !errors.Is(err, train.ErrInterrupted) {
		t.Fatalf("interrupted run: %v", err)
	}
	resumed, err := Train(context.Background(), TrainOptions{Config: cfg, Sets: sets, Out: out, Resume: first.Dir})
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
	if x, y := metricsWithoutTime(t, straight.Dir), metricsWithoutTime(t, resumed.Dir); x != y {
		t.Errorf("metrics differ:\nstraight\n%s\nresumed\n%s", x, y)
	}
	return resumed
}

// stopAt cancels the run after a chosen optimizer step, as SIGTERM does.
type stopAt struct {
	train.NopHook
	step   int64
	cancel func()
}

func (s *stopAt) AfterStep(l *train.Loop, _ train.StepStats) error {
	if l.State.Step == s.step {
		s.cancel()
	}
	return nil
}

// TestResumeIsExact: 6 epochs straight, and the same run interrupted in
// the middle of epoch 4 then resumed with --resume auto, end with
// bit-identical checkpoints (weights, optimizer state, loop state) and the
// same metrics rows.
func TestResumeIsExact(t *testing.T) {
	cfg := writeConfig(t, resumeYAML)
	straightOut, resumedOut := t.TempDir(), t.TempDir()
	straight, err := Train(context.Background(), TrainOptions{Config: cfg, Out: straightOut})
	if err != nil {
		t.Fatal(err)
	}

	// 1,259 training samples in batches of 50: 26 steps per epoch; step 90
	// is in the middle of epoch 4.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var log bytes.Buffer
	first, err := Train(ctx, TrainOptions{Config: cfg, Out: resumedOut, Stderr: &log, Hooks: []train.Hook{&stopAt{step: 90, cancel: cancel}}})
	if !errors.Is(err, train.ErrInterrupted) {
		t.Fatalf("interrupted run: %v", err)
	}
	ck, err := train.LoadCheckpoint(filepath.Join(first.Dir, "checkpoints", "last.ckpt"))
	if err != nil {
		t.Fatal(err)
	}
	if ck.State.Epoch != 3 || ck.State.Batch == 0 || ck.State.Step != 90 {
		t.Fatalf("interrupted at epoch %d batch %d step %d, want in the middle of epoch 4 at step 90", ck.State.Epoch+1, ck.State.Batch, ck.State.Step)
	}
	resumed, err := Train(context.Background(), TrainOptions{Config: cfg, Out: resumedOut, Resume: "auto", Stderr: &log})
	if err != nil {
		t.Fatal(err)
	}
	if resumed.Dir != first.Dir {
		t.Fatalf("resumed in %s, not in the interrupted run %s", resumed.Dir, first.Dir)
	}
	if !strings.Contains(log.String(), "resuming") {
		t.Errorf("the log does not say it resumed:\n%s", log.String())
	}
	for _, name := range []string{"last.ckpt", "best.ckpt"} {
		a, err := train.LoadCheckpoint(filepath.Join(straight.Dir, "checkpoints", name))
		if err != nil {
			t.Fatal(err)
		}
		b, err := train.LoadCheckpoint(filepath.Join(resumed.Dir, "checkpoints", name))
		if err != nil {
			t.Fatal(err)
		}
		if !sameParams(a.Params, b.Params) {
			t.Errorf("%s: the resumed run's weights differ from the straight run's", name)
		}
		if !samePhases(a.Phases, b.Phases) {
			t.Errorf("%s: optimizer state differs", name)
		}
		if a.State.Step != b.State.Step || a.State.Epoch != b.State.Epoch || a.State.BestEpoch != b.State.BestEpoch ||
			a.State.Stop != b.State.Stop && !(math.IsNaN(a.State.Stop.Best) && math.IsNaN(b.State.Stop.Best)) ||
			a.State.Schedule.LR != b.State.Schedule.LR && !(math.IsNaN(a.State.Schedule.LR) && math.IsNaN(b.State.Schedule.LR)) {
			t.Errorf("%s: loop state differs:\n%+v\n%+v", name, a.State, b.State)
		}
		if !bytes.Equal(a.RNG["dropout"], b.RNG["dropout"]) {
			t.Errorf("%s: dropout stream differs", name)
		}
	}
	if a, b := metricsWithoutTime(t, straight.Dir), metricsWithoutTime(t, resumed.Dir); a != b {
		t.Errorf("metrics differ:\nstraight\n%s\nresumed\n%s", a, b)
	}
	if straight.Report.Loss != resumed.Report.Loss {
		t.Errorf("test loss %v straight, %v resumed", straight.Report.Loss, resumed.Report.Loss)
	}
}

func sameParams(a, b []train.TensorRecord) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || len(a[i].F32) != len(b[i].F32) || len(a[i].F64) != len(b[i].F64) {
			return false
		}
		for j := range a[i].F32 {
			if math.Float32bits(a[i].F32[j]) != math.Float32bits(b[i].F32[j]) {
				return false
			}
		}
		for j := range a[i].F64 {
			if math.Float64bits(a[i].F64[j]) != math.Float64bits(b[i].F64[j]) {
				return false
			}
		}
	}
	return true
}

// samePhases reports whether two checkpoints hold the same optimizer
// state (step count, every buffer's bits) for the same phases, in order.
func samePhases(a, b []train.PhaseState) bool {
	if len(a) != len(b) || len(a) == 0 {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || a[i].Optimizer.Steps != b[i].Optimizer.Steps || len(a[i].Optimizer.Buffers) == 0 ||
			!sameBuffers(a[i].Optimizer.Buffers, b[i].Optimizer.Buffers) {
			return false
		}
	}
	return true
}

func sameBuffers(a, b map[string][]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w := b[k]
		if len(v) != len(w) {
			return false
		}
		for i := range v {
			if math.Float64bits(v[i]) != math.Float64bits(w[i]) {
				return false
			}
		}
	}
	return true
}

// metricsWithoutTime returns metrics.csv without its elapsed_s column.
func metricsWithoutTime(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "metrics.csv"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		out = append(out, line[:strings.LastIndexByte(line, ',')])
	}
	return strings.Join(out, "\n")
}

func TestResumeRefusesAnotherExperiment(t *testing.T) {
	cfg := writeConfig(t, resumeYAML)
	out := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	first, err := Train(ctx, TrainOptions{Config: cfg, Out: out, Hooks: []train.Hook{&stopAt{step: 3, cancel: cancel}}})
	if !errors.Is(err, train.ErrInterrupted) {
		t.Fatal(err)
	}
	_, err = Train(context.Background(), TrainOptions{Config: cfg, Sets: []string{"train.optimizer.lr=0.1"}, Resume: first.Dir})
	if !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), "train.optimizer.lr") {
		t.Errorf("resume with another lr: %v", err)
	}
	_, err = Train(context.Background(), TrainOptions{Sets: []string{"train.epochs=9"}, Resume: first.Dir})
	if !errors.Is(err, config.ErrInvalid) {
		t.Errorf("resume with --set alone: %v", err)
	}
	// A checkpoint of another model (the run's config edited by hand).
	runCfg := filepath.Join(first.Dir, "config.yaml")
	b, _ := os.ReadFile(runCfg)
	os.WriteFile(runCfg, bytes.Replace(b, []byte("units: 32"), []byte("units: 48"), 1), 0o644)
	_, err = Train(context.Background(), TrainOptions{Resume: filepath.Join(first.Dir, "checkpoints", "last.ckpt")})
	if !errors.Is(err, train.ErrBadCheckpoint) || !strings.Contains(err.Error(), "dense1/W has shape") {
		t.Errorf("resume into another model: %v", err)
	}
}

func TestResumeAutoStartsFreshWhenNothingToResume(t *testing.T) {
	cfg := writeConfig(t, strings.Replace(resumeYAML, "epochs: 6", "epochs: 1", 1))
	out := t.TempDir()
	var log bytes.Buffer
	a, err := Train(context.Background(), TrainOptions{Config: cfg, Out: out, Resume: "auto", Stderr: &log})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Train(context.Background(), TrainOptions{Config: cfg, Out: out, Resume: "auto", Stderr: &log})
	if err != nil {
		t.Fatal(err)
	}
	if a.Dir == b.Dir || strings.Count(log.String(), "is finished, or there is none") != 2 {
		t.Errorf("auto after a finished run: %s then %s\n%s", a.Dir, b.Dir, log.String())
	}
}

// TestBinaryCrossEntropyRun trains a two-class CSV with one logit.
func TestBinaryCrossEntropyRun(t *testing.T) {
	dir := t.TempDir()
	var csv strings.Builder
	csv.WriteString("x1,x2,label\n")
	for i := 0; i < 200; i++ {
		x1, x2 := float64(i%20)/10-1, float64(i/20)/5-1
		label := "no"
		if x1+x2 > 0.1 {
			label = "yes"
		}
		csv.WriteString(strings.Join([]string{ftoa(x1), ftoa(x2), label}, ",") + "\n")
	}
	os.WriteFile(filepath.Join(dir, "d.csv"), []byte(csv.String()), 0o644)
	cfg := filepath.Join(dir, "bce.yaml")
	os.WriteFile(cfg, []byte(`
name: bce
data: {source: csv:d.csv, label: label}
model: {layers: [{type: dense, units: 8, activation: tanh}, {type: dense, units: 1}]}
train:
  epochs: 40
  batch_size: 16
  loss: {kind: binary_cross_entropy, pos_weight: 1.5}
  optimizer: {kind: adam, lr: 0.02}
  checkpoint: {metric: val_accuracy}
`), 0o644)
	res, err := Train(context.Background(), TrainOptions{Config: cfg, Out: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if acc := res.Report.Classification.Accuracy; acc < 0.85 {
		t.Errorf("test accuracy %.3f with one logit", acc)
	}
}

func ftoa(f float64) string { return strings.TrimSuffix(strings.TrimRight(fmtF(f), "0"), ".") }

func fmtF(f float64) string { return strconv.FormatFloat(f, 'f', 4, 64) }

// TestResumeFromAnOlderCheckpointRewritesTheMetrics: resuming from a
// checkpoint older than the last logged epoch (as after a kill -9 between
// checkpoints) drops the rows logged after it, so metrics.csv and
// metrics.jsonl end with one row per epoch, the same as a straight run.
func TestResumeFromAnOlderCheckpointRewritesTheMetrics(t *testing.T) {
	cfg := writeConfig(t, resumeYAML)
	out := t.TempDir()
	sets := []string{"train.checkpoint={metric: val_accuracy, every_epochs: 1, keep: 10}", "train.early_stopping.patience=0"}
	first, err := Train(context.Background(), TrainOptions{Config: cfg, Out: out, Sets: sets})
	if err != nil {
		t.Fatal(err)
	}
	straight := metricsWithoutTime(t, first.Dir)
	old, err := filepath.Glob(filepath.Join(first.Dir, "checkpoints", "epoch-3-*.ckpt"))
	if err != nil || len(old) != 1 {
		t.Fatalf("epoch 3 checkpoint: %v %v", old, err)
	}
	if _, err := Train(context.Background(), TrainOptions{Config: cfg, Out: out, Sets: sets, Resume: old[0]}); err != nil {
		t.Fatal(err)
	}
	if got := metricsWithoutTime(t, first.Dir); got != straight {
		t.Errorf("metrics.csv after resuming from epoch 3:\n%s\nwant\n%s", got, straight)
	}
	// The resumed run's clock continues from epoch 3's elapsed_s.
	csv, _ := os.ReadFile(filepath.Join(first.Dir, "metrics.csv"))
	prev := 0.0
	for _, line := range strings.Split(strings.TrimSpace(string(csv)), "\n")[1:] {
		s, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ',')+1:], 64)
		if err != nil || s < prev {
			t.Errorf("elapsed_s goes back from %v to %q after the resume:\n%s", prev, line, csv)
		}
		prev = s
	}
	b, err := os.ReadFile(filepath.Join(first.Dir, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "\n"); n != 6 {
		t.Errorf("metrics.jsonl has %d rows after the resume, want 6", n)
	}
}

// TestDivergedRunKeepsAResumableCheckpoint: with a checkpoint after every
// step, lr = 1e6 makes the first update finite but explosive; that state
// is not saved, so last.ckpt is the step before, whose weights are sane.
func TestDivergedRunKeepsAResumableCheckpoint(t *testing.T) {
	res, err := Train(context.Background(), TrainOptions{Config: "../../configs/digits-mlp.yaml", Out: t.TempDir(),
		Sets: []string{"train.optimizer.lr=1000000", "train.checkpoint.every_steps=1"}})
	if !errors.Is(err, train.ErrDiverged) || !strings.Contains(err.Error(), "were not saved") {
		t.Fatalf("error %v, want a divergence found before saving", err)
	}
	ck, err := train.LoadCheckpoint(filepath.Join(res.Dir, "checkpoints", "last.ckpt"))
	if err != nil {
		t.Fatal(err)
	}
	if ck.State.Step != 0 {
		t.Errorf("last.ckpt is at step %d, want the initial weights (step 0)", ck.State.Step)
	}
	if _, err := Eval(context.Background(), EvalOptions{Run: res.Dir, Split: "test"}); !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), "--checkpoint last") {
		t.Errorf("eval of a run without a best checkpoint: %v", err)
	}
	if _, err := Eval(context.Background(), EvalOptions{Run: res.Dir, Split: "test", Checkpoint: "last"}); err != nil {
		t.Errorf("eval --checkpoint last: %v", err)
	}
	for _, p := range ck.Params {
		for _, v := range p.F32 {
			if math.Abs(float64(v)) > 10 {
				t.Fatalf("%s holds %v: exploded weights were saved", p.Name, v)
			}
		}
	}
}

// TestSavedConfigIgnoresTheEnvironment: eval and predict read a run's
// config.yaml exactly as saved (a DLTRAIN_SEED meant for new runs must not
// re-split the data under the run), and a resume refuses a variable that
// would change the run.
func TestSavedConfigIgnoresTheEnvironment(t *testing.T) {
	res, err := Train(context.Background(), TrainOptions{Config: "../../configs/iris-mlp.yaml", Out: t.TempDir(), Sets: []string{"train.epochs=3"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("DLTRAIN_SEED", "7")
	t.Setenv("DLTRAIN_DATA_SPLIT_TEST", "0.4")
	rep, err := Eval(context.Background(), EvalOptions{Run: res.Dir, Split: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Classification.N != res.Report.Classification.N || rep.Classification.Accuracy != res.Report.Classification.Accuracy || rep.Loss != res.Report.Loss {
		t.Errorf("eval under DLTRAIN_SEED=7: %d samples, accuracy %v, loss %v; the run's test report: %d, %v, %v",
			rep.Classification.N, rep.Classification.Accuracy, rep.Loss, res.Report.Classification.N, res.Report.Classification.Accuracy, res.Report.Loss)
	}
	os.Unsetenv("DLTRAIN_DATA_SPLIT_TEST") // restored by t.Setenv's cleanup
	_, err = Train(context.Background(), TrainOptions{Resume: res.Dir})
	if !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), "DLTRAIN_") || !strings.Contains(err.Error(), "seed") {
		t.Errorf("resume under DLTRAIN_SEED=7: %v", err)
	}
}

// TestEvalRefusesACheckpointOfAnotherSplit: a checkpoint trained with
// another seed would be scored on rows it trained on.
func TestEvalRefusesACheckpointOfAnotherSplit(t *testing.T) {
	a, err := Train(context.Background(), TrainOptions{Config: "../../configs/iris-mlp.yaml", Out: t.TempDir(), Sets: []string{"train.epochs=1"}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Train(context.Background(), TrainOptions{Config: "../../configs/iris-mlp.yaml", Out: t.TempDir(), Sets: []string{"train.epochs=1", "seed=7"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Eval(context.Background(), EvalOptions{Run: a.Dir, Split: "test", Checkpoint: filepath.Join(b.Dir, "checkpoints", "best.ckpt")})
	if !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), "differs in seed") {
		t.Errorf("checkpoint of a seed-7 run on a seed-1 run: %v", err)
	}
}

// TestBatchNormOnASingleSampleIsRefusedBeforeTraining: a last batch of
// one sample, which batch norm after a dense layer cannot normalize, is a
// config error naming train.batch_size, found before a run directory is
// created.
func TestBatchNormOnASingleSampleIsRefusedBeforeTraining(t *testing.T) {
	cfg := writeConfig(t, "name: bn\ndata: {source: builtin:iris}\nmodel: {layers: [{type: dense, units: 8}, {type: batchnorm}, {type: relu}, {type: dense, units: 3}]}\ntrain: {epochs: 1, batch_size: 101}\n")
	out := t.TempDir()
	_, err := Train(context.Background(), TrainOptions{Config: cfg, Out: out})
	var ps config.Problems
	if !errors.As(err, &ps) || ps[0].Key != "train.batch_size" || !strings.Contains(err.Error(), "a batch of 1") {
		t.Fatalf("error %v, want a train.batch_size problem", err)
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("a run directory was created: %v", entries)
	}
}

// TestUndefinedMetricStillGivesABestCheckpoint: with a checkpoint metric
// that is NaN at every epoch (R² of a constant target), the first epoch
// is the best, so the run ends with a best checkpoint and its test report.
func TestUndefinedMetricStillGivesABestCheckpoint(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("a,b,y\n")
	for i := range 60 {
		fmt.Fprintf(&b, "%d,%d,5\n", i%7, i%5)
	}
	os.WriteFile(filepath.Join(dir, "const.csv"), []byte(b.String()), 0o644)
	cfg := filepath.Join(dir, "c.yaml")
	os.WriteFile(cfg, []byte("name: c\ndata: {source: csv:const.csv, task: regression, label: y}\nmodel: {layers: [{type: dense, units: 1}]}\ntrain: {epochs: 3, loss: mse, checkpoint: {metric: val_r2}}\n"), 0o644)
	res, err := Train(context.Background(), TrainOptions{Config: cfg, Out: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(res.Dir, "checkpoints", "best.ckpt")); err != nil || res.Report == nil {
		t.Errorf("best checkpoint: %v; report %v", err, res.Report)
	}
}

// TestScheduleErrorWritesNothing: a warm-up longer than the run, found
// once the data gives the run's length, leaves no run directory.
func TestScheduleErrorWritesNothing(t *testing.T) {
	out := t.TempDir()
	_, err := Train(context.Background(), TrainOptions{Config: "../../configs/iris-mlp.yaml", Out: out,
		Sets: []string{"train.epochs=2", "train.schedule={kind: cosine, warmup_steps: 12}"}})
	if !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), "warmup_steps") {
		t.Fatalf("error %v", err)
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("a run directory was created: %v", entries)
	}
}

// TestEvalNeverRewritesThePreparedDataset: eval of an older run whose
// prepared dataset was since rebuilt with another seed prepares its data
// in memory and leaves the prepared dataset as it is.
func TestEvalNeverRewritesThePreparedDataset(t *testing.T) {
	out := t.TempDir()
	prepared := filepath.Join(out, "prepared")
	a, err := Train(context.Background(), TrainOptions{Config: "../../configs/iris-mlp.yaml", Out: out, Sets: []string{"train.epochs=2", "data.prepared=" + prepared}})
	if err != nil {
		t.Fatal(err)
	}
	exp9, err := Load("../../configs/iris-mlp.yaml", []string{"seed=9"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := data.Prepare(context.Background(), exp9, prepared); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(filepath.Join(prepared, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Eval(context.Background(), EvalOptions{Run: a.Dir, Split: "test"})
	if err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(filepath.Join(prepared, "manifest.json"))
	if !bytes.Equal(before, after) {
		t.Error("eval rewrote the prepared dataset")
	}
	if rep.Classification.Accuracy != a.Report.Classification.Accuracy || rep.Loss != a.Report.Loss {
		t.Errorf("eval: accuracy %v loss %v; the run's report: %v %v", rep.Classification.Accuracy, rep.Loss, a.Report.Classification.Accuracy, a.Report.Loss)
	}
}

// TestEarlyStoppingSaysWhichWeightsItKeeps: after early stopping the log
// names the epoch whose weights are restored and the metric that chose
// it; without a validation split, that the last epoch's are kept. Here
// val_loss improves at epoch 2 by less than min_delta: early stopping
// counts it as no improvement, best.ckpt (no min_delta) takes it.
func TestEarlyStoppingSaysWhichWeightsItKeeps(t *testing.T) {
	const text = `
name: stop
seed: 1
data: {source: builtin:iris}
model:
  layers:
    - {type: dense, units: 8, activation: relu}
    - {type: dense, units: 3}
train:
  epochs: 10
  batch_size: 16
  early_stopping: {patience: 1, min_delta: 100}
`
	for _, c := range []struct {
		sets []string
		want string
	}{
		{nil, "val_loss has not improved for 1 epoch (patience 1, min_delta 100); its best was 1.6252 at epoch 1\n" +
			"early stopping after epoch 2: the weights of epoch 2 are restored, the best by val_loss (train.checkpoint.metric, as best.ckpt)"},
		{[]string{"data.split={train: 0.8, val: 0, test: 0.2}", "train.early_stopping.metric=train_loss", "train.checkpoint.metric=train_loss"},
			"early stopping after epoch 2: no validation split, so the last epoch's weights are kept (best.ckpt is the last)"},
	} {
		var log bytes.Buffer
		if _, err := Train(context.Background(), TrainOptions{Config: writeConfig(t, text), Sets: c.sets, Out: t.TempDir(), Stderr: &log}); err != nil {
			t.Fatalf("%v: %v", c.sets, err)
		}
		if !strings.Contains(log.String(), c.want) {
			t.Errorf("%v: log\n%s\nwant a line %q", c.sets, log.String(), c.want)
		}
	}
}

// TestBatchLargerThanTheDataIsEstimatedAtTheDataSize: a batch_size above
// the number of samples makes batches of all the samples, and the memory
// estimate counts those, not batch_size: such a run is not refused.
func TestBatchLargerThanTheDataIsEstimatedAtTheDataSize(t *testing.T) {
	cfg := writeConfig(t, "name: t\ndata: {source: builtin:iris}\nmodel: {layers: [{type: dense, units: 8, activation: tanh}, {type: dense, units: 3}]}\n"+
		"train: {epochs: 1, batch_size: 100000000, max_memory: 10MB}\n")
	if _, err := Train(context.Background(), TrainOptions{Config: cfg, Out: t.TempDir()}); err != nil {
		t.Fatalf("refused a run whose batches hold 150 samples at most: %v", err)
	}
}
