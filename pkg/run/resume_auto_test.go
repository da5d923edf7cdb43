package run

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/train"
)

// TestResumeAutoFinishesTheFinalEvaluation (issue 16, item 9): a run
// killed during its final test evaluation (trained to the end, no
// report.json) is unfinished: --resume auto continues it as --resume
// RUN_DIR does, evaluating it, instead of starting a new run.
func TestResumeAutoFinishesTheFinalEvaluation(t *testing.T) {
	cfg := writeConfig(t, strings.Replace(resumeYAML, "epochs: 6", "epochs: 1", 1))
	out := t.TempDir()
	first, err := Train(context.Background(), TrainOptions{Config: cfg, Out: out})
	if err != nil {
		t.Fatal(err)
	}
	report := filepath.Join(first.Dir, "report.json")
	want, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	for _, resume := range []string{"auto", first.Dir} {
		t.Run(filepath.Base(resume), func(t *testing.T) {
			os.Remove(report) // as a kill during the final evaluation leaves it
			os.RemoveAll(filepath.Join(first.Dir, "eval"))
			var log bytes.Buffer
			res, err := Train(context.Background(), TrainOptions{Config: cfg, Out: out, Resume: resume, Stderr: &log})
			if err != nil {
				t.Fatal(err)
			}
			if res.Dir != first.Dir || !strings.Contains(log.String(), "finished training already (epoch 1); evaluating it") {
				t.Errorf("--resume %s went to %s, want %s\n%s", resume, res.Dir, first.Dir, log.String())
			}
			if got, err := os.ReadFile(report); err != nil || !bytes.Equal(got, want) {
				t.Errorf("report.json after the resumed evaluation differs (%v)", err)
			}
			if runs, _ := filepath.Glob(filepath.Join(out, "resume", "*")); len(runs) != 1 {
				t.Errorf("runs: %v", runs)
			}
		})
	}
	// With its report written, the run is finished: auto starts a new one.
	var log bytes.Buffer
	res, err := Train(context.Background(), TrainOptions{Config: cfg, Out: out, Resume: "auto", Stderr: &log})
	if err != nil || res.Dir == first.Dir {
		t.Errorf("auto after a finished run: %v, %s\n%s", err, res.Dir, log.String())
	}
}

// TestResumeAutoNamesTheRunItRefuses (issue 16, item 9): --resume auto
// with settings that differ from the unfinished run it picked (a lower
// learning rate after a divergence) refuses naming that run, why it was
// picked, and how to start a new run instead.
func TestResumeAutoNamesTheRunItRefuses(t *testing.T) {
	cfg := writeConfig(t, resumeYAML)
	out := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	first, err := Train(ctx, TrainOptions{Config: cfg, Out: out, Hooks: []train.Hook{&stopAt{step: 30, cancel: cancel}}})
	if !errors.Is(err, train.ErrInterrupted) {
		t.Fatal(err)
	}
	_, err = Train(context.Background(), TrainOptions{Config: cfg, Out: out, Resume: "auto", Sets: []string{"train.optimizer.lr=0.001"}})
	if !errors.Is(err, config.ErrInvalid) {
		t.Fatalf("error %v", err)
	}
	for _, want := range []string{"the run --resume auto chose, " + first.Dir, "the newest unfinished run of resume", "epoch 1 of 6", "train.optimizer.lr", "leave out --resume to start a new run"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

// cancelAtEnd cancels the run after its last epoch, as a SIGINT or
// SIGTERM that arrives during the final evaluation does.
type cancelAtEnd struct {
	train.NopHook
	cancel func()
}

func (c *cancelAtEnd) AfterEpoch(l *train.Loop, _ train.EpochStats) error {
	if l.State.Epoch == l.Epochs {
		c.cancel()
	}
	return nil
}

// TestSignalDuringTheFinalEvaluation (issue 16, item 10): a SIGINT or
// SIGTERM once training is over stops the final evaluation instead of
// being acknowledged and ignored: the run returns ErrInterrupted (exit
// 130/143), keeps its checkpoints, writes no report, and --resume auto
// then evaluates it.
func TestSignalDuringTheFinalEvaluation(t *testing.T) {
	cfg := writeConfig(t, strings.Replace(resumeYAML, "epochs: 6", "epochs: 1", 1))
	out := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	var log bytes.Buffer
	res, err := Train(ctx, TrainOptions{Config: cfg, Out: out, Stderr: &log, Hooks: []train.Hook{&cancelAtEnd{cancel: cancel}}})
	if !errors.Is(err, train.ErrInterrupted) {
		t.Fatalf("a run cancelled before its final evaluation: %v", err)
	}
	if !strings.Contains(log.String(), "the final evaluation was stopped") {
		t.Errorf("log:\n%s", log.String())
	}
	if _, err := os.Stat(filepath.Join(res.Dir, "report.json")); !os.IsNotExist(err) {
		t.Errorf("report.json written by a stopped evaluation: %v", err)
	}
	for _, ck := range []string{"last.ckpt", "best.ckpt"} {
		if _, err := train.LoadCheckpoint(filepath.Join(res.Dir, "checkpoints", ck)); err != nil {
			t.Errorf("%s: %v", ck, err)
		}
	}
	if _, err := Eval(ctx, EvalOptions{Run: res.Dir, Split: "test"}); !errors.Is(err, train.ErrInterrupted) {
		t.Errorf("eval with a cancelled context: %v", err)
	}
	again, err := Train(context.Background(), TrainOptions{Config: cfg, Out: out, Resume: "auto"})
	if err != nil || again.Dir != res.Dir || again.Report == nil {
		t.Fatalf("--resume auto after the stopped evaluation: %v", err)
	}
}
