package main

import (
	"github.com/dltrain/dltrain/pkg/run"
	"github.com/spf13/cobra"
)

type gradcheckOptions struct {
	config      string
	sets        []string
	samples     int
	tolerance   float64
	eps         float64
	maxElements int
	json        bool
}

func newGradcheckCommand(a *app) *cobra.Command {
	o := &gradcheckOptions{}
	c := &cobra.Command{
		Use:   "gradcheck --config FILE [--set key=value]... [--samples N] [--tolerance 1e-6] [--eps 1e-6] [--max-elements N] [--json]",
		Short: "Check a configured model's gradients against finite differences",
		Long: `Gradcheck builds the experiment's model in float64 (whatever model.dtype says), takes the
first --samples samples of the training split (seeded random inputs of data.shape when the
data cannot be read), freezes every dropout mask, and compares the gradient of the
configured loss with respect to every trainable parameter with central finite differences
(L(p+eps) - L(p-eps))/(2 eps), where eps is --eps times max(1, |L|^(1/3)) (a large loss
needs a larger step, or float64 rounding drowns the difference). Biases and normalization parameters get a small seeded
jitter first so that no unit sits exactly on a ReLU kink; batch norm runs in training mode.

It prints, per parameter, the largest |gradient|, the largest absolute error and the
relative error (absolute error / largest |gradient| of that parameter), then the worst.
It exits 4 when a relative error is above --tolerance; the L2 penalty, applied outside the
graph, is not part of the check.`,
		Example: `  dltrain gradcheck --config configs/digits-cnn.yaml
  dltrain gradcheck --config configs/mnist-lenet.yaml --samples 2 --max-elements 200`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.begin(); err != nil {
				return err
			}
			if o.config == "" {
				return usageErr("--config is required")
			}
			if o.samples < 1 || !(o.tolerance > 0) || !(o.eps > 0) || o.maxElements < 0 {
				return usageErr("--samples must be >= 1, --tolerance and --eps > 0, --max-elements >= 0")
			}
			_, err := run.GradCheck(cmd.Context(), run.GradCheckOptions{
				Config: o.config, Sets: o.sets, Samples: o.samples, Tolerance: o.tolerance, Eps: o.eps,
				MaxElements: o.maxElements, Stdout: a.stdout, Stderr: a.logOut(), JSON: o.json,
			})
			return err
		},
	}
	c.Flags().StringVarP(&o.config, "config", "c", "", "experiment YAML file (required)")
	c.Flags().StringArrayVar(&o.sets, "set", nil, "override a config key (repeatable)")
	c.Flags().IntVar(&o.samples, "samples", 4, "samples in the batch checked")
	c.Flags().Float64Var(&o.tolerance, "tolerance", 1e-6, "largest relative error that passes")
	c.Flags().Float64Var(&o.eps, "eps", 1e-6, "finite-difference step for a loss up to 1; scaled by |loss|^(1/3) above")
	c.Flags().IntVar(&o.maxElements, "max-elements", 0, "elements perturbed per parameter, evenly spaced; 0 checks all")
	c.Flags().BoolVar(&o.json, "json", false, "print the report as JSON")
	return c
}
