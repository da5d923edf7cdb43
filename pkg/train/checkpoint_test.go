package train

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/gob"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dltrain/dltrain/pkg/models"
	"gorgonia.org/tensor"
)

func testCheckpoint(v float32) *Checkpoint {
	return &Checkpoint{
		Params: []TensorRecord{{Name: "dense1/W", Shape: []int{2, 2}, F32: []float32{v, v + 1, v + 2, v + 3}}},
		State:  State{Epoch: int(v)},
	}
}

// TestCheckpointWriteIsAtomic kills the writer (an error from the fault
// hook stands for kill -9 at that instant) at every stage of a write: the
// previous checkpoint still loads, whole and unchanged, and a later write
// succeeds.
func TestCheckpointWriteIsAtomic(t *testing.T) {
	stages := []string{"write", "sync", "rename"}
	for _, stage := range stages {
		t.Run(stage, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "last.ckpt")
			if err := testCheckpoint(1).Save(path); err != nil {
				t.Fatal(err)
			}
			errKilled := errors.New("killed")
			faultHook = func(s string) error {
				if s == stage {
					return errKilled
				}
				return nil
			}
			err := testCheckpoint(2).Save(path)
			faultHook = nil
			if !errors.Is(err, errKilled) {
				t.Fatalf("save survived the fault: %v", err)
			}
			ck, err := LoadCheckpoint(path)
			if err != nil {
				t.Fatalf("the previous checkpoint no longer loads: %v", err)
			}
			if ck.State.Epoch != 1 || ck.Params[0].F32[0] != 1 {
				t.Fatalf("the previous checkpoint changed: %+v", ck)
			}
			if err := testCheckpoint(3).Save(path); err != nil {
				t.Fatal(err)
			}
			if ck, _ := LoadCheckpoint(path); ck.State.Epoch != 3 {
				t.Fatalf("the next save did not take: epoch %d", ck.State.Epoch)
			}
		})
	}
}

// TestTruncatedOrCorruptCheckpointIsRefused: whatever a crash leaves of a
// file (any prefix, a flipped byte) never loads as a checkpoint.
func TestTruncatedOrCorruptCheckpointIsRefused(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.ckpt")
	if err := testCheckpoint(1).Save(path); err != nil {
		t.Fatal(err)
	}
	whole, _ := os.ReadFile(path)
	for _, n := range []int{0, 5, len(checkpointMagic), len(checkpointMagic) + 40, len(whole) / 2, len(whole) - 1} {
		bad := filepath.Join(dir, fmt.Sprintf("cut-%d.ckpt", n))
		os.WriteFile(bad, whole[:n], 0o644)
		if _, err := LoadCheckpoint(bad); !errors.Is(err, ErrBadCheckpoint) {
			t.Errorf("a checkpoint cut at %d bytes loaded: %v", n, err)
		}
	}
	flipped := append([]byte(nil), whole...)
	flipped[len(flipped)-10] ^= 1
	os.WriteFile(path, flipped, 0o644)
	if _, err := LoadCheckpoint(path); !errors.Is(err, ErrBadCheckpoint) || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("a corrupt checkpoint loaded: %v", err)
	}
}

// TestRestoreRefusesAnotherModel names every mismatched tensor.
func TestRestoreRefusesAnotherModel(t *testing.T) {
	build := func(shapes map[string][]int, order ...string) *models.ParamStore {
		s := models.NewParamStore(tensor.Float32)
		for _, n := range order {
			if _, err := s.Add(n, models.Weight, shapes[n], func(*rand.Rand, []float64, int, int) {}, 1, 1, nil); err != nil {
				t.Fatal(err)
			}
		}
		return s
	}
	saved := CaptureParams(build(map[string][]int{"dense1/W": {4, 8}, "dense1/b": {8}, "dense2/W": {8, 3}}, "dense1/W", "dense1/b", "dense2/W"))
	other := build(map[string][]int{"dense1/W": {4, 16}, "dense1/b": {8}, "dense3/W": {8, 3}}, "dense1/W", "dense1/b", "dense3/W")
	err := RestoreParams(other, saved)
	if !errors.Is(err, ErrBadCheckpoint) {
		t.Fatalf("restored into another model: %v", err)
	}
	for _, want := range []string{"dense1/W has shape [4 8] in the checkpoint, (4, 16) in the model", "dense3/W (8, 3) is missing", "dense2/W is in the checkpoint but not in the model"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "dense1/b") {
		t.Errorf("error names a matching tensor: %v", err)
	}
	same := build(map[string][]int{"dense1/W": {4, 8}, "dense1/b": {8}, "dense2/W": {8, 3}}, "dense1/W", "dense1/b", "dense2/W")
	if err := RestoreParams(same, saved); err != nil {
		t.Errorf("the same model was refused: %v", err)
	}
}

// TestCheckpointerKeepsLastKPlusBest runs a short training with a
// checkpoint every 5 steps and keep 2: the two newest numbered files stay,
// last.ckpt is the newest, best.ckpt the best epoch; a diverging run
// afterwards leaves them untouched.
func TestCheckpointerKeepsLastKPlusBest(t *testing.T) {
	dir := t.TempDir()
	l := newTestLoop(t, digitsYAML, "train.epochs=2")
	ckpt := &Checkpointer{Dir: dir, EverySteps: 5, EveryEpochs: 1, Keep: 2, Capture: func(l *Loop) *Checkpoint {
		return &Checkpoint{Params: CaptureParams(l.Session.Model.Params()), State: l.State, Phases: l.PhaseStates()}
	}}
	l.Hooks = []Hook{ckpt}
	if err := l.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	files, _ := Numbered(dir)
	if len(files) != 2 {
		t.Fatalf("numbered checkpoints %v, want 2", files)
	}
	last, err := LoadCheckpoint(ckpt.LastPath())
	if err != nil {
		t.Fatal(err)
	}
	newest, _ := LoadCheckpoint(files[1])
	if position(last.State) != position(newest.State) || last.State.Epoch != 2 || last.State.Step != l.State.Step {
		t.Errorf("last.ckpt is at %+v, the newest numbered at %+v, the loop at step %d", last.State, newest.State, l.State.Step)
	}
	best, err := LoadCheckpoint(ckpt.BestPath())
	if err != nil || best.State.Epoch != l.State.BestEpoch {
		t.Errorf("best.ckpt: epoch %v, want %d (%v)", best.State.Epoch, l.State.BestEpoch, err)
	}
	// A diverging continuation writes nothing.
	before, _ := os.ReadFile(ckpt.LastPath())
	l.Epochs, l.Optimizer = 3, mustOptimizer(t, "{kind: sgd, lr: 1.0e+30}")
	l.DivergeFactor = 0
	if err := l.Run(context.Background()); !errors.Is(err, ErrDiverged) {
		t.Fatalf("error %v, want ErrDiverged", err)
	}
	after, _ := os.ReadFile(ckpt.LastPath())
	if string(before) != string(after) {
		t.Error("a diverged run overwrote last.ckpt")
	}
}

func mustOptimizer(t *testing.T, cfg string) Optimizer {
	o, ps := NewOptimizer(block(t, "optimizer", cfg))
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	return o
}

func TestRemoveTemporaries(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{".last.ckpt.tmp-123", ".last.ckpt.link-tmp", "last.ckpt", "best.ckpt"} {
		os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o644)
	}
	if err := RemoveTemporaries(dir); err != nil {
		t.Fatal(err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*"))
	hidden, _ := filepath.Glob(filepath.Join(dir, ".*"))
	if len(left) != 2 || len(hidden) != 0 {
		t.Errorf("left %v and %v", left, hidden)
	}
}

// TestTruncateMetricsDropsATornRow: a row cut short by a crash in the
// middle of a write is dropped with the rows after the checkpoint,
// instead of making the resume fail.
func TestTruncateMetricsDropsATornRow(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "metrics.csv"), []byte("epoch,step,lr,train_loss\n1,10,0.1,2.5\n2,20,0.1,1.5\n3,30,0."), 0o644)
	os.WriteFile(filepath.Join(dir, "metrics.jsonl"), []byte(`{"epoch":1}`+"\n"+`{"epoch":2}`+"\n"+`{"epo`), 0o644)
	if err := TruncateMetrics(dir, 2); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "metrics.csv"))
	if string(b) != "epoch,step,lr,train_loss\n1,10,0.1,2.5\n2,20,0.1,1.5\n" {
		t.Errorf("metrics.csv:\n%s", b)
	}
	j, _ := os.ReadFile(filepath.Join(dir, "metrics.jsonl"))
	if string(j) != `{"epoch":1}`+"\n"+`{"epoch":2}`+"\n" {
		t.Errorf("metrics.jsonl:\n%s", j)
	}
}

// TestCheckpointBytesAreDeterministic: the same state saved twice, at
// different wall-clock times, gives the same bytes, so that sha256sum can
// compare the checkpoints of two runs. Maps (optimizer buffers, random
// streams) are written in key order, and no wall-clock time is written.
func TestCheckpointBytesAreDeterministic(t *testing.T) {
	ck := func(elapsed time.Duration) *Checkpoint {
		c := testCheckpoint(1)
		c.Phases = []PhaseState{{Name: "d", Optimizer: OptimizerState{Steps: 3, Buffers: map[string][]float64{}}}, {Name: "g", Optimizer: OptimizerState{Steps: 3, Buffers: map[string][]float64{}}}}
		for i := range 40 {
			c.Params = append(c.Params, TensorRecord{Name: fmt.Sprintf("dense%d/b", i), Shape: []int{2}, F32: []float32{1, 2}})
			c.Phases[i%2].Optimizer.Buffers[fmt.Sprintf("dense%d/b/m", i)] = []float64{float64(i), 1}
		}
		c.RNG = map[string][]byte{"dropout": {1, 2}, "augment": {3}, "data": {4}, "init": {5}, "noise": {6}}
		c.State.Elapsed = elapsed
		return c
	}
	dir := t.TempDir()
	var files [2][]byte
	for i, elapsed := range []time.Duration{time.Second, 3 * time.Hour} {
		path := filepath.Join(dir, fmt.Sprintf("c%d.ckpt", i))
		if err := ck(elapsed).Save(path); err != nil {
			t.Fatal(err)
		}
		files[i], _ = os.ReadFile(path)
	}
	if !bytes.Equal(files[0], files[1]) {
		t.Fatal("the same state saved twice gives different bytes")
	}
	got, err := LoadCheckpoint(filepath.Join(dir, "c0.ckpt"))
	if err != nil {
		t.Fatal(err)
	}
	want := ck(0)
	want.Format = CheckpointFormat
	if !reflect.DeepEqual(got.Phases, want.Phases) || !reflect.DeepEqual(got.RNG, want.RNG) || !reflect.DeepEqual(got.State, want.State) {
		t.Errorf("loaded %+v, %v, %+v; saved %+v, %v, %+v", got.Phases, got.RNG, got.State, want.Phases, want.RNG, want.State)
	}
}

// TestElapsedAtReadsTheResumedEpochsRow: a resumed run's clock continues
// from the elapsed_s of the epoch it resumes after, since checkpoints hold
// no wall-clock time.
func TestElapsedAtReadsTheResumedEpochsRow(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "metrics.csv"), []byte("epoch,step,lr,train_loss,val_loss,elapsed_s\n1,10,0.1,2.5,2,1.25\n2,20,0.1,1.5,1,2.5\n3,30,0."), 0o644)
	for _, c := range []struct {
		epoch int
		want  time.Duration
	}{{0, 0}, {1, 1250 * time.Millisecond}, {2, 2500 * time.Millisecond}, {3, 0}, {4, 0}} {
		if got := ElapsedAt(dir, c.epoch); got != c.want {
			t.Errorf("ElapsedAt(epoch %d) = %v, want %v", c.epoch, got, c.want)
		}
	}
	if got := ElapsedAt(t.TempDir(), 1); got != 0 {
		t.Errorf("without metrics.csv: %v, want 0", got)
	}
}

// writeFramed writes v as a checkpoint file with a valid header and
// checksum, whatever v holds: a hand-made checkpoint.
func writeFramed(t *testing.T, path string, v any) {
	t.Helper()
	var body bytes.Buffer
	if err := gob.NewEncoder(&body).Encode(v); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body.Bytes())
	b := append(append([]byte(checkpointMagic), sum[:]...), body.Bytes()...)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestFormats1And2StillLoad: checkpoints written before maps were sorted
// (format 1: one optimizer; format 2: one per phase; both in plain gob
// maps) load with their optimizer buffers and random streams.
func TestFormats1And2StillLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.ckpt")
	buffers := map[string][]float64{"dense1/W/m": {1, 2, 3, 4}}
	for _, format := range []int{1, 2} {
		old := checkpointV2{Format: format, Params: testCheckpoint(1).Params, State: State{Epoch: 2, Step: 7}, RNG: map[string][]byte{"dropout": {9, 8}}}
		old.State.Schedule.Bad = 1
		name := DefaultPhase
		if format == 1 {
			old.Optimizer = plainOptimizerState{Steps: 7, Buffers: buffers}
		} else {
			name = "gen"
			old.Phases = make([]struct {
				Name      string
				Optimizer plainOptimizerState
				Schedule  ScheduleState
			}, 1)
			old.Phases[0].Name, old.Phases[0].Optimizer, old.Phases[0].Schedule.Bad = name, plainOptimizerState{Steps: 7, Buffers: buffers}, 1
		}
		writeFramed(t, path, &old)
		ck, err := LoadCheckpoint(path)
		if err != nil {
			t.Fatal(err)
		}
		want := []PhaseState{{Name: name, Optimizer: OptimizerState{Steps: 7, Buffers: buffers}, Schedule: ScheduleState{Bad: 1}}}
		if ck.Format != format || ck.State.Step != 7 || !reflect.DeepEqual(ck.Phases, want) ||
			!bytes.Equal(ck.RNG["dropout"], []byte{9, 8}) || !reflect.DeepEqual(ck.Params, old.Params) {
			t.Errorf("format %d checkpoint loaded as %+v", format, ck)
		}
	}
	writeFramed(t, path, &struct{ Format int }{7})
	if _, err := LoadCheckpoint(path); !errors.Is(err, ErrBadCheckpoint) || !strings.Contains(err.Error(), "format 7") {
		t.Errorf("format 7: %v", err)
	}
}

// TestHandMadeCheckpointsAreChecked: files with a valid checksum whose
// content cannot be right are refused on load, naming the file and the
// tensor or field.
func TestHandMadeCheckpointsAreChecked(t *testing.T) {
	good := func() *Checkpoint {
		return &Checkpoint{Format: CheckpointFormat,
			Params: []TensorRecord{{Name: "dense1/W", Shape: []int{2, 2}, F32: []float32{1, 2, 3, 4}}, {Name: "dense1/b", Shape: []int{2}, F32: []float32{0, 0}}},
			Phases: []PhaseState{{Name: DefaultPhase, Optimizer: OptimizerState{Steps: 4, Buffers: map[string][]float64{"dense1/W/m": {1, 2, 3, 4}, "dense1/b/m": {0, 0}}}}},
			State:  State{Epoch: 2, Step: 4, BestEpoch: 1, LR: 0.1},
			RNG:    map[string][]byte{"dropout": {1}},
		}
	}
	for _, c := range []struct {
		name   string
		change func(c *Checkpoint)
		want   string
	}{
		{"half a tensor", func(c *Checkpoint) { c.Params[0].F32 = c.Params[0].F32[:2] }, "tensor dense1/W has shape [2 2] (4 values) but holds 2 values"},
		{"extra values", func(c *Checkpoint) { c.Params[1].F32 = append(c.Params[1].F32, 7) }, "tensor dense1/b has shape [2] (2 values) but holds 3 values"},
		{"negative dimension", func(c *Checkpoint) { c.Params[1].Shape = []int{-2} }, "tensor dense1/b has shape [-2]"},
		{"two dtypes", func(c *Checkpoint) { c.Params[1].F64 = []float64{1} }, "tensor dense1/b holds both float32 and float64 values"},
		{"NaN weight", func(c *Checkpoint) { c.Params[0].F32[1] = float32(math.NaN()) }, "tensor dense1/W holds NaN at index 1"},
		{"infinite weight", func(c *Checkpoint) { c.Params[0].F32, c.Params[0].F64 = nil, []float64{1, 2, math.Inf(-1), 4} }, "tensor dense1/W holds -Inf at index 2"},
		{"twice", func(c *Checkpoint) { c.Params = append(c.Params, c.Params[0]) }, "tensor dense1/W is saved twice"},
		{"short buffer", func(c *Checkpoint) { c.Phases[0].Optimizer.Buffers["dense1/W/m"] = []float64{1, 2, 3} }, "optimizer buffer dense1/W/m holds 3 values; its tensor dense1/W has 4"},
		{"stray buffer", func(c *Checkpoint) { c.Phases[0].Optimizer.Buffers["dense9/W/v"] = []float64{1} }, "optimizer buffer dense9/W/v belongs to no saved tensor"},
		{"NaN buffer", func(c *Checkpoint) { c.Phases[0].Optimizer.Buffers["dense1/b/m"] = []float64{0, math.NaN()} }, "optimizer buffer dense1/b/m holds NaN at index 1"},
		{"negative steps", func(c *Checkpoint) { c.Phases[0].Optimizer.Steps = -1 }, "the optimizer's step count is -1"},
		{"negative epoch", func(c *Checkpoint) { c.State.Epoch = -1 }, "the loop state's epoch is -1; it must be >= 0"},
		{"negative batch", func(c *Checkpoint) { c.State.Batch = -3 }, "the loop state's batch is -3"},
		{"negative step", func(c *Checkpoint) { c.State.Step = -5 }, "the loop state's step is -5"},
		{"best after the end", func(c *Checkpoint) { c.State.BestEpoch = 3 }, "best epoch (3) is after the epochs completed (2)"},
		{"NaN loss sum", func(c *Checkpoint) { c.State.LossSum = math.NaN() }, "the loop state's loss sum is NaN"},
		{"negative rate", func(c *Checkpoint) { c.State.LR = -0.1 }, "learning rate is negative"},
		{"negative schedule count", func(c *Checkpoint) { c.Phases[0].Schedule.Cooldown = -2 }, "the schedule's counts are negative"},
		{"named phase", func(c *Checkpoint) { c.Phases[0].Name = "gen"; c.Phases[0].Optimizer.Steps = -1 }, `phase "gen": the optimizer's step count is -1`},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "hand.ckpt")
			ck := good()
			c.change(ck)
			writeFramed(t, path, ck)
			_, err := LoadCheckpoint(path)
			if !errors.Is(err, ErrBadCheckpoint) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v; want ErrBadCheckpoint naming %s and saying %q", err, path, c.want)
			}
		})
	}
	path := filepath.Join(t.TempDir(), "good.ckpt")
	writeFramed(t, path, good())
	if _, err := LoadCheckpoint(path); err != nil {
		t.Errorf("a valid checkpoint was refused: %v", err)
	}
}

// FuzzLoadCheckpoint: whatever a file holds behind a valid header and
// checksum, LoadCheckpoint returns a checkpoint that passes its checks or
// an ErrBadCheckpoint, never panics.
func FuzzLoadCheckpoint(f *testing.F) {
	for _, c := range []*Checkpoint{testCheckpoint(1), {Format: 1}, {Format: CheckpointFormat, State: State{Epoch: -1}}} {
		var body bytes.Buffer
		gob.NewEncoder(&body).Encode(c)
		f.Add(body.Bytes())
	}
	old := checkpointV2{Format: 1, RNG: map[string][]byte{"dropout": {1}}, Optimizer: plainOptimizerState{Steps: 1, Buffers: map[string][]float64{"a/m": {1}}}}
	var body bytes.Buffer
	gob.NewEncoder(&body).Encode(&old)
	f.Add(body.Bytes())
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, body []byte) {
		sum := sha256.Sum256(body)
		path := filepath.Join(dir, "fuzz.ckpt")
		if err := os.WriteFile(path, append(append([]byte(checkpointMagic), sum[:]...), body...), 0o644); err != nil {
			t.Fatal(err)
		}
		ck, err := LoadCheckpoint(path)
		switch {
		case err != nil && !errors.Is(err, ErrBadCheckpoint):
			t.Fatalf("error without ErrBadCheckpoint: %v", err)
		case err == nil && len(ck.check()) > 0:
			t.Fatalf("loaded a checkpoint that fails its checks: %v", ck.check())
		}
	})
}

// TestMetricsLogAfterAnEmptyFile: a run killed between creating
// metrics.csv and writing its header leaves an empty file, which
// TruncateMetrics turns into one empty line on resume; the next epoch's
// row must still carry every column (it once logged a row with none, and
// a sweep then failed the trial: "metrics.jsonl:1 has no val_loss").
func TestMetricsLogAfterAnEmptyFile(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "metrics.csv"), nil, 0o644)
	if err := TruncateMetrics(dir, 0); err != nil {
		t.Fatal(err)
	}
	m := &MetricsLog{Dir: dir}
	if err := m.AfterEpoch(nil, EpochStats{Epoch: 1, Step: 5, Val: map[string]float64{"val_loss": 0.5}}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "metrics.csv"))
	if !strings.HasPrefix(string(b), "epoch,step,") {
		t.Errorf("metrics.csv does not open with its header:\n%q", b)
	}
	j, _ := os.ReadFile(filepath.Join(dir, "metrics.jsonl"))
	if !strings.Contains(string(j), `"val_loss":0.5`) {
		t.Errorf("metrics.jsonl lost val_loss:\n%s", j)
	}
}
