package bench

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// WriteTable prints the results that ran as an aligned table, one row per
// workload, then one line per workload that did not run, with its reason.
func WriteTable(w io.Writer, results []Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	ran := false
	for _, r := range results {
		ran = ran || r.Error == ""
	}
	if !ran {
		tw = tabwriter.NewWriter(io.Discard, 0, 0, 2, ' ', 0)
	}
	fmt.Fprintln(tw, "workload\tbatch\tsteps/s\tsamples/s\tms/step\tCPU ms/step\tGFLOP/step\tGFLOP/s\tof floor\t3x-fwd GFLOP/s\tsteps\tallocs/step\tKB/step\tpeak RSS\tRSS growth\t")
	for _, r := range results {
		if r.Error != "" {
			continue
		}
		floor := "-"
		if r.FloorFraction > 0 {
			floor = fmt.Sprintf("%.1f%%", 100*r.FloorFraction)
		}
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.0f\t%.3f\t%.3f\t%.4f\t%.1f\t%s\t%.1f\t%d\t%.2f\t%.1f\t%s\t%s\t\n",
			r.Workload, r.Batch, r.StepsPerS, r.SamplesPerS, r.MsPerStep, r.CPUMsPerStep, r.StepGFLOP, r.GFLOPS, floor,
			r.GFLOPS3x, r.Steps, r.AllocsPerStep, r.BytesPerStep/1024, mib(r.PeakRSS), mib(r.RSSGrowth))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if ran {
		if _, err := fmt.Fprint(w, Legend); err != nil {
			return err
		}
	}
	for _, r := range results {
		if r.Error != "" {
			if _, err := fmt.Fprintf(w, "%s: %s\n", r.Workload, r.Error); err != nil {
				return err
			}
		}
	}
	return nil
}

// Legend says what the table measures.
const Legend = `A step is one step of train.Loop as 'dltrain train' runs it: the mini-batch gathered
(during the step before by the prefetcher in the pure-Go build; at the start of the step
in the OpenBLAS build, whose own threads hold the cores), forward, loss, backward, the finiteness
guards, regularization and clipping as configured, the optimizer and the learning-rate
schedule; an epoch boundary (a new shuffled order) every steps-per-epoch steps. Not
timed: hooks (metrics log, progress, checkpoints) and validation (the split is empty).
GFLOP/step: matrix-product work as executed (forward, weight gradients, input gradients
but the first layer's); 3x-fwd: 3x the forward FLOPs, the usual estimate. allocs and KB
per step and RSS growth are over the timed windows, after the warm-up.
`

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
