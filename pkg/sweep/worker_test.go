package sweep

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dltrain/dltrain/pkg/run"
	"github.com/dltrain/dltrain/pkg/train"
)

// tinySweep writes a 9-epoch iris experiment and a sweep over it.
func tinySweep(t *testing.T, body string) *Spec {
	t.Helper()
	dir := t.TempDir()
	exp := `name: iris-tiny
data:
  source: builtin:iris
  preprocess: {scale: standard}
  split: {train: 0.6, val: 0.2, test: 0.2, stratify: true}
model:
  layers:
    - {type: dense, units: 8, activation: tanh}
    - {type: dense, units: 3}
train:
  epochs: 9
  batch_size: 16
  optimizer: {kind: adam, lr: 0.01}
  tensorboard: false
`
	if err := os.WriteFile(filepath.Join(dir, "exp.yaml"), []byte(exp), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "sweep.yaml")
	if err := os.WriteFile(path, []byte("experiment: exp.yaml\nmetric: val_loss\n"+body), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// checkJournal: every claim has one result, no (trial, rung) twice, and
// each trial's metrics.jsonl has one row per epoch it trained.
func checkJournal(t *testing.T, dir string, trials int) *Summary {
	t.Helper()
	recs, err := readJournal(dir)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range recs {
		if r.Event != "result" {
			continue
		}
		k := fmt.Sprint(r.Trial, "/", r.Rung)
		if seen[k] {
			t.Errorf("trial %d rung %d has two results", r.Trial+1, r.Rung)
		}
		seen[k] = true
	}
	s, err := Summarize(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Rows) != trials || !s.Finished {
		t.Fatalf("%d trials (finished %v), want %d", len(s.Rows), s.Finished, trials)
	}
	for _, r := range s.Rows {
		if r.Status != "completed" && r.Status != "pruned" {
			t.Errorf("trial %d: status %s", r.Trial, r.Status)
		}
		curve, err := run.ReadMetric(r.Dir, "val_loss")
		if err != nil || len(curve) != r.Epochs {
			t.Errorf("trial %d: %d rows in metrics.jsonl (%v), %d epochs in the journal", r.Trial, len(curve), err, r.Epochs)
		}
	}
	return s
}

// TestASHAResumesInsteadOfRetraining: a promoted trial continues its run
// (one metrics row per epoch, the epochs of each rung only once), fewer
// epochs are trained than without early stopping, and the winner is a
// whole run.
func TestASHAResumesInsteadOfRetraining(t *testing.T) {
	if testing.Short() {
		t.Skip("trains 6 iris trials")
	}
	spec := tinySweep(t, "method: random\ntrials: 6\nseed: 2\nspace:\n  train.optimizer.lr: {log_uniform: [1.0e-3, 1.0e-1]}\nearly_stop: {kind: asha, min_epochs: 1, reduction: 3}\n")
	dir := filepath.Join(t.TempDir(), "sweep")
	var progress strings.Builder
	s, err := Run(context.Background(), spec, RunOptions{Dir: dir, Worker: "test", Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	checkJournal(t, dir, 6)
	// Issue 15's acceptance: with reduction 3, at most 45% of the epochs
	// the same sweep trains without early stopping (6 trials × 9 epochs).
	total := s.TotalEpochs()
	if float64(total) > 0.45*6*9 {
		t.Errorf("%d epochs trained, more than 45%% of the %d without early stopping", total, 6*9)
	}
	t.Logf("%d epochs trained of %d without early stopping", total, 6*9)
	best := s.Rows[s.Best]
	if best.Status != "completed" || best.Epochs != 9 {
		t.Errorf("winner: %+v, want a whole run", best)
	}
	recs, _ := readJournal(dir)
	for _, r := range recs {
		if r.Event == "result" && r.Epochs != max(spec.rungBudget(r.Rung), 0) && !(spec.rungBudget(r.Rung) == 0 && r.Epochs == 9) {
			t.Errorf("trial %d rung %d trained to %d epochs, budget %d", r.Trial+1, r.Rung, r.Epochs, spec.rungBudget(r.Rung))
		}
	}
	for _, f := range []string{"trials.csv", "best.yaml", "plots/running-best.png", "plots/train.optimizer.lr.png"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	if n := strings.Count(progress.String(), "\n"); n != len(recs)/2 {
		t.Errorf("%d progress lines for %d results", n, len(recs)/2)
	}
}

// TestSweepContinuesAfterAnInterrupt: a sweep stopped (its context
// cancelled) after a trial continues when run again, with the remaining
// trials only; a different sweep cannot use its directory. (Stops in the
// middle of a trial: the kill -9 test of cmd/dltrain.)
func TestSweepContinuesAfterAnInterrupt(t *testing.T) {
	if testing.Short() {
		t.Skip("trains 3 iris trials")
	}
	spec := tinySweep(t, "method: random\ntrials: 3\nspace:\n  train.optimizer.lr: {log_uniform: [1.0e-3, 1.0e-1]}\n")
	dir := filepath.Join(t.TempDir(), "sweep")
	ctx, cancel := context.WithCancel(context.Background())
	w := &cancelAfter{lines: 1, cancel: cancel}
	_, err := Run(ctx, spec, RunOptions{Dir: dir, Worker: "first", Progress: w})
	if !errors.Is(err, train.ErrInterrupted) {
		t.Fatalf("interrupted sweep: %v, want train.ErrInterrupted", err)
	}
	if _, err := Run(context.Background(), spec, RunOptions{Dir: dir, Worker: "second"}); err != nil {
		t.Fatal(err)
	}
	checkJournal(t, dir, 3)
	other := *spec
	other.Seed++
	if err := Start(dir, &other); err == nil || !strings.Contains(err.Error(), "holds another sweep") {
		t.Errorf("another sweep into the same directory: %v", err)
	}
}

// cancelAfter cancels a context after some lines were written to it.
type cancelAfter struct {
	mu     sync.Mutex
	lines  int
	cancel func()
}

func (c *cancelAfter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lines -= strings.Count(string(p), "\n"); c.lines <= 0 {
		c.cancel()
	}
	return len(p), nil
}

// TestWorkersShareASweep: workers running at once claim different trials;
// every trial runs once, under the median rule.
func TestWorkersShareASweep(t *testing.T) {
	if testing.Short() {
		t.Skip("trains 6 iris trials")
	}
	spec := tinySweep(t, "method: tpe\ntrials: 6\nparallel: 3\nspace:\n  train.optimizer.lr: {log_uniform: [1.0e-3, 1.0e-1]}\n  train.batch_size: {choice: [8, 16]}\nearly_stop: {kind: median, min_epochs: 2}\n")
	dir := filepath.Join(t.TempDir(), "sweep")
	if _, err := Run(context.Background(), spec, RunOptions{Dir: dir, Worker: "w"}); err != nil {
		t.Fatal(err)
	}
	checkJournal(t, dir, 6)
	recs, _ := readJournal(dir)
	workers := map[string]bool{}
	for _, r := range recs {
		if r.Event == "claim" {
			workers[r.Worker] = true
		}
	}
	if len(workers) < 2 {
		t.Errorf("claims by %v: the workers did not share the sweep", workers)
	}
}

// TestClaimWaitsForADyingWorker: a trial whose run directory is still
// locked by a worker that is dying (killed, its locks released one file at
// a time) is resumed once the lock is free, not recorded as failed. The
// test holds the run's lock itself, as the dying worker would, while the
// next worker holds the trial's lock.
func TestClaimWaitsForADyingWorker(t *testing.T) {
	if testing.Short() {
		t.Skip("trains an iris trial")
	}
	spec := tinySweep(t, "method: random\ntrials: 1\nseed: 3\nspace:\n  train.optimizer.lr: {log_uniform: [1.0e-3, 1.0e-1]}\nearly_stop: {kind: asha, min_epochs: 1, reduction: 3}\n")
	dir := filepath.Join(t.TempDir(), "sweep")
	if err := Start(dir, spec); err != nil {
		t.Fatal(err)
	}
	// Rung 0 only: the first result cancels the worker.
	ctx, cancel := context.WithCancel(context.Background())
	first := progressFunc(func() { cancel() })
	if err := Work(ctx, WorkOptions{Dir: dir, Worker: "first", Progress: first}); !errors.Is(err, train.ErrInterrupted) {
		t.Fatalf("first worker: %v, want interrupted after rung 0", err)
	}
	// The dying worker's run lock, taken on its own open file as a
	// process's would be.
	f, err := os.OpenFile(filepath.Join(TrialDir(dir, 0), run.LockFile), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(500*time.Millisecond, func() { f.Close() })
	if err := Work(context.Background(), WorkOptions{Dir: dir, Worker: "second"}); err != nil {
		t.Fatal(err)
	}
	recs, err := readJournal(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.Event == "result" && r.Status == "failed" {
			t.Errorf("trial %d rung %d failed while its run was locked: %s", r.Trial+1, r.Rung, r.Error)
		}
	}
	checkJournal(t, dir, 1)
}

// progressFunc is a progress writer that calls f at every line.
type progressFunc func()

func (p progressFunc) Write(b []byte) (int, error) {
	p()
	return len(b), nil
}

// TestShippedDigitsTPESweepFinishes: issue 15's acceptance, the shipped
// TPE sweep over the built-in digits (12 trials, ASHA) runs to its end,
// every trial with a result, within 45% of the epochs of no pruning.
func TestShippedDigitsTPESweepFinishes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the shipped digits sweep")
	}
	spec, err := Load(filepath.Join("..", "..", "configs", "sweeps", "digits-tpe.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "sweep")
	s, err := Run(context.Background(), spec, RunOptions{Dir: dir, Worker: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Rows) != 12 || !s.Finished || s.Best < 0 {
		t.Fatalf("%d trials, finished %v, best %d", len(s.Rows), s.Finished, s.Best)
	}
	if total := s.TotalEpochs(); float64(total) > 0.45*12*float64(spec.Epochs) {
		t.Errorf("%d epochs trained, more than 45%% of %d", total, 12*spec.Epochs)
	}
	t.Logf("best val_accuracy %.4f (trial %d), %d epochs of %d", s.Rows[s.Best].Value, s.Rows[s.Best].Trial, s.TotalEpochs(), 12*spec.Epochs)
}
