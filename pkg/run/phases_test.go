package run

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/train"
)

// copyDir copies the files of src (one level of subdirectories) to dst.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestResumeFromAFormat1Checkpoint: testdata/v1run is a run interrupted
// in its second epoch, written by dltrain before training phases
// (checkpoint format 1: one optimizer's state, Adam, and a
// reduce-on-plateau schedule's). It resumes into the one phase of today's
// loop and ends bit-identical to an uninterrupted run of the same config.
func TestResumeFromAFormat1Checkpoint(t *testing.T) {
	ck, err := train.LoadCheckpoint("testdata/v1run/checkpoints/last.ckpt")
	if err != nil {
		t.Fatal(err)
	}
	if ck.Format != 1 || len(ck.Phases) != 1 || ck.Phases[0].Name != train.DefaultPhase || len(ck.Phases[0].Optimizer.Buffers) == 0 {
		t.Fatalf("format %d, phases %+v: want a format 1 file read as the one phase %q with Adam's buffers", ck.Format, ck.Phases, train.DefaultPhase)
	}
	dir := filepath.Join(t.TempDir(), "v1", "run")
	copyDir(t, "testdata/v1run", dir)
	var log bytes.Buffer
	resumed, err := Train(context.Background(), TrainOptions{Resume: dir, Out: t.TempDir(), Stderr: &log})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "resuming") {
		t.Fatalf("not resumed:\n%s", log.String())
	}
	straight, err := Train(context.Background(), TrainOptions{Config: "testdata/v1run/config.yaml", Out: t.TempDir()})
	if err != nil {
		t.Fatal(err)
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
		if b.Format != train.CheckpointFormat {
			t.Errorf("%s: the resumed run wrote format %d, want %d", name, b.Format, train.CheckpointFormat)
		}
		if !sameParams(a.Params, b.Params) || !samePhases(a.Phases, b.Phases) {
			t.Errorf("%s: the run resumed from format 1 differs from the straight run", name)
		}
	}
	if a, b := metricsWithoutTime(t, straight.Dir), metricsWithoutTime(t, resumed.Dir); a != b {
		t.Errorf("metrics\n%s\nresumed from format 1:\n%s", a, b)
	}
}
