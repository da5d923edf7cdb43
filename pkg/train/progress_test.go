package train

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

func TestProgress(t *testing.T) {
	for _, c := range []struct {
		name           string
		terminal, json bool
		want, not      []string
	}{
		{"terminal", true, false, []string{"samples/s", "loss", "epoch 1/2"}, nil},
		{"plain", false, false, []string{"epoch 1/2  lr 0.001  train_loss", "val_accuracy"}, []string{"samples/s"}},
		{"json", false, true, []string{`"event":"epoch"`, `"val_accuracy"`}, []string{"samples/s"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			l := newTestLoop(t, digitsYAML, "train.epochs=2")
			l.Hooks = []Hook{&Progress{W: &b, Terminal: c.terminal, JSON: c.json, Epochs: 2, throttle: time.Nanosecond}}
			if err := l.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			for _, w := range c.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("no %q in\n%s", w, b.String())
				}
			}
			for _, w := range c.not {
				if strings.Contains(b.String(), w) {
					t.Errorf("%q in\n%s", w, b.String())
				}
			}
		})
	}
}

// TestProgressJSONWithUndefinedMetric: an undefined metric (R² of a
// constant target is NaN) is null in the JSON epoch line, not an error.
func TestProgressJSONWithUndefinedMetric(t *testing.T) {
	var b bytes.Buffer
	p := &Progress{W: &b, JSON: true, Epochs: 1}
	if err := p.AfterEpoch(nil, EpochStats{Epoch: 1, Val: map[string]float64{"val_r2": math.NaN(), "val_mse": math.Inf(1)}}); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatalf("%v: %s", err, b.String())
	}
	if v, ok := got["val_r2"]; !ok || v != nil {
		t.Errorf("val_r2: %v (present %v), want null", v, ok)
	}
}

// TestProgressSaysWhyItStopped: the early-stopping line names the
// metric, how long it has not improved, the patience and min_delta, and
// where its best was.
func TestProgressSaysWhyItStopped(t *testing.T) {
	var b bytes.Buffer
	p := &Progress{W: &b, Epochs: 30}
	l := &Loop{EarlyStop: &EarlyStopping{Metric: "val_loss", Patience: 3, MinDelta: 0.001}}
	l.State.Stop = StopState{Best: 0.0831, Epoch: 24, Bad: 3}
	if err := p.AfterEpoch(l, EpochStats{Epoch: 27, Stopped: true}); err != nil {
		t.Fatal(err)
	}
	want := "early stopping: val_loss has not improved for 3 epochs (patience 3, min_delta 0.001); its best was 0.0831 at epoch 24"
	if !strings.Contains(b.String(), want) {
		t.Errorf("got %q, want it to contain %q", b.String(), want)
	}
}
