package train

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/schollz/progressbar/v3"
)

func TestProgress(t *testing.T) {
	for _, c := range []struct {
		name           string
		terminal, json bool
		want, not      []string
	}{
		{"terminal", true, false, []string{"samples/s", "mean loss", "epoch 1/2", "elapsed 0:0", "ETA 0:0"}, []string{"[0s:"}},
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

// TestProgressBarShowsTheEpochMeanLoss: the bar shows the mean loss of
// the epoch's samples so far (what train_loss will be), not the loss of
// the step just taken.
func TestProgressBarShowsTheEpochMeanLoss(t *testing.T) {
	var b bytes.Buffer
	l := newTestLoop(t, digitsYAML)
	p := &Progress{W: &b, Terminal: true, Epochs: 2, throttle: time.Nanosecond}
	l.State.LossSum, l.State.LossCount = 30, 100 // 0.3 per sample so far
	if err := p.AfterStep(l, StepStats{Loss: 9, Samples: 10}); err != nil {
		t.Fatal(err)
	}
	if out := b.String(); !strings.Contains(out, "mean loss 0.3000") || strings.Contains(out, "9.0000") {
		t.Errorf("the bar does not show the epoch's mean loss 0.3000 (the step's loss was 9):\n%q", out)
	}
}

// widest is the widest line of terminal output, a line ending at \n or
// being redrawn at \r.
func widest(s string) (int, string) {
	w, line := 0, ""
	for _, l := range regexp.MustCompile("[\r\n]").Split(s, -1) {
		if n := utf8.RuneCountInString(l); n > w {
			w, line = n, l
		}
	}
	return w, line
}

// TestProgressLinesFitTheWidth: epoch lines and the bar stay within
// LineWidth columns, even with many metrics, long runs and slow epochs;
// an epoch line that does not fit wraps between fields, indented.
func TestProgressLinesFitTheWidth(t *testing.T) {
	many := EpochStats{Epoch: 100, LR: 0.00012345, TrainLoss: 1234.5678, Penalty: 0.0123, Elapsed: 98765 * time.Second, Improved: true,
		Val: map[string]float64{"val_loss": 1234.5678, "val_accuracy": 0.9612, "val_macro_f1": 0.9501, "val_perplexity": 123.4567,
			"val_mse": 1234.5678, "val_mae": 12.3456, "val_r2": -0.1234}}
	demo := EpochStats{Epoch: 12, LR: 0.001, TrainLoss: 0.1034, Penalty: 0.0205, Elapsed: 1400 * time.Millisecond, Improved: true,
		Val: map[string]float64{"val_loss": 0.1057, "val_accuracy": 0.9740, "val_macro_f1": 0.9738}}
	for _, c := range []struct {
		name   string
		s      EpochStats
		lines  int
		second string // how the second line starts
	}{
		{"few metrics", EpochStats{Epoch: 3, LR: 0.001, TrainLoss: 0.4321, Elapsed: 12 * time.Second, Improved: true, Val: map[string]float64{"val_loss": 0.1, "val_accuracy": 0.9}}, 1, ""},
		{"the demo's metrics: broken before the validation ones", demo, 2, "    val_accuracy 0.9740  val_loss"},
		{"many metrics", many, 3, "    val_accuracy"},
	} {
		t.Run(c.name, func(t *testing.T) {
			line := epochLine(100, c.s)
			if w, l := widest(line); w > LineWidth {
				t.Errorf("a line of %d columns (> %d): %q", w, LineWidth, l)
			}
			lines := strings.Split(line, "\n")
			if len(lines) != c.lines {
				t.Errorf("%d lines, want %d:\n%s", len(lines), c.lines, line)
			}
			if len(lines) > 1 && !strings.HasPrefix(lines[1], c.second) {
				t.Errorf("the second line starts %q, want %q:\n%s", lines[1], c.second, line)
			}
			for _, l := range lines[1:] {
				if !strings.HasPrefix(l, "    ") || strings.HasPrefix(l, "     ") {
					t.Errorf("a wrapped line not indented by four spaces: %q", l)
				}
			}
			for k := range c.s.Val {
				if !strings.Contains(line, k+" ") {
					t.Errorf("%s lost in the wrap:\n%s", k, line)
				}
			}
			if !strings.HasSuffix(line, "s) *") {
				t.Errorf("the line does not end with the time and the new-best star: %q", line)
			}
		})
	}
	t.Run("bar", func(t *testing.T) {
		var b bytes.Buffer
		bar := progressbar.NewOptions(12345, progressbar.OptionSetWriter(&b), progressbar.OptionSetWidth(barWidth),
			progressbar.OptionSetPredictTime(false), progressbar.OptionSetElapsedTime(false), progressbar.OptionThrottle(0))
		bar.Describe(barDescription(100, 100, 1234.5678, 123456, 10*time.Hour+59*time.Minute, 9*time.Hour+59*time.Minute))
		for range 2 {
			if err := bar.Add(6000); err != nil {
				t.Fatal(err)
			}
		}
		if w, l := widest(b.String()); w > LineWidth || w < 60 {
			t.Errorf("the bar is %d columns wide (want 60 to %d): %q", w, LineWidth, l)
		}
	})
}

func TestClock(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{{0, "0:00"}, {1499 * time.Millisecond, "0:01"}, {59 * time.Second, "0:59"}, {61 * time.Second, "1:01"},
		{3600 * time.Second, "1:00:00"}, {3723 * time.Second, "1:02:03"}} {
		t.Run(fmt.Sprint(c.d), func(t *testing.T) {
			if got := clock(c.d); got != c.want {
				t.Errorf("clock(%v) = %q, want %q", c.d, got, c.want)
			}
		})
	}
}
