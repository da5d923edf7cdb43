package main

import (
	"strings"

	"github.com/dltrain/dltrain/pkg/run"
	"github.com/spf13/cobra"
)

type plotOptions struct {
	run     string
	out     string
	formats string
}

func newPlotCommand(a *app) *cobra.Command {
	o := &plotOptions{}
	c := &cobra.Command{
		Use:   "plot --run RUN_DIR [--out DIR] [--format png,svg]",
		Short: "Draw a run's loss, metric and learning-rate curves as PNG and SVG",
		Long: `Plot reads RUN_DIR/metrics.csv and writes, under RUN_DIR/plots (or --out):
loss.png/svg (train_loss, val_loss, and the regularization penalty when there is one),
metrics.png/svg (the validation scores: accuracy, macro-F1, R²), errors.png/svg (regression:
validation MSE and MAE on a log axis) and lr.png/svg (the learning rate), each against the
epoch, with labelled axes and a legend. It can run while training goes on.

For an autoencoder on images (data.task: reconstruction, samples of shape [C, H, W] with 1 or
3 channels, or a square number of values such as 64 or 784) it also writes
reconstructions.png: the first ten test samples over the best checkpoint's reconstructions.`,
		Example: `  dltrain plot --run runs/digits-mlp/20261127-101500
  dltrain plot --run runs/digits-mlp/20261127-101500 --format svg --out /tmp/plots`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if err := a.begin(); err != nil {
				return err
			}
			if o.run == "" {
				return usageErr("--run is required")
			}
			_, err := run.Plot(run.PlotOptions{Run: o.run, Out: o.out, Formats: strings.Split(o.formats, ","), Stdout: a.stdout})
			return err
		},
	}
	c.Flags().StringVar(&o.run, "run", "", "run directory (required)")
	c.Flags().StringVar(&o.out, "out", "", "directory for the figures (default RUN_DIR/plots)")
	c.Flags().StringVar(&o.formats, "format", "png,svg", "comma-separated formats: png, svg")
	return c
}
