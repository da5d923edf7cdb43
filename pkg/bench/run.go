package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"time"

	"github.com/dltrain/dltrain/pkg/compute"
	"github.com/dltrain/dltrain/pkg/train"
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
	// StepGFLOP is the matrix-product work of one training step as
	// executed (Work.Products × batch).
	StepGFLOP float64 `json:"gflop_per_step"`
	GFLOPS    float64 `json:"gflop_per_s"` // StepGFLOP × StepsPerS
	// Step3xGFLOP is the usual estimate of a step's work, 3× the forward
	// FLOPs of every layer; GFLOPS3x is the rate it gives. Both are
	// reported for comparison with other tools; they overstate the work
	// of a model whose first layer needs no input gradient.
	Step3xGFLOP   float64   `json:"gflop_per_step_3x_forward"`
	GFLOPS3x      float64   `json:"gflop_per_s_3x_forward"`
	FloorFraction float64   `json:"floor_fraction,omitempty"` // GFLOPS / Options.Floor
	WindowRates   []float64 `json:"window_steps_per_s"`       // every window's steps/s
	Steps         int       `json:"steps"`                    // timed steps
	StepsPerEpoch int       `json:"steps_per_epoch"`          // epoch boundaries are inside the timing
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

// Run measures a workload: it builds the model and the training loop,
// runs the loop (train.Loop.Run, what `dltrain train` runs) with a hook
// that warms up, then times o.Windows windows of steps and stops it, and
// reports the median rate.
func Run(w Workload, o Options) (Result, error) {
	o = o.withDefaults()
	if err := w.Available(); err != nil {
		return Result{}, err
	}
	t, err := newTrainer(w, o.Seed)
	if err != nil {
		return Result{}, err
	}
	r := Result{Workload: w.Name, Batch: t.exp.Train.BatchSize, Threads: compute.Threads(), BLAS: compute.BLASName,
		StepsPerEpoch: t.loop.StepsPerEpoch()}
	h := &timer{warmup: seconds(o.Warmup), window: seconds(o.Seconds / float64(o.Windows)), windows: o.Windows, r: &r}
	t.loop.Hooks = []train.Hook{h}
	runtime.GC()
	resetPeak()
	h.start = time.Now()
	if err := t.loop.Run(context.Background()); !errors.Is(err, errMeasured) {
		if err == nil {
			err = errors.New("the training loop ended before the measurement")
		}
		return Result{}, fmt.Errorf("workload %s: %w", w.Name, err)
	}
	work := StepWork(t.model)
	r.StepsPerS = median(r.WindowRates)
	r.SamplesPerS = r.StepsPerS * float64(r.Batch)
	r.MsPerStep = 1000 / r.StepsPerS
	r.StepGFLOP = float64(work.Products) * float64(r.Batch) / 1e9
	r.GFLOPS = r.StepGFLOP * r.StepsPerS
	r.Step3xGFLOP = 3 * float64(work.Forward) * float64(r.Batch) / 1e9
	r.GFLOPS3x = r.Step3xGFLOP * r.StepsPerS
	if o.Floor > 0 {
		r.Floor, r.FloorFraction = o.Floor, r.GFLOPS/o.Floor
	}
	if math.IsNaN(r.FinalLoss) || math.IsInf(r.FinalLoss, 0) {
		return r, fmt.Errorf("workload %s: the loss became %v", w.Name, r.FinalLoss)
	}
	return r, nil
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// errMeasured ends the training loop when the timer hook has measured.
var errMeasured = errors.New("measured")

// timer is the hook that measures: it lets the loop warm up, then counts
// the steps of each window, and reads the memory and CPU counters between
// the warm-up and the first window and after the last one.
type timer struct {
	train.NopHook
	warmup, window time.Duration
	windows        int
	r              *Result

	start, t0         time.Time // of the run, of the current window
	timing            bool
	n                 int // steps in the current window
	before            runtime.MemStats
	rssStart          int64
	cpuStart, cpuTime time.Duration
}

func (h *timer) AfterStep(_ *train.Loop, s train.StepStats) error {
	h.r.FinalLoss = s.Loss
	now := time.Now()
	if !h.timing {
		if now.Sub(h.start) < h.warmup {
			return nil
		}
		runtime.ReadMemStats(&h.before)
		h.rssStart, _ = memory()
		h.cpuStart = cpuTime()
		h.timing, h.t0, h.n = true, time.Now(), 0
		return nil
	}
	h.n++
	if d := now.Sub(h.t0); d >= h.window {
		h.r.WindowRates = append(h.r.WindowRates, float64(h.n)/d.Seconds())
		h.r.Steps += h.n
		if len(h.r.WindowRates) == h.windows {
			h.finish()
			return errMeasured
		}
		h.t0, h.n = time.Now(), 0
	}
	return nil
}

// finish reads the counters after the last window.
func (h *timer) finish() {
	cpu := cpuTime() - h.cpuStart
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	rssEnd, peak := memory()
	steps := float64(h.r.Steps)
	h.r.CPUMsPerStep = cpu.Seconds() * 1000 / steps
	h.r.AllocsPerStep = float64(after.Mallocs-h.before.Mallocs) / steps
	h.r.BytesPerStep = float64(after.TotalAlloc-h.before.TotalAlloc) / steps
	h.r.PeakRSS, h.r.RSSGrowth = peak, rssEnd-h.rssStart
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
