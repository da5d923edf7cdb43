package run

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/data"
	"github.com/dltrain/dltrain/pkg/train"
	"go.yaml.in/yaml/v3"
)

// resumePoint is what --resume found: the run directory, its experiment
// and the checkpoint to continue from. All empty: start a new run.
type resumePoint struct {
	dir    string
	exp    *config.Experiment
	ck     *train.Checkpoint
	ckPath string
}

// locateResume resolves TrainOptions.Resume:
//
//   - "auto": the newest run of the experiment under Out (by its last
//     checkpoint's time) when it is unfinished; otherwise a new run;
//   - a run directory: its checkpoints/last.ckpt;
//   - a checkpoint file inside a run directory (RUN/checkpoints/X.ckpt).
//
// The run's own config.yaml is the experiment. A --config given as well
// must resolve to the same experiment, and --set alone cannot change it:
// a resumed run is the same run.
func locateResume(opt TrainOptions) (resumePoint, error) {
	var r resumePoint
	switch {
	case opt.Resume == "":
		if opt.Config == "" {
			return r, fmt.Errorf("%w: --config is required (or --resume RUN_DIR)", config.ErrInvalid)
		}
		return r, nil
	case opt.Resume == "auto":
		if opt.Config == "" {
			return r, fmt.Errorf("%w: --resume auto needs --config, to find the experiment's runs", config.ErrInvalid)
		}
		exp, err := Load(opt.Config, opt.Sets)
		if err != nil {
			return r, err
		}
		dir, err := newestRun(opt.Out, exp)
		if err != nil || dir == "" {
			if err == nil {
				logf(opt, "--resume auto: the newest run of %s under %s is finished, or there is none; starting a new run", exp.Name, outDir(opt.Out))
			}
			return r, err
		}
		r.dir, r.ckPath = dir, filepath.Join(dir, "checkpoints", "last.ckpt")
	default:
		fi, err := os.Stat(opt.Resume)
		if err != nil {
			return r, fmt.Errorf("%w: --resume %s: %v", config.ErrInvalid, opt.Resume, errors.Unwrap(err))
		}
		if fi.IsDir() {
			r.dir, r.ckPath = opt.Resume, filepath.Join(opt.Resume, "checkpoints", "last.ckpt")
		} else {
			r.ckPath, r.dir = opt.Resume, filepath.Dir(filepath.Dir(opt.Resume))
		}
		if _, err := os.Stat(filepath.Join(r.dir, "config.yaml")); err != nil {
			return r, fmt.Errorf("%w: --resume %s: %s is not a run directory (no config.yaml); a checkpoint must be resumed inside its run directory, RUN/checkpoints/",
				config.ErrInvalid, opt.Resume, r.dir)
		}
	}
	var err error
	if r.exp, err = loadSaved(filepath.Join(r.dir, "config.yaml")); err != nil {
		return r, err
	}
	if err := sameExperiment(r.exp, r.dir, opt); err != nil {
		return r, err
	}
	if err := train.RemoveTemporaries(filepath.Join(r.dir, "checkpoints")); err != nil {
		return r, err
	}
	r.ck, err = train.LoadCheckpoint(r.ckPath)
	return r, err
}

func outDir(out string) string {
	if out == "" {
		return "runs"
	}
	return out
}

// newestRun returns the run of exp under out whose last checkpoint is the
// newest, if that run is unfinished; "" otherwise.
func newestRun(out string, exp *config.Experiment) (string, error) {
	base := filepath.Join(outDir(out), exp.Name)
	entries, err := os.ReadDir(base)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	var newest string
	var newestTime int64
	for _, e := range entries {
		last := filepath.Join(base, e.Name(), "checkpoints", "last.ckpt")
		fi, err := os.Stat(last)
		if err != nil || !e.IsDir() {
			continue
		}
		if t := fi.ModTime().UnixNano(); newest == "" || t > newestTime {
			newest, newestTime = filepath.Join(base, e.Name()), t
		}
	}
	if newest == "" {
		return "", nil
	}
	ck, err := train.LoadCheckpoint(filepath.Join(newest, "checkpoints", "last.ckpt"))
	if err != nil {
		return "", err
	}
	var runExp struct {
		Train struct{ Epochs int } `yaml:"train"`
	}
	if err := yaml.Unmarshal(ck.Config, &runExp); err != nil {
		return "", fmt.Errorf("%w: %s: %v", train.ErrBadCheckpoint, newest, err)
	}
	if ck.State.Stopped || ck.State.Epoch >= runExp.Train.Epochs {
		return "", nil
	}
	return newest, nil
}

// sameExperiment checks that --config and --set, when given with
// --resume, describe the run being resumed.
func sameExperiment(run *config.Experiment, dir string, opt TrainOptions) error {
	var exp *config.Experiment
	var err error
	switch {
	case opt.Config == "" && len(opt.Sets) > 0:
		return fmt.Errorf("%w: --set cannot change a run being resumed; start a new run instead", config.ErrInvalid)
	case opt.Config == "":
		// The saved config with the environment's DLTRAIN_* variables: a
		// variable that would change the run is refused, not ignored.
		exp, err = Load(filepath.Join(dir, "config.yaml"), nil)
	default:
		exp, err = Load(opt.Config, opt.Sets)
	}
	if err != nil {
		return err
	}
	a, err := run.YAML()
	if err != nil {
		return err
	}
	b, err := exp.YAML()
	if err != nil {
		return err
	}
	if diff := diffKeys(a, b); len(diff) > 0 {
		what := "--config " + opt.Config
		if opt.Config == "" {
			what = "the environment (DLTRAIN_* variables)"
		} else if len(opt.Sets) > 0 {
			what += " with --set"
		}
		fix := "give the run's own config, or start a new run"
		if opt.Config == "" {
			fix = "unset the variables, or start a new run"
		}
		return fmt.Errorf("%w: %s differs from the run being resumed in %s; a resumed run must be the same experiment (%s)",
			config.ErrInvalid, what, strings.Join(diff, ", "), fix)
	}
	return nil
}

// diffKeys lists the dotted keys whose values differ between two YAML
// documents.
func diffKeys(a, b []byte) []string {
	var ma, mb map[string]any
	_ = yaml.Unmarshal(a, &ma)
	_ = yaml.Unmarshal(b, &mb)
	fa, fb := map[string]any{}, map[string]any{}
	flatten("", ma, fa)
	flatten("", mb, fb)
	var out []string
	for k, v := range fa {
		if w, ok := fb[k]; !ok || !reflect.DeepEqual(v, w) {
			out = append(out, k)
		}
	}
	for k := range fb {
		if _, ok := fa[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func flatten(prefix string, v any, out map[string]any) {
	if m, ok := v.(map[string]any); ok {
		for k, e := range m {
			key := k
			if prefix != "" {
				key = prefix + "." + k
			}
			flatten(key, e, out)
		}
		return
	}
	out[prefix] = v
}

// restore puts a loop back where a checkpoint left it: weights, optimizer
// state, dropout stream, loop state (data position, early stopping,
// best metric), schedule state, and the best epoch's weights (from
// best.ckpt beside the checkpoint), which the loop restores at the end.
func restore(loop *train.Loop, s *setup, r resumePoint) error {
	ck := r.ck
	var meta data.Meta
	if err := json.Unmarshal(ck.Meta, &meta); err != nil {
		return fmt.Errorf("%w: %s: data description: %v", train.ErrBadCheckpoint, r.ckPath, err)
	}
	if meta.SHA256 != s.ds.SHA256 {
		return fmt.Errorf("%w: the data %s changed since the checkpoint was written (sha256 %.12s… then, %.12s… now)",
			data.ErrBadData, s.exp.Data.Source, meta.SHA256, s.ds.SHA256)
	}
	if err := train.RestoreParams(s.model.Params(), ck.Params); err != nil {
		return fmt.Errorf("%s: %w", r.ckPath, err)
	}
	if err := train.RestorePhases(loop.Steps(), s.model.Params(), ck.Phases); err != nil {
		return fmt.Errorf("%s: %w", r.ckPath, err)
	}
	rng, ok := ck.RNG["dropout"]
	if !ok {
		return fmt.Errorf("%w: %s has no dropout stream state", train.ErrBadCheckpoint, r.ckPath)
	}
	if err := s.dropout.UnmarshalBinary(rng); err != nil {
		return fmt.Errorf("%w: %s: dropout stream: %v", train.ErrBadCheckpoint, r.ckPath, err)
	}
	loop.State = ck.State
	if ck.State.BestEpoch == 0 {
		return nil
	}
	bestPath := filepath.Join(filepath.Dir(r.ckPath), "best.ckpt")
	best, err := train.LoadCheckpoint(bestPath)
	if err != nil {
		return fmt.Errorf("cannot resume exactly without the best epoch's weights: %w", err)
	}
	// best.ckpt is written before the epoch's own checkpoint, so it may
	// already hold a later epoch that the resumed run will redo.
	if e := best.State.Epoch; e != ck.State.BestEpoch && e <= ck.State.Epoch {
		return fmt.Errorf("%w: %s holds epoch %d, but %s names epoch %d as the best", train.ErrBadCheckpoint, bestPath, e, r.ckPath, ck.State.BestEpoch)
	}
	loop.Best = best.Params
	return nil
}
