package main

import (
	"github.com/dltrain/dltrain/pkg/run"
	"github.com/spf13/cobra"
)

type trainOptions struct {
	config string
	sets   []string
	out    string
}

func newTrainCommand(a *app) *cobra.Command {
	o := &trainOptions{}
	c := &cobra.Command{
		Use:   "train --config FILE [--set key=value]... [--out DIR]",
		Short: "Train a model from an experiment file, then evaluate it on the test split",
		Long: `Train loads the experiment, prepares the data (seeded split, preprocessing fitted on the
training split only), trains for train.epochs epochs, and evaluates the best checkpoint on
the test split. The run goes to OUT/NAME/RUN-ID: config.yaml, data.json, metrics.csv,
metrics.jsonl, checkpoints/ and report.json.

Values come from, in increasing precedence: defaults, the file, DLTRAIN_* environment
variables (DLTRAIN_TRAIN_EPOCHS=3 sets train.epochs) and --set flags.`,
		Example: `  dltrain train --config configs/digits-mlp.yaml
  dltrain train --config configs/digits-mlp.yaml --set train.epochs=5 --set train.optimizer.lr=0.003
  DLTRAIN_SEED=7 dltrain train --config configs/iris-mlp.yaml --out /tmp/runs`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.begin(); err != nil {
				return err
			}
			if o.config == "" {
				return usageErr("--config is required")
			}
			_, err := run.Train(cmd.Context(), run.TrainOptions{
				Config: o.config, Sets: o.sets, Out: o.out,
				Stdout: a.stdout, Stderr: a.stderr, Terminal: a.isTerminal(), LogFormat: a.logFormat,
			})
			return err
		},
	}
	c.Flags().StringVarP(&o.config, "config", "c", "", "experiment YAML file (required)")
	c.Flags().StringArrayVar(&o.sets, "set", nil, "override a config key, e.g. --set train.optimizer.lr=0.01 (repeatable)")
	c.Flags().StringVar(&o.out, "out", "runs", "directory the run directories go under")
	return c
}
