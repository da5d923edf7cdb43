package sweep

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/run"
	"go.yaml.in/yaml/v3"
)

// Param is one searched key of the experiment and its range.
type Param struct {
	Path    string  `json:"path"` // an experiment key; model.layers.NAME.OPTION for a layer's option
	Kind    string  `json:"kind"` // a key of distributions
	Lo      float64 `json:"lo,omitempty"`
	Hi      float64 `json:"hi,omitempty"`
	Choices []any   `json:"choices,omitempty"`
	Line    int     `json:"line"` // its line in the sweep file
}

// distributions are the kinds of range a parameter can have.
var distributions = map[string]struct {
	continuous bool // grid cannot enumerate it
	log        bool
}{
	"uniform":     {continuous: true},
	"log_uniform": {continuous: true, log: true},
	"int_uniform": {},
	"choice":      {},
}

func distributionNames() []string {
	out := make([]string, 0, len(distributions))
	for k := range distributions {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// space reads the space mapping: path → {kind: range}.
func (r *reader) space(n *yaml.Node) []Param {
	m := r.mapping(n, "space.", nil)
	if len(m) == 0 {
		r.fail(n, "space", "is empty: give at least one parameter")
	}
	var out []Param
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := "space." + k.Value
		p := Param{Path: strings.ToLower(k.Value), Line: k.Line}
		d := r.mapping(v, key+".", distributionNames())
		if len(d) != 1 {
			if v.Kind == yaml.MappingNode && len(r.ps) == 0 {
				r.fail(v, key, "give exactly one of %s, e.g. {log_uniform: [1.0e-4, 1.0e-1]}", strings.Join(distributionNames(), ", "))
			}
			continue
		}
		for kind, rng := range d {
			p.Kind = kind
			if rng.Kind != yaml.SequenceNode {
				r.fail(rng, key+"."+kind, "must be a list, e.g. [1, 10]")
				continue
			}
			if kind == "choice" {
				if len(rng.Content) == 0 {
					r.fail(rng, key+".choice", "is empty: give at least one value")
				}
				for _, c := range rng.Content {
					var x any
					if err := c.Decode(&x); err != nil {
						r.fail(c, key+".choice", "%v", err)
					}
					p.Choices = append(p.Choices, x)
				}
				continue
			}
			r.bounds(rng, key+"."+kind, &p)
		}
		out = append(out, p)
	}
	return out
}

// bounds reads [lo, hi] of a numeric range and checks it.
func (r *reader) bounds(n *yaml.Node, key string, p *Param) {
	if len(n.Content) != 2 {
		r.fail(n, key, "must be [low, high], got %d values", len(n.Content))
		return
	}
	lo, ok1 := r.float(n.Content[0], key)
	hi, ok2 := r.float(n.Content[1], key)
	if !ok1 || !ok2 {
		return
	}
	switch {
	case p.Kind == "int_uniform" && (lo != math.Trunc(lo) || hi != math.Trunc(hi)):
		r.fail(n, key, "bounds must be integers, got [%g, %g]", lo, hi)
	case lo > hi:
		r.fail(n, key, "is inverted: low %g > high %g", lo, hi)
	case lo == hi && p.Kind != "int_uniform":
		r.fail(n, key, "is empty: low and high are both %g", lo)
	case p.Kind == "log_uniform" && lo <= 0:
		r.fail(n, key, "log_uniform needs bounds > 0, got low %g", lo)
	}
	p.Lo, p.Hi = lo, hi
}

// checkGrid refuses continuous ranges under grid.
func (r *reader) checkGrid(s *Spec) {
	for _, p := range s.Space {
		if distributions[p.Kind].continuous {
			r.fail(&yaml.Node{Line: p.Line, Column: 3}, "space."+p.Path,
				"method grid cannot enumerate a continuous %s range; use choice (a list of values) or int_uniform, or method random or tpe", p.Kind)
		}
	}
}

// gridSize is the number of points of the grid over the space.
func gridSize(space []Param) int {
	n := 1
	for _, p := range space {
		n *= p.size()
	}
	return n
}

// size is the number of values of a discrete parameter.
func (p Param) size() int {
	if p.Kind == "choice" {
		return len(p.Choices)
	}
	return int(p.Hi-p.Lo) + 1
}

// checkMetric: the metric must be a validation metric the task logs, and
// the experiment must have a validation split.
func (r *reader) checkMetric(n *yaml.Node, metric string, exp *config.Experiment) {
	known := run.LoggedMetrics(exp.Data.Task)
	var val []string
	for _, m := range known {
		if strings.HasPrefix(m, "val_") {
			val = append(val, m)
		}
	}
	switch {
	case !slices.Contains(val, metric):
		r.fail(n, "metric", "%q is not a validation metric a %s task logs%s; known: %s (a sweep chooses on validation data only)",
			metric, exp.Data.Task, config.Suggest(metric, val), strings.Join(val, ", "))
	case exp.Data.Split.Val == 0 && exp.Data.Split.Folds == 0:
		r.fail(n, "metric", "the experiment %s has no validation split (data.split.val is 0): a sweep chooses on validation data", exp.File())
	}
}

// checkSpace loads the experiment with each parameter set to the ends of
// its range (every choice), so an unknown path or a value the experiment
// refuses is a problem of the sweep file, at the parameter's line.
func (r *reader) checkSpace(n *yaml.Node, s *Spec, exp *config.Experiment) {
	names := run.LayerNames(exp)
	for _, p := range s.Space {
		at := &yaml.Node{Line: p.Line, Column: 3}
		key := "space." + p.Path
		if p.Path == "train.epochs" && s.EarlyStop.Kind != "none" {
			r.fail(at, key, "train.epochs is the budget early stopping divides; it cannot be searched with early_stop %s", s.EarlyStop.Kind)
			continue
		}
		if rest, ok := strings.CutPrefix(p.Path, "model.layers."); ok {
			name, opt, _ := strings.Cut(rest, ".")
			if _, ok := names[name]; !ok || opt == "" {
				known := make([]string, 0, len(names))
				for k := range names {
					known = append(known, k)
				}
				slices.Sort(known)
				msg := fmt.Sprintf("no layer is named %q%s; layers: %s (a layer's name is its name option, or its type and a counter: dense1, dense2)",
					name, config.Suggest(name, known), strings.Join(known, ", "))
				if opt == "" && ok {
					msg = "name an option of the layer, e.g. model.layers." + name + ".units"
				}
				r.fail(at, key, "%s", msg)
				continue
			}
		}
		for _, v := range p.probes() {
			sets, err := overrides(exp, []Param{p}, map[string]any{p.Path: v}, nil)
			if err == nil {
				_, err = run.Load(s.Experiment, sets)
			}
			if err != nil {
				r.fail(at, key, "with value %v: %s", v, problemText(err))
				break
			}
		}
	}
}

// problemText is the messages of a config error without their origins
// (the --set the sweep made up).
func problemText(err error) string {
	var ps config.Problems
	if !errors.As(err, &ps) {
		return err.Error()
	}
	var msgs []string
	for _, p := range ps {
		msgs = append(msgs, p.Key+": "+p.Msg)
	}
	return strings.Join(msgs, "; ")
}

// probes are the values checkSpace tries.
func (p Param) probes() []any {
	switch p.Kind {
	case "choice":
		return p.Choices
	case "int_uniform":
		return []any{int(p.Lo), int(p.Hi)}
	}
	return []any{p.Lo, p.Hi}
}

// overrides turns a trial's values into --set overrides of the base
// experiment. Options of named layers rewrite the whole layer list (a
// list's items cannot be set one by one). extra are added as they are.
func overrides(exp *config.Experiment, space []Param, values map[string]any, extra []string) ([]string, error) {
	var sets []string
	var layers []map[string]any
	names := run.LayerNames(exp)
	for _, p := range space {
		v, ok := values[p.Path]
		if !ok {
			return nil, fmt.Errorf("trial has no value for %s", p.Path)
		}
		text, err := formatValue(p, v)
		if err != nil {
			return nil, err
		}
		rest, isLayer := strings.CutPrefix(p.Path, "model.layers.")
		if !isLayer {
			sets = append(sets, p.Path+"="+text)
			continue
		}
		if layers == nil {
			for _, b := range exp.Model.Layers {
				layers = append(layers, b.Map())
			}
		}
		name, opt, _ := strings.Cut(rest, ".")
		var parsed any
		if err := yaml.Unmarshal([]byte(text), &parsed); err != nil {
			return nil, err
		}
		layers[names[name]][opt] = parsed
	}
	if layers != nil {
		b, err := json.Marshal(layers)
		if err != nil {
			return nil, err
		}
		sets = append(sets, "model.layers="+string(b))
	}
	return append(sets, extra...), nil
}

// formatValue writes a value as the YAML an override takes.
func formatValue(p Param, v any) (string, error) {
	switch x := v.(type) {
	case float64:
		if p.Kind == "int_uniform" {
			return strconv.FormatInt(int64(math.Round(x)), 10), nil
		}
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	case int:
		return strconv.Itoa(x), nil
	}
	b, err := json.Marshal(v)
	return string(b), err
}

// show formats a trial's value for tables and progress lines.
func show(p Param, v any) string {
	if f, ok := v.(float64); ok && p.Kind != "int_uniform" {
		if f == math.Trunc(f) && math.Abs(f) < 1e6 {
			return strconv.FormatFloat(f, 'f', -1, 64)
		}
		return strconv.FormatFloat(f, 'g', 3, 64)
	}
	s, _ := formatValue(p, v)
	return s
}
