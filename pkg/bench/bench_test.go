package bench

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
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
// (forward FLOPs per sample of the dense stacks).
func TestWorkloadConfigsMatchTheirEntries(t *testing.T) {
	flops := map[string]int64{ // 2 × multiply-adds of the dense layers
		"mlp":         2 * (784*256 + 256*128 + 128*10),
		"autoencoder": 2 * (784*128 + 128*32 + 32*128 + 128*784),
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
			if want, ok := flops[name]; ok && tr.forwardFLOPs() != want {
				t.Errorf("forward FLOPs %d, want %d", tr.forwardFLOPs(), want)
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
	if math.Abs(r.FloorFraction-r.GFLOPS/100) > 1e-12 || r.StepGFLOP <= 0 || r.PeakRSS <= 0 {
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
