package data

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/dltrain/dltrain/pkg/config"
)

// The splits, in the order their rows are stored.
const (
	splitTrain int8 = iota
	splitVal
	splitTest
)

var splitNames = [3]string{"train", "val", "test"}

// assignment says where every row of a frame goes.
type assignment struct {
	of   []int8 // split of each row
	fold []int  // fold of each row, -1 for test rows; nil without folds
}

// rows returns the rows of one split, in source order.
func (a assignment) rows(split int8) []int {
	var out []int
	for r, s := range a.of {
		if s == split {
			out = append(out, r)
		}
	}
	return out
}

func (a assignment) count(split int8) int {
	n := 0
	for _, s := range a.of {
		if s == split {
			n++
		}
	}
	return n
}

// splitMethod resolves "auto": time order for series and text, random
// otherwise.
func splitMethod(d config.Data, ordered bool) string {
	if d.Split.Method == "auto" {
		if ordered {
			return "time"
		}
		return "random"
	}
	return d.Split.Method
}

// assignRows deals the rows of f into train, val and test by the
// configured method. labels (classification) allow stratifying.
func assignRows(f *frame, labels []float32, d config.Data, seed uint64, rep *Report) (assignment, error) {
	cfg := d.Split
	n := f.rows()
	a := assignment{of: make([]int8, n)}
	var free []int
	for r := 0; r < n; r++ {
		if f.preset != nil && f.preset[r] >= 0 {
			a.of[r] = f.preset[r]
		} else {
			free = append(free, r)
		}
	}
	var err error
	switch method := splitMethod(d, false); method {
	case "random":
		err = splitRandom(a, free, labels, cfg, seed)
	case "group":
		err = splitGroups(a, free, f, cfg, seed, rep)
	case "time":
		err = splitTime(a, free, f, cfg, rep)
	case "column":
		err = splitColumn(a, free, f)
	default:
		err = fmt.Errorf("%w: unknown split method %q", ErrBadData, method)
	}
	if err != nil {
		return a, err
	}
	if cfg.Folds >= 2 {
		a.fold = assignFolds(a, f, labels, d, seed)
		for r, k := range a.fold {
			if k == cfg.Fold {
				a.of[r] = splitVal
			}
		}
		if err := checkFold(a, f, cfg, splitMethod(d, false) == "group"); err != nil {
			return a, err
		}
	}
	stratified := splitMethod(d, false) == "random" && cfg.Stratify && labels != nil
	if err := checkSizes(a, n, cfg, d.Split.Method == "column", stratified); err != nil {
		return a, fmt.Errorf("%s: %w", f.file, err)
	}
	return a, nil
}

// checkFold refuses an empty fold, the validation one or another: too
// few rows (or, in a group split, too few groups) outside the test split
// for the folds. A sweep over the folds would otherwise validate on
// nothing for some of them.
func checkFold(a assignment, f *frame, cfg config.Split, groups bool) error {
	size := make([]int, cfg.Folds)
	rows := 0
	g := map[string]bool{}
	for r, k := range a.fold {
		if k >= 0 {
			size[k]++
			rows++
			if groups {
				g[f.keys[r]] = true
			}
		}
	}
	var empty []string
	for k, n := range size {
		if n == 0 {
			what := fmt.Sprintf("fold %d", k)
			if k == cfg.Fold {
				what += " (the validation split)"
			}
			empty = append(empty, what)
		}
	}
	if len(empty) == 0 {
		return nil
	}
	what := nouns(rows, "non-test row")
	if groups {
		what = fmt.Sprintf("%s in %s (a fold holds whole groups)", what, nouns(len(g), "group"))
	}
	verb := "is"
	if len(empty) > 1 {
		verb = "are"
	}
	return fmt.Errorf("%w: %s of %d folds %s empty: %s are too few for %d folds; add data or lower data.split.folds",
		ErrBadData, strings.Join(empty, ", "), cfg.Folds, verb, what, cfg.Folds)
}

// checkSizes refuses an assignment that leaves a split with a fraction
// > 0 empty. stratified says each class was dealt on its own: then each
// class's share is rounded separately, and a small class can leave a split
// empty that an unstratified shuffle of the same rows fills.
func checkSizes(a assignment, n int, cfg config.Split, column, stratified bool) error {
	if a.count(splitTrain) == 0 {
		return fmt.Errorf("%w: %d rows leave no training samples with split %v/%v/%v", ErrBadData, n, cfg.Train, cfg.Val, cfg.Test)
	}
	if column {
		return nil
	}
	hint := func(key string) string {
		if stratified {
			return fmt.Sprintf("each class is split on its own and no class has enough rows for one; add data, set data.split.stratify: false or data.split.%s: 0", key)
		}
		return fmt.Sprintf("add data or set data.split.%s: 0", key)
	}
	if cfg.Test > 0 && a.count(splitTest) == 0 {
		return fmt.Errorf("%w: %d rows are too few for a test split of %v; %s", ErrBadData, n, cfg.Test, hint("test"))
	}
	if cfg.Val > 0 && a.count(splitVal) == 0 {
		return fmt.Errorf("%w: %d rows are too few for a validation split of %v; %s", ErrBadData, n, cfg.Val, hint("val"))
	}
	return nil
}

// splitRandom assigns rows with a seeded shuffle. With stratify
// (classification), each class is split on its own, so every split keeps
// the class proportions.
func splitRandom(a assignment, rows []int, labels []float32, cfg config.Split, seed uint64) error {
	rng := RNG(seed, StreamSplit)
	if cfg.Folds >= 2 {
		cfg.Val = 0 // the validation split is a fold
	}
	if cfg.Stratify && labels != nil {
		for _, class := range strata(rows, labels) {
			cut(class, cfg, rng, a)
		}
		return nil
	}
	cut(rows, cfg, rng, a)
	return nil
}

// strata groups rows by label, classes in increasing order.
func strata(rows []int, labels []float32) [][]int {
	byClass := map[float32][]int{}
	var keys []float32
	for _, r := range rows {
		y := labels[r]
		if _, ok := byClass[y]; !ok {
			keys = append(keys, y)
		}
		byClass[y] = append(byClass[y], r)
	}
	slices.Sort(keys)
	out := make([][]int, len(keys))
	for i, k := range keys {
		out[i] = byClass[k]
	}
	return out
}

// cut shuffles rows and deals them out by the fractions, rounding the
// val and test counts and giving the rest to train.
func cut(rows []int, cfg config.Split, rng *rand.Rand, a assignment) {
	rows = slices.Clone(rows)
	rng.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
	nTest, nVal := counts(len(rows), cfg)
	for i, r := range rows {
		switch {
		case i < nTest:
			a.of[r] = splitTest
		case i < nTest+nVal:
			a.of[r] = splitVal
		default:
			a.of[r] = splitTrain
		}
	}
}

// counts rounds the test and val sizes of n rows, keeping at least one
// row for training.
func counts(n int, cfg config.Split) (nTest, nVal int) {
	nTest = int(math.Round(cfg.Test * float64(n)))
	nVal = int(math.Round(cfg.Val * float64(n)))
	if nTest+nVal >= n {
		nTest = min(nTest, max(n-1, 0))
		nVal = min(nVal, max(n-1-nTest, 0))
	}
	return nTest, nVal
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// splitColumn reads each row's split from the split column: train, val
// (or validation) or test.
func splitColumn(a assignment, rows []int, f *frame) error {
	for _, r := range rows {
		switch strings.ToLower(f.keys[r]) {
		case "train", "training":
			a.of[r] = splitTrain
		case "val", "valid", "validation":
			a.of[r] = splitVal
		case "test":
			a.of[r] = splitTest
		default:
			return f.keyErr(r, "split %q is not one of train, val (validation) or test", f.keys[r])
		}
	}
	return nil
}

// assignFolds deals the non-test rows into k folds from their own seeded
// stream: stratified by class (random split with stratify), by whole
// groups (group split), or shuffled.
func assignFolds(a assignment, f *frame, labels []float32, d config.Data, seed uint64) []int {
	k := d.Split.Folds
	rng := RNG(seed, StreamFolds)
	fold := make([]int, len(a.of))
	var rows []int
	for r, s := range a.of {
		fold[r] = -1
		if s != splitTest {
			rows = append(rows, r)
		}
	}
	switch splitMethod(d, false) {
	case "group":
		order, members := groupsOf(rows, f.keys)
		slices.Sort(order)
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		size := make([]int, k)
		for _, g := range order {
			best := 0
			for i := range size {
				if size[i] < size[best] {
					best = i
				}
			}
			for _, r := range members[g] {
				fold[r] = best
			}
			size[best] += len(members[g])
		}
	default:
		groups := [][]int{rows}
		if d.Split.Stratify && labels != nil {
			groups = strata(rows, labels)
		}
		next := 0
		for _, g := range groups {
			g = slices.Clone(g)
			rng.Shuffle(len(g), func(i, j int) { g[i], g[j] = g[j], g[i] })
			for _, r := range g {
				fold[r] = next % k
				next++
			}
		}
	}
	return fold
}

// order returns the rows of a frame in storage order: train rows, then
// val, then test, each in source order.
func (a assignment) order() []int {
	out := make([]int, 0, len(a.of))
	for s := splitTrain; s <= splitTest; s++ {
		out = append(out, a.rows(s)...)
	}
	return out
}

// permute reorders the rows (of width w) of s in place so that row i
// becomes the former row perm[i]; it needs one spare row.
func permute[T any](s []T, w int, perm []int) {
	if w == 0 || len(s) == 0 {
		return
	}
	tmp := make([]T, w)
	done := make([]bool, len(perm))
	for i := range perm {
		if done[i] || perm[i] == i {
			done[i] = true
			continue
		}
		copy(tmp, s[i*w:(i+1)*w])
		j := i
		for {
			done[j] = true
			k := perm[j]
			if k == i {
				copy(s[j*w:(j+1)*w], tmp)
				break
			}
			copy(s[j*w:(j+1)*w], s[k*w:(k+1)*w])
			j = k
		}
	}
}

// reorder stores the rows of f in the order perm.
func (f *frame) reorder(perm []int) {
	permute(f.x, f.width, perm)
	permute(f.cx, len(f.cats), perm)
	permute(f.yv, len(f.targets), perm)
	permute(f.lines, 1, perm)
	if f.names != nil {
		permute(f.names, 1, perm)
	}
	if f.keys != nil {
		permute(f.keys, 1, perm)
	}
	if f.keyCols != nil {
		permute(f.keyCols, 1, perm)
	}
}

// leaks reports rows of val and test whose features equal those of a
// training row: identical inputs in two splits make the held-out score
// optimistic.
func leaks(f *frame, a assignment, rep *Report) {
	hashes := rowHashes(f, false)
	train := map[uint64][]int{}
	for r, s := range a.of {
		if s == splitTrain {
			train[hashes[r]] = append(train[hashes[r]], r)
		}
	}
	for _, s := range []int8{splitVal, splitTest} {
		var same []int
		for r, sr := range a.of {
			if sr != s {
				continue
			}
			for _, t := range train[hashes[r]] {
				if sameRow(f, r, t, false) {
					same = append(same, r)
					break
				}
			}
		}
		if len(same) > 0 {
			rep.add("%s split: %s with the same features as a training sample (a possible leak): %s", splitNames[s], nouns(len(same), "sample"), f.rowList(same))
		}
	}
}
