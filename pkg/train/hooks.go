package train

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// NopHook implements Hook with no-ops, for embedding.
type NopHook struct{}

// AfterStep implements Hook.
func (NopHook) AfterStep(*Loop, float64) error { return nil }

// AfterEpoch implements Hook.
func (NopHook) AfterEpoch(*Loop, EpochStats) error { return nil }

// AtEnd implements Hook.
func (NopHook) AtEnd(*Loop, error) error { return nil }

// Checkpointer saves last.ckpt after every epoch and best.ckpt whenever the
// monitored metric improves, and saves last.ckpt when training is
// interrupted, so that --resume continues from the exact step.
type Checkpointer struct {
	NopHook
	Dir string
	// Capture builds the checkpoint of the loop's current state.
	Capture func(l *Loop) *Checkpoint
}

// LastPath and BestPath are where the checkpoints go.
func (c *Checkpointer) LastPath() string { return filepath.Join(c.Dir, "last.ckpt") }

// BestPath is the checkpoint of the best epoch.
func (c *Checkpointer) BestPath() string { return filepath.Join(c.Dir, "best.ckpt") }

// AfterEpoch implements Hook.
func (c *Checkpointer) AfterEpoch(l *Loop, s EpochStats) error {
	ck := c.Capture(l)
	if err := ck.Save(c.LastPath()); err != nil {
		return err
	}
	if s.Improved {
		return ck.Save(c.BestPath())
	}
	return nil
}

// AtEnd implements Hook: an interrupted run saves where it stopped. A
// diverged run saves nothing, so the last good checkpoint stays.
func (c *Checkpointer) AtEnd(l *Loop, err error) error {
	if errors.Is(err, ErrInterrupted) {
		return c.Capture(l).Save(c.LastPath())
	}
	return nil
}

// MetricsLog appends one row per epoch to metrics.csv and metrics.jsonl.
type MetricsLog struct {
	NopHook
	Dir     string
	columns []string
}

// fixedColumns open every metrics row; validation metrics follow, sorted,
// then elapsed_s (the only column that varies between identical runs).
var fixedColumns = []string{"epoch", "step", "lr", "train_loss", "penalty"}

// AfterEpoch implements Hook.
func (m *MetricsLog) AfterEpoch(_ *Loop, s EpochStats) error {
	row := map[string]float64{
		"epoch": float64(s.Epoch), "step": float64(s.Step), "lr": s.LR,
		"train_loss": s.TrainLoss, "penalty": s.Penalty, "elapsed_s": s.Elapsed.Seconds(),
	}
	var val []string
	for k, v := range s.Val {
		row[k] = v
		val = append(val, k)
	}
	sort.Strings(val)
	csvPath := filepath.Join(m.Dir, "metrics.csv")
	if m.columns == nil {
		m.columns = append(append(append([]string{}, fixedColumns...), val...), "elapsed_s")
		if _, err := os.Stat(csvPath); errors.Is(err, os.ErrNotExist) {
			if err := appendLine(csvPath, strings.Join(m.columns, ",")); err != nil {
				return err
			}
		}
	}
	cells := make([]string, len(m.columns))
	obj := map[string]any{}
	for i, c := range m.columns {
		v, ok := row[c]
		switch {
		case !ok || math.IsNaN(v):
			obj[c] = nil
		case c == "epoch" || c == "step":
			cells[i] = strconv.FormatInt(int64(v), 10)
			obj[c] = int64(v)
		default:
			cells[i] = strconv.FormatFloat(v, 'g', -1, 64)
			obj[c] = v
		}
	}
	if err := appendLine(csvPath, strings.Join(cells, ",")); err != nil {
		return err
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	return appendLine(filepath.Join(m.Dir, "metrics.jsonl"), string(b))
}

func appendLine(path, line string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, line)
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
