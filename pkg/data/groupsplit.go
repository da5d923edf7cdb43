package data

import (
	"math"
	"slices"
	"strings"

	"github.com/dltrain/dltrain/pkg/config"
)

// A group split keeps every group (rows sharing a value of the group
// column: a patient, a user, a site) in one split, so that no group is
// both trained on and evaluated. Whole groups rarely add up to the
// fractions exactly; dealGroups comes as close as it can.

// groupsOf lists the distinct keys of rows in order of first appearance,
// with their rows.
func groupsOf(rows []int, keys []string) ([]string, map[string][]int) {
	var order []string
	members := map[string][]int{}
	for _, r := range rows {
		k := keys[r]
		if _, ok := members[k]; !ok {
			order = append(order, k)
		}
		members[k] = append(members[k], r)
	}
	return order, members
}

// splitGroups assigns whole groups to train, val and test (dealGroups):
// the groups are shuffled with the seed, then ordered largest first, so
// that the seed decides among groups of one size.
func splitGroups(a assignment, rows []int, f *frame, cfg config.Split, seed uint64, rep *Report) error {
	order, members := groupsOf(rows, f.keys)
	if cfg.Folds >= 2 {
		cfg.Val = 0 // the validation split is a fold
	}
	share := [3]float64{cfg.Train, cfg.Val, cfg.Test}
	if err := enoughGroups(len(order), share, f); err != nil {
		return err
	}
	rng := RNG(seed, StreamSplit)
	slices.Sort(order)
	rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	slices.SortStableFunc(order, func(g, h string) int { return len(members[h]) - len(members[g]) })
	sizes := make([]int, len(order))
	for i, g := range order {
		sizes[i] = len(members[g])
	}
	var got, groups [3]int
	for i, s := range dealGroups(sizes, share) {
		for _, r := range members[order[i]] {
			a.of[r] = s
		}
		got[s] += sizes[i]
		groups[s]++
	}
	rep.add("split by group column %q: %s; train %s (%d rows), val %s (%d), test %s (%d); no group is in two splits",
		f.keyName, nouns(len(order), "group"), nouns(groups[splitTrain], "group"), got[splitTrain], nouns(groups[splitVal], "group"), got[splitVal], nouns(groups[splitTest], "group"), got[splitTest])
	return nil
}

// enoughGroups refuses fewer groups than splits of share > 0: each such
// split needs a whole group of its own.
func enoughGroups(groups int, share [3]float64, f *frame) error {
	var need []string
	for k, sh := range share {
		if sh > 0 {
			need = append(need, splitNames[k])
		}
	}
	if groups >= len(need) {
		return nil
	}
	return badf(f.file, 0, 0, f.keyName, "has %s, fewer than the %d splits with a fraction > 0 (%s): each needs a whole group of its own; add groups or set a fraction to 0",
		nouns(groups, "group"), len(need), strings.Join(need, ", "))
}

// dealGroups assigns groups of the given sizes (largest first) to the
// splits so that each split's rows come as close to its share of all rows
// as whole groups allow: it makes the error, the sum over the splits of
// (rows − share × all rows)², small, and a split of share 0 gets no group.
// When the data is small enough (rows² ≤ exactStates and groups × rows² ≤
// exactLimit: 300 rows in up to 220 groups, 1,000 rows in up to 20) the
// error is the least of all assignments that leave no split of a share
// > 0 empty (dealExact); otherwise it is dealGreedy's, close to that when
// the groups are many and small. Either way no split of a share > 0 is
// empty when there are at least as many groups as such splits.
func dealGroups(sizes []int, share [3]float64) []int8 {
	n := 0
	for _, m := range sizes {
		n += m
	}
	if states := int64(n+1) * int64(n+1); states <= exactStates && int64(len(sizes))*states <= exactLimit {
		return dealExact(sizes, share, n)
	}
	return dealGreedy(sizes, share, n)
}

// exactStates and exactLimit bound the memory (5 bytes a state) and the
// work (steps) of dealExact.
const (
	exactStates = 4_000_000
	exactLimit  = 20_000_000
)

// dealExact finds the best assignment by dynamic programming over the
// rows that val and test hold: for every reachable pair it keeps the
// first group (in dealing order) that reached it, from which the
// assignment is read back. A split of share > 0 left empty counts as far
// off, so it is empty only when no assignment fills it.
func dealExact(sizes []int, share [3]float64, n int) []int8 {
	w := n + 1
	by := make([]int32, w*w) // 1 + the group that first reached (val, test) rows; 0 unreached
	to := make([]int8, w*w)  // the split that group went to
	by[0] = -1
	reached := []int{0}
	for i, m := range sizes {
		before := len(reached) // the pairs reached without group i
		for _, st := range reached[:before] {
			// val + test + m ≤ n rows: group i is in neither yet.
			for _, k := range []int8{splitVal, splitTest} {
				next := st + m*w
				if k == splitTest {
					next = st + m
				}
				if share[k] == 0 || by[next] != 0 {
					continue
				}
				by[next], to[next] = int32(i+1), k
				reached = append(reached, next)
			}
		}
	}
	best, bestErr := 0, math.Inf(1)
	for _, st := range reached {
		rows := [3]int{n - st/w - st%w, st / w, st % w}
		e := 0.0
		for k, r := range rows {
			d := float64(r) - share[k]*float64(n)
			e += d * d
			if r == 0 && share[k] > 0 {
				e += 4 * float64(n) * float64(n) // worse than any split that fills it
			}
		}
		if e < bestErr {
			best, bestErr = st, e
		}
	}
	out := make([]int8, len(sizes)) // splitTrain unless read back below
	for st := best; st != 0; {
		i := by[st] - 1
		out[i] = to[st]
		if to[st] == splitVal {
			st -= sizes[i] * w
		} else {
			st -= sizes[i]
		}
	}
	return out
}

// dealGreedy deals each group in turn to the split furthest below its
// share (ties: train, then val, then test), gives a group to each split of
// share > 0 left empty (fillEmpty), then moves single groups and swaps
// pairs of groups between splits while that lowers the error; a move
// never empties a split.
func dealGreedy(sizes []int, share [3]float64, n int) []int8 {
	var off [3]float64 // rows so far minus the split's share of all rows
	var count [3]int   // groups in each split
	for k := range off {
		off[k] = -share[k] * float64(n)
	}
	out := make([]int8, len(sizes))
	for i, m := range sizes {
		s := int8(-1)
		for k := splitTrain; k <= splitTest; k++ {
			if share[k] > 0 && (s < 0 || off[k] < off[s]) {
				s = k
			}
		}
		if s < 0 {
			s = splitTrain
		}
		out[i] = s
		off[s] += float64(m)
		count[s]++
	}
	fillEmpty(sizes, share, out, &off, &count)
	for range 1000 { // each step lowers the error; a bound all the same
		best, bi, bj, bto := -1e-9, -1, -1, int8(0)
		bySize := firstBySize(sizes, out)
		for a := splitTrain; a <= splitTest; a++ {
			for b := splitTrain; b <= splitTest; b++ {
				if a == b || share[b] == 0 {
					continue
				}
				// Moving m rows from a to b changes the error by
				// 2m(m + off[b] − off[a]): best near m = (off[a] − off[b])/2.
				want := (off[a] - off[b]) / 2
				if count[a] > 1 {
					if i := nearestSize(bySize[a], want, sizes); i >= 0 {
						if d := delta(float64(sizes[i]), off[a], off[b]); d < best {
							best, bi, bj, bto = d, i, -1, b
						}
					}
				}
				// Swapping a group of p rows in a for one of q in b moves
				// d = p − q rows: the same change with m = d.
				for _, i := range bySize[a] {
					if j := nearestSize(bySize[b], float64(sizes[i])-want, sizes); j >= 0 {
						if d := delta(float64(sizes[i]-sizes[j]), off[a], off[b]); d < best {
							best, bi, bj, bto = d, i, j, b
						}
					}
				}
			}
		}
		if bi < 0 {
			break
		}
		from := out[bi]
		off[from] -= float64(sizes[bi])
		off[bto] += float64(sizes[bi])
		out[bi] = bto
		if bj < 0 {
			count[from]--
			count[bto]++
			continue
		}
		off[bto] -= float64(sizes[bj])
		off[from] += float64(sizes[bj])
		out[bj] = from
	}
	return out
}

// fillEmpty moves a group into each split of share > 0 that dealing left
// empty (a few large groups: four of 1,000 rows at 0.7/0.15/0.15 fill
// train twice over before test's turn comes), taking the group whose move
// raises the error least from a split that keeps one. A split with one
// group never gives it up, so when there are at least as many groups as
// splits of share > 0 every such split ends up with a group.
func fillEmpty(sizes []int, share [3]float64, out []int8, off *[3]float64, count *[3]int) {
	for b := splitTrain; b <= splitTest; b++ {
		if share[b] == 0 || count[b] > 0 {
			continue
		}
		bi, best := -1, math.Inf(1)
		for i, a := range out {
			if count[a] < 2 {
				continue
			}
			if d := delta(float64(sizes[i]), off[a], off[b]); d < best {
				bi, best = i, d
			}
		}
		if bi < 0 {
			return // fewer groups than splits: splitGroups refuses
		}
		a := out[bi]
		off[a] -= float64(sizes[bi])
		off[b] += float64(sizes[bi])
		count[a]--
		count[b]++
		out[bi] = b
	}
}

// delta is the change of the error when m rows move from a split off[a]
// rows from its share to one off[b] from its own.
func delta(m, offA, offB float64) float64 { return 2 * m * (m + offB - offA) }

// firstBySize lists, for each split, the first group (in dealing order) of
// each distinct size, sizes decreasing.
func firstBySize(sizes []int, of []int8) [3][]int {
	var out [3][]int
	for i, s := range of {
		l := out[s]
		if len(l) == 0 || sizes[l[len(l)-1]] != sizes[i] {
			out[s] = append(l, i)
		}
	}
	return out
}

// nearestSize returns the group of groups (sizes decreasing) whose size is
// nearest to want, or -1 when there is none.
func nearestSize(groups []int, want float64, sizes []int) int {
	if len(groups) == 0 {
		return -1
	}
	// The first group not larger than want, and the one before it.
	k, _ := slices.BinarySearchFunc(groups, want, func(g int, w float64) int {
		if float64(sizes[g]) > w {
			return -1
		}
		return 1
	})
	best := -1
	for _, c := range []int{k - 1, k} {
		if c >= 0 && c < len(groups) && (best < 0 || math.Abs(float64(sizes[groups[c]])-want) < math.Abs(float64(sizes[best])-want)) {
			best = groups[c]
		}
	}
	return best
}
