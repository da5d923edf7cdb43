package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/dltrain/dltrain/pkg/sweep"
	"github.com/dltrain/dltrain/pkg/train"
	"github.com/spf13/cobra"
)

type sweepOptions struct {
	config  string
	out     string
	worker  string // run as one worker of the sweep: claim trials until none is left, print no table
	threads int    // a worker's train.threads (set by the coordinator)
	emit    string // print the job that runs the workers on a cluster engine: slurm or k8s
	emitOpt sweep.EmitOptions
}

func newSweepCommand(a *app) *cobra.Command {
	o := &sweepOptions{}
	c := &cobra.Command{
		Use:   "sweep --config SWEEP.yaml [--out DIR]",
		Short: "Search an experiment's hyperparameters (grid, random or TPE; ASHA or median early stopping)",
		Long: `Sweep runs trials of a base experiment with the values of a search space, judges each
on a validation metric (never the test split), and writes to the sweep directory (default
sweeps/NAME): journal.jsonl (every claim and result), trials/NNNN/ (each trial's run),
trials.csv, best.yaml (the winning experiment, ready for dltrain train) and plots/.

Running the same command again continues a stopped sweep without repeating a finished
trial; several workers can run one sweep at once (parallel: N in the sweep file starts N
on this machine, each with its share of the threads). "dltrain sweep status DIR" prints
the table at any time. See docs/sweep.md for the file's keys.`,
		Example: `  dltrain sweep --config configs/sweeps/iris-random.yaml
  dltrain sweep --config configs/sweeps/digits-tpe.yaml --out /tmp/digits-tpe
  dltrain sweep status sweeps/iris-random
  dltrain sweep --config configs/sweeps/digits-tpe.yaml --out /shared/digits-tpe --emit slurm --array-parallel 4 > sweep.sbatch`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.begin(); err != nil {
				return err
			}
			if o.config == "" {
				return usageErr("--config is required")
			}
			for _, f := range []string{"array-parallel", "workers", "image", "claim"} {
				if cmd.Flags().Changed(f) && o.emit == "" {
					return usageErr("--%s is an option of --emit, which is not given", f)
				}
			}
			return runSweep(cmd.Context(), a, o)
		},
	}
	c.Flags().StringVarP(&o.config, "config", "c", "", "sweep YAML file (required)")
	c.Flags().StringVar(&o.out, "out", "", "the sweep directory (default sweeps/NAME, NAME the sweep file's name)")
	c.Flags().StringVar(&o.worker, "worker", "", "work on the sweep as one more worker named WORKER: claim trials until none is left")
	c.Flags().IntVar(&o.threads, "threads", 0, "a worker's threads per trial (0: the experiment's train.threads)")
	c.Flags().MarkHidden("threads")
	c.Flags().StringVar(&o.emit, "emit", "", "print the job that runs the sweep's workers on a cluster instead of running it: slurm (an sbatch array script) or k8s (an Indexed Job)")
	c.Flags().IntVar(&o.emitOpt.Parallel, "array-parallel", 0, "--emit: workers at once (default: the sweep's parallel)")
	c.Flags().IntVar(&o.emitOpt.Workers, "workers", 0, "--emit: worker tasks (default: one per trial)")
	c.Flags().StringVar(&o.emitOpt.Image, "image", "dltrain:latest", "--emit k8s: the container image holding dltrain")
	c.Flags().StringVar(&o.emitOpt.Claim, "claim", "dltrain-sweep", "--emit k8s: the PersistentVolumeClaim holding the sweep file, its experiment and the sweep directory")
	c.AddCommand(newSweepStatusCommand(a))
	return c
}

func runSweep(ctx context.Context, a *app, o *sweepOptions) error {
	spec, err := sweep.Load(o.config)
	if err != nil {
		return err
	}
	dir := o.out
	if dir == "" {
		dir = sweep.DefaultDir(o.config)
	}
	if o.emit != "" {
		return emitJob(a, o, spec, dir)
	}
	if o.worker != "" {
		if err := sweep.Start(dir, spec); err != nil {
			return err
		}
		return sweep.Work(ctx, sweep.WorkOptions{Dir: dir, Worker: o.worker, Threads: o.threads, Progress: a.logOut()})
	}
	fmt.Fprintf(a.logOut(), "sweep %s: %s over %d parameters, %d trials, %s (%s), early stop %s, %d at once, in %s\n",
		o.config, spec.Method, len(spec.Space), spec.Trials, spec.Metric, direction(spec.Max), spec.EarlyStop.Kind, spec.Parallel, dir)
	start := time.Now()
	s, err := sweep.Run(ctx, spec, sweep.RunOptions{
		Dir: dir, Worker: "w" + strconv.Itoa(os.Getpid()), Progress: a.logOut(),
		Spawn: func(ctx context.Context, worker, threads int) error {
			return spawnWorker(ctx, a, o.config, dir, worker, threads)
		},
	})
	if err != nil {
		return err
	}
	if err := s.WriteTable(a.stdout); err != nil {
		return err
	}
	fmt.Fprintf(a.logOut(), "%d epochs trained in all, %s; wrote %s/trials.csv, best.yaml and plots/\n",
		s.TotalEpochs(), time.Since(start).Round(time.Second), dir)
	return nil
}

// emitJob prints the cluster job of --emit.
func emitJob(a *app, o *sweepOptions, spec *sweep.Spec, dir string) error {
	emit, ok := sweep.Emitters[o.emit]
	if !ok {
		return usageErr("--emit %s: known engines: k8s, slurm", o.emit)
	}
	opt := o.emitOpt
	opt.Binary, opt.Config, opt.Dir = "dltrain", o.config, dir
	if o.emit == "slurm" { // absolute: the job runs from wherever sbatch puts it
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		if opt.Config, err = filepath.Abs(o.config); err != nil {
			return err
		}
		if opt.Dir, err = filepath.Abs(dir); err != nil {
			return err
		}
		opt.Binary = exe
		// Slurm opens each task's output file in the sweep directory
		// before the task runs: without the directory every task fails
		// to launch. Starting the sweep there also refuses, now, a
		// directory that holds another sweep.
		if err := sweep.Start(opt.Dir, spec); err != nil {
			return err
		}
	}
	text, err := emit(spec, opt)
	if err != nil {
		return err
	}
	_, err = fmt.Fprint(a.stdout, text)
	return err
}

func direction(max bool) string {
	if max {
		return "max"
	}
	return "min"
}

// spawnWorker runs one worker of the sweep as a process of this binary; a
// cancelled ctx interrupts it (it saves its trial's checkpoint).
func spawnWorker(ctx context.Context, a *app, config, dir string, worker, threads int) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	name := fmt.Sprintf("w%d.%d", os.Getpid(), worker)
	cmd := exec.CommandContext(ctx, exe, "sweep", "--config", config, "--out", dir, "--worker", name,
		"--threads", strconv.Itoa(threads), "--log-format", a.logFormat)
	cmd.Stdout, cmd.Stderr = a.stderr, a.stderr
	cmd.SysProcAttr = workerAttr()
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = time.Minute
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return fmt.Errorf("worker %s: %w", name, train.ErrInterrupted)
	case errors.As(err, &exit) && exit.ExitCode() == exitUsage:
		return usageErr("worker %s failed (exit 2): see its error above", name)
	}
	return fmt.Errorf("worker %s: %w", name, err)
}

func newSweepStatusCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "status DIR",
		Short:   "Print a sweep's table: every trial, its values, metric, epochs and status",
		Example: "  dltrain sweep status sweeps/iris-random",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.begin(); err != nil {
				return err
			}
			s, err := sweep.Summarize(args[0])
			if err != nil {
				return err
			}
			if err := s.WriteTable(a.stdout); err != nil {
				return err
			}
			state := "in progress (run the same dltrain sweep command to continue it)"
			if s.Finished {
				state = "finished"
			}
			fmt.Fprintf(a.stdout, "%d trials of %d, %d epochs trained; %s\n", len(s.Rows), s.Spec.Trials, s.TotalEpochs(), state)
			return nil
		},
	}
}
