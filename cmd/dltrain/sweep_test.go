//go:build unix

package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// tinySweepFiles writes a short iris experiment and a sweep over it; it
// returns the sweep file.
func tinySweepFiles(t *testing.T, sweepBody string) string {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, dir, "exp.yaml", `name: iris-tiny
data:
  source: builtin:iris
  preprocess: {scale: standard}
  split: {train: 0.6, val: 0.2, test: 0.2, stratify: true}
model:
  layers:
    - {type: dense, units: 8, activation: tanh}
    - {type: dense, units: 3}
train:
  epochs: 16
  batch_size: 4
  optimizer: {kind: adam, lr: 0.01}
  tensorboard: false
`)
	return writeFile(t, dir, "sweep.yaml", "experiment: exp.yaml\nmetric: val_loss\n"+sweepBody)
}

// journalRecord is what the test reads of a journal line.
type journalRecord struct {
	Event  string `json:"event"`
	Trial  int    `json:"trial"`
	Rung   int    `json:"rung"`
	Epochs int    `json:"epochs"`
	Status string `json:"status"`
	Error  string `json:"error"`
}

// TestSweepSurvivesKill9: a sweep (ASHA; Hyperband) of two workers killed with SIGKILL (the
// whole process group) at random moments, then run again, loses no trial
// and runs none twice; its journal parses line by line and every trial's
// metrics have one row per epoch.
func TestSweepSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a sweep binary many times")
	}
	bin := binary(t)
	for _, c := range []struct {
		name, body string
		trials     int
	}{
		{"asha", "trials: 12\nearly_stop: {kind: asha, min_epochs: 1, reduction: 2}\n", 12},
		// Brackets 4×4 → 2×8 → 1×16, 3×8 → 1×16, 3×16: kills land mid-bracket.
		{"hyperband", "early_stop: {kind: hyperband, min_epochs: 4, reduction: 2}\n", 10},
	} {
		t.Run(c.name, func(t *testing.T) {
			killAndRerun(t, bin, "method: random\nseed: 4\nparallel: 2\nspace:\n  train.optimizer.lr: {log_uniform: [1.0e-3, 1.0e-1]}\n"+c.body, c.trials)
		})
	}
}

// killAndRerun runs the sweep body with SIGKILLs of its process group at 5
// recorded random moments, then to its end, and checks its journal and
// trials.
func killAndRerun(t *testing.T, bin, body string, trials int) {
	cfg := tinySweepFiles(t, body)
	out := filepath.Join(t.TempDir(), "sweep")
	rng := rand.New(rand.NewPCG(15, 1)) // recorded: the kill moments
	kills := 0
	for attempt := 0; kills < 5 && attempt < 20; attempt++ {
		cmd := exec.Command(bin, "sweep", "--config", cfg, "--out", out)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		// Each kill lands a recorded random moment (0-60 ms) after the
		// journal shows this attempt's first progress (a claim), so that
		// the kills fall inside trials however fast the machine is: a
		// delay from the start let a fast build finish the sweep first.
		before := fileSize(filepath.Join(out, "journal.jsonl"))
		progressed := false
		for !progressed {
			select {
			case err := <-done:
				t.Fatalf("the sweep finished (%v) before %d kills; make it longer", err, kills+1)
			case <-time.After(20 * time.Millisecond):
				progressed = fileSize(filepath.Join(out, "journal.jsonl")) > before
			}
		}
		select {
		case err := <-done:
			t.Fatalf("the sweep finished (%v) before %d kills; make it longer", err, kills+1)
		case <-time.After(time.Duration(rng.IntN(60)) * time.Millisecond):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
			kills++
		}
	}
	code, stdout, stderr := runBinary(t, bin, "sweep", "--config", cfg, "--out", out)
	if code != 0 {
		t.Fatalf("re-run after %d kills: exit %d\n%s", kills, code, stderr)
	}
	results, claims := map[string]int{}, map[string]int{}
	finals := map[int]journalRecord{}
	f, err := os.Open(filepath.Join(out, "journal.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for line := 1; sc.Scan(); line++ {
		var r journalRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("journal line %d does not parse: %v\n%s", line, err, sc.Text())
		}
		if r.Event == "claim" {
			claims[fmt.Sprint(r.Trial, "/", r.Rung)]++
		}
		if r.Event == "result" {
			results[fmt.Sprint(r.Trial, "/", r.Rung)]++
			finals[r.Trial] = r
		}
	}
	resumed := 0
	for k, n := range results {
		if n != 1 {
			t.Errorf("trial/rung %s has %d results", k, n)
		}
		resumed += claims[k] - 1
	}
	if resumed == 0 {
		t.Errorf("no kill landed in a trial (no trial was claimed twice): the test did not test resuming")
	}
	if len(finals) != trials {
		t.Fatalf("%d trials have results, want %d", len(finals), trials)
	}
	for id, r := range finals {
		if r.Status == "failed" {
			t.Errorf("trial %d failed after the kills: %s", id+1, r.Error)
		}
		rows, err := os.ReadFile(filepath.Join(out, "trials", fmt.Sprintf("%04d", id+1), "metrics.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(rows), "\n"); n != r.Epochs {
			t.Errorf("trial %d: %d metrics rows for %d epochs trained", id+1, n, r.Epochs)
		}
	}
	if !strings.Contains(stdout, "best: trial") {
		t.Errorf("no table after the re-run:\n%s", stdout)
	}
	code, status, _ := runBinary(t, bin, "sweep", "status", out)
	if code != 0 || !strings.Contains(status, fmt.Sprintf("%d trials of %d", trials, trials)) || !strings.Contains(status, "finished") {
		t.Errorf("sweep status: exit %d\n%s", code, status)
	}
	t.Logf("%d kills, %d trials taken over from a killed worker; final table:\n%s", kills, resumed, stdout)
}

// runBinary runs the built binary and returns its exit code, stdout and
// stderr.
func runBinary(t *testing.T, bin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb strings.Builder
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), out.String(), errb.String()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, out.String(), errb.String()
}

// TestBadSweepExits2: a bad sweep file, or a directory without a sweep,
// exits 2 naming what is wrong and where.
func TestBadSweepExits2(t *testing.T) {
	cfg := tinySweepFiles(t, "trials: 2\nspace:\n  train.optimizer.lrr: {log_uniform: [0, 1.0e-1]}\n")
	code, _, stderr := dltrain(t, "sweep", "--config", cfg, "--out", t.TempDir())
	for _, want := range []string{"sweep.yaml:5:", "space.train.optimizer.lrr.log_uniform", "bounds > 0"} {
		if code != 2 || !strings.Contains(stderr, want) {
			t.Errorf("exit %d, stderr does not say %q:\n%s", code, want, stderr)
		}
	}
	cfg = tinySweepFiles(t, "trials: 2\nspace:\n  train.optimizer.lrr: {log_uniform: [1.0e-3, 1.0e-1]}\n")
	code, _, stderr = dltrain(t, "sweep", "--config", cfg, "--out", t.TempDir())
	if code != 2 || !strings.Contains(stderr, "sweep.yaml:5:") || !strings.Contains(stderr, `did you mean "lr"`) {
		t.Errorf("unknown option: exit %d\n%s", code, stderr)
	}
	code, _, stderr = dltrain(t, "sweep", "--config", cfg, "--image", "x")
	if code != 2 || !strings.Contains(stderr, "--image is an option of --emit") {
		t.Errorf("--image without --emit: exit %d\n%s", code, stderr)
	}
	code, _, stderr = dltrain(t, "sweep", "status", t.TempDir())
	if code != 2 || !strings.Contains(stderr, "no sweep journal") {
		t.Errorf("status of an empty directory: exit %d\n%s", code, stderr)
	}
}

// fileSize is the size of the file at path, 0 when it does not exist.
func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// TestEmitSlurmStartsTheSweep: --emit slurm creates the sweep directory
// with its journal (Slurm opens each task's output file there before the
// task runs: without it every task fails to launch), and the script names
// it; a directory holding another sweep is refused then, not in the jobs.
func TestEmitSlurmStartsTheSweep(t *testing.T) {
	cfg := tinySweepFiles(t, "trials: 2\nspace:\n  train.optimizer.lr: {log_uniform: [1.0e-3, 1.0e-1]}\n")
	out := filepath.Join(t.TempDir(), "not", "yet")
	code, script, stderr := dltrain(t, "sweep", "--config", cfg, "--out", out, "--emit", "slurm")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "journal.jsonl")); err != nil {
		t.Errorf("the sweep directory was not started: %v", err)
	}
	if !strings.Contains(script, "#SBATCH --output="+filepath.Join(out, "slurm-%A_%a.out")) {
		t.Errorf("the script's output is not in the sweep directory:\n%s", script)
	}
	other := tinySweepFiles(t, "trials: 3\nspace:\n  train.optimizer.lr: {log_uniform: [1.0e-3, 1.0e-1]}\n")
	code, _, stderr = dltrain(t, "sweep", "--config", other, "--out", out, "--emit", "slurm")
	if code != 2 || !strings.Contains(stderr, "holds another sweep") {
		t.Errorf("emitting another sweep into it: exit %d\n%s", code, stderr)
	}
}
