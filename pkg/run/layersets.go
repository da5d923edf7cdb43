package run

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/dltrain/dltrain/pkg/config"
	"go.yaml.in/yaml/v3"
)

// LayerNames maps each top-level layer's name (its name option, or its
// type and a counter, as the model names it: dense1, dense2, conv2d1) to
// its index in model.layers.
func LayerNames(exp *config.Experiment) map[string]int {
	out := map[string]int{}
	counts := map[string]int{}
	for i, b := range exp.Model.Layers {
		counts[b.Kind]++
		name, _ := b.Opts["name"].(string)
		if name == "" {
			name = fmt.Sprintf("%s%d", b.Kind, counts[b.Kind])
		}
		out[name] = i
	}
	return out
}

// expandLayerSets rewrites overrides of a layer's option by layer name,
// model.layers.NAME.OPTION=VALUE, into one override of the whole layer
// list (a list's items cannot be set one by one): the experiment is read
// with the other overrides first, to know its layers. Sets without such
// an override come back as they are.
func expandLayerSets(path string, sets []string) ([]string, error) {
	var plain, layer []string
	for _, s := range sets {
		key, _, _ := strings.Cut(s, "=")
		rest, ok := strings.CutPrefix(strings.ToLower(key), "model.layers.")
		if name, _, _ := strings.Cut(rest, "."); ok && strings.Contains(rest, ".") && strings.Trim(name, "0123456789") != "" {
			layer = append(layer, s)
		} else {
			plain = append(plain, s)
		}
	}
	if len(layer) == 0 {
		return sets, nil
	}
	base, err := config.Load(path, plain, Validators...)
	if err != nil {
		return nil, err
	}
	names := LayerNames(base)
	layers := make([]map[string]any, len(base.Model.Layers))
	for i, b := range base.Model.Layers {
		layers[i] = b.Map()
	}
	var ps config.Problems
	for _, s := range layer {
		key, text, _ := strings.Cut(s, "=")
		rest := strings.TrimPrefix(strings.ToLower(key), "model.layers.")
		name, opt, _ := strings.Cut(rest, ".")
		i, ok := names[name]
		if !ok {
			known := make([]string, 0, len(names))
			for n := range names {
				known = append(known, n)
			}
			slices.Sort(known)
			ps = append(ps, &config.Problem{Key: key, Pos: config.Pos{File: "--set"},
				Msg: fmt.Sprintf("no layer is named %q%s; layers: %s (a layer's name is its name option, or its type and a counter: dense1, dense2)", name, config.Suggest(name, known), strings.Join(known, ", "))})
			continue
		}
		var v any
		if err := yaml.Unmarshal([]byte(text), &v); err != nil {
			ps = append(ps, &config.Problem{Key: key, Pos: config.Pos{File: "--set"}, Msg: fmt.Sprintf("not a YAML value: %v", err)})
			continue
		}
		layers[i][opt] = v
	}
	if len(ps) > 0 {
		return nil, ps
	}
	b, err := json.Marshal(layers)
	if err != nil {
		return nil, err
	}
	return append(plain, "model.layers="+string(b)), nil
}
