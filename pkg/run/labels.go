package run

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/data"
	"github.com/dltrain/dltrain/pkg/models"
)

// strayLabels explains a model that gives fewer class scores than the data
// has classes, when the classes are numeric labels read as indices
// (without data.classes): one stray label (class 7 in a 3-class file, an
// IDX label of 200) makes the data "have" 8 or 201 classes, and the advice
// to widen the last layer would hide the typo. The error then names the
// first such label by file, line or entry, and its value, and counts the
// labels beyond the model's classes, before the model's own error
// (buildErr), which it wraps (a config error: exit 2). Any other error is
// returned as it is.
func strayLabels(exp *config.Experiment, ds *data.Dataset, buildErr error) error {
	var ps config.Problems
	if exp.Data.Task != "classification" || len(exp.Data.Classes) > 0 || !errors.As(buildErr, &ps) || !indexClasses(ds.Classes) {
		return buildErr
	}
	m, err := models.Build(models.Spec{Exp: exp, Input: ds.Input, InitRNG: data.RNG(exp.Seed, data.StreamInit)})
	if err != nil {
		return buildErr
	}
	out := m.OutputShape()
	if len(out) != 1 || out[0] < 1 {
		return buildErr
	}
	k := out[0]
	gives := fmt.Sprintf("the %d classes the model's last layer gives (0..%d)", k, k-1)
	if exp.Train.Loss.Kind == "binary_cross_entropy" && k == 1 {
		k, gives = 2, "the 2 classes of a binary cross-entropy over one logit (0 and 1)"
	}
	if k >= len(ds.Classes) {
		return buildErr
	}
	var first *data.Split
	at, beyond, total := 0, 0, 0
	for _, s := range ds.Splits() {
		total += s.N
		for i := 0; i < s.N; i++ {
			if int(s.Y[i]) < k {
				continue
			}
			beyond++
			if first == nil || s.Lines[i] < first.Lines[at] {
				first, at = s, i
			}
		}
	}
	if first == nil {
		return buildErr
	}
	return fmt.Errorf("%s: class label %s is beyond %s; %s of %d %s a label above %d (a typo, or labels from another data set?); fix the data, or else: %w",
		ds.Where(first, at), ds.Classes[int(first.Y[at])], gives, samples(beyond), total, hasHave(beyond), k-1, buildErr)
}

// indexClasses says whether classes are the indices 0..k-1 themselves,
// as numeric labels without data.classes are read.
func indexClasses(classes []string) bool {
	for i, c := range classes {
		if c != strconv.Itoa(i) {
			return false
		}
	}
	return len(classes) > 0
}

func samples(n int) string {
	if n == 1 {
		return "1 sample"
	}
	return strconv.Itoa(n) + " samples"
}

func hasHave(n int) string {
	if n == 1 {
		return "has"
	}
	return "have"
}
