package config

import (
	"fmt"
	"os"
	"reflect"
	"sort"

	"go.yaml.in/yaml/v3"
)

// YAML renders the resolved experiment, every key included, in schema
// order. Loading the result gives back the same experiment.
func (e *Experiment) YAML() ([]byte, error) {
	n, err := structNode(reflect.ValueOf(*e))
	if err != nil {
		return nil, err
	}
	return yaml.Marshal(n)
}

// WriteFile writes the resolved experiment to path atomically.
func (e *Experiment) WriteFile(path string) error {
	b, err := e.YAML()
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func structNode(rv reflect.Value) (*yaml.Node, error) {
	n := &yaml.Node{Kind: yaml.MappingNode}
	t := rv.Type()
	for i := 0; i < t.NumField(); i++ {
		key := yamlKey(t.Field(i))
		if key == "" {
			continue
		}
		v, err := valueNode(rv.Field(i))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, v)
	}
	return n, nil
}

func valueNode(fv reflect.Value) (*yaml.Node, error) {
	switch {
	case fv.Type() == blockType:
		return blockNode(fv.Interface().(Block))
	case fv.Type() == blocksType:
		n := &yaml.Node{Kind: yaml.SequenceNode}
		for _, b := range fv.Interface().([]Block) {
			c, err := blockNode(b)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, c)
		}
		return n, nil
	case fv.Kind() == reflect.Struct:
		return structNode(fv)
	case fv.Kind() == reflect.Slice:
		n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for i := 0; i < fv.Len(); i++ {
			c, err := valueNode(fv.Index(i))
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, c)
		}
		return n, nil
	}
	var n yaml.Node
	if err := n.Encode(fv.Interface()); err != nil {
		return nil, err
	}
	return &n, nil
}

// blockNode writes the kind first, then the options sorted by name.
func blockNode(b Block) (*yaml.Node, error) {
	n := &yaml.Node{Kind: yaml.MappingNode}
	key := b.KindKey
	if key == "" {
		key = "kind"
	}
	n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key},
		&yaml.Node{Kind: yaml.ScalarNode, Value: b.Kind})
	keys := make([]string, 0, len(b.Opts))
	for k := range b.Opts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		var v yaml.Node
		if err := v.Encode(b.Opts[k]); err != nil {
			return nil, err
		}
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k}, &v)
	}
	if len(b.Opts) <= 4 && flat(b.Opts) {
		n.Style = yaml.FlowStyle
	}
	return n, nil
}

func flat(m map[string]any) bool {
	for _, v := range m {
		switch v.(type) {
		case []any, map[string]any:
			return false
		}
	}
	return true
}
