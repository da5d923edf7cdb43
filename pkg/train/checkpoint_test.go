package train

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
