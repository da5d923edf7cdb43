package run

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/dltrain/dltrain/pkg/config"
)

// drawFromRun draws opt.N samples from the generative run opt.Run for the
// judge, in the data's original units, with their shape [N, sample
// shape...]. It refuses a run that is not generative (a classifier given
// as --run by mistake) before anything is drawn, and fills in the run's
// seed when none was given.
func drawFromRun(ctx context.Context, opt *JudgeOptions) ([]float32, []int, error) {
	cfgPath := filepath.Join(opt.Run, "config.yaml")
	if _, err := os.Stat(cfgPath); err != nil {
		return nil, nil, fmt.Errorf("%w: %s is not a run directory (no config.yaml)", config.ErrInvalid, opt.Run)
	}
	exp, err := loadSaved(cfgPath)
	if err != nil {
		return nil, nil, err
	}
	if exp.Data.Task != "generation" {
		return nil, nil, fmt.Errorf("%w: eval --judge needs a GAN run (model.kind: gan, data.task: generation) to draw samples from; %s is a %s run (data.task: %s). To score samples from a file, give --samples FILE.npy instead of --run",
			config.ErrInvalid, opt.Run, exp.Data.Task, exp.Data.Task)
	}
	if !opt.SeedSet {
		opt.Seed = int64(exp.Seed)
	}
	return generateSamples(ctx, *opt)
}

// generateSamples is the judge's one call into the GAN sampler: it draws
// opt.N samples (opt.Seed, opt.Class) from opt.Run's opt.Checkpoint, in
// the data's original units, with the shape [N, sample shape...].
func generateSamples(ctx context.Context, opt JudgeOptions) ([]float32, []int, error) {
	if opt.Seed < 0 {
		return nil, nil, fmt.Errorf("%w: eval --seed %d: expected a seed >= 0", config.ErrInvalid, opt.Seed)
	}
	x, shape, err := Generate(ctx, GenerateOptions{Run: opt.Run, Checkpoint: opt.Checkpoint, N: opt.N, Seed: uint64(opt.Seed), Class: opt.Class})
	if err != nil {
		return nil, nil, err
	}
	return x, append([]int{opt.N}, shape...), nil // Generate gives the shape of one sample
}
