package data

import (
	"slices"
)

// Encoding maps the categories of one categorical feature to numbers:
// onehot gives one 0/1 feature per category (all zero for a category never
// seen in training), index gives the category's position (−1 for one never
// seen in training). Categories are learned on the training split, sorted.
type Encoding struct {
	Column     string   `json:"column"`
	Kind       string   `json:"kind"` // onehot or index
	Categories []string `json:"categories"`
}

// width is the number of features the encoding produces.
func (e Encoding) width() int {
	if e.Kind == "onehot" {
		return len(e.Categories)
	}
	return 1
}

// fitEncodings learns the categories of every categorical column from the
// first train rows of f.
func fitEncodings(f *frame, kind string, train int) []Encoding {
	nc := len(f.cats)
	out := make([]Encoding, nc)
	for j := range out {
		seen := map[string]bool{}
		for r := 0; r < train; r++ {
			seen[f.cx[r*nc+j]] = true
		}
		cats := make([]string, 0, len(seen))
		for c := range seen {
			cats = append(cats, c)
		}
		slices.Sort(cats)
		out[j] = Encoding{Column: f.cats[j], Kind: kind, Categories: cats}
	}
	return out
}

// encode appends the encoded categorical columns to the numeric features
// of every row, and returns the new features, their names, the positions
// of the encoded features and how many cells held a category unseen in
// training.
func encode(f *frame, encs []Encoding) (x []float32, names []string, encoded []int, unseen int) {
	w := f.width
	nc := len(f.cats)
	extra := 0
	for _, e := range encs {
		extra += e.width()
	}
	nw := w + extra
	names = slices.Clone(f.features)
	for _, e := range encs {
		if e.Kind == "onehot" {
			for _, c := range e.Categories {
				names = append(names, e.Column+"="+c)
			}
		} else {
			names = append(names, e.Column)
		}
	}
	for j := w; j < nw; j++ {
		encoded = append(encoded, j)
	}
	index := make([]map[string]int, nc)
	for j, e := range encs {
		index[j] = map[string]int{}
		for i, c := range e.Categories {
			index[j][c] = i
		}
	}
	n := f.rows()
	x = make([]float32, n*nw)
	for r := 0; r < n; r++ {
		row := x[r*nw : (r+1)*nw]
		copy(row, f.x[r*w:(r+1)*w])
		at := w
		for j, e := range encs {
			k, ok := index[j][f.cx[r*nc+j]]
			if !ok {
				unseen++
			}
			if e.Kind == "onehot" {
				if ok {
					row[at+k] = 1
				}
			} else if ok {
				row[at] = float32(k)
			} else {
				row[at] = -1
			}
			at += e.width()
		}
	}
	return x, names, encoded, unseen
}
