//go:build linux

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDiskFullExits5 (issue 16, item 10): a write that fails for want of
// space (/dev/full, which answers every write with ENOSPC) is exit 5 in
// train, prepare, eval and predict, never 1 ("a bug"), 2 ("invalid
// experiment") or 0, and the message says what could not be written.
func TestDiskFullExits5(t *testing.T) {
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skip("no /dev/full")
	}
	defer full.Close()
	out := t.TempDir()
	iris := repoFile("configs/iris-mlp.yaml")
	var stderr bytes.Buffer
	// train: the run trains, then printing its test report fails.
	if code := execute([]string{"train", "--config", iris, "--out", out, "--set", "train.epochs=1"}, full, &stderr); code != 5 {
		t.Fatalf("train with a full stdout: exit %d, want 5\n%s", code, stderr.String())
	}
	dir := onlyRun(t, out, "iris-mlp")
	in := writeFile(t, t.TempDir(), "new.csv", "petal_width,petal_length,sepal_width,sepal_length\n0.2,1.4,3.5,5.1\n")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"eval", []string{"eval", "--run", dir}, "no space left on device"},
		{"predict", []string{"predict", "--run", dir, "--input", in}, "no space left on device"},
		{"predict --output", []string{"predict", "--run", dir, "--input", in, "--output", "/dev/full"}, "--output /dev/full: cannot write the predictions"},
		{"prepare", []string{"prepare", "--config", iris, "--out", filepath.Join(t.TempDir(), "p")}, "no space left on device"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stderr.Reset()
			if code := execute(tc.args, full, &stderr); code != 5 || !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("exit %d, want 5 and %q\n%s", code, tc.want, stderr.String())
			}
		})
	}
}
