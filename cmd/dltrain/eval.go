package main

import (
	"fmt"

	"github.com/dltrain/dltrain/pkg/eval"
	"github.com/dltrain/dltrain/pkg/run"
	"github.com/spf13/cobra"
)

type evalOptions struct {
	run        string
	checkpoint string
	split      string
	json       bool
	judge      run.JudgeOptions // --judge: the samples' scores by a classifier
}

func newEvalCommand(a *app) *cobra.Command {
	o := &evalOptions{}
	c := &cobra.Command{
		Use:   "eval --run RUN_DIR [--checkpoint best|last|PATH] [--split test|val|train] [--json]",
		Short: "Evaluate a saved checkpoint of a run on one data split, or score samples with a judge",
		Long: `Eval rebuilds the model from the run's config.yaml, loads the checkpoint, recreates the
same split from the same data and seed, and reports loss, accuracy, per-class precision,
recall and F1, macro-F1 and the confusion matrix (regression: MSE, MAE, R²). The report
is printed and written to RUN_DIR/eval/CHECKPOINT-SPLIT.json. RUN_DIR/report.json, the
run's final evaluation, is rewritten only by the evaluation it holds: the best checkpoint
on the test split. It refuses when the data file changed since training.

With --judge CLASSIFIER_RUN it scores generated samples instead: those of --samples FILE.npy
([N, sample shape...] in the data's original units, 0–255 for MNIST), or --n samples drawn
from the GAN run --run. The classifier (a classification run trained by dltrain on the same
kind of data) reports the share of samples it is confident about (top probability above
--confidence) and the classes covered (holding at least --min-share of the samples), next
to the same numbers for its own test split; for a conditional GAN (--class C draws one class)
also the class accuracy, the share of samples it puts in the class they were drawn for. The report is printed and written to
judge.json next to the samples file (RUN_DIR/eval/judge.json for a GAN run), or --output.`,
		Example: `  dltrain eval --run runs/digits-mlp/20261127-101500
  dltrain eval --run runs/digits-mlp/20261127-101500 --checkpoint last --split val --json
  dltrain eval --judge runs/mnist8k-lenet-judge/20261204-190439 --samples samples.npy
  dltrain eval --run runs/mnist-gan/20261204-101500 --judge runs/mnist8k-lenet-judge/20261204-190439 --n 1000 --seed 1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.begin(); err != nil {
				return err
			}
			logf := func(format string, args ...any) { fmt.Fprintf(a.logOut(), format+"\n", args...) }
			if o.judge.Judge != "" || o.judge.Samples != "" {
				return runJudge(cmd, a, o, logf)
			}
			if o.run == "" {
				return usageErr("--run is required")
			}
			for _, f := range []string{"n", "seed", "class", "confidence", "min-share", "output", "judge-checkpoint"} {
				if cmd.Flags().Changed(f) {
					return usageErr("--%s applies to --judge only", f)
				}
			}
			_, err := run.Eval(cmd.Context(), run.EvalOptions{
				Run: o.run, Checkpoint: o.checkpoint, Split: o.split, Stdout: a.stdout, JSON: o.json, Logf: logf,
			})
			return err
		},
	}
	f := c.Flags()
	f.StringVar(&o.run, "run", "", "run directory (required, except with --judge --samples)")
	f.StringVar(&o.checkpoint, "checkpoint", "best", "best, last, or a checkpoint file (of --run)")
	f.StringVar(&o.split, "split", "test", "test, val or train")
	f.BoolVar(&o.json, "json", false, "print the report as JSON")
	j := &o.judge
	f.StringVar(&j.Judge, "judge", "", "a classifier's run directory: score samples with it")
	f.StringVar(&j.JudgeCheckpoint, "judge-checkpoint", "best", "the judge's checkpoint: best, last, or a file")
	f.StringVar(&j.Samples, "samples", "", "with --judge: a .npy file of samples [N, shape...] in the data's original units")
	f.IntVar(&j.N, "n", 1000, "with --judge --run: samples to draw from the GAN run")
	f.Int64Var(&j.Seed, "seed", 0, "with --judge --run: sampling seed (default: the GAN run's seed)")
	f.StringVar(&j.Class, "class", "", "with --judge --run: the class a conditional GAN draws")
	f.Float64Var(&j.Confidence, "confidence", eval.DefaultConfidence, "with --judge: a sample is confident when its top probability is above this")
	f.Float64Var(&j.MinShare, "min-share", eval.DefaultMinShare, "with --judge: a class is covered when it holds at least this share of the samples")
	f.StringVarP(&j.Output, "output", "o", "", "with --judge: where to write judge.json (default: next to --samples, or RUN_DIR/eval/)")
	return c
}

// runJudge is eval --judge: the samples of a file or of a GAN run scored
// by a classifier run.
func runJudge(cmd *cobra.Command, a *app, o *evalOptions, logf func(string, ...any)) error {
	j := o.judge
	switch {
	case j.Judge == "":
		return usageErr("--samples needs --judge CLASSIFIER_RUN, the classifier that scores them")
	case j.Samples != "" && o.run != "":
		return usageErr("give --samples FILE or --run GAN_RUN to --judge, not both")
	case j.Samples == "" && o.run == "":
		return usageErr("--judge needs the samples to score: --samples FILE.npy, or --run GAN_RUN to draw them")
	case cmd.Flags().Changed("split"):
		return usageErr("--split does not apply to --judge: the judge scores the samples and its own test split")
	case j.Samples != "":
		for _, f := range []string{"checkpoint", "n", "seed", "class"} {
			if cmd.Flags().Changed(f) {
				return usageErr("--%s applies to a GAN run (--run) only, not to --samples", f)
			}
		}
	}
	j.Run, j.Checkpoint = o.run, o.checkpoint
	j.SeedSet = cmd.Flags().Changed("seed")
	j.JSON, j.Stdout, j.Logf = o.json, a.stdout, logf
	_, err := run.Judge(cmd.Context(), j)
	return err
}
