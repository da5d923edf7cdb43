package config

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// source remembers where each key path of an experiment was set.
type source struct {
	file string
	at   map[string]Pos // key path -> position; paths are lowercase
}

func newSource(file string) *source {
	return &source{file: file, at: map[string]Pos{}}
}

// pos returns where path was set: its own position, else that of the
// nearest enclosing key, so a problem always points somewhere useful.
func (s *source) pos(path string) Pos {
	if s == nil {
		return Pos{}
	}
	p := strings.ToLower(path)
	for {
		if pos, ok := s.at[p]; ok {
			return pos
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	if s.file != "" {
		return Pos{File: s.file, Origin: "file"}
	}
	return Pos{}
}

// override records that key was set by pos, replacing the file positions
// of the key and of everything under it (a --set list replaces the file's).
func (s *source) override(key string, pos Pos) {
	for p := range s.at {
		if strings.HasPrefix(p, key+".") || strings.HasPrefix(p, key+"[") {
			delete(s.at, p)
		}
	}
	s.at[key] = pos
}

// parseYAML decodes a YAML document into plain maps, lists and scalars,
// recording the position of every key and list item.
func parseYAML(file string, text []byte, src *source) (map[string]any, Problems) {
	var doc yaml.Node
	if err := yaml.Unmarshal(text, &doc); err != nil {
		return nil, Problems{{Pos: Pos{File: file}, Msg: "not valid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}}
	}
	if len(doc.Content) == 0 {
		return map[string]any{}, nil // an empty file means all defaults
	}
	var ps Problems
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, Problems{{Pos: Pos{File: file, Line: root.Line, Col: root.Column},
			Msg: "expected a mapping of keys (name:, data:, model:, train:) at the top level"}}
	}
	v := convertNode(file, root, "", src, &ps)
	m, _ := v.(map[string]any)
	return m, ps
}

func convertNode(file string, n *yaml.Node, path string, src *source, ps *Problems) any {
	switch n.Kind {
	case yaml.AliasNode:
		return convertNode(file, n.Alias, path, src, ps)
	case yaml.ScalarNode:
		var v any
		if err := n.Decode(&v); err != nil {
			*ps = append(*ps, &Problem{Key: path, Pos: Pos{File: file, Line: n.Line, Col: n.Column}, Msg: err.Error()})
		}
		return v
	case yaml.SequenceNode:
		out := make([]any, len(n.Content))
		for i, c := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			src.at[strings.ToLower(p)] = Pos{File: file, Line: c.Line, Col: c.Column, Origin: "file"}
			out[i] = convertNode(file, c, p, src, ps)
		}
		return out
	case yaml.MappingNode:
		out := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
				*ps = append(*ps, &Problem{Key: path, Pos: Pos{File: file, Line: k.Line, Col: k.Column},
					Msg: "YAML merge keys (<<) are not supported; write the keys out"})
				continue
			}
			key := strings.ToLower(k.Value)
			p := key
			if path != "" {
				p = path + "." + key
			}
			pos := Pos{File: file, Line: k.Line, Col: k.Column, Origin: "file"}
			if _, dup := out[key]; dup {
				*ps = append(*ps, &Problem{Key: p, Pos: pos, Msg: fmt.Sprintf("set twice (first at line %d)", src.at[p].Line)})
				continue
			}
			src.at[p] = pos
			out[key] = convertNode(file, val, p, src, ps)
		}
		return out
	}
	return nil
}
