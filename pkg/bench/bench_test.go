package bench

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/compute"
)

func TestEveryWorkloadIsListedAndLooksUp(t *testing.T) {
	if len(Names()) != len(workloads) {
		t.Fatalf("Names lists %d workloads, the registry has %d", len(Names()), len(workloads))
	}
	for _, name := range Names() {
		w, err := Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		if w.Batch < 1 || w.Model == "" {
			t.Errorf("%s: incomplete entry %+v", name, w)
		}
		if err := w.Available(); err != nil && !errors.Is(err, ErrUnavailable) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := Lookup("resnet"); err == nil || !strings.Contains(err.Error(), "mlp") {
		t.Errorf("unknown workload: error %v does not list the known ones", err)
	}
}

// TestWorkloadConfigsMatchTheirEntries builds every available workload and
// checks its config against the registry (batch size) and WORKLOADS.md
// (the matrix-product work of a step, per sample, counted by hand).
func TestWorkloadConfigsMatchTheirEntries(t *testing.T) {
	const (
		mlp1, mlp2, mlp3 = 2 * 784 * 256, 2 * 256 * 128, 2 * 128 * 10 // forward FLOPs of each layer
		ae1, ae2, ae3    = 2 * 784 * 128, 2 * 128 * 32, 2 * 32 * 128
		ae4              = 2 * 128 * 784
		conv1            = 2 * 1 * 5 * 5 * (6 * 24 * 24) // 1 channel in, 6×24×24 out
		conv2            = 2 * 6 * 5 * 5 * (16 * 8 * 8)
		dense            = 2 * (256*120 + 120*84 + 84*10)
		lstm, gru        = 2 * 50 * 4 * 128 * (32 + 128), 2 * 50 * 3 * 128 * (32 + 128) // 50 steps of [x, h]·W
		out              = 2 * 128 * 10
		// transformer: per encoder layer over 64 positions of 64, the input
		// projection [64, 192], the scores and weighted values of 4 heads
		// of 16, the output projection and the feed-forward network 64→128→64.
		inProj  = 2 * 64 * 64 * 3 * 64
		encoder = inProj + 2*2*64*64*64 + 2*64*64*64 + 2*2*64*64*128
		trOut   = 2 * 64 * 10
	)
	// Forward and weight gradient of every layer, input gradient of all
	// but the first.
	products := map[string]int64{
		"mlp":         2*(mlp1+mlp2+mlp3) + mlp2 + mlp3,
		"autoencoder": 2*(ae1+ae2+ae3+ae4) + ae2 + ae3 + ae4,
		"lenet":       2*(conv1+conv2+dense) + conv2 + dense,
		"lstm":        2*(lstm+out) + out,
		"gru":         2*(gru+out) + out,
		// Every product of both layers and its two backward products, but
		// the first input projection's input gradient.
		"transformer": 3*(2*encoder) - inProj + 3*trOut,
	}
	// Trainable parameters, as PyTorch's models in pytorch_ref.py count
	// them (sum(p.numel() for p in model.parameters())).
	params := map[string]int{
		"mlp":         235146,
		"autoencoder": 209968,
		"lenet":       44426,
		"lstm":        84234, // 4·128·(32+128) weights, two biases of 4·128, Dense 128→10
		"gru":         63498,
		"transformer": 67594, // 2 × 33,472 (attention 16,640, feed-forward 16,576, norms 256), Dense 64→10
	}
	for _, name := range Names() {
		w, _ := Lookup(name)
		if w.Available() != nil {
			continue
		}
		t.Run(name, func(t *testing.T) {
			tr, err := newTrainer(w, 1)
			if err != nil {
				t.Fatal(err)
			}
			if tr.exp.Train.BatchSize != w.Batch {
				t.Errorf("config batch %d, registry %d", tr.exp.Train.BatchSize, w.Batch)
			}
			if got := StepWork(tr.model).Products; got != products[name] {
				t.Errorf("product FLOPs per sample %d, want %d", got, products[name])
			}
			n := 0
			for _, l := range tr.model.Layers() {
				n += l.Params
			}
			if n != params[name] {
				t.Errorf("%d trainable parameters, PyTorch's model has %d", n, params[name])
			}
			if tr.loop.StepsPerEpoch() != EpochBatches {
				t.Errorf("%d steps per epoch, want %d", tr.loop.StepsPerEpoch(), EpochBatches)
			}
		})
	}
}

func TestRunMeasuresAWorkload(t *testing.T) {
	w, _ := Lookup("mlp")
	r, err := Run(w, Options{Seconds: 0.1, Warmup: 0.02, Floor: 100})
	if err != nil {
		t.Fatal(err)
	}
	if r.Steps < 5 || !(r.StepsPerS > 0) || r.SamplesPerS != r.StepsPerS*64 || len(r.WindowRates) != 5 {
		t.Errorf("implausible result %+v", r)
	}
	if math.Abs(r.FloorFraction-r.GFLOPS/100) > 1e-12 || r.StepGFLOP <= 0 || r.PeakRSS <= 0 ||
		!(r.Step3xGFLOP > r.StepGFLOP) || math.Abs(r.GFLOPS3x/r.GFLOPS-r.Step3xGFLOP/r.StepGFLOP) > 1e-9 {
		t.Errorf("derived numbers wrong: %+v", r)
	}
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(r); err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"workload", "batch", "steps_per_s", "samples_per_s"} {
		if _, ok := back[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, buf.String())
		}
	}
	buf.Reset()
	lenet, _ := Lookup("lenet")
	rows := []Result{r, {Workload: "lstm", Batch: 64, Error: "not available: needs an lstm layer"}}
	if lenet.Available() != nil {
		if _, err := Run(lenet, Options{}); !errors.Is(err, ErrUnavailable) {
			t.Errorf("lenet without conv layers: %v, want ErrUnavailable", err)
		}
	}
	if err := WriteTable(&buf, rows); err != nil {
		t.Fatal(err)
	}
	if out := buf.String(); !strings.Contains(out, "mlp") || !strings.Contains(out, "lstm: not available") {
		t.Errorf("table:\n%s", out)
	}
}

// TestNoMemoryGrowth: in the steady state a workload's training steps
// allocate (almost) nothing: only the few allocations of each epoch's end
// remain, and the resident memory does not grow beyond a generous bound.
func TestNoMemoryGrowth(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for a second")
	}
	w, _ := Lookup("lenet")
	if w.Available() != nil {
		w, _ = Lookup("mlp")
	}
	r, err := Run(w, Options{Seconds: 0.5, Warmup: 0.3})
	if err != nil {
		t.Fatal(err)
	}
	// On a loaded machine half a second may hold only a few steps, and the
	// few allocations made outside the steps (epoch ends, the timer's own
	// bookkeeping) then read as several per step: measure again over
	// enough steps for a per-step allocation to stand out.
	const minSteps = 200
	if r.Steps < minSteps {
		secs := min(20, 0.5*float64(minSteps)/float64(max(r.Steps, 1))*1.2)
		if r, err = Run(w, Options{Seconds: secs, Warmup: 0.3}); err != nil {
			t.Fatal(err)
		}
	}
	allocs, rssBound := r.AllocsPerStep >= 1, int64(16<<20)
	if compute.ProductsAllocate() {
		// Its garbage grows the heap up to the collector's target (twice
		// the live heap) before the first collections: not a leak.
		t.Logf("this build's matrix products are gonum's, which allocate: %.2f allocations per step not held against it", r.AllocsPerStep)
		allocs, rssBound = false, 64<<20
	}
	if allocs || r.RSSGrowth > rssBound {
		t.Errorf("%s: %.2f allocations per step, RSS grew %d bytes over %d steps", r.Workload, r.AllocsPerStep, r.RSSGrowth, r.Steps)
	}
}
