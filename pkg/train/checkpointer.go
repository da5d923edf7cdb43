package train

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Checkpointer is the hook that writes checkpoints:
//
//   - at the start of a new run (step 0), so that a run that diverges at
//     once still has a good checkpoint;
//   - every EveryEpochs epochs and every EverySteps optimizer steps, and at
//     the end of training;
//   - when asked on Requests (SIGUSR1), after the current step;
//   - when training is interrupted, after the current step;
//   - best.ckpt whenever the monitored metric improves.
//
// Each checkpoint is written as epoch-E-step-S.ckpt (E epochs completed,
// S steps taken) and last.ckpt is made to point to it (a hard link, or a
// copy where links are not supported); only the newest Keep numbered files
// are kept. A diverged run writes nothing, so the last good checkpoint
// stays. Every file is written atomically (see Checkpoint.Save).
type Checkpointer struct {
	NopHook
	Dir         string
	EveryEpochs int
	EverySteps  int
	Keep        int
	// Requests asks for a checkpoint after the current step.
	Requests <-chan struct{}
	// Capture builds the checkpoint of the loop's current state.
	Capture func(l *Loop) *Checkpoint
	// Logf, when set, reports checkpoints written on request.
	Logf func(format string, args ...any)

	saved string // position of the newest checkpoint written
}

// LastPath is the newest checkpoint.
func (c *Checkpointer) LastPath() string { return filepath.Join(c.Dir, "last.ckpt") }

// BestPath is the checkpoint of the best epoch.
func (c *Checkpointer) BestPath() string { return filepath.Join(c.Dir, "best.ckpt") }

func position(s State) string { return fmt.Sprintf("%d/%d/%d", s.Epoch, s.Batch, s.Step) }

// BeforeRun implements Hook.
func (c *Checkpointer) BeforeRun(l *Loop) error {
	if l.State.Step == 0 && l.State.Epoch == 0 {
		return c.save(l)
	}
	c.saved = position(l.State)
	return nil
}

// AfterStep implements Hook.
func (c *Checkpointer) AfterStep(l *Loop, _ StepStats) error {
	requested := false
	select {
	case <-c.Requests:
		requested = true
	default:
	}
	if requested || (c.EverySteps > 0 && l.State.Step%int64(c.EverySteps) == 0) {
		if err := c.save(l); err != nil {
			return err
		}
		if requested && c.Logf != nil {
			c.Logf("checkpoint saved at epoch %d, step %d: %s", l.State.Epoch+1, l.State.Step, c.LastPath())
		}
	}
	return nil
}

// AfterEpoch implements Hook.
func (c *Checkpointer) AfterEpoch(l *Loop, s EpochStats) error {
	// best.ckpt goes first: a crash between the two writes then leaves a
	// last.ckpt whose epoch the resumed run redoes, rewriting best.ckpt.
	if s.Improved {
		if err := l.Healthy(); err != nil {
			return err
		}
		if err := c.Capture(l).Save(c.BestPath()); err != nil {
			return err
		}
	}
	last := s.Stopped || s.Epoch == l.Epochs
	if last || (c.EveryEpochs > 0 && s.Epoch%c.EveryEpochs == 0) {
		return c.save(l)
	}
	return nil
}

// AtEnd implements Hook: an interrupted run saves where it stopped. A
// diverged run saves nothing, so the last good checkpoint stays.
func (c *Checkpointer) AtEnd(l *Loop, err error) error {
	if err == nil || errors.Is(err, ErrInterrupted) {
		return c.save(l)
	}
	return nil
}

// save writes the loop's state unless it is already the newest checkpoint.
func (c *Checkpointer) save(l *Loop) error {
	pos := position(l.State)
	if pos == c.saved {
		return nil
	}
	if err := l.Healthy(); err != nil {
		return err
	}
	name := filepath.Join(c.Dir, fmt.Sprintf("epoch-%d-step-%d.ckpt", l.State.Epoch, l.State.Step))
	if err := c.Capture(l).Save(name); err != nil {
		return err
	}
	if err := c.linkLast(name); err != nil {
		return err
	}
	c.saved = pos
	return c.prune()
}

// linkLast points last.ckpt at name: a hard link under a temporary name
// renamed over last.ckpt, so last.ckpt is always whole.
func (c *Checkpointer) linkLast(name string) error {
	tmp := filepath.Join(c.Dir, ".last.ckpt.link-tmp")
	os.Remove(tmp)
	if err := os.Link(name, tmp); err != nil {
		ck, lerr := LoadCheckpoint(name)
		if lerr != nil {
			return lerr
		}
		return ck.Save(c.LastPath())
	}
	if err := fault("link"); err != nil {
		return err
	}
	if err := os.Rename(tmp, c.LastPath()); err != nil {
		return err
	}
	return syncDir(c.Dir)
}

// Numbered lists the numbered checkpoints of dir, oldest first.
func Numbered(dir string) ([]string, error) {
	names, err := filepath.Glob(filepath.Join(dir, "epoch-*-step-*.ckpt"))
	if err != nil {
		return nil, err
	}
	type ck struct {
		path        string
		epoch, step int64
	}
	var cks []ck
	for _, n := range names {
		var e, s int64
		if _, err := fmt.Sscanf(filepath.Base(n), "epoch-%d-step-%d.ckpt", &e, &s); err == nil {
			cks = append(cks, ck{n, e, s})
		}
	}
	sort.Slice(cks, func(i, j int) bool {
		if cks[i].step != cks[j].step {
			return cks[i].step < cks[j].step
		}
		return cks[i].epoch < cks[j].epoch
	})
	out := make([]string, len(cks))
	for i, c := range cks {
		out[i] = c.path
	}
	return out, nil
}

func (c *Checkpointer) prune() error {
	all, err := Numbered(c.Dir)
	if err != nil {
		return err
	}
	for len(all) > max(c.Keep, 1) {
		if err := os.Remove(all[0]); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		all = all[1:]
	}
	return nil
}

// RemoveTemporaries deletes what interrupted checkpoint writes left in dir
// (files named .*.tmp-* or .*link-tmp); a checkpoint is never among them.
func RemoveTemporaries(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, ".") && (strings.Contains(n, ".tmp-") || strings.HasSuffix(n, "link-tmp")) {
			if err := os.Remove(filepath.Join(dir, n)); err != nil {
				return err
			}
		}
	}
	return nil
}
