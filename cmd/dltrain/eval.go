package main

import (
	"fmt"

	"github.com/dltrain/dltrain/pkg/run"
	"github.com/spf13/cobra"
)

type evalOptions struct {
	run        string
	checkpoint string
	split      string
	json       bool
}

func newEvalCommand(a *app) *cobra.Command {
	o := &evalOptions{}
	c := &cobra.Command{
		Use:   "eval --run RUN_DIR [--checkpoint best|last|PATH] [--split test|val|train] [--json]",
		Short: "Evaluate a saved checkpoint of a run on one data split",
		Long: `Eval rebuilds the model from the run's config.yaml, loads the checkpoint, recreates the
same split from the same data and seed, and reports loss, accuracy, per-class precision,
recall and F1, macro-F1 and the confusion matrix (regression: MSE, MAE, R²). The report
is printed and written to RUN_DIR/eval/CHECKPOINT-SPLIT.json. RUN_DIR/report.json, the
run's final evaluation, is rewritten only by the evaluation it holds: the best checkpoint
on the test split. It refuses when the data file changed since training.`,
		Example: `  dltrain eval --run runs/digits-mlp/20261127-101500
  dltrain eval --run runs/digits-mlp/20261127-101500 --checkpoint last --split val --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.begin(); err != nil {
				return err
			}
			if o.run == "" {
				return usageErr("--run is required")
			}
			_, err := run.Eval(cmd.Context(), run.EvalOptions{
				Run: o.run, Checkpoint: o.checkpoint, Split: o.split, Stdout: a.stdout, JSON: o.json,
				Logf: func(format string, args ...any) { fmt.Fprintf(a.logOut(), format+"\n", args...) },
			})
			return err
		},
	}
	c.Flags().StringVar(&o.run, "run", "", "run directory (required)")
	c.Flags().StringVar(&o.checkpoint, "checkpoint", "best", "best, last, or a checkpoint file")
	c.Flags().StringVar(&o.split, "split", "test", "test, val or train")
	c.Flags().BoolVar(&o.json, "json", false, "print the report as JSON")
	return c
}
