package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/data"
	"github.com/dltrain/dltrain/pkg/run"
	"github.com/dltrain/dltrain/pkg/train"
	"github.com/spf13/cobra"
)

type prepareOptions struct {
	config string
	sets   []string
	out    string
	list   bool
}

func newPrepareCommand(a *app) *cobra.Command {
	o := &prepareOptions{}
	c := &cobra.Command{
		Use:   "prepare --config FILE [--set key=value]... [--out DIR] | prepare --list",
		Short: "Clean, split and preprocess an experiment's data into a prepared dataset",
		Long: `Prepare reads the experiment's data source, cleans it (missing values, duplicates, bad
labels), splits it (seeded; random, stratified, group, time, column or k-fold), fits the
preprocessing on the training split only, and writes the result to a directory:
train/val/test tensors as float32 .npy files, assignment.csv (the split of every sample and
the line it came from) and manifest.json (shapes, classes, fitted preprocessing, split
sizes, sha256 of the source files and a fingerprint of the config's data section).

The directory is data.prepared, or prepared/NAME in the current directory; --out overrides
it. It is written to a temporary directory and renamed into place. 'dltrain train' uses it
when it is up to date and rebuilds it when the source or the data section changed.

--list shows the built-in data sets.`,
		Example: `  dltrain prepare --config configs/penguins-mlp.yaml
  dltrain prepare --config configs/mnist-idx-mlp.yaml --out /tmp/mnist-prepared
  dltrain prepare --list`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.begin(); err != nil {
				return err
			}
			if o.list {
				if o.config != "" || o.out != "" || len(o.sets) > 0 {
					return usageErr("--list takes no other flag")
				}
				return listBuiltins(a.stdout)
			}
			if o.config == "" {
				return usageErr("--config is required (or --list)")
			}
			return runPrepare(cmd.Context(), a, o)
		},
	}
	c.Flags().StringVarP(&o.config, "config", "c", "", "experiment YAML file")
	c.Flags().StringArrayVar(&o.sets, "set", nil, "override a config key, e.g. --set data.split.test=0.2 (repeatable)")
	c.Flags().StringVar(&o.out, "out", "", "directory to write the prepared dataset to (default: data.prepared, or prepared/NAME)")
	c.Flags().BoolVar(&o.list, "list", false, "list the built-in data sets with their shape, rows, source and licence")
	return c
}

// runPrepare prepares the data; a cancelled ctx (the first SIGINT or
// SIGTERM) stops it between stages and files, with nothing written.
func runPrepare(ctx context.Context, a *app, o *prepareOptions) error {
	exp, err := run.Load(o.config, o.sets)
	if err = dataProblems(exp, err); err != nil {
		return err
	}
	dir := o.out
	if dir == "" {
		dir = data.PreparedDir(exp)
	}
	dir = filepath.Clean(dir) // as Prepare names it
	ds, rep, m, err := data.Prepare(ctx, exp, dir)
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return interrupted{fmt.Sprintf("prepare interrupted: %s was not written (a previous prepared dataset there is unchanged)", dir)}
	}
	if err != nil {
		return err
	}
	for _, n := range rep.Notes {
		logNote(a, "data: "+n)
	}
	_, err = fmt.Fprintf(a.stdout, "wrote %s: train %d, val %d, test %d samples of shape %v (fingerprint %.12s)\n",
		dir, ds.Train.N, ds.Val.N, ds.Test.N, ds.Input, m.Fingerprint)
	return err
}

// logNote prints one of prepare's notes on stderr: a plain line, or with
// --log-format json a log event, as train logs the same notes.
func logNote(a *app, msg string) {
	if a.logFormat == "json" {
		b, _ := json.Marshal(map[string]string{"event": "log", "msg": msg})
		fmt.Fprintln(a.stderr, string(b))
		return
	}
	fmt.Fprintln(a.stderr, data.Printable(msg))
}

// interrupted is a prepare stopped by a signal. It counts as
// train.ErrInterrupted, the error exitCode maps to 130 (SIGINT) or 143
// (SIGTERM), without reading as an interrupted training.
type interrupted struct{ msg string }

func (e interrupted) Error() string        { return e.msg }
func (e interrupted) Is(target error) bool { return target == train.ErrInterrupted }

// dataProblems drops the problems of the model, train and augment
// sections, which do not matter to preparing the data: a config whose model
// is not written yet can still be prepared.
func dataProblems(exp *config.Experiment, err error) error {
	var ps config.Problems
	if exp == nil || !errors.As(err, &ps) {
		return err
	}
	var keep config.Problems
	for _, p := range ps {
		top, _, _ := strings.Cut(p.Key, ".")
		if top != "model" && top != "train" && top != "augment" {
			keep = append(keep, p)
		}
	}
	if len(keep) == 0 {
		return nil
	}
	return keep
}

func listBuiltins(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tTASK\tSHAPE\tROWS\tCLASSES\tABOUT\tPROVENANCE\tLICENCE")
	for _, b := range data.Builtins() {
		classes := "-"
		if len(b.Classes) > 0 {
			classes = fmt.Sprint(len(b.Classes))
		}
		shape := strings.Trim(strings.ReplaceAll(fmt.Sprint(b.Shape), " ", "×"), "[]")
		fmt.Fprintf(tw, "builtin:%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", b.Name, b.Task, shape, b.Rows, classes, b.About, b.Source, b.Licence)
	}
	return tw.Flush()
}
