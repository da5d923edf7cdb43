package models

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Summary describes a built model layer by layer, as `dltrain summary`
// prints it.
type Summary struct {
	Kind   string      `json:"kind"`
	Input  Shape       `json:"input_shape"`
	Output Shape       `json:"output_shape"`
	Layers []LayerInfo `json:"layers"`
	// Params counts trainable scalars, Buffers those saved but not trained
	// (batch norm running statistics, the weights of layers set trainable:
	// false); Total is their sum.
	Params  int   `json:"trainable_params"`
	Buffers int   `json:"buffer_params"`
	Total   int   `json:"total_params"`
	FLOPs   int64 `json:"flops_per_sample"` // forward pass, summed over the layers that count theirs
}

// Summarize describes m, a model of the given kind.
func Summarize(kind string, m Model) *Summary {
	s := &Summary{Kind: kind, Input: m.InputShape(), Output: m.OutputShape(), Layers: m.Layers()}
	for _, p := range m.Params().All() {
		n := p.Value.Shape().TotalSize()
		if p.Trainable() {
			s.Params += n
		} else {
			s.Buffers += n
		}
	}
	s.Total = s.Params + s.Buffers
	for _, l := range s.Layers {
		s.FLOPs += l.FLOPs
	}
	return s
}

// WriteText prints the summary as a table with totals. The buffers
// column appears only when some layer has buffers.
func (s *Summary) WriteText(w io.Writer) error {
	cols := []string{"layer (type)", "output shape", "params", "FLOPs"}
	if s.Buffers > 0 {
		cols = []string{"layer (type)", "output shape", "params", "buffers", "FLOPs"}
	}
	rows := [][]string{cols, row(s, "input", s.Input, 0, 0, 0)}
	for _, l := range s.Layers {
		name := strings.Repeat("  ", l.Depth) + l.Name + " (" + l.Type + ")"
		rows = append(rows, row(s, name, l.Output, l.Params, l.Buffers, l.FLOPs))
	}
	widths := make([]int, len(cols))
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	total := 2 * (len(cols) - 1)
	for _, w := range widths {
		total += w
	}
	var b strings.Builder
	line := strings.Repeat("─", total) + "\n"
	for i, r := range rows {
		for j, c := range r {
			if j > 0 {
				b.WriteString("  ")
			}
			if j < 2 { // text columns left-aligned, numbers right-aligned
				fmt.Fprintf(&b, "%-*s", widths[j], c)
			} else {
				fmt.Fprintf(&b, "%*s", widths[j], c)
			}
		}
		b.WriteString("\n")
		if i == 0 {
			b.WriteString(line)
		}
	}
	b.WriteString(line)
	fmt.Fprintf(&b, "model %s: input %v, output %v\n", s.Kind, s.Input, s.Output)
	fmt.Fprintf(&b, "parameters: %s trainable", thousands(int64(s.Params)))
	if s.Buffers > 0 {
		fmt.Fprintf(&b, ", %s buffers (saved, not trained), %s in all", thousands(int64(s.Buffers)), thousands(int64(s.Total)))
	}
	fmt.Fprintf(&b, "\nforward FLOPs per sample: %s\n", thousands(s.FLOPs))
	_, err := io.WriteString(w, b.String())
	return err
}

func row(s *Summary, name string, out Shape, params, buffers int, flops int64) []string {
	r := []string{name, out.String(), thousands(int64(params))}
	if s.Buffers > 0 {
		r = append(r, thousands(int64(buffers)))
	}
	return append(r, thousands(flops))
}

// thousands writes n with comma separators: 44,426.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
