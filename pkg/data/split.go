package data

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/dltrain/dltrain/pkg/config"
)

// assignment holds the row indices of each split, each sorted.
type assignment struct {
	train, val, test []int
}

// splitRows assigns rows to train, val and test with a seeded shuffle.
// With stratify (classification), each class is split on its own, so every
// split keeps the class proportions.
func splitRows(n int, labels []float32, cfg config.Split, seed uint64) (assignment, error) {
	rng := RNG(seed, StreamSplit)
	var a assignment
	if cfg.Stratify && labels != nil {
		byClass := map[float32][]int{}
		var keys []float32
		for i, y := range labels {
			if _, ok := byClass[y]; !ok {
				keys = append(keys, y)
			}
			byClass[y] = append(byClass[y], i)
		}
		slices.Sort(keys)
		for _, k := range keys {
			cut(byClass[k], cfg, rng, &a)
		}
	} else {
		all := make([]int, n)
		for i := range all {
			all[i] = i
		}
		cut(all, cfg, rng, &a)
	}
	slices.Sort(a.train)
	slices.Sort(a.val)
	slices.Sort(a.test)
	if len(a.train) == 0 {
		return a, fmt.Errorf("%w: %d rows leave no training samples with split %v/%v/%v", ErrBadData, n, cfg.Train, cfg.Val, cfg.Test)
	}
	if cfg.Test > 0 && len(a.test) == 0 {
		return a, fmt.Errorf("%w: %d rows are too few for a test split of %v; add data or set data.split.test: 0", ErrBadData, n, cfg.Test)
	}
	if cfg.Val > 0 && len(a.val) == 0 {
		return a, fmt.Errorf("%w: %d rows are too few for a validation split of %v; add data or set data.split.val: 0", ErrBadData, n, cfg.Val)
	}
	return a, nil
}

// cut shuffles rows and deals them out by the fractions, rounding the
// val and test counts and giving the rest to train.
func cut(rows []int, cfg config.Split, rng *rand.Rand, a *assignment) {
	rows = slices.Clone(rows)
	rng.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
	n := len(rows)
	nTest := int(math.Round(cfg.Test * float64(n)))
	nVal := int(math.Round(cfg.Val * float64(n)))
	if nTest+nVal >= n { // keep at least one training row per stratum
		nTest = min(nTest, max(n-1, 0))
		nVal = min(nVal, max(n-1-nTest, 0))
	}
	a.test = append(a.test, rows[:nTest]...)
	a.val = append(a.val, rows[nTest:nTest+nVal]...)
	a.train = append(a.train, rows[nTest+nVal:]...)
}

// take builds a Split from the chosen rows of x and y.
func take(name string, rows []int, x []float32, xw int, y []float32, yw int, lines []int) *Split {
	s := &Split{Name: name, N: len(rows), X: make([]float32, len(rows)*xw), Y: make([]float32, len(rows)*yw), Lines: make([]int, len(rows))}
	Gather(s.X, x, xw, rows)
	Gather(s.Y, y, yw, rows)
	for i, r := range rows {
		s.Lines[i] = lines[r]
	}
	return s
}
