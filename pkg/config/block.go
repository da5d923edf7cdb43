package config

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
)

// Block is a group of options selected by a kind: one layer, the optimizer,
// the loss, a schedule, an augmentation. In YAML it is either a bare kind
// (`optimizer: adam`) or a mapping holding the kind under its kind key
// (`{kind: adam, lr: 0.001}`; layers use `type`).
type Block struct {
	Kind    string
	KindKey string         // "kind" or "type"
	Path    string         // key path of the block, e.g. "model.layers[2]"
	Opts    map[string]any // every option but the kind

	src *source
}

// Pos returns where key (an option of the block, or "" for the block
// itself) was set.
func (b Block) Pos(key string) Pos {
	p := b.Path
	if key != "" {
		p += "." + key
	}
	return b.src.pos(p)
}

// Problem builds a Problem located at one option of the block ("" for the
// block itself).
func (b Block) Problem(key, format string, args ...any) *Problem {
	p := b.Path
	if key != "" {
		p += "." + key
	}
	return &Problem{Key: p, Pos: b.src.pos(p), Msg: fmt.Sprintf(format, args...)}
}

// Has reports whether the block sets key.
func (b Block) Has(key string) bool {
	_, ok := b.Opts[key]
	return ok
}

// Map returns the block as a plain map, kind included, as it is written to
// a resolved config file.
func (b Block) Map() map[string]any {
	m := make(map[string]any, len(b.Opts)+1)
	for k, v := range b.Opts {
		m[k] = v
	}
	if b.Kind != "" {
		key := b.KindKey
		if key == "" {
			key = "kind"
		}
		m[key] = b.Kind
	}
	return m
}

// Read starts reading the block's options. Every getter records the key as
// known; Done reports unread keys as unknown options of this kind.
func (b Block) Read() *Options {
	return &Options{b: b, known: map[string]bool{}}
}

// Options reads a Block's options with defaults and checks, collecting
// problems instead of stopping at the first.
type Options struct {
	b        Block
	known    map[string]bool
	problems Problems
}

// Block returns the block being read.
func (o *Options) Block() Block { return o.b }

func (o *Options) get(key string) (any, bool) {
	o.known[key] = true
	v, ok := o.b.Opts[key]
	return v, ok && v != nil
}

// Fail records a problem with one option.
func (o *Options) Fail(key, format string, args ...any) {
	o.problems = append(o.problems, o.b.Problem(key, format, args...))
}

// Float reads a number option.
func (o *Options) Float(key string, def float64) float64 {
	v, ok := o.get(key)
	if !ok {
		return def
	}
	f, err := toFloat(v)
	if err != nil {
		o.Fail(key, "%v", err)
		return def
	}
	return f
}

// Int reads an integer option.
func (o *Options) Int(key string, def int) int {
	v, ok := o.get(key)
	if !ok {
		return def
	}
	i, err := toInt(v)
	if err != nil {
		o.Fail(key, "%v", err)
		return def
	}
	return i
}

// Bool reads a boolean option.
func (o *Options) Bool(key string, def bool) bool {
	v, ok := o.get(key)
	if !ok {
		return def
	}
	b, err := toBool(v)
	if err != nil {
		o.Fail(key, "%v", err)
		return def
	}
	return b
}

// String reads a string option. When allowed is not empty the value must be
// one of it.
func (o *Options) String(key, def string, allowed ...string) string {
	v, ok := o.get(key)
	if !ok {
		return def
	}
	s, err := toString(v)
	if err != nil {
		o.Fail(key, "%v", err)
		return def
	}
	if len(allowed) > 0 && !slices.Contains(allowed, s) {
		o.Fail(key, "must be one of %s, got %q%s", strings.Join(allowed, ", "), s, suggest(s, allowed))
		return def
	}
	return s
}

// Ints reads an option that is an integer or a list of integers.
func (o *Options) Ints(key string, def []int) []int { return readList(o, key, def, toInt) }

// Floats reads an option that is a number or a list of numbers.
func (o *Options) Floats(key string, def []float64) []float64 {
	return readList(o, key, def, toFloat)
}

// readList reads a scalar or a list of scalars, each converted by conv.
func readList[T any](o *Options, key string, def []T, conv func(any) (T, error)) []T {
	v, ok := o.get(key)
	if !ok {
		return def
	}
	list, isList := v.([]any)
	if !isList {
		list = []any{v}
	}
	out := make([]T, len(list))
	for i, e := range list {
		x, err := conv(e)
		if err != nil {
			o.Fail(key, "item %d: %v", i, err)
			return def
		}
		out[i] = x
	}
	return out
}

// Blocks reads an option that is a list of nested blocks, such as the
// layers of a residual block.
func (o *Options) Blocks(key, kindKey string) []Block {
	v, ok := o.get(key)
	if !ok {
		return nil
	}
	list, isList := v.([]any)
	if !isList {
		o.Fail(key, "expected a list, got %s", describe(v))
		return nil
	}
	out := make([]Block, 0, len(list))
	for i, e := range list {
		path := fmt.Sprintf("%s.%s[%d]", o.b.Path, key, i)
		b, p := toBlock(e, kindKey, path, o.b.src)
		if p != nil {
			o.problems = append(o.problems, p)
			continue
		}
		out = append(out, b)
	}
	return out
}

// Positive checks that a number option read as v is > 0.
func (o *Options) Positive(key string, v float64) {
	if !(v > 0) || math.IsInf(v, 0) {
		o.Fail(key, "must be > 0, got %v", v)
	}
}

// NonNegative checks that a number option read as v is >= 0.
func (o *Options) NonNegative(key string, v float64) {
	if !(v >= 0) || math.IsInf(v, 0) {
		o.Fail(key, "must be >= 0, got %v", v)
	}
}

// Range checks lo <= v <= hi (inclusive).
func (o *Options) Range(key string, v, lo, hi float64) {
	if !(v >= lo && v <= hi) {
		o.Fail(key, "must be in [%v, %v], got %v", lo, hi, v)
	}
}

// Done reports every option that no getter read as unknown for this kind,
// and returns all problems found while reading.
func (o *Options) Done() Problems {
	keys := make([]string, 0, len(o.b.Opts))
	for k := range o.b.Opts {
		if !o.known[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	known := make([]string, 0, len(o.known))
	for k := range o.known {
		known = append(known, k)
	}
	sort.Strings(known)
	for _, k := range keys {
		what := o.b.Kind
		if what == "" {
			what = "this block"
		}
		list := "none"
		if len(known) > 0 {
			list = strings.Join(known, ", ")
		}
		o.Fail(k, "unknown option for %s%s; its options are: %s", what, suggest(k, known), list)
	}
	return o.problems
}
