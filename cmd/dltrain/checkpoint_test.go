package main

import (
	"crypto/sha256"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/train"
)

// TestIdenticalRunsWriteIdenticalCheckpoints: two runs of one experiment
// write byte-identical checkpoints, so that sha256sum can compare runs.
func TestIdenticalRunsWriteIdenticalCheckpoints(t *testing.T) {
	var sums [2]map[string][32]byte
	for i := range sums {
		out := t.TempDir()
		code, _, stderr := dltrain(t, "train", "--config", "../../configs/iris-mlp.yaml", "--out", out, "--set", "train.epochs=3")
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		dir := onlyRun(t, out, "iris-mlp")
		sums[i] = map[string][32]byte{}
		for _, name := range []string{"last.ckpt", "best.ckpt"} {
			b, err := os.ReadFile(filepath.Join(dir, "checkpoints", name))
			if err != nil {
				t.Fatal(err)
			}
			sums[i][name] = sha256.Sum256(b)
		}
	}
	for name, sum := range sums[0] {
		if sums[1][name] != sum {
			t.Errorf("%s differs between two identical runs: sha256 %x and %x", name, sum, sums[1][name])
		}
	}
}

// TestDamagedCheckpointsExit2 rewrites a run's checkpoints with a valid
// checksum but impossible content (half a tensor, a negative epoch, NaN
// weights): eval, predict and --resume all exit 2 naming the file and
// the tensor or field, before using any of it.
func TestDamagedCheckpointsExit2(t *testing.T) {
	out := t.TempDir()
	if code, _, stderr := dltrain(t, "train", "--config", "../../configs/iris-mlp.yaml", "--out", out, "--set", "train.epochs=4"); code != 0 {
		t.Fatalf("train: exit %d\n%s", code, stderr)
	}
	dir := onlyRun(t, out, "iris-mlp")
	in := writeFile(t, t.TempDir(), "new.csv", "petal_width,petal_length,sepal_width,sepal_length\n0.2,1.4,3.5,5.1\n")
	orig := map[string][]byte{}
	for _, name := range []string{"last.ckpt", "best.ckpt"} {
		// Both are written again below: break last.ckpt's hard link first.
		path := filepath.Join(dir, "checkpoints", name)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		orig[name] = b
		os.Remove(path)
	}
	for _, c := range []struct {
		name   string
		change func(ck *train.Checkpoint)
		want   string
	}{
		{"half a tensor", func(ck *train.Checkpoint) { ck.Params[0].F32 = ck.Params[0].F32[:len(ck.Params[0].F32)/2] }, "tensor dense1/W has shape [4 16] (64 values) but holds 32 values"},
		{"negative epoch", func(ck *train.Checkpoint) { ck.State.Epoch = -1 }, "the loop state's epoch is -1"},
		{"NaN weights", func(ck *train.Checkpoint) { ck.Params[2].F32[5] = float32(math.NaN()) }, "tensor dense2/W holds NaN at index 5"},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, name := range []string{"last.ckpt", "best.ckpt"} {
				path := filepath.Join(dir, "checkpoints", name)
				if err := os.WriteFile(path, orig[name], 0o644); err != nil {
					t.Fatal(err)
				}
				ck, err := train.LoadCheckpoint(path)
				if err != nil {
					t.Fatal(err)
				}
				c.change(ck)
				if err := ck.Save(path); err != nil {
					t.Fatal(err)
				}
			}
			for _, args := range [][]string{
				{"eval", "--run", dir},
				{"eval", "--run", dir, "--checkpoint", "last"},
				{"predict", "--run", dir, "--input", in},
				{"train", "--resume", dir},
			} {
				code, _, stderr := dltrain(t, args...)
				name := "best.ckpt"
				if args[0] == "train" || slices.Contains(args, "last") {
					name = "last.ckpt"
				}
				if code != 2 || !strings.Contains(stderr, filepath.Join(dir, "checkpoints", name)) || !strings.Contains(stderr, c.want) {
					t.Errorf("%v: exit %d, want 2 naming %s and saying %q:\n%s", args, code, name, c.want, stderr)
				}
			}
		})
	}
}

// TestPredictBlamesAForeignCheckpoint: predict --checkpoint with a
// checkpoint of another model, or of a model of other data, names the
// checkpoint and what differs, not a line of the run's own config.yaml.
func TestPredictBlamesAForeignCheckpoint(t *testing.T) {
	dir, out := t.TempDir(), t.TempDir()
	var two, renamed strings.Builder
	two.WriteString("sepal_length,sepal_width,petal_length,petal_width,species\n")
	renamed.WriteString(two.String())
	for i := range 60 {
		x := float64(i%10) / 2
		fmt.Fprintf(&two, "%g,%g,%g,%g,%s\n", 4+x, 3-x/4, 1+x, x/3, []string{"small", "large"}[i%2])
		fmt.Fprintf(&renamed, "%g,%g,%g,%g,%s\n", 4+x, 3-x/4, 1+x, x/3, []string{"a", "b", "c"}[i%3])
	}
	writeFile(t, dir, "two.csv", two.String())
	writeFile(t, dir, "renamed.csv", renamed.String())
	for _, args := range [][]string{
		{"--config", "../../configs/iris-mlp.yaml"},
		{"--config", "../../configs/iris-mlp.yaml", "--set", "name=two", "--set", "data.source=csv:" + filepath.Join(dir, "two.csv"),
			"--set", "data.label=species", "--set", "model.layers=[{type: dense, units: 16, activation: tanh}, {type: dense, units: 2}]"},
		{"--config", "../../configs/iris-mlp.yaml", "--set", "name=renamed", "--set", "data.source=csv:" + filepath.Join(dir, "renamed.csv"), "--set", "data.label=species"},
	} {
		if code, _, stderr := dltrain(t, append([]string{"train", "--out", out, "--set", "train.epochs=2"}, args...)...); code != 0 {
			t.Fatalf("train %v: exit %d\n%s", args, code, stderr)
		}
	}
	iris := onlyRun(t, out, "iris-mlp")
	in := writeFile(t, dir, "new.csv", "petal_width,petal_length,sepal_width,sepal_length\n0.2,1.4,3.5,5.1\n")
	for _, c := range []struct{ run, want string }{
		{"two", "model.layers"},
		{"renamed", "classes a, b, c (the run's: setosa, versicolor, virginica)"},
	} {
		ck := filepath.Join(onlyRun(t, out, c.run), "checkpoints", "best.ckpt")
		code, _, stderr := dltrain(t, "predict", "--run", iris, "--input", in, "--checkpoint", ck)
		if code != 2 || !strings.Contains(stderr, ck) || !strings.Contains(stderr, c.want) || strings.Contains(stderr, "config.yaml:") {
			t.Errorf("%s: exit %d, want 2 naming %s and saying %q, not a config.yaml line:\n%s", c.run, code, ck, c.want, stderr)
		}
	}
}
