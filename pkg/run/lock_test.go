package run

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/train"
)

// pauseAt holds a run after a chosen optimizer step until released, so
// that a test can act while the run is in the middle of training.
type pauseAt struct {
	train.NopHook
	step            int64
	reached, resume chan struct{}
}

func (p *pauseAt) AfterStep(l *train.Loop, _ train.StepStats) error {
	if l.State.Step == p.step {
		close(p.reached)
		<-p.resume
	}
	return nil
}

// TestRunInUseIsRefused (issue 16, item 8): while a run trains, a second
// train --resume of it (by directory, by checkpoint, or --resume auto) is
// refused as a usage error naming the run and the process that holds it,
// and touches nothing; once the first has stopped, the run resumes.
func TestRunInUseIsRefused(t *testing.T) {
	cfg := writeConfig(t, strings.Replace(resumeYAML, "epochs: 6", "epochs: 2", 1))
	out := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := &pauseAt{step: 3, reached: make(chan struct{}), resume: make(chan struct{})}
	type result struct {
		res *TrainResult
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := Train(ctx, TrainOptions{Config: cfg, Out: out, Hooks: []train.Hook{p}})
		done <- result{res, err}
	}()
	<-p.reached
	runs, _ := filepath.Glob(filepath.Join(out, "resume", "*"))
	if len(runs) != 1 {
		t.Fatalf("runs: %v", runs)
	}
	dir := runs[0]
	before, _ := os.ReadFile(filepath.Join(dir, "metrics.csv"))
	for _, resume := range []string{dir, "auto"} {
		_, err := Train(context.Background(), TrainOptions{Config: cfg, Out: out, Resume: resume})
		if !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), dir+" is being trained by another dltrain process (PID "+strconv.Itoa(os.Getpid())+")") {
			t.Errorf("--resume %s while the run trains: %v", resume, err)
		}
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "metrics.csv")); string(after) != string(before) {
		t.Errorf("the refused resume changed metrics.csv")
	}
	cancel()
	close(p.resume)
	if r := <-done; !errors.Is(r.err, train.ErrInterrupted) {
		t.Fatalf("first run: %v", r.err)
	}
	res, err := Train(context.Background(), TrainOptions{Resume: dir})
	if err != nil || res.Dir != dir {
		t.Fatalf("resume after the first run stopped: %v", err)
	}
}
