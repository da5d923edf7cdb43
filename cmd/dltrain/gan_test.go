package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestGANBadInputExits2: a GAN config mistake exits 2 before training,
// naming the key and the shapes; so does a wgan_gp critic with a layer
// whose penalty is not built, and sampling from a classifier.
func TestGANBadInputExits2(t *testing.T) {
	cfg := filepath.Join("..", "..", "configs", "mnist-gan.yaml")
	for _, c := range []struct {
		set  string
		want []string
	}{
		{"train.discriminator.steps=0", []string{"train.discriminator.steps", "got 0"}},
		{"model.discriminator=[{type: dense, units: 3}]", []string{"model.discriminator", "(784)", "(3)"}},
		{"model.generator=[{type: dense, units: 10}]", []string{"model.generator", "(10)", "(784)"}},
	} {
		t.Run(c.set, func(t *testing.T) {
			code, _, stderr := runCLI(t, "train", "--config", cfg, "--out", t.TempDir(), "--set", c.set)
			if code != 2 {
				t.Fatalf("exit %d, want 2\n%s", code, stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("%q not in:\n%s", w, stderr)
				}
			}
		})
	}
	wgan := filepath.Join("..", "..", "configs", "mnist-wgan-gp.yaml")
	code, _, stderr := runCLI(t, "train", "--config", wgan, "--out", t.TempDir(), "--set",
		"model.discriminator=[{type: dense, units: 8, activation: leaky_relu}, {type: batchnorm}, {type: dense, units: 1}]")
	if code != 2 || !strings.Contains(stderr, "model.discriminator[1].type") || !strings.Contains(stderr, "batch norm") {
		t.Errorf("wgan_gp critic with batch norm: exit %d, want 2 naming model.discriminator[1].type\n%s", code, stderr)
	}
	tmp := t.TempDir()
	if code, _, stderr := runCLI(t, "train", "--config", filepath.Join("..", "..", "configs", "iris-mlp.yaml"), "--out", tmp, "--set", "train.epochs=1"); code != 0 {
		t.Fatalf("iris: exit %d\n%s", code, stderr)
	}
	code, _, stderr = runCLI(t, "sample", "--run", onlyRunUnder(t, tmp), "--n", "4", "--output", filepath.Join(tmp, "s.npy"))
	if code != 2 || !strings.Contains(stderr, "data.task: classification") {
		t.Errorf("sample on a classifier: exit %d\n%s", code, stderr)
	}
}
