package data

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io"
	"sort"
	"strings"
)

//go:embed builtin/*.csv builtin/*.csv.gz builtin/PROVENANCE.md
var builtinFS embed.FS

// Builtin describes a data set embedded in the binary.
type Builtin struct {
	Name     string
	File     string
	Task     string
	Label    string   // label (target) column
	Classes  []string // class names for integer labels 0..k-1
	Shape    []int    // natural per-sample shape of the features
	Rows     int
	About    string
	Source   string
	Licence  string
	Excluded []string // columns that are not features by default
}

// builtins is every built-in data set, by name (source: builtin:NAME).
var builtins = map[string]Builtin{
	"digits": {
		Name: "digits", File: "builtin/digits.csv.gz", Task: "classification", Label: "label",
		Classes: []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"},
		Shape:   []int{1, 8, 8}, Rows: 1797,
		About:   "8×8 handwritten digits, pixel values 0–16",
		Source:  "UCI Optical Recognition of Handwritten Digits (Alpaydin & Kaynak), as shipped with scikit-learn",
		Licence: "CC BY 4.0",
	},
	"iris": {
		Name: "iris", File: "builtin/iris.csv", Task: "classification", Label: "species",
		Classes: []string{"setosa", "versicolor", "virginica"},
		Shape:   []int{4}, Rows: 150,
		About:   "Fisher's iris: sepal and petal length and width (cm)",
		Source:  "UCI Iris, as shipped with scikit-learn",
		Licence: "CC BY 4.0",
	},
}

// Builtins lists the built-in data sets by name.
func Builtins() []Builtin {
	out := make([]Builtin, 0, len(builtins))
	for _, b := range builtins {
		out = append(out, b)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func lookupBuiltin(name string) (Builtin, error) {
	b, ok := builtins[name]
	if !ok {
		names := make([]string, 0, len(builtins))
		for n := range builtins {
			names = append(names, n)
		}
		sort.Strings(names)
		return Builtin{}, fmt.Errorf("%w: unknown built-in data set %q; known: %s", ErrBadData, name, strings.Join(names, ", "))
	}
	return b, nil
}

// open returns the decompressed contents of a built-in and their sha256.
func (b Builtin) open() ([]byte, string, error) {
	raw, err := builtinFS.ReadFile(b.File)
	if err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(raw)
	if strings.HasSuffix(b.File, ".gz") {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, "", err
		}
		if raw, err = io.ReadAll(zr); err != nil {
			return nil, "", err
		}
	}
	return raw, hex.EncodeToString(sum[:]), nil
}
