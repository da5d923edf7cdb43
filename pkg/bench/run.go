package bench

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"time"

	"github.com/dltrain/dltrain/pkg/compute"
)

// Options control a measurement.
type Options struct {
	// Seconds is the total time of the timed windows (default 5, as
	// pytorch_ref.py).
	Seconds float64
	// Warmup is the time stepped before timing (default max(0.5,
	// Seconds/5), as pytorch_ref.py).
	Warmup float64
	// Windows is the number of timed windows whose median is reported
	// (default 5).
	Windows int
	// Seed draws the initial weights and the random inputs.
	Seed uint64
	// Floor is the sgemm rate (GFLOP/s) that FloorFraction is relative
	// to; 0 leaves FloorFraction out.
	Floor float64
}

func (o Options) withDefaults() Options {
	if o.Seconds <= 0 {
		o.Seconds = 5
	}
	if o.Warmup <= 0 {
		o.Warmup = max(0.5, o.Seconds/5)
	}
	if o.Windows <= 0 {
		o.Windows = 5
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	return o
}

// Result is what one workload measured. The JSON names are what `make
// bench` and other tools read.
type Result struct {
	Workload    string  `json:"workload"`
	Batch       int     `json:"batch"`
	StepsPerS   float64 `json:"steps_per_s"`   // median over the windows
	SamplesPerS float64 `json:"samples_per_s"` // StepsPerS × Batch
	MsPerStep   float64 `json:"ms_per_step"`
	// CPUMsPerStep is the process's CPU time (user and system, every
	// thread) per timed step: on a machine shared with other work it
	// stays near the truth when wall-clock rates do not.
	CPUMsPerStep float64 `json:"cpu_ms_per_step"`
	// StepGFLOP is the work of one training step, estimated as 3× the
	// forward FLOPs (forward, then the gradients with respect to inputs
	// and to weights, each about one forward).
	StepGFLOP     float64   `json:"gflop_per_step"`
	GFLOPS        float64   `json:"gflop_per_s"`              // StepGFLOP × StepsPerS
	FloorFraction float64   `json:"floor_fraction,omitempty"` // GFLOPS / Options.Floor
	WindowRates   []float64 `json:"window_steps_per_s"`       // every window's steps/s
	Steps         int       `json:"steps"`                    // timed steps
	AllocsPerStep float64   `json:"allocs_per_step"`          // heap allocations per timed step
	BytesPerStep  float64   `json:"bytes_per_step"`           // heap bytes allocated per timed step
	PeakRSS       int64     `json:"peak_rss_bytes"`           // peak resident memory during the workload
	// RSSGrowth is the resident memory at the end of the timed windows
	// minus that after the warm-up; a leak shows here.
	RSSGrowth int64   `json:"rss_growth_bytes"`
	FinalLoss float64 `json:"final_loss"`
	Threads   int     `json:"threads"`
	BLAS      string  `json:"blas"`
	Floor     float64 `json:"floor_gflop_per_s,omitempty"` // Options.Floor
	// Error says why the workload did not run (e.g. not available yet).
	Error string `json:"error,omitempty"`
}

// Run measures a workload: it builds the model, warms up, then times
// o.Windows windows and reports the median rate.
func Run(w Workload, o Options) (Result, error) {
	o = o.withDefaults()
	if err := w.Available(); err != nil {
		return Result{}, err
	}
	t, err := newTrainer(w, o.Seed)
	if err != nil {
		return Result{}, err
	}
	runtime.GC()
	resetPeak()
	loss, err := runFor(t, o.Warmup)
	if err != nil {
		return Result{}, err
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	rssStart, _ := memory()
	cpuStart := cpuTime()
	r := Result{Workload: w.Name, Batch: t.exp.Train.BatchSize, Threads: compute.Threads(), BLAS: compute.BLASName}
	window := o.Seconds / float64(o.Windows)
	for range o.Windows {
		t0 := time.Now()
		n := 0
		for time.Since(t0).Seconds() < window {
			if loss, err = t.step(); err != nil {
				return Result{}, err
			}
			n++
		}
		r.WindowRates = append(r.WindowRates, float64(n)/time.Since(t0).Seconds())
		r.Steps += n
	}
	cpu := cpuTime() - cpuStart
	runtime.ReadMemStats(&after)
	rssEnd, peak := memory()
	r.StepsPerS = median(r.WindowRates)
	r.SamplesPerS = r.StepsPerS * float64(r.Batch)
	r.MsPerStep = 1000 / r.StepsPerS
	r.CPUMsPerStep = cpu.Seconds() * 1000 / float64(r.Steps)
	r.StepGFLOP = 3 * float64(t.forwardFLOPs()) * float64(r.Batch) / 1e9
	r.GFLOPS = r.StepGFLOP * r.StepsPerS
	if o.Floor > 0 {
		r.Floor, r.FloorFraction = o.Floor, r.GFLOPS/o.Floor
	}
	r.AllocsPerStep = float64(after.Mallocs-before.Mallocs) / float64(r.Steps)
	r.BytesPerStep = float64(after.TotalAlloc-before.TotalAlloc) / float64(r.Steps)
	r.PeakRSS, r.RSSGrowth = peak, rssEnd-rssStart
	r.FinalLoss = loss
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return r, fmt.Errorf("workload %s: the loss became %v", w.Name, loss)
	}
	return r, nil
}

// runFor steps for about the given time and returns the last loss.
func runFor(t *trainer, seconds float64) (float64, error) {
	var loss float64
	var err error
	for t0 := time.Now(); time.Since(t0).Seconds() < seconds; {
		if loss, err = t.step(); err != nil {
			return 0, err
		}
	}
	return loss, nil
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
