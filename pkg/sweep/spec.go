package sweep

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/run"
	"github.com/dltrain/dltrain/pkg/train"
	"go.yaml.in/yaml/v3"
)

// Spec is a sweep file, read and checked.
type Spec struct {
	File       string  `json:"file"`       // the sweep file
	Experiment string  `json:"experiment"` // the base experiment, absolute
	Metric     string  `json:"metric"`     // a validation metric the task logs
	Max        bool    `json:"max"`        // larger Metric is better
	Method     string  `json:"method"`     // a key of Samplers
	Trials     int     `json:"trials"`
	Seed       uint64  `json:"seed"`
	Parallel   int     `json:"parallel"` // workers on this machine
	Space      []Param `json:"space"`    // in file order
	EarlyStop  Stop    `json:"early_stop"`
	TPE        TPE     `json:"tpe"`
	// Epochs is the base experiment's train.epochs: a full trial's length.
	Epochs int `json:"epochs"`
}

// Stop is the early_stop block: how unpromising trials stop early.
type Stop struct {
	Kind      string `json:"kind"`       // a key of Stoppers
	MinEpochs int    `json:"min_epochs"` // epochs every trial trains; ASHA's first rung
	Reduction int    `json:"reduction"`  // ASHA: 1/reduction of a rung is promoted
	// MaxEpochs is Hyperband's R, the epochs of its top rung: train.epochs.
	MaxEpochs int `json:"max_epochs,omitempty"`
}

// TPE holds the options of the tpe method.
type TPE struct {
	Startup    int     `json:"startup"`    // random trials before the estimators are used
	Gamma      float64 `json:"gamma"`      // the fraction of trials that count as good
	Candidates int     `json:"candidates"` // draws from l(x) scored per suggestion
}

// sweepKeys are the keys of a sweep file.
var sweepKeys = []string{"experiment", "metric", "mode", "method", "trials", "seed", "parallel", "space", "early_stop", "tpe"}

// Load reads a sweep file and checks it against its base experiment:
// every parameter path must be a key the experiment takes, with every
// value of its range; the metric must be a validation metric the task
// logs. Every problem is returned at once as config.Problems (wrapping
// config.ErrInvalid), each naming the key and line.
func Load(path string) (*Spec, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, config.Problems{{Pos: config.Pos{File: path}, Msg: fmt.Sprintf("cannot read the sweep file: %v", err)}}
	}
	return Parse(path, text)
}

// Parse is Load on text already read; name is the file's name, the base
// of the experiment's relative path.
func Parse(name string, text []byte) (*Spec, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(text, &doc); err != nil {
		return nil, config.Problems{{Pos: config.Pos{File: name}, Msg: "not valid YAML: " + err.Error()}}
	}
	r := &reader{file: name}
	s := &Spec{File: name, Method: "random", Trials: 0, Seed: 1, Parallel: 1,
		EarlyStop: Stop{Kind: "none", MinEpochs: 1, Reduction: 3},
		TPE:       TPE{Gamma: 0.25, Candidates: 24}}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, config.Problems{{Pos: config.Pos{File: name}, Msg: "a sweep file is a mapping of " + strings.Join(sweepKeys, ", ")}}
	}
	top := r.mapping(doc.Content[0], "", sweepKeys)
	mode := ""
	var metricNode, spaceNode *yaml.Node
	if n := top["experiment"]; n != nil {
		s.Experiment = r.str(n, "experiment")
		if s.Experiment != "" && !filepath.IsAbs(s.Experiment) {
			s.Experiment = filepath.Join(filepath.Dir(name), s.Experiment)
		}
	} else {
		r.fail(doc.Content[0], "experiment", "is required: the base experiment file, relative to this file")
	}
	if n := top["metric"]; n != nil {
		s.Metric, metricNode = r.str(n, "metric"), n
	} else {
		r.fail(doc.Content[0], "metric", "is required: the validation metric to optimize, e.g. val_accuracy")
	}
	if n := top["mode"]; n != nil {
		mode = r.oneOf(n, "mode", "min", "max")
	}
	if n := top["method"]; n != nil {
		s.Method = r.oneOf(n, "method", methodNames()...)
	}
	if n := top["trials"]; n != nil {
		s.Trials = r.intMin(n, "trials", 1)
	}
	if n := top["seed"]; n != nil {
		s.Seed = uint64(r.intMin(n, "seed", 0))
	}
	if n := top["parallel"]; n != nil {
		s.Parallel = r.intMin(n, "parallel", 1)
	}
	if n := top["early_stop"]; n != nil {
		r.earlyStop(n, &s.EarlyStop)
	}
	if n := top["tpe"]; n != nil {
		r.tpe(n, &s.TPE)
	}
	if n := top["space"]; n != nil {
		spaceNode = n
		s.Space = r.space(n)
	} else {
		r.fail(doc.Content[0], "space", "is required: the parameters to search, e.g. train.optimizer.lr: {log_uniform: [1.0e-4, 1.0e-1]}")
	}
	if s.Method != "grid" && s.EarlyStop.Kind != "hyperband" && s.Trials == 0 && top["trials"] == nil {
		r.fail(doc.Content[0], "trials", "is required for method %s: how many trials to run", s.Method)
	}
	if len(r.ps) > 0 {
		return nil, r.ps.sorted()
	}
	// Absolute: the same command run from elsewhere is the same sweep.
	if abs, err := filepath.Abs(s.File); err == nil {
		s.File = abs
	}
	if abs, err := filepath.Abs(s.Experiment); err == nil {
		s.Experiment = abs
	}
	base, err := run.Load(s.Experiment, nil)
	if err != nil {
		return nil, fmt.Errorf("the sweep's experiment (%s:%d): %w", name, top["experiment"].Line, err)
	}
	s.Epochs = base.Train.Epochs
	s.Max = mode == "max" || (mode == "" && train.MaxIsBetter(s.Metric))
	r.checkMetric(metricNode, s.Metric, base)
	r.checkSpace(spaceNode, s, base)
	if s.Method == "grid" {
		r.checkGrid(s)
	}
	if s.EarlyStop.Kind == "asha" && s.EarlyStop.MinEpochs >= s.Epochs {
		r.fail(top["early_stop"], "early_stop.min_epochs", "is %d but a trial trains %d epochs (train.epochs): nothing to stop early", s.EarlyStop.MinEpochs, s.Epochs)
	}
	r.checkHyperband(top, s)
	if len(r.ps) > 0 {
		return nil, r.ps.sorted()
	}
	if s.Method == "grid" {
		n := gridSize(s.Space)
		if s.Trials == 0 || s.Trials > n {
			s.Trials = n
		}
	}
	if s.TPE.Startup == 0 {
		s.TPE.Startup = max(3, min(10, s.Trials/4))
	}
	return s, nil
}

// threads is the thread count of each trial when parallel workers share
// this machine; 0 (all cores) for one.
func (s *Spec) threads() int {
	if s.Parallel <= 1 {
		return 0
	}
	return max(1, runtime.NumCPU()/s.Parallel)
}

// problems is config.Problems with sorting by line.
type problems config.Problems

func (ps problems) sorted() config.Problems {
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Pos.Line < ps[j].Pos.Line })
	return config.Problems(ps)
}

// reader decodes a sweep file's nodes, collecting problems.
type reader struct {
	file string
	ps   problems
}

func (r *reader) fail(n *yaml.Node, key, format string, args ...any) {
	p := &config.Problem{Key: key, Pos: config.Pos{File: r.file}, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		p.Pos.Line, p.Pos.Col = n.Line, n.Column
	}
	r.ps = append(r.ps, p)
}

// mapping returns the values of a mapping node by key; a key not in known
// is a problem with a did-you-mean hint. known nil takes any key.
func (r *reader) mapping(n *yaml.Node, prefix string, known []string) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	if n.Kind != yaml.MappingNode {
		r.fail(n, strings.TrimSuffix(prefix, "."), "must be a mapping")
		return out
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if known != nil && !slices.Contains(known, k.Value) {
			r.fail(k, prefix+k.Value, "unknown key%s; known keys here: %s", config.Suggest(k.Value, known), strings.Join(known, ", "))
			continue
		}
		if _, dup := out[k.Value]; dup {
			r.fail(k, prefix+k.Value, "is given twice")
		}
		out[k.Value] = v
	}
	return out
}

func (r *reader) str(n *yaml.Node, key string) string {
	if n.Kind != yaml.ScalarNode || n.Value == "" {
		r.fail(n, key, "must be a non-empty string")
		return ""
	}
	return n.Value
}

func (r *reader) oneOf(n *yaml.Node, key string, allowed ...string) string {
	s := r.str(n, key)
	if s != "" && !slices.Contains(allowed, s) {
		r.fail(n, key, "must be one of %s, got %q%s", strings.Join(allowed, ", "), s, config.Suggest(s, allowed))
		return ""
	}
	return s
}

func (r *reader) intMin(n *yaml.Node, key string, lo int) int {
	var v int
	if n.Kind != yaml.ScalarNode || n.Decode(&v) != nil {
		r.fail(n, key, "must be an integer, got %q", n.Value)
		return lo
	}
	if v < lo {
		r.fail(n, key, "must be >= %d, got %d", lo, v)
		return lo
	}
	return v
}

func (r *reader) float(n *yaml.Node, key string) (float64, bool) {
	var v float64
	if n.Kind != yaml.ScalarNode || n.Decode(&v) != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		r.fail(n, key, "must be a finite number, got %q", n.Value)
		return 0, false
	}
	return v, true
}

func (r *reader) earlyStop(n *yaml.Node, e *Stop) {
	m := r.mapping(n, "early_stop.", []string{"kind", "min_epochs", "reduction", "max_epochs"})
	if k := m["kind"]; k != nil {
		e.Kind = r.oneOf(k, "early_stop.kind", stopperNames()...)
	} else {
		r.fail(n, "early_stop.kind", "is required: %s", strings.Join(stopperNames(), ", "))
	}
	if v := m["min_epochs"]; v != nil {
		e.MinEpochs = r.intMin(v, "early_stop.min_epochs", 1)
	}
	if v := m["reduction"]; v != nil {
		e.Reduction = r.intMin(v, "early_stop.reduction", 2)
	}
	if v := m["max_epochs"]; v != nil {
		e.MaxEpochs = r.intMin(v, "early_stop.max_epochs", 1)
	}
}

// checkHyperband checks hyperband's keys against the experiment and sets
// the trials to the number its brackets start.
func (r *reader) checkHyperband(top map[string]*yaml.Node, s *Spec) {
	e := &s.EarlyStop
	if e.Kind != "hyperband" {
		if e.MaxEpochs != 0 {
			r.fail(top["early_stop"], "early_stop.max_epochs", "is an option of kind hyperband, not %s", e.Kind)
		}
		return
	}
	if e.MaxEpochs == 0 {
		e.MaxEpochs = s.Epochs
	}
	if e.MaxEpochs != s.Epochs {
		r.fail(top["early_stop"], "early_stop.max_epochs", "is %d but train.epochs is %d: hyperband's top rung trains a whole run; set train.epochs in the experiment instead", e.MaxEpochs, s.Epochs)
		return
	}
	if e.MinEpochs*e.Reduction > e.MaxEpochs {
		r.fail(top["early_stop"], "early_stop.min_epochs", "is %d: with reduction %d and max_epochs %d hyperband has one bracket and stops nothing early; min_epochs × reduction must be ≤ max_epochs", e.MinEpochs, e.Reduction, e.MaxEpochs)
		return
	}
	n := hyperbandTrials(s.hbBrackets())
	if t := top["trials"]; t != nil && s.Trials != n {
		r.fail(t, "trials", "is %d but hyperband's brackets (max_epochs %d, min_epochs %d, reduction %d) start %d trials; leave trials out, or change those", s.Trials, e.MaxEpochs, e.MinEpochs, e.Reduction, n)
	}
	s.Trials = n
}

func (r *reader) tpe(n *yaml.Node, t *TPE) {
	m := r.mapping(n, "tpe.", []string{"startup", "gamma", "candidates"})
	if v := m["startup"]; v != nil {
		t.Startup = r.intMin(v, "tpe.startup", 1)
	}
	if v := m["candidates"]; v != nil {
		t.Candidates = r.intMin(v, "tpe.candidates", 1)
	}
	if v := m["gamma"]; v != nil {
		if g, ok := r.float(v, "tpe.gamma"); ok && (g <= 0 || g >= 1) {
			r.fail(v, "tpe.gamma", "must be in (0, 1), got %g", g)
		} else if ok {
			t.Gamma = g
		}
	}
}
