package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConditionalGANCLI: a conditional GAN trains and samples one class
// through the CLI; a conditional GAN on images without labels, an
// unknown class and --class on an unconditional GAN exit 2 saying what
// is wrong.
func TestConditionalGANCLI(t *testing.T) {
	configs := filepath.Join("..", "..", "configs")
	tmp := t.TempDir()
	if code, _, stderr := runCLI(t, "train", "--config", filepath.Join(configs, "mnist-cgan.yaml"), "--out", tmp,
		"--set", "train.epochs=1", "--set", "train.sample_every=0"); code != 0 {
		t.Fatalf("train: exit %d\n%s", code, stderr)
	}
	run := onlyRunUnder(t, tmp)
	out := filepath.Join(t.TempDir(), "sevens.npy")
	if code, _, stderr := runCLI(t, "sample", "--run", run, "--n", "5", "--class", "7", "--output", out); code != 0 {
		t.Fatalf("sample --class 7: exit %d\n%s", code, stderr)
	}
	if st, err := os.Stat(out); err != nil || st.Size() < 5*784*4 {
		t.Errorf("sevens.npy: %v", err)
	}
	code, _, stderr := runCLI(t, "sample", "--run", run, "--n", "5", "--class", "seven", "--output", out)
	if code != 2 || !strings.Contains(stderr, `--class "seven" is not a class of this run; its classes are 0, 1, 2`) {
		t.Errorf("an unknown class: exit %d\n%s", code, stderr)
	}
	code, _, stderr = runCLI(t, "train", "--config", filepath.Join(configs, "mnist-gan.yaml"), "--out", t.TempDir(), "--set", "model.conditional=true")
	if code != 2 || !strings.Contains(stderr, "data.source") || !strings.Contains(stderr, "model.conditional") || !strings.Contains(stderr, "idx:IMAGES,LABELS") {
		t.Errorf("conditional without labels: exit %d\n%s", code, stderr)
	}
	plain := t.TempDir()
	if code, _, stderr := runCLI(t, "train", "--config", filepath.Join(configs, "mnist-gan.yaml"), "--out", plain,
		"--set", "train.epochs=1", "--set", "train.sample_every=0"); code != 0 {
		t.Fatalf("train the unconditional GAN: exit %d\n%s", code, stderr)
	}
	code, _, stderr = runCLI(t, "sample", "--run", onlyRunUnder(t, plain), "--n", "5", "--class", "7", "--output", out)
	if code != 2 || !strings.Contains(stderr, "needs a conditional GAN") {
		t.Errorf("--class on an unconditional GAN: exit %d\n%s", code, stderr)
	}
}
