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
// with the epoch's running mean loss, samples/s, the time elapsed in the
// epoch and its ETA; otherwise one line per epoch (plain text, wrapped
// within LineWidth columns, or a JSON object per line when JSON is set).
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
	steps      int // steps taken since the bar started (a resumed epoch starts part-way)
}

// LineWidth is the widest line Progress writes: an epoch line with more
// metrics than fit wraps, its later lines indented; the bar stays within it.
const LineWidth = 100

// barWidth is the width of the bar itself; the description before it is
// at most LineWidth - barWidth - 9 columns (the percentage and brackets).
const barWidth = 10

func (p *Progress) startBar(l *Loop) {
	p.bar = progressbar.NewOptions(l.StepsPerEpoch(),
		progressbar.OptionSetWriter(p.W),
		progressbar.OptionSetDescription(fmt.Sprintf("epoch %d/%d", l.State.Epoch+1, p.Epochs)),
		progressbar.OptionSetWidth(barWidth),
		progressbar.OptionThrottle(cmp.Or(p.throttle, 100*time.Millisecond)),
		progressbar.OptionClearOnFinish(),
		// The bar's own [elapsed:left] is unlabelled: the description
		// carries both, labelled.
		progressbar.OptionSetPredictTime(false),
		progressbar.OptionSetElapsedTime(false),
	)
	p.epochStart, p.samples, p.steps = time.Now(), 0, 0
}

// AfterStep implements Hook: the bar shows the mean loss of the epoch's
// samples so far (the resumed part of an epoch included), the samples
// per second since the bar started, the time elapsed since then and the
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
	p.steps++
	elapsed := time.Since(p.epochStart)
	rate := float64(p.samples) / max(elapsed.Seconds(), 1e-9)
	done := p.bar.State().CurrentNum + 1
	left := time.Duration(float64(elapsed) / float64(p.steps) * float64(max(int64(l.StepsPerEpoch())-done, 0)))
	mean := l.State.LossSum / float64(max(l.State.LossCount, 1))
	p.bar.Describe(barDescription(l.State.Epoch+1, p.Epochs, mean, rate, elapsed, left))
	return p.bar.Add(1)
}

// barDescription is the text before the bar: "epoch 3/20 mean loss 0.4321
// 1234 samples/s elapsed 0:03 ETA 0:04".
func barDescription(epoch, epochs int, meanLoss, rate float64, elapsed, left time.Duration) string {
	return fmt.Sprintf("epoch %d/%d mean loss %.4f %.0f samples/s elapsed %s ETA %s ", epoch, epochs, meanLoss, rate, clock(elapsed), clock(left))
}

// clock writes a duration as m:ss, or h:mm:ss from an hour on.
func clock(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
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
		for k, v := range s.Phases {
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
	b.WriteString(epochLine(p.Epochs, s))
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

// epochLine is the plain-text line of an epoch: "epoch 3/20  lr 0.001
// train_loss 0.4321  val_accuracy 0.9600 ...  (12.3s) *", the star marking
// a new best of the monitored metric. A line longer than LineWidth
// columns is broken before the validation metrics, and again before any
// field that would still pass LineWidth, the later lines indented by four
// spaces.
func epochLine(epochs int, s EpochStats) string {
	fields := []string{fmt.Sprintf("epoch %d/%d", s.Epoch, epochs), fmt.Sprintf("lr %.4g", s.LR), fmt.Sprintf("train_loss %.4f", s.TrainLoss)}
	if s.Penalty > 0 {
		fields = append(fields, fmt.Sprintf("penalty %.4f", s.Penalty))
	}
	phases := make([]string, 0, len(s.Phases))
	for k := range s.Phases {
		phases = append(phases, k)
	}
	sort.Strings(phases)
	for _, k := range phases {
		fields = append(fields, fmt.Sprintf("%s %.4f", k, s.Phases[k]))
	}
	keys := make([]string, 0, len(s.Val))
	for k := range s.Val {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fields = append(fields, fmt.Sprintf("%s %.4f", k, s.Val[k]))
	}
	end := fmt.Sprintf("(%.1fs)", s.Elapsed.Seconds())
	if s.Improved && len(s.Val) > 0 {
		end += " *"
	}
	fields = append(fields, end)
	firstVal := len(fields) - 1 - len(keys) // the training fields come first
	width := 2 * (len(fields) - 1)
	for _, f := range fields {
		width += len(f)
	}
	var b strings.Builder
	col := 0
	for i, f := range fields {
		switch {
		case i == 0:
		case col+2+len(f) > LineWidth, i == firstVal && len(keys) > 0 && width > LineWidth:
			b.WriteString("\n    ")
			col = 4
		default:
			b.WriteString("  ")
			col += 2
		}
		b.WriteString(f)
		col += len(f)
	}
	return b.String()
}

// AtEnd implements Hook.
func (p *Progress) AtEnd(*Loop, error) error {
	if p.bar != nil {
		_ = p.bar.Exit()
	}
	return nil
}
