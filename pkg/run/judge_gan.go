package run

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/eval"
)

// drawFromRun draws opt.N samples from the generative run opt.Run for the
// judge, in the data's original units, with the class of each sample of
// a conditional GAN. It refuses a run that is not generative (a
// classifier given as --run by mistake) before anything is drawn, and
// fills in the run's seed when none was given.
func drawFromRun(ctx context.Context, opt *JudgeOptions) (*Generated, error) {
	cfgPath := filepath.Join(opt.Run, "config.yaml")
	if _, err := os.Stat(cfgPath); err != nil {
		return nil, fmt.Errorf("%w: %s is not a run directory (no config.yaml)", config.ErrInvalid, opt.Run)
	}
	exp, err := loadSaved(cfgPath)
	if err != nil {
		return nil, err
	}
	if exp.Data.Task != "generation" {
		return nil, fmt.Errorf("%w: eval --judge needs a GAN run (model.kind: gan, data.task: generation) to draw samples from; %s is a %s run (data.task: %s). To score samples from a file, give --samples FILE.npy instead of --run",
			config.ErrInvalid, opt.Run, exp.Data.Task, exp.Data.Task)
	}
	if !opt.SeedSet {
		opt.Seed = int64(exp.Seed)
	}
	return generateSamples(ctx, *opt)
}

// generateSamples is the judge's one call into the GAN sampler: it draws
// opt.N samples (opt.Seed, opt.Class) from opt.Run's opt.Checkpoint, in
// the data's original units.
func generateSamples(ctx context.Context, opt JudgeOptions) (*Generated, error) {
	if opt.Seed < 0 {
		return nil, fmt.Errorf("%w: eval --seed %d: expected a seed >= 0", config.ErrInvalid, opt.Seed)
	}
	return GenerateClasses(ctx, GenerateOptions{Run: opt.Run, Checkpoint: opt.Checkpoint, N: opt.N, Seed: uint64(opt.Seed), Class: opt.Class})
}

// classAccuracy scores a conditional GAN's samples (their judge
// probabilities probs) against the classes they were drawn for. The
// GAN's classes are found among the judge's by name; a class the judge
// does not know is an error naming both lists.
func (j *judge) classAccuracy(g *Generated, probs []float64, opt JudgeOptions) (*eval.ClassAccuracy, error) {
	toJudge := make([]int, len(g.Names))
	for c, name := range g.Names {
		if toJudge[c] = slices.Index(j.meta.Classes, name); toJudge[c] < 0 {
			return nil, fmt.Errorf("%w: the GAN %s draws class %q, which the judge %s does not know (its classes: %s); the judge must be trained on the same classes",
				config.ErrInvalid, opt.Run, name, j.dir, strings.Join(j.meta.Classes, ", "))
		}
	}
	drawn := make([]int, len(g.Classes))
	for i, c := range g.Classes {
		drawn[i] = toJudge[c]
	}
	return eval.ScoreClasses(probs, j.meta.Classes, drawn, opt.Confidence), nil
}
