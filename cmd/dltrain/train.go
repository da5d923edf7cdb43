package main

import (
	"github.com/dltrain/dltrain/pkg/run"
	"github.com/spf13/cobra"
)

type trainOptions struct {
	config string
	sets   []string
	out    string
	resume string
}

func newTrainCommand(a *app) *cobra.Command {
	o := &trainOptions{}
	c := &cobra.Command{
		Use:   "train --config FILE [--set key=value]... [--out DIR] [--resume auto|RUN_DIR|CHECKPOINT]",
		Short: "Train a model from an experiment file, then evaluate it on the test split",
		Long: `Train loads the experiment, prepares the data (seeded split, preprocessing fitted on the
training split only), trains for train.epochs epochs, and evaluates the best checkpoint on
the test split. The run goes to OUT/NAME/RUN-ID: config.yaml, data.json, metrics.csv,
metrics.jsonl, checkpoints/ and report.json.

Values come from, in increasing precedence: defaults, the file, DLTRAIN_* environment
variables (DLTRAIN_TRAIN_EPOCHS=3 sets train.epochs) and --set flags.

--resume continues a run exactly where its checkpoint left it (weights, optimizer
state, random streams, position in the data order, schedule, early stopping, best
metric): "auto" resumes the experiment's newest run under --out if it is unfinished
(training or its final evaluation not done; it starts a new run otherwise), RUN_DIR uses RUN_DIR/checkpoints/last.ckpt, and a checkpoint file
must lie in its run's checkpoints/ directory. The run's own config.yaml is used; a
--config given too must describe the same experiment.

SIGINT, SIGTERM or SIGHUP finishes the current step, saves a checkpoint and exits with
130, 143 or 129 (a second signal exits at once); during the final evaluation it stops
the evaluation, keeping the checkpoints. SIGUSR1 saves a checkpoint and goes on. The
run directory is locked while a process trains it: a second train of it exits 2.`,
		Example: `  dltrain train --config configs/digits-mlp.yaml
  dltrain train --config configs/digits-mlp.yaml --set train.epochs=5 --set train.optimizer.lr=0.003
  DLTRAIN_SEED=7 dltrain train --config configs/iris-mlp.yaml --out /tmp/runs
  dltrain train --config configs/digits-mlp.yaml --resume auto
  dltrain train --resume runs/digits-mlp/20261127-101500`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.begin(); err != nil {
				return err
			}
			if o.config == "" && (o.resume == "" || o.resume == "auto") {
				return usageErr("--config is required (with --resume, a run directory or checkpoint will do)")
			}
			_, err := run.Train(cmd.Context(), run.TrainOptions{
				Config: o.config, Sets: o.sets, Out: o.out, Resume: o.resume,
				Stdout: a.stdout, Stderr: a.stderr, Terminal: a.isTerminal(), LogFormat: a.logFormat,
				SaveRequests: a.saveRequests,
			})
			return err
		},
	}
	c.Flags().StringVarP(&o.config, "config", "c", "", "experiment YAML file (required, except with --resume RUN_DIR or CHECKPOINT)")
	c.Flags().StringArrayVar(&o.sets, "set", nil, "override a config key, e.g. --set train.optimizer.lr=0.01 (repeatable)")
	c.Flags().StringVar(&o.out, "out", "runs", "directory the run directories go under")
	c.Flags().StringVar(&o.resume, "resume", "", "continue a run: auto, a run directory, or a checkpoint file in one")
	return c
}
