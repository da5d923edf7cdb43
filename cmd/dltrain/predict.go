package main

import (
	"github.com/dltrain/dltrain/pkg/run"
	"github.com/spf13/cobra"
)

type predictOptions struct {
	run        string
	checkpoint string
	input      string
	output     string
	json       bool
	embed      bool
	beam       int
}

func newPredictCommand(a *app) *cobra.Command {
	o := &predictOptions{}
	c := &cobra.Command{
		Use:   "predict --run RUN_DIR --input FILE [--checkpoint best|last|PATH] [--output FILE] [--json] [--embed]",
		Short: "Apply a trained run's checkpoint to new samples",
		Long: `Predict rebuilds the model from the run's config.yaml and the data description saved in
the checkpoint, reads new samples from --input in the form of the run's data source, applies
the preprocessing fitted on the run's training split (imputation, encodings, scaling: saved,
never refitted), and writes one prediction per sample: the input's line, entry or file, then
the predicted class and each class's probability (classification) or the predicted value of
each target (regression). The run's own data files are not needed.

--input is, for a table source (csv, tsv, a built-in table), a delimited file with a header
naming the feature columns (any order; other columns such as the label are ignored), or, for
a source without header, rows in the source's column layout; for an array source (idx, npy,
npz) a .npy or IDX file of shape [N, sample shape...]; for an image folder, one image or a
folder of PNG/JPEG files. Text and series sources are not supported yet (for a language model, use dltrain sample).

The predictions go to stdout as CSV, or as one JSON object per line with --json; --output
writes them to a file instead (atomically).

For an autoencoder (data.task: reconstruction) each sample's prediction is its
reconstruction, in the units of the source (the scaling undone), one column per input value;
--embed writes its code (the bottleneck, columns code0, code1, ...) instead. Either is written
as a float32 .npy array of shape [N, ...] when --output ends in .npy.

For a seq2seq run (data.task: seq2seq) --input is a .csv or .tsv file whose header names the
run's source column, or a text file of one source per line; each source is decoded greedily,
or by beam search with --beam K (ranked by log-probability / length^eval.length_penalty), and
written as input, source, predicted (docs/seq2seq.md).`,
		Example: `  dltrain predict --run runs/iris-mlp/20261127-101500 --input new-flowers.csv
  dltrain predict --run runs/penguins-mlp/20261127-101500 --input penguins.csv --output preds.csv
  dltrain predict --run runs/digits-npy/20261127-101500 --input samples.npy --json
  dltrain predict --run runs/digits-autoencoder/20261127-101500 --input digits.csv --embed --output codes.npy
  dltrain predict --run runs/seq2seq-dates/20261204-190512 --input dates.txt --beam 4`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.begin(); err != nil {
				return err
			}
			if o.run == "" || o.input == "" {
				return usageErr("--run and --input are required")
			}
			if o.beam < 0 {
				return usageErr("--beam must be >= 0, got %d", o.beam)
			}
			preds, err := run.Predict(cmd.Context(), run.PredictOptions{
				Run: o.run, Checkpoint: o.checkpoint, Input: o.input, Output: o.output,
				JSON: o.json, Embed: o.embed, Beam: o.beam, Stdout: a.stdout, Logf: a.notice,
			})
			if err == nil && o.output != "" {
				a.notice("wrote %d predictions to %s", len(preds), o.output)
			}
			return err
		},
	}
	c.Flags().StringVar(&o.run, "run", "", "run directory (required)")
	c.Flags().StringVar(&o.input, "input", "", "file (or image folder) of samples to predict (required)")
	c.Flags().StringVar(&o.checkpoint, "checkpoint", "best", "best, last, or a checkpoint file")
	c.Flags().StringVarP(&o.output, "output", "o", "", "write the predictions to this file instead of stdout")
	c.Flags().BoolVar(&o.json, "json", false, "one JSON object per sample instead of CSV")
	c.Flags().BoolVar(&o.embed, "embed", false, "write each sample's code (an autoencoder's bottleneck) instead of its reconstruction")
	c.Flags().IntVar(&o.beam, "beam", 0, "seq2seq: beam search of this width (0 or 1: greedy decoding)")
	return c
}
