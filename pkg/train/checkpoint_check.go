package train

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
)

// maxProblems bounds how many problems an error about a checkpoint lists.
const maxProblems = 5

// check verifies what the checksum cannot: a file whose checksum is right
// can still have been written by something other than dltrain (or by a
// bug). Every tensor must hold as many values as its shape says, in one
// dtype, all finite; every optimizer buffer must belong to a saved
// parameter and have its size, all finite; the loop state's counters must
// be in range. It returns every problem found (up to maxProblems), each
// naming the tensor or the field.
func (c *Checkpoint) check() []string {
	var ps []string
	bad := func(format string, args ...any) { ps = append(ps, fmt.Sprintf(format, args...)) }
	sizes := map[string]int{}
	for i, r := range c.Params {
		name := r.Name
		if name == "" {
			name = fmt.Sprintf("#%d", i+1)
			bad("tensor %s has no name", name)
		}
		if _, dup := sizes[r.Name]; dup {
			bad("tensor %s is saved twice", name)
		}
		n, ok := shapeSize(r.Shape)
		sizes[r.Name] = n
		values := len(r.F32) + len(r.F64)
		switch {
		case !ok:
			bad("tensor %s has shape %v; every dimension must be >= 1", name, r.Shape)
		case r.F32 != nil && r.F64 != nil:
			bad("tensor %s holds both float32 and float64 values", name)
		case values != n:
			bad("tensor %s has shape %v (%d values) but holds %d values", name, r.Shape, n, values)
		default:
			if at, v, ok := firstNonFiniteValue(r.F32, r.F64); !ok {
				bad("tensor %s holds %v at index %d; the weights are not usable", name, v, at)
			}
		}
	}
	for _, ph := range c.Phases {
		var pps []string
		pps = append(pps, ph.Optimizer.check(sizes)...)
		pps = append(pps, ph.Schedule.check()...)
		for _, p := range pps {
			if len(c.Phases) > 1 || ph.Name != DefaultPhase {
				p = fmt.Sprintf("phase %q: %s", ph.Name, p)
			}
			ps = append(ps, p)
		}
	}
	ps = append(ps, c.State.check()...)
	if len(ps) > maxProblems {
		ps = append(ps[:maxProblems], fmt.Sprintf("and %d more problems", len(ps)-maxProblems))
	}
	return ps
}

// check verifies an optimizer state against the sizes of the saved
// parameters: each buffer "param/buffer" belongs to a parameter and has
// its size.
func (st OptimizerState) check(sizes map[string]int) []string {
	var ps []string
	if st.Steps < 0 {
		ps = append(ps, fmt.Sprintf("the optimizer's step count is %d; it must be >= 0", st.Steps))
	}
	for _, k := range slices.Sorted(maps.Keys(st.Buffers)) {
		v := st.Buffers[k]
		i := strings.LastIndexByte(k, '/')
		n, ok := sizes[k[:max(i, 0)]]
		switch {
		case i < 0 || !ok:
			ps = append(ps, fmt.Sprintf("optimizer buffer %s belongs to no saved tensor", k))
		case len(v) != n:
			ps = append(ps, fmt.Sprintf("optimizer buffer %s holds %d values; its tensor %s has %d", k, len(v), k[:i], n))
		default:
			if at, x, ok := firstNonFiniteValue(nil, v); !ok {
				ps = append(ps, fmt.Sprintf("optimizer buffer %s holds %v at index %d", k, x, at))
			}
		}
	}
	return ps
}

// check verifies the loop state's ranges.
func (s State) check() []string {
	var ps []string
	for _, f := range []struct {
		name string
		v    int64
	}{{"epoch", int64(s.Epoch)}, {"batch", int64(s.Batch)}, {"step", s.Step}, {"loss count", int64(s.LossCount)},
		{"best epoch", int64(s.BestEpoch)}, {"early stopping's epoch", int64(s.Stop.Epoch)}, {"early stopping's count", int64(s.Stop.Bad)}} {
		if f.v < 0 {
			ps = append(ps, fmt.Sprintf("the loop state's %s is %d; it must be >= 0", f.name, f.v))
		}
	}
	if s.BestEpoch > s.Epoch {
		ps = append(ps, fmt.Sprintf("the loop state's best epoch (%d) is after the epochs completed (%d)", s.BestEpoch, s.Epoch))
	}
	if s.Stop.Epoch > s.Epoch {
		ps = append(ps, fmt.Sprintf("early stopping's best epoch (%d) is after the epochs completed (%d)", s.Stop.Epoch, s.Epoch))
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"loss sum", s.LossSum}, {"penalty sum", s.PenSum}, {"learning rate", s.LR}, {"first loss", s.FirstLoss}} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			ps = append(ps, fmt.Sprintf("the loop state's %s is %v; it must be finite", f.name, f.v))
		}
	}
	if s.LR < 0 {
		ps = append(ps, fmt.Sprintf("the loop state's learning rate is negative (%v)", s.LR))
	}
	return ps
}

// check verifies a reactive schedule's state: counts >= 0, a rate that is
// not negative (NaN before the first reduction).
func (s ScheduleState) check() []string {
	var ps []string
	if s.Bad < 0 || s.Cooldown < 0 {
		ps = append(ps, fmt.Sprintf("the schedule's counts are negative (%d epochs without improvement, %d of cooldown)", s.Bad, s.Cooldown))
	}
	if s.LR < 0 {
		ps = append(ps, fmt.Sprintf("the schedule's learning rate is negative (%v)", s.LR))
	}
	return ps
}

// shapeSize is the number of values of a shape, false when a dimension is
// below 1 or the product overflows.
func shapeSize(shape []int) (int, bool) {
	n := 1
	for _, d := range shape {
		if d < 1 || n > math.MaxInt/d {
			return 0, false
		}
		n *= d
	}
	return n, true
}

// firstNonFiniteValue returns the index and value of the first NaN or
// infinity in f32, then f64; ok is true when all are finite.
func firstNonFiniteValue(f32 []float32, f64 []float64) (int, float64, bool) {
	for i, v := range f32 {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return i, float64(v), false
		}
	}
	for i, v := range f64 {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return i, v, false
		}
	}
	return 0, 0, true
}
