package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dltrain/dltrain/pkg/train"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds dltrain once for the end-to-end tests.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "dltrain-e2e-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "dltrain")
		out, err := exec.Command("go", "build", "-tags", buildTags, "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = errors.New(string(out))
		}
	})
	if buildErr != nil {
		t.Fatalf("go build: %v", buildErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

func repoFile(name string) string { return filepath.Join("..", "..", name) }

// TestDivergenceExitsWith3 is the acceptance check: lr = 1e6 on the digits
// demo stops with exit code 3 and a message naming epoch and step, and the
// run directory still holds a good checkpoint.
func TestDivergenceExitsWith3(t *testing.T) {
	out := t.TempDir()
	cmd := exec.Command(binary(t), "train", "--config", repoFile("configs/digits-mlp.yaml"), "--out", out, "--set", "train.optimizer.lr=1000000")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("exit %v, want 3\n%s", err, stderr.String())
	}
	msg := stderr.String()
	for _, want := range []string{"training diverged at epoch 1, step", "lower train.optimizer.lr", "the last good checkpoint is kept"} {
		if !strings.Contains(msg, want) {
			t.Errorf("stderr does not say %q:\n%s", want, msg)
		}
	}
	lasts, _ := filepath.Glob(filepath.Join(out, "digits-mlp", "*", "checkpoints", "last.ckpt"))
	if len(lasts) != 1 {
		t.Fatalf("last checkpoints: %v", lasts)
	}
	ck, err := train.LoadCheckpoint(lasts[0])
	if err != nil {
		t.Fatalf("the last good checkpoint does not load: %v", err)
	}
	for _, p := range ck.Params {
		for _, v := range p.F32 {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("the kept checkpoint holds a non-finite %s", p.Name)
			}
		}
	}
}

// signalYAML trains long enough per epoch (1,259 steps of one sample
// through a 1,024-unit layer: about 0.1 s on the development machine) for
// a signal sent half an epoch after an epoch line to land inside the next
// epoch, after that epoch's checkpoint is written.
const signalYAML = `
name: signals
seed: 5
data: {source: builtin:digits}
model:
  layers:
    - {type: dense, units: 1024, activation: relu}
    - {type: dropout, rate: 0.2}
    - {type: dense, units: 10}
train:
  epochs: 6
  batch_size: 1
  optimizer: {kind: adam, lr: 0.001}
  schedule: {kind: cosine, warmup_epochs: 1}
  checkpoint: {metric: val_accuracy}
`

// startTraining runs dltrain train with JSON logs and calls onEpoch with
// each finished epoch's number; it returns the exit code and stderr.
func startTraining(t *testing.T, args []string, onEpoch func(p *os.Process, epoch int)) (int, string) {
	t.Helper()
	cmd := exec.Command(binary(t), append([]string{"--log-format", "json", "train"}, args...)...)
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	sc := bufio.NewScanner(pipe)
	for sc.Scan() {
		line := sc.Text()
		log.WriteString(line + "\n")
		var ev struct {
			Event string
			Epoch int
		}
		if json.Unmarshal([]byte(line), &ev) == nil && ev.Event == "epoch" && onEpoch != nil {
			onEpoch(cmd.Process, ev.Epoch)
		}
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), log.String()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, log.String()
}

// TestSIGTERMThenResumeIsExact is the acceptance test with the real binary
// and real signals: 6 epochs straight, and SIGTERM in the middle of epoch 4
// (exit 143) then --resume auto, end with bit-identical weights. SIGUSR1
// during the resumed run saves a checkpoint and training goes on.
func TestSIGTERMThenResumeIsExact(t *testing.T) {
	if testing.Short() {
		t.Skip("trains 12 epochs through the binary")
	}
	if runtime.GOOS == "windows" {
		t.Skip("no SIGTERM on Windows")
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "signals.yaml")
	os.WriteFile(cfg, []byte(signalYAML), 0o644)
	straightOut, resumedOut := filepath.Join(dir, "straight"), filepath.Join(dir, "resumed")

	if code, log := startTraining(t, []string{"--config", cfg, "--out", straightOut}, nil); code != 0 {
		t.Fatalf("straight run: exit %d\n%s", code, log)
	}
	// The epoch line comes out when epoch 3 is done; half an epoch later
	// (as long as epoch 3 took, measured between the lines) the run is in
	// the middle of epoch 4. A slow machine may still land the signal on an
	// epoch boundary: then the test tries again, at most five times.
	var ck *train.Checkpoint
	var lasts []string
	for try := 1; ; try++ {
		out := filepath.Join(resumedOut, strconv.Itoa(try))
		var last time.Time
		code, log := startTraining(t, []string{"--config", cfg, "--out", out}, func(p *os.Process, epoch int) {
			if epoch == 3 {
				time.Sleep(time.Since(last) / 2)
				p.Signal(syscall.SIGTERM)
			}
			last = time.Now()
		})
		if code != 143 {
			t.Fatalf("after SIGTERM: exit %d, want 143\n%s", code, log)
		}
		lasts, _ = filepath.Glob(filepath.Join(out, "signals", "*", "checkpoints", "last.ckpt"))
		if len(lasts) != 1 {
			t.Fatalf("checkpoints after SIGTERM: %v", lasts)
		}
		var err error
		if ck, err = train.LoadCheckpoint(lasts[0]); err != nil {
			t.Fatal(err)
		}
		if ck.State.Batch > 0 && ck.State.Epoch < 6 {
			resumedOut = out
			break
		}
		if try == 5 {
			t.Fatalf("the signal landed on an epoch boundary five times (epoch %d, batch %d)", ck.State.Epoch+1, ck.State.Batch)
		}
	}
	t.Logf("SIGTERM landed in epoch %d, batch %d (step %d)", ck.State.Epoch+1, ck.State.Batch, ck.State.Step)

	usr1 := false
	code, log := startTraining(t, []string{"--config", cfg, "--out", resumedOut, "--resume", "auto"}, func(p *os.Process, epoch int) {
		if epoch == 5 {
			usr1 = p.Signal(syscall.SIGUSR1) == nil
		}
	})
	if code != 0 {
		t.Fatalf("resumed run: exit %d\n%s", code, log)
	}
	if !usr1 || !strings.Contains(log, "checkpoint saved at epoch 6") {
		t.Errorf("SIGUSR1 did not save a checkpoint during epoch 6:\n%s", log)
	}
	a, err := train.LoadCheckpoint(firstGlob(t, filepath.Join(straightOut, "signals", "*", "checkpoints", "last.ckpt")))
	if err != nil {
		t.Fatal(err)
	}
	b, err := train.LoadCheckpoint(lasts[0])
	if err != nil {
		t.Fatal(err)
	}
	if a.State.Epoch != 6 || b.State.Epoch != 6 || a.State.Step != b.State.Step {
		t.Fatalf("final states: epoch %d step %d vs epoch %d step %d", a.State.Epoch, a.State.Step, b.State.Epoch, b.State.Step)
	}
	for i := range a.Params {
		for j := range a.Params[i].F32 {
			if math.Float32bits(a.Params[i].F32[j]) != math.Float32bits(b.Params[i].F32[j]) {
				t.Fatalf("%s[%d]: %v straight, %v after SIGTERM and resume", a.Params[i].Name, j, a.Params[i].F32[j], b.Params[i].F32[j])
			}
		}
	}
}

func firstGlob(t *testing.T, pattern string) string {
	t.Helper()
	m, _ := filepath.Glob(pattern)
	if len(m) == 0 {
		t.Fatalf("nothing matches %s", pattern)
	}
	return m[0]
}
