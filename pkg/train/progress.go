package train

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
)

// Progress reports training as it goes: on a terminal, a bar per epoch
// with the running loss, samples/s and ETA; otherwise one line per epoch
// (plain text, or a JSON object per line when JSON is set).
type Progress struct {
	NopHook
	W        io.Writer
	Terminal bool
	JSON     bool
	Epochs   int

	throttle   time.Duration // between redraws of the bar; 100 ms when 0
	bar        *progressbar.ProgressBar
	epochStart time.Time
	samples    int
}

func (p *Progress) startBar(l *Loop) {
	p.bar = progressbar.NewOptions(l.StepsPerEpoch(),
		progressbar.OptionSetWriter(p.W),
		progressbar.OptionSetDescription(fmt.Sprintf("epoch %d/%d", l.State.Epoch+1, p.Epochs)),
		progressbar.OptionShowCount(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(cmp.Or(p.throttle, 100*time.Millisecond)),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetPredictTime(true),
	)
	p.epochStart, p.samples = time.Now(), 0
}

// AfterStep implements Hook: the bar shows the step's loss, the samples
// per second since the epoch (or the resumed part of it) started, and the
// ETA of the epoch.
func (p *Progress) AfterStep(l *Loop, s StepStats) error {
	if !p.Terminal {
		return nil
	}
	if p.bar == nil {
		p.startBar(l)
		k := max(l.Accumulate, 1)
		_ = p.bar.Set((l.State.Batch+k-1)/k - 1) // steps before this one (a resumed epoch starts part-way)
	}
	p.samples += s.Samples
	rate := float64(p.samples) / max(time.Since(p.epochStart).Seconds(), 1e-9)
	p.bar.Describe(fmt.Sprintf("epoch %d/%d loss %.4f %.0f samples/s", l.State.Epoch+1, p.Epochs, s.Loss, rate))
	return p.bar.Add(1)
}

// AfterEpoch implements Hook.
func (p *Progress) AfterEpoch(l *Loop, s EpochStats) error {
	if p.bar != nil {
		_ = p.bar.Finish()
		p.bar = nil
	}
	if p.JSON {
		obj := map[string]any{"event": "epoch", "epoch": s.Epoch, "epochs": p.Epochs, "step": s.Step, "lr": s.LR,
			"train_loss": s.TrainLoss, "penalty": s.Penalty, "elapsed_s": s.Elapsed.Seconds(), "improved": s.Improved, "stopped": s.Stopped}
		for k, v := range s.Val {
			obj[k] = v
		}
		for k, v := range obj {
			if f, ok := v.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
				obj[k] = nil // JSON has no NaN: a metric that is undefined (R² of a constant target) is null
			}
		}
		b, err := json.Marshal(obj)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(p.W, string(b))
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "epoch %d/%d  lr %.4g  train_loss %.4f", s.Epoch, p.Epochs, s.LR, s.TrainLoss)
	if s.Penalty > 0 {
		fmt.Fprintf(&b, "  penalty %.4f", s.Penalty)
	}
	keys := make([]string, 0, len(s.Val))
	for k := range s.Val {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "  %s %.4f", k, s.Val[k])
	}
	fmt.Fprintf(&b, "  (%.1fs)", s.Elapsed.Seconds())
	if s.Improved && len(s.Val) > 0 {
		b.WriteString(" *")
	}
	if s.Stopped {
		b.WriteString("\nearly stopping: ")
		if l != nil && l.EarlyStop != nil {
			e := l.EarlyStop
			st := l.State.Stop
			epochs := "epochs"
			if st.Bad == 1 {
				epochs = "epoch"
			}
			fmt.Fprintf(&b, "%s has not improved for %d %s (patience %d", e.Metric, st.Bad, epochs, e.Patience)
			if e.MinDelta > 0 {
				fmt.Fprintf(&b, ", min_delta %g", e.MinDelta)
			}
			fmt.Fprintf(&b, "); its best was %.4f at epoch %d", st.Best, st.Epoch)
		} else {
			b.WriteString("no improvement for the set patience")
		}
	}
	_, err := fmt.Fprintln(p.W, b.String())
	return err
}

// AtEnd implements Hook.
func (p *Progress) AtEnd(*Loop, error) error {
	if p.bar != nil {
		_ = p.bar.Exit()
	}
	return nil
}
