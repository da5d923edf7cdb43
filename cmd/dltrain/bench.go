package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime/pprof"
	"strings"

	"github.com/dltrain/dltrain/pkg/bench"
	"github.com/dltrain/dltrain/pkg/compute"
	"github.com/spf13/cobra"
)

type benchOptions struct {
	workloads []string
	threads   int
	seconds   float64
	json      bool
	floor     bool
	profile   string
}

func newBenchCommand(a *app) *cobra.Command {
	o := &benchOptions{}
	c := &cobra.Command{
		Use:   "bench [--workload NAME]... [--threads N] [--seconds S] [--json]",
		Short: "Measure training throughput on the standard workloads",
		Long: `Bench trains each standard workload (docs/PERFORMANCE.md) on random inputs through the
same path as 'dltrain train' (config, model, session, and the training loop with its
prefetching, guards, regularization, optimizer and schedule; a training split of 32
batches, no validation), warms up, times 5 windows and prints the median steps/s,
samples/s, the matrix-product work of a step as executed and the GFLOP/s it gives (and
the usual 3x-forward estimate), the fraction of this build's sgemm rate, heap
allocations per step, peak resident memory and its growth. Workloads whose layers
dltrain does not have yet say so instead.

bench/pytorch_ref.py measures the same workloads in PyTorch; 'make bench' runs both and
prints the ratios.`,
		Example: `  dltrain bench
  dltrain bench --workload mlp --threads 1 --seconds 10
  dltrain bench --json --workload mlp --workload autoencoder`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.begin(); err != nil {
				return err
			}
			return runBench(a, o)
		},
	}
	c.Flags().StringArrayVarP(&o.workloads, "workload", "w", nil, "workload to run (repeatable); default all: "+fmt.Sprint(bench.Names()))
	c.Flags().IntVar(&o.threads, "threads", 0, "CPU threads (GOMAXPROCS and BLAS threads); 0 means all cores")
	c.Flags().Float64Var(&o.seconds, "seconds", 5, "timed seconds per workload, split into 5 windows (plus a warm-up)")
	c.Flags().BoolVar(&o.json, "json", false, "print one JSON object per workload instead of a table")
	c.Flags().BoolVar(&o.floor, "floor", true, "measure this build's sgemm rate (1024×1024) first and report each workload's fraction of it")
	c.Flags().StringVar(&o.profile, "cpuprofile", "", "write a CPU profile of the whole run to this file (go tool pprof)")
	return c
}

func runBench(a *app, o *benchOptions) error {
	if o.threads < 0 {
		return usageErr("--threads must be >= 0, got %d", o.threads)
	}
	if !(o.seconds > 0) {
		return usageErr("--seconds must be > 0, got %v", o.seconds)
	}
	names := o.workloads
	if len(names) == 0 {
		names = bench.Names()
	}
	var ws []bench.Workload
	for _, n := range names {
		w, err := bench.Lookup(n)
		if err != nil {
			return usageErr("--workload: %v", err)
		}
		ws = append(ws, w)
	}
	threads := compute.SetThreads(o.threads)
	opt := bench.Options{Seconds: o.seconds}
	if !o.json {
		fmt.Fprintf(a.stdout, "BLAS %s, %d thread(s); %g s per workload in 5 windows after a warm-up, median\n",
			compute.BLASName, threads, o.seconds)
	}
	available := false
	for _, w := range ws {
		available = available || w.Available() == nil
	}
	if o.floor && available {
		opt.Floor = bench.SgemmFloor(1024, 1)
		if !o.json {
			fmt.Fprintf(a.stdout, "sgemm floor: %.1f GFLOP/s (1024×1024 float32, this build's BLAS)\n", opt.Floor)
		}
	}
	if o.profile != "" {
		f, err := os.Create(o.profile)
		if err != nil {
			return usageErr("--cpuprofile: %v", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	var results []bench.Result
	var failed []string
	enc := json.NewEncoder(a.stdout)
	for _, w := range ws {
		r, err := bench.Run(w, opt)
		if err != nil {
			// A workload that cannot run yet is reported as such; one that
			// fails is reported too, and the command fails at the end.
			r = bench.Result{Workload: w.Name, Batch: w.Batch, Threads: threads, BLAS: compute.BLASName, Error: err.Error()}
			if !errors.Is(err, bench.ErrUnavailable) {
				failed = append(failed, w.Name)
			}
		}
		if o.json {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		results = append(results, r)
	}
	if !o.json {
		if err := bench.WriteTable(a.stdout, results); err != nil {
			return err
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("workloads failed: %s", strings.Join(failed, ", "))
	}
	return nil
}
