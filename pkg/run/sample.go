package run

import (
	"context"
	"fmt"
	"io"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/data"
	"github.com/dltrain/dltrain/pkg/train"
)

// SampleOptions are the settings of `dltrain sample`. Text settings apply
// to a language model, the others to a generative model (a GAN).
type SampleOptions struct {
	Run        string // run directory
	Checkpoint string // "best", "last" or a checkpoint file
	Seed       int64  // the sampling seed: the same seed gives the same samples
	SeedSet    bool   // whether Seed was given (otherwise the run's seed is used)

	// Language models.
	Prompt      string  // text the generated text continues ("" starts from nothing)
	Length      int     // tokens to generate
	Temperature float64 // divides the logits; 0 means greedy
	TopK        int     // sample among the K most likely tokens; 0 means all

	// Generative models.
	N      int    // samples to generate
	Class  string // conditional GANs: the class to generate ("" mixes all)
	Output string // .npy file of the samples in the data's original units
	Grid   string // .png file of the samples as an image grid

	Stdout io.Writer
	Logf   func(format string, args ...any)
}

// Sample generates from a trained run: text from a language model, or
// samples from a generative model. Other runs are refused with
// config.ErrInvalid naming the run's task.
func Sample(ctx context.Context, opt SampleOptions) error {
	exp, ck, meta, path, err := openRun(opt.Run, opt.Checkpoint)
	if err != nil {
		return err
	}
	s := sampleRun{exp: exp, ck: ck, meta: meta, path: path}
	switch meta.Task {
	case "language_model":
		return sampleText(ctx, s, opt)
	case "generation":
		return sampleGenerated(ctx, s, opt)
	}
	return fmt.Errorf("%w: sample: run %s is a %s run (data.task: %s); sample needs a language model (data.task: language_model) or a generative model (data.task: generation)",
		config.ErrInvalid, opt.Run, meta.Task, meta.Task)
}

// sampleRun is a run opened for sampling: its saved experiment, the
// checkpoint and the data description the checkpoint holds.
type sampleRun struct {
	exp  *config.Experiment
	ck   *train.Checkpoint
	meta data.Meta
	path string // the checkpoint's file
}
