package config

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"
)

// EnvPrefix prefixes the environment variables that override config keys:
// DLTRAIN_TRAIN_EPOCHS=3 sets train.epochs.
const EnvPrefix = "DLTRAIN"

// Load reads the experiment in path, applies DLTRAIN_* environment
// variables and the --set overrides ("key=value", value parsed as YAML), and
// validates the result with the schema's own checks and the validators vs
// (run.Validators: the registries of every package). Every problem found is returned at once, as Problems wrapping
// ErrInvalid; the experiment is returned too (for inspection) whenever the
// file parsed, but must not be run when the error is not nil.
func Load(path string, sets []string, vs ...Validator) (*Experiment, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, Problems{{Pos: Pos{File: path}, Msg: fmt.Sprintf("cannot read config: %v", errUnwrapPath(err))}}
	}
	return Parse(path, text, sets, os.Environ(), vs...)
}

// LoadSaved reads a run's saved config.yaml exactly as it was saved: no
// DLTRAIN_* environment variable and no override applies, so that eval,
// predict and a resumed run see the experiment that ran.
func LoadSaved(path string, vs ...Validator) (*Experiment, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, Problems{{Pos: Pos{File: path}, Msg: fmt.Sprintf("cannot read config: %v", errUnwrapPath(err))}}
	}
	return Parse(path, text, nil, nil, vs...)
}

// Parse is Load on text already read; name is the file name used in
// messages and as the base of relative data paths. env holds KEY=VALUE
// pairs, as os.Environ returns them; nil means none apply.
func Parse(name string, text []byte, sets []string, env []string, vs ...Validator) (*Experiment, error) {
	src := newSource(name)
	fileMap, ps := parseYAML(name, text, src)
	if len(ps) > 0 {
		return nil, ps
	}
	normalizeBlocks(fileMap, reflect.TypeOf(Experiment{}))

	v := viper.New()
	v.SetEnvPrefix(EnvPrefix)
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	if env != nil { // nil: no environment at all (a run's saved config)
		v.AutomaticEnv()
	}
	for _, k := range Keys() {
		if k.Type != "block" && k.Type != "blocks" {
			v.SetDefault(k.Key, k.Default)
		}
	}
	if err := v.MergeConfigMap(fileMap); err != nil {
		return nil, Problems{{Pos: Pos{File: name}, Msg: err.Error()}}
	}
	setKeys := map[string]bool{}
	for _, s := range sets {
		key, val, p := parseSet(s)
		if p != nil {
			ps = append(ps, p)
			continue
		}
		if isBlockPath(key) {
			// The block's own problems (its kind, a problem of the whole
			// block) name the flag; options the file gave keep their lines.
			src.at[key] = Pos{Origin: "--set " + s}
			if kind, ok := val.(string); ok {
				key += ".kind" // `--set train.optimizer=sgd` switches the kind
				if strings.HasPrefix(key, "model.layers") {
					key = strings.TrimSuffix(key, ".kind") + ".type"
				}
				val = kind
			}
		}
		v.Set(key, val)
		setKeys[key] = true
		src.override(key, Pos{Origin: "--set " + s})
	}
	all := v.AllSettings()
	ps = append(ps, applyEnv(all, v.AllKeys(), env, setKeys, src)...)

	exp := Default()
	exp.src = src
	decodeInto(all, reflect.ValueOf(&exp).Elem(), "", src, &ps)
	exp.Data.Source = resolveSource(exp.Data.Source, filepath.Dir(name))
	exp.Data.Prepared = resolvePath(exp.Data.Prepared, filepath.Dir(name))
	ps = append(ps, exp.Validate(vs...)...)
	if len(ps) > 0 {
		sortProblems(ps)
		return &exp, ps
	}
	return &exp, nil
}

// parseSet splits "a.b=value" and parses value as a YAML scalar or flow
// collection, so "3" is a number and "[1, 2]" a list.
func parseSet(s string) (string, any, *Problem) {
	key, raw, ok := strings.Cut(s, "=")
	key = strings.ToLower(strings.TrimSpace(key))
	origin := Pos{Origin: "--set " + s}
	if !ok || key == "" {
		return "", nil, &Problem{Pos: origin, Msg: "expected key=value, e.g. train.optimizer.lr=0.01"}
	}
	if strings.ContainsAny(key, "[]") || hasIndexSegment(key) {
		return "", nil, &Problem{Key: key, Pos: origin,
			Msg: "list items cannot be set one by one; set the whole list, e.g. model.layers='[{type: dense, units: 10}]'"}
	}
	var val any
	if err := yaml.Unmarshal([]byte(raw), &val); err != nil {
		return "", nil, &Problem{Key: key, Pos: origin, Msg: "value is not valid YAML: " + err.Error()}
	}
	if val == nil && raw != "" && raw != "~" && raw != "null" {
		val = raw
	}
	return key, normalizeValue(val), nil
}

// hasIndexSegment reports a dotted path with a list index in it
// (model.layers.0.units).
func hasIndexSegment(key string) bool {
	for _, seg := range strings.Split(key, ".") {
		if _, err := strconv.Atoi(seg); err == nil {
			return true
		}
	}
	return false
}

// normalizeValue makes maps decoded by yaml.v3 keyed by lowercase strings.
func normalizeValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[strings.ToLower(k)] = normalizeValue(e)
		}
		return out
	case []any:
		for i, e := range x {
			x[i] = normalizeValue(e)
		}
	}
	return v
}

// applyEnv turns DLTRAIN_* values, which viper hands over as strings, into
// typed values, records where they came from, and reports variables that
// match no key.
func applyEnv(all map[string]any, keys []string, env []string, setKeys map[string]bool, src *source) Problems {
	byEnv := map[string]string{}
	for _, k := range keys {
		byEnv[envName(k)] = k
	}
	for _, k := range Keys() {
		byEnv[envName(k.Key)] = k.Key
	}
	var ps Problems
	var names []string
	for _, kv := range env {
		name, raw, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, EnvPrefix+"_") {
			continue
		}
		key, ok := byEnv[name]
		if !ok {
			known := make([]string, 0, len(byEnv))
			for n := range byEnv {
				known = append(known, n)
			}
			sort.Strings(known)
			ps = append(ps, &Problem{Pos: Pos{Origin: "environment"},
				Msg: fmt.Sprintf("%s matches no config key%s", name, suggest(name, known))})
			continue
		}
		names = append(names, name)
		if setKeys[key] {
			continue // --set wins over the environment
		}
		var val any
		if err := yaml.Unmarshal([]byte(raw), &val); err != nil || (val == nil && raw != "") {
			val = raw
		}
		setPath(all, key, normalizeValue(val))
		src.override(key, Pos{Origin: "env " + name})
	}
	_ = names
	return ps
}

func envName(key string) string {
	return EnvPrefix + "_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

func setPath(m map[string]any, key string, val any) {
	parts := strings.Split(key, ".")
	for _, p := range parts[:len(parts)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	m[parts[len(parts)-1]] = val
}

// normalizeBlocks rewrites a block given as a bare kind (`optimizer: adam`)
// as a mapping, so that overrides of single options merge with it.
func normalizeBlocks(m map[string]any, t reflect.Type) {
	fields := fieldsByKey(t)
	for k, v := range m {
		idx, ok := fields[k]
		if !ok {
			continue
		}
		f := t.Field(idx)
		switch {
		case f.Type == blockType:
			if s, ok := v.(string); ok {
				m[k] = map[string]any{kindKeyOf(f): s}
			}
		case f.Type.Kind() == reflect.Struct && f.Type != blockType:
			if sub, ok := v.(map[string]any); ok {
				normalizeBlocks(sub, f.Type)
			}
		}
	}
}

func isBlockPath(key string) bool {
	for _, k := range Keys() {
		if k.Key == key {
			return k.Type == "block"
		}
	}
	return false
}

// resolveSource makes the paths of a data source absolute, relative to the
// directory of the config file, so a saved run config works from anywhere.
func resolveSource(src, base string) string {
	scheme, rest, ok := strings.Cut(src, ":")
	if !ok || scheme == "builtin" || rest == "" {
		return src
	}
	parts := strings.Split(rest, ",")
	for i, p := range parts {
		if p != "" && !filepath.IsAbs(p) {
			if abs, err := filepath.Abs(filepath.Join(base, p)); err == nil {
				parts[i] = abs
			}
		}
	}
	return scheme + ":" + strings.Join(parts, ",")
}

// resolvePath makes a relative path absolute, relative to base.
func resolvePath(p, base string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	if abs, err := filepath.Abs(filepath.Join(base, p)); err == nil {
		return abs
	}
	return p
}

func sortProblems(ps Problems) {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i].Pos, ps[j].Pos
		if (a.Line > 0) != (b.Line > 0) {
			return a.Line > 0
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return ps[i].Key < ps[j].Key
	})
}

func errUnwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
