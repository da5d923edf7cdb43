package data

import (
	"math"
	"slices"
)

// interpolation is what data.clean.missing: interpolate did to a series:
// how many cells it filled and, for each time step, the latest step whose
// value a fill of that step read (−1 when none of its cells was filled, or
// when every fill read only earlier steps). A window whose inputs end at
// step e and read a fill with reach[r] > e has seen a value from its
// future.
type interpolation struct {
	filled int
	rows   []int // the steps holding a filled cell, in time order
	reach  []int
}

// interpolateMissing fills every missing cell of the series f linearly in
// time between the nearest known values of its column before and after
// it; a gap before a column's first known value takes that value, a gap
// after its last known value the last one (no extrapolation of a trend).
// Time is the time column's value (numbers, or seconds for dates) when
// there is one, else the row's position, so that uneven steps weigh as
// far apart as they are. Nothing is fitted: each fill reads only its own
// column's two neighbours. A column with no known value at all is an
// error naming it.
func interpolateMissing(f *frame, tm *times) (*interpolation, error) {
	n, w := f.rows(), f.width
	in := &interpolation{reach: make([]int, n)}
	for r := range in.reach {
		in.reach[r] = -1
	}
	at := timePositions(tm)
	known := make([]int, 0, n)
	for j := 0; j < w; j++ {
		known = known[:0]
		for r := 0; r < n; r++ {
			if !math.IsNaN(float64(f.x[r*w+j])) {
				known = append(known, r)
			}
		}
		if len(known) == n {
			continue
		}
		if len(known) == 0 {
			return nil, badf(f.file, 0, 0, f.features[j], "has no known value to interpolate from: every one of its %d time steps is missing", n)
		}
		k := 0 // known[k] is the first known step after r
		for r := 0; r < n; r++ {
			for k < len(known) && known[k] < r {
				k++
			}
			if k < len(known) && known[k] == r {
				continue
			}
			var v float64
			switch {
			case k == 0: // before the first known value
				v = float64(f.x[known[0]*w+j])
				in.reach[r] = max(in.reach[r], known[0])
			case k == len(known): // after the last one
				v = float64(f.x[known[k-1]*w+j])
			default:
				a, b := known[k-1], known[k]
				va, vb := float64(f.x[a*w+j]), float64(f.x[b*w+j])
				v = va + (vb-va)*(at(r)-at(a))/(at(b)-at(a))
				in.reach[r] = max(in.reach[r], b)
			}
			f.x[r*w+j] = float32(v)
			in.filled++
			in.rows = append(in.rows, r)
		}
	}
	slices.Sort(in.rows)
	in.rows = slices.Compact(in.rows)
	return in, nil
}

// timePositions returns the position in time of row r: the time column's
// number, the seconds since the first row's date, or r itself without a
// time column.
func timePositions(tm *times) func(r int) float64 {
	switch {
	case tm == nil || (tm.nums == nil && tm.instant == nil):
		return func(r int) float64 { return float64(r) }
	case tm.layout == "":
		return func(r int) float64 { return tm.nums[r] }
	}
	return func(r int) float64 { return tm.instant[r].Sub(tm.instant[0]).Seconds() }
}

// leaks counts the windows of each part whose inputs read a fill computed
// from a step after the window's last input step (its future, up to its
// target), given each window's target row.
func (in *interpolation) leaks(targets [3][]int, horizon, lookback int) [3]int {
	var out [3]int
	for p, ts := range targets {
		for _, t := range ts {
			end := t - horizon
			for r := end - lookback + 1; r <= end; r++ {
				if in.reach[r] > end {
					out[p]++
					break
				}
			}
		}
	}
	return out
}
