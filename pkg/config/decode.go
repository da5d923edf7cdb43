package config

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
)

var (
	blockType  = reflect.TypeOf(Block{})
	blocksType = reflect.TypeOf([]Block{})
)

// decodeInto sets the fields of the struct rv from m, keyed by the fields'
// yaml tags. Unknown keys and badly typed values become problems; fields
// that m does not set keep their current (default) value.
func decodeInto(m map[string]any, rv reflect.Value, path string, src *source, ps *Problems) {
	fields := fieldsByKey(rv.Type())
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p := join(path, k)
		idx, ok := fields[k]
		if !ok {
			known := sortedKeys(fields)
			*ps = append(*ps, &Problem{Key: p, Pos: src.pos(p),
				Msg: fmt.Sprintf("unknown key%s; known keys here: %s", suggest(k, known), strings.Join(known, ", "))})
			// A misspelled section (`trian:`) still gets its contents
			// checked, as if spelled right, so one run reports everything;
			// the experiment is invalid anyway, so nothing runs with them.
			if c := closest(k, known); c != "" {
				if _, taken := src.at[join(path, c)]; !taken {
					f := rv.Type().Field(fields[c])
					if f.Type.Kind() == reflect.Struct && f.Type != blockType {
						decodeValue(m[k], rv.Field(fields[c]), f, p, src, ps)
					}
				}
			}
			continue
		}
		f := rv.Type().Field(idx)
		decodeValue(m[k], rv.Field(idx), f, p, src, ps)
	}
}

func decodeValue(v any, fv reflect.Value, f reflect.StructField, path string, src *source, ps *Problems) {
	if v == nil {
		return // `key:` with nothing after it keeps the default
	}
	fail := func(err error) {
		*ps = append(*ps, &Problem{Key: path, Pos: src.pos(path), Msg: err.Error()})
	}
	v = anyList(v)
	switch {
	case fv.Type() == blockType:
		kindKey := kindKeyOf(f)
		if s, ok := v.(string); ok && strings.HasPrefix(strings.TrimSpace(s), "{") {
			fail(fmt.Errorf("expected a %s name or a mapping, got the string %q (quote only the value, not the mapping)", kindKey, s))
			return
		}
		b, p := toBlock(v, kindKey, path, src)
		if p != nil {
			*ps = append(*ps, p)
			return
		}
		if b.Kind == "" {
			b.Kind = fv.Interface().(Block).Kind
		}
		fv.Set(reflect.ValueOf(b))
	case fv.Type() == blocksType:
		list, ok := v.([]any)
		if !ok {
			fail(fmt.Errorf("expected a list, got %s", describe(v)))
			return
		}
		out := make([]Block, 0, len(list))
		for i, e := range list {
			b, p := toBlock(e, kindKeyOf(f), fmt.Sprintf("%s[%d]", path, i), src)
			if p != nil {
				*ps = append(*ps, p)
				continue
			}
			out = append(out, b)
		}
		fv.Set(reflect.ValueOf(out))
	case fv.Kind() == reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			fail(fmt.Errorf("expected a mapping of keys, got %s", describe(v)))
			return
		}
		decodeInto(m, fv, path, src, ps)
	case fv.Kind() == reflect.Slice:
		list, ok := v.([]any)
		if !ok {
			fail(fmt.Errorf("expected a list, got %s", describe(v)))
			return
		}
		out := reflect.MakeSlice(fv.Type(), len(list), len(list))
		for i, e := range list {
			decodeValue(e, out.Index(i), f, fmt.Sprintf("%s[%d]", path, i), src, ps)
		}
		fv.Set(out)
	default:
		if err := setScalar(fv, v); err != nil {
			fail(err)
		}
	}
}

func setScalar(fv reflect.Value, v any) error {
	switch fv.Kind() {
	case reflect.String:
		s, err := toString(v)
		if err != nil {
			return err
		}
		fv.SetString(s)
	case reflect.Int, reflect.Int64:
		i, err := toInt(v)
		if err != nil {
			return err
		}
		fv.SetInt(int64(i))
	case reflect.Uint64:
		u, err := toUint64(v)
		if err != nil {
			return err
		}
		fv.SetUint(u)
	case reflect.Float64:
		x, err := toFloat(v)
		if err != nil {
			return err
		}
		fv.SetFloat(x)
	case reflect.Bool:
		b, err := toBool(v)
		if err != nil {
			return err
		}
		fv.SetBool(b)
	default:
		return fmt.Errorf("internal: no decoder for %s", fv.Type())
	}
	return nil
}

// fieldsByKey maps each yaml key of a struct type to its field index.
func fieldsByKey(t reflect.Type) map[string]int {
	out := map[string]int{}
	for i := 0; i < t.NumField(); i++ {
		if key := yamlKey(t.Field(i)); key != "" {
			out[key] = i
		}
	}
	return out
}

func yamlKey(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
	if tag == "-" {
		return ""
	}
	if tag == "" {
		return strings.ToLower(f.Name)
	}
	return tag
}

func kindKeyOf(f reflect.StructField) string {
	if k := f.Tag.Get("kindkey"); k != "" {
		return k
	}
	return "kind"
}

func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// KeyDoc describes one key of the schema, for documentation and for
// mapping environment variables to keys.
type KeyDoc struct {
	Key     string // dotted path
	Type    string // int, float, string, bool, list, block, blocks
	Default any
	Doc     string
}

// Keys lists every key of the experiment schema with its default.
func Keys() []KeyDoc {
	def := Default()
	var out []KeyDoc
	walkKeys(reflect.ValueOf(def), "", &out)
	return out
}

func walkKeys(rv reflect.Value, path string, out *[]KeyDoc) {
	t := rv.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		key := yamlKey(f)
		if key == "" {
			continue
		}
		p := join(path, key)
		fv := rv.Field(i)
		doc := f.Tag.Get("doc")
		switch {
		case fv.Type() == blockType:
			*out = append(*out, KeyDoc{Key: p, Type: "block", Default: fv.Interface().(Block).Kind, Doc: doc})
		case fv.Type() == blocksType:
			*out = append(*out, KeyDoc{Key: p, Type: "blocks", Doc: doc})
		case fv.Kind() == reflect.Struct:
			walkKeys(fv, p, out)
		default:
			typ := fv.Kind().String()
			switch fv.Kind() {
			case reflect.Float64:
				typ = "float"
			case reflect.Int, reflect.Int64, reflect.Uint64:
				typ = "int"
			case reflect.Slice:
				typ = "list of " + fv.Type().Elem().Kind().String()
			}
			*out = append(*out, KeyDoc{Key: p, Type: typ, Default: fv.Interface(), Doc: doc})
		}
	}
}

// anyList turns a typed slice (viper hands defaults back as []int or
// []string) into []any; other values pass through.
func anyList(v any) any {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice {
		return v
	}
	if l, ok := v.([]any); ok {
		return l
	}
	out := make([]any, rv.Len())
	for i := range out {
		out[i] = rv.Index(i).Interface()
	}
	return out
}
