package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/data"
)

// writeNpyFile writes float32 samples of shape to path.
func writeNpyFile(t *testing.T, path string, shape []int, x []float32) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := data.WriteNpy(f, shape, x); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// trainRun trains a shipped config briefly and returns its run directory.
func trainRun(t *testing.T, config string, sets ...string) string {
	t.Helper()
	out := t.TempDir()
	args := []string{"train", "--config", repoFile(config), "--out", out}
	for _, s := range sets {
		args = append(args, "--set", s)
	}
	if code, _, stderr := runCLI(t, args...); code != 0 {
		t.Fatalf("train %s: exit %d\n%s", config, code, stderr)
	}
	return onlyRunUnder(t, out)
}

// TestEvalJudge: eval --judge prints the table, --json the report, and
// writes judge.json next to the samples or at --output; bad input exits 2
// naming what is wrong.
func TestEvalJudge(t *testing.T) {
	judge := trainRun(t, "configs/mnist8k-lenet-judge.yaml", "train.epochs=1")
	dir := t.TempDir()
	samples := filepath.Join(dir, "samples.npy")
	x := make([]float32, 20*784)
	for i := range x {
		x[i] = float32(i % 256)
	}
	writeNpyFile(t, samples, []int{20, 784}, x)

	code, out, stderr := runCLI(t, "eval", "--judge", judge, "--samples", samples)
	if code != 0 || !strings.Contains(out, "real test samples  500") || !strings.Contains(out, "samples            20") {
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "judge.json")); err != nil {
		t.Errorf("judge.json next to the samples: %v", err)
	}
	report := filepath.Join(t.TempDir(), "r.json")
	code, out, stderr = runCLI(t, "eval", "--judge", judge, "--samples", samples, "--json", "--output", report, "--confidence", "0.5")
	if code != 0 {
		t.Fatalf("--json: exit %d\n%s", code, stderr)
	}
	var r struct {
		Judge      string
		Confidence float64
		Samples    struct{ N, Coverage int }
		Real       struct {
			N       int
			Classes []struct{ Class string }
		}
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if r.Judge != judge || r.Confidence != 0.5 || r.Samples.N != 20 || r.Real.N != 500 || len(r.Real.Classes) != 10 {
		t.Errorf("JSON report %+v", r)
	}
	if b, err := os.ReadFile(report); err != nil || strings.TrimSpace(string(b)) != strings.TrimSpace(out) {
		t.Errorf("--output holds %q (%v), stdout %q", b, err, out)
	}

	regression := trainRun(t, "configs/penguins-mass-regression.yaml", "train.epochs=1")
	bad := filepath.Join(dir, "bad.npy")
	writeNpyFile(t, bad, []int{2, 10, 10}, make([]float32, 200))
	for _, c := range []struct {
		name string
		args []string
		want []string
	}{
		{"shape", []string{"--judge", judge, "--samples", bad}, []string{"bad.npy", "[10 10]", "[1 28 28]"}},
		{"regression judge", []string{"--judge", regression, "--samples", samples}, []string{"regression run (data.task: regression)"}},
		{"classifier as GAN run", []string{"--judge", judge, "--run", judge}, []string{"needs a GAN run", "data.task: classification"}},
		{"no judge", []string{"--samples", samples}, []string{"--samples needs --judge"}},
		{"samples and run", []string{"--judge", judge, "--samples", samples, "--run", judge}, []string{"not both"}},
		{"nothing to score", []string{"--judge", judge}, []string{"--samples FILE.npy, or --run GAN_RUN"}},
		{"split", []string{"--judge", judge, "--samples", samples, "--split", "val"}, []string{"--split does not apply"}},
		{"seed with samples", []string{"--judge", judge, "--samples", samples, "--seed", "3"}, []string{"--seed applies to a GAN run"}},
		{"judge flag without judge", []string{"--run", judge, "--n", "5"}, []string{"--n applies to --judge only"}},
		{"confidence", []string{"--judge", judge, "--samples", samples, "--confidence", "1"}, []string{"confidence threshold must be in (0, 1)"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, append([]string{"eval"}, c.args...)...)
			if code != 2 {
				t.Errorf("exit %d, want 2\n%s", code, stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
}

// TestEvalJudgeGANRun: eval --run GAN_RUN --judge CLASSIFIER_RUN draws
// --n samples from the GAN (run.Generate) and scores them; the same seed
// gives the same report.
func TestEvalJudgeGANRun(t *testing.T) {
	const ganConfig = "configs/mnist-gan.yaml" // the MLP GAN config of issue 14
	gan := trainRun(t, ganConfig, "train.epochs=1")
	judge := trainRun(t, "configs/mnist8k-lenet-judge.yaml", "train.epochs=1")
	code, out, stderr := runCLI(t, "eval", "--run", gan, "--judge", judge, "--n", "50", "--seed", "3", "--json")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var r struct{ Samples struct{ N int } }
	if err := json.Unmarshal([]byte(out), &r); err != nil || r.Samples.N != 50 {
		t.Fatalf("report %+v (%v)\n%s", r, err, out)
	}
	if _, err := os.Stat(filepath.Join(gan, "eval", "judge.json")); err != nil {
		t.Error(err)
	}
	_, again, _ := runCLI(t, "eval", "--run", gan, "--judge", judge, "--n", "50", "--seed", "3", "--json")
	if again != out {
		t.Errorf("the same seed gave another report")
	}
}
