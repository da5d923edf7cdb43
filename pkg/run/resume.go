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
	unlock func() // releases the run directory's lock; nil for a new run
	auto   string // why --resume auto chose the run; "" for an explicit one
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
//
// The run directory found is locked (lockRun) before anything in it is
// touched; r.unlock releases it. On error nothing stays locked.
func locateResume(opt TrainOptions) (r resumePoint, err error) {
	r, err = findResume(opt)
	if err != nil && r.unlock != nil {
		r.unlock()
		r.unlock = nil
	}
	return r, err
}

func findResume(opt TrainOptions) (resumePoint, error) {
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
		dir, why, err := newestRun(opt.Out, exp)
		if err != nil || dir == "" {
			if err == nil {
				logf(opt, "--resume auto: the newest run of %s under %s is finished, or there is none; starting a new run", exp.Name, outDir(opt.Out))
			}
			return r, err
		}
		logf(opt, "--resume auto chose %s, %s", dir, why)
		r.dir, r.ckPath, r.auto = dir, filepath.Join(dir, "checkpoints", "last.ckpt"), why
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
	if err := sameExperiment(r, opt); err != nil {
		return r, err
	}
	if r.unlock, err = lockRun(r.dir); err != nil {
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
// newest, if that run is unfinished: its training did not reach the end,
// or it did but its final test evaluation (report.json) is missing, as a
// kill during that evaluation leaves it. "" otherwise. why says which
// run it is and what it found, for messages.
func newestRun(out string, exp *config.Experiment) (dir, why string, err error) {
	base := filepath.Join(outDir(out), exp.Name)
	entries, err := os.ReadDir(base)
	if errors.Is(err, os.ErrNotExist) {
		return "", "", nil
	}
	if err != nil {
		return "", "", err
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
		return "", "", nil
	}
	ck, err := train.LoadCheckpoint(filepath.Join(newest, "checkpoints", "last.ckpt"))
	if err != nil {
		return "", "", fmt.Errorf("--resume auto: the newest run of %s under %s, %s: %w", exp.Name, outDir(out), newest, err)
	}
	var runExp struct {
		Train struct{ Epochs int } `yaml:"train"`
	}
	if err := yaml.Unmarshal(ck.Config, &runExp); err != nil {
		return "", "", fmt.Errorf("%w: %s: %v", train.ErrBadCheckpoint, newest, err)
	}
	if !ck.State.Stopped && ck.State.Epoch < runExp.Train.Epochs {
		return newest, fmt.Sprintf("the newest unfinished run of %s under %s; its last checkpoint is from epoch %d of %d",
			exp.Name, outDir(out), ck.State.Epoch, runExp.Train.Epochs), nil
	}
	if awaitsReport(newest) {
		return newest, fmt.Sprintf("the newest unfinished run of %s under %s; it finished training but has no report.json (stopped during the final evaluation)",
			exp.Name, outDir(out)), nil
	}
	return "", "", nil
}

// awaitsReport says whether a run that finished training lacks the final
// test evaluation it should have: a test split (data.json) and no
// report.json.
func awaitsReport(dir string) bool {
	if _, err := os.Stat(filepath.Join(dir, "report.json")); err == nil {
		return false
	}
	var d struct {
		Test *int `json:"test_samples"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "data.json"))
	if err != nil || json.Unmarshal(b, &d) != nil || d.Test == nil {
		return true // an older run, or a damaged one: evaluating it will tell
	}
	return *d.Test > 0
}

// sameExperiment checks that --config and --set, when given with
// --resume, describe the run being resumed (r.exp, in r.dir). A run that
// --resume auto chose is named, with why it was chosen.
func sameExperiment(r resumePoint, opt TrainOptions) error {
	run, dir := r.exp, r.dir
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
		which := "the run being resumed"
		if r.auto != "" {
			which = fmt.Sprintf("the run --resume auto chose, %s (%s),", dir, r.auto)
			fix = "leave out --resume to start a new run with these settings, or resume that run with its own config"
		}
		return fmt.Errorf("%w: %s differs from %s in %s; a resumed run must be the same experiment (%s)",
			config.ErrInvalid, what, which, strings.Join(diff, ", "), fix)
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
	def := defaultKeys()
	absentSame := func(k string, v any) bool { // a key one side's binary did not have yet
		d, ok := def[k]
		return zeroValue(v) || ok && reflect.DeepEqual(v, d)
	}
	for k, v := range fa {
		if w, ok := fb[k]; ok && !reflect.DeepEqual(v, w) || !ok && !absentSame(k, v) {
			out = append(out, k)
		}
	}
	for k, w := range fb {
		if _, ok := fa[k]; !ok && !absentSame(k, w) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// defaultKeys is the default experiment as dotted keys: the values of
// keys a newer binary added, in a config saved before they existed.
func defaultKeys() map[string]any {
	out := map[string]any{}
	d := config.Default()
	b, err := d.YAML()
	if err != nil {
		return out
	}
	var m map[string]any
	if yaml.Unmarshal(b, &m) == nil {
		flatten("", m, out)
	}
	return out
}

// zeroValue reports whether a YAML value is its type's zero (false, 0, "",
// an empty list): the value a key a newer binary added has in a config
// saved before it existed, so that key's absence is no difference.
func zeroValue(v any) bool {
	if v == nil {
		return true
	}
	if l, ok := v.([]any); ok {
		return len(l) == 0
	}
	return reflect.ValueOf(v).IsZero()
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
	if !s.ds.SameSource(meta.SHA256) {
		return fmt.Errorf("%w: the data %s changed since the checkpoint was written (sha256 %.12s… then, %.12s… now)",
			data.ErrBadData, s.exp.Data.Source, meta.SHA256, s.ds.SHA256)
	}
	if err := train.RestoreParams(s.model.Params(), ck.Params); err != nil {
		return fmt.Errorf("%s: %w", r.ckPath, err)
	}
	if err := train.RestorePhases(loop.TrainingPhases(), s.model.Params(), ck.Phases); err != nil {
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
