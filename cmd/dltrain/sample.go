package main

import (
	"github.com/dltrain/dltrain/pkg/run"
	"github.com/spf13/cobra"
)

func newSampleCommand(a *app) *cobra.Command {
	o := &run.SampleOptions{}
	c := &cobra.Command{
		Use:   "sample --run RUN_DIR [flags]",
		Short: "Generate text from a language model or samples from a GAN",
		Long: `Sample generates from a trained run.

For a language model (data.task: language_model) it prints generated text: --prompt is the
text to continue, --length the number of tokens to generate, --temperature divides the
logits (0 picks the most likely token), --top-k samples among the K most likely tokens.

For a generative model (data.task: generation, model.kind: gan) it generates --n samples
in the data's original units (the preprocessing undone): --output writes them as a .npy
array, --grid as a PNG image grid. --class picks the class of a conditional GAN (a class
name or its index); without it each sample's class is drawn (seeded) and --grid has one row
per class.

The same --seed gives the same output. Any other run is refused (exit 2).`,
		Example: `  dltrain sample --run runs/opticks-char-lstm/20261204-101500 --prompt "the light " --length 200 --seed 1
  dltrain sample --run runs/mnist-gan/20261204-101500 --n 64 --seed 1 --output samples.npy --grid samples.png
  dltrain sample --run runs/mnist-cgan/20261205-101500 --n 16 --class 7 --grid sevens.png`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.begin(); err != nil {
				return err
			}
			if o.Run == "" {
				return usageErr("--run is required")
			}
			o.SeedSet = cmd.Flags().Changed("seed")
			o.Stdout, o.Logf = a.stdout, a.notice
			return run.Sample(cmd.Context(), *o)
		},
	}
	f := c.Flags()
	f.StringVar(&o.Run, "run", "", "run directory (required)")
	f.StringVar(&o.Checkpoint, "checkpoint", "best", "best, last, or a checkpoint file")
	f.Int64Var(&o.Seed, "seed", 0, "sampling seed (default: the run's seed)")
	f.StringVar(&o.Prompt, "prompt", "", "language models: text to continue")
	f.IntVar(&o.Length, "length", 200, "language models: tokens to generate")
	f.Float64Var(&o.Temperature, "temperature", 1.0, "language models: logits are divided by this; 0 is greedy")
	f.IntVar(&o.TopK, "top-k", 0, "language models: sample among the K most likely tokens (0: all)")
	f.IntVar(&o.N, "n", 64, "generative models: samples to generate")
	f.StringVar(&o.Class, "class", "", "conditional generative models: the class to generate")
	f.StringVarP(&o.Output, "output", "o", "", "generative models: write the samples to this .npy file")
	f.StringVar(&o.Grid, "grid", "", "generative models: write the samples as an image grid to this .png file")
	return c
}
