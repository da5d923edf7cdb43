package run

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/compute"
	"github.com/dltrain/dltrain/pkg/train"
)

// updateGolden rewrites testdata/golden for this build instead of
// comparing with it: go test ./pkg/run -run TestGolden -update-golden.
var updateGolden = flag.Bool("update-golden", false, "record the golden runs of TestGolden for this build")

// goldenStopYAML is a run that early stopping ends (patience 1 on a
// train_loss that a high learning rate makes bounce), interrupted in its
// second epoch and resumed: the golden values hold for the resumed run.
const goldenStopYAML = `
name: golden-stop
seed: 5
data: {source: builtin:digits, preprocess: {scale: standard}}
model:
  layers:
    - {type: dense, units: 24, activation: relu}
    - {type: dropout, rate: 0.2}
    - {type: dense, units: 10}
train:
  epochs: 12
  batch_size: 40
  optimizer: {kind: adam, lr: 0.05}
  regularization: {l2: 1.0e-4}
  early_stopping: {patience: 1, metric: val_loss}
  checkpoint: {metric: val_accuracy}
`

// goldenRun is what TestGolden records of one run: every metrics.csv row
// as written (the elapsed time left out) and, for each checkpoint, the
// SHA-256 of every tensor's float bits by name.
type goldenRun struct {
	Metrics     []string                     `json:"metrics"`
	Checkpoints map[string]map[string]string `json:"checkpoints"`
}

// goldenFile names the golden values of this build: the numbers depend on
// the kernels (AVX-512, AVX2, plain Go, OpenBLAS), so each build records
// its own. The pure-Go builds are thread-invariant; OpenBLAS is not, so
// its file names the thread count.
func goldenFile() string {
	name := runtime.GOARCH + "-" + compute.BLASName
	if !compute.ThreadInvariant() {
		name += "-threads" + strconv.Itoa(compute.Threads())
	}
	sum := sha256.Sum256([]byte(name))
	return filepath.Join("testdata", "golden", hex.EncodeToString(sum[:6])+".json")
}

// TestGolden proves that the redesign of the core (named tensors,
// training phases) changed no result: digits-mlp (its 30 epochs), digits-cnn (3 epochs,
// with --set) and an early-stopped run that was interrupted and resumed
// write the same metrics.csv rows and checkpoints with the same weight
// bits as the code before it, recorded in testdata/golden.
func TestGolden(t *testing.T) {
	if testing.Short() {
		t.Skip("trains three runs")
	}
	got := map[string]goldenRun{
		"digits-mlp":            goldenTrain(t, TrainOptions{Config: "../../configs/digits-mlp.yaml"}),
		"digits-cnn":            goldenTrain(t, TrainOptions{Config: "../../configs/digits-cnn.yaml", Sets: []string{"train.epochs=3"}}),
		"early-stopped-resumed": goldenResumed(t),
	}
	got["header"] = goldenRun{Metrics: []string{runtime.GOARCH + " " + compute.BLASName}}
	path := goldenFile()
	if *updateGolden {
		b, err := json.MarshalIndent(got, "", " ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("recorded %s", path)
		return
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("no golden values recorded for this build (%s %s): %s is missing", runtime.GOARCH, compute.BLASName, path)
	}
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]goldenRun
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	for name, w := range want {
		g := got[name]
		if strings.Join(g.Metrics, "\n") != strings.Join(w.Metrics, "\n") {
			t.Errorf("%s: metrics.csv\n%s\nwant\n%s", name, strings.Join(g.Metrics, "\n"), strings.Join(w.Metrics, "\n"))
		}
		for ck, tensors := range w.Checkpoints {
			for tn, sum := range tensors {
				if g.Checkpoints[ck][tn] != sum {
					t.Errorf("%s: %s: tensor %s differs from the recorded one", name, ck, tn)
				}
			}
			if len(g.Checkpoints[ck]) != len(tensors) {
				t.Errorf("%s: %s holds %d tensors, want %d", name, ck, len(g.Checkpoints[ck]), len(tensors))
			}
		}
	}
}

// goldenTrain trains one run to its end and records it.
func goldenTrain(t *testing.T, opt TrainOptions) goldenRun {
	t.Helper()
	opt.Out = t.TempDir()
	res, err := Train(context.Background(), opt)
	if err != nil {
		t.Fatalf("%s: %v", opt.Config, err)
	}
	return goldenRecord(t, res.Dir)
}

// goldenResumed trains goldenStopYAML, interrupted after step 40 (in the
// second epoch) and resumed; it checks that early stopping ended it.
func goldenResumed(t *testing.T) goldenRun {
	t.Helper()
	cfg, out := writeConfig(t, goldenStopYAML), t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := Train(ctx, TrainOptions{Config: cfg, Out: out, Hooks: []train.Hook{&stopAt{step: 40, cancel: cancel}}}); !errors.Is(err, train.ErrInterrupted) {
		t.Fatalf("interrupted run: %v", err)
	}
	var log bytes.Buffer
	res, err := Train(context.Background(), TrainOptions{Config: cfg, Out: out, Resume: "auto", Stderr: &log})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "resuming") || !strings.Contains(log.String(), "early stopping after epoch") {
		t.Fatalf("the run was not resumed then stopped early:\n%s", log.String())
	}
	return goldenRecord(t, res.Dir)
}

// goldenRecord reads a finished run's metrics and checkpoints.
func goldenRecord(t *testing.T, dir string) goldenRun {
	t.Helper()
	r := goldenRun{Metrics: strings.Split(metricsWithoutTime(t, dir), "\n"), Checkpoints: map[string]map[string]string{}}
	for _, name := range []string{"last.ckpt", "best.ckpt"} {
		ck, err := train.LoadCheckpoint(filepath.Join(dir, "checkpoints", name))
		if err != nil {
			t.Fatal(err)
		}
		sums := map[string]string{}
		for _, rec := range ck.Params {
			h := sha256.New()
			for _, v := range rec.F32 {
				binary.Write(h, binary.LittleEndian, math.Float32bits(v))
			}
			for _, v := range rec.F64 {
				binary.Write(h, binary.LittleEndian, math.Float64bits(v))
			}
			sums[rec.Name] = hex.EncodeToString(h.Sum(nil))
		}
		r.Checkpoints[name] = sums
	}
	return r
}
