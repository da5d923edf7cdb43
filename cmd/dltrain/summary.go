package main

import (
	"encoding/json"
	"fmt"

	"github.com/dltrain/dltrain/pkg/run"
	"github.com/spf13/cobra"
)

type summaryOptions struct {
	config string
	sets   []string
	json   bool
}

func newSummaryCommand(a *app) *cobra.Command {
	o := &summaryOptions{}
	c := &cobra.Command{
		Use:   "summary --config FILE [--set key=value]... [--json]",
		Short: "Print a model's layers, output shapes, parameter counts and FLOPs",
		Long: `Summary builds the experiment's model and prints one row per layer: its name and type,
its per-sample output shape, its trainable parameters (and batch norm buffers) and its
forward FLOPs per sample (a multiply-add counts 2), with totals. Layers of a residual
block follow the block, indented.

With data.shape set no data is read: the input is data.shape and the output is what the
last layer gives. Without it the data is loaded to learn the number of features and
classes. A layer stack whose shapes do not fit is reported like train reports it (exit 2).`,
		Example: `  dltrain summary --config configs/mnist-lenet.yaml
  dltrain summary --config configs/digits-cnn.yaml --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.begin(); err != nil {
				return err
			}
			if o.config == "" {
				return usageErr("--config is required")
			}
			s, err := run.Summary(run.SummaryOptions{Config: o.config, Sets: o.sets})
			if err != nil {
				return err
			}
			if o.json {
				b, err := json.MarshalIndent(s, "", "  ")
				if err != nil {
					return err
				}
				_, err = fmt.Fprintln(a.stdout, string(b))
				return err
			}
			return s.WriteText(a.stdout)
		},
	}
	c.Flags().StringVarP(&o.config, "config", "c", "", "experiment YAML file (required)")
	c.Flags().StringArrayVar(&o.sets, "set", nil, "override a config key, e.g. --set data.shape=[1,28,28] (repeatable)")
	c.Flags().BoolVar(&o.json, "json", false, "print the summary as JSON")
	return c
}
