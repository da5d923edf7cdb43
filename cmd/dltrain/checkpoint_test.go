package main

import (
	"crypto/sha256"
	"os"
	"path/filepath"
	"testing"
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
