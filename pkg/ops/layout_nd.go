package ops

import (
	"fmt"

	"gorgonia.org/tensor"
)

// maxRank is the most axes the N-D ops (broadcasting, permute) accept: their
// index arithmetic lives in fixed arrays, so that a step allocates nothing.
const maxRank = 8

// walk is an iteration over a dense, row-major index space of shape size
// (the "full" shape) that tracks, next to the flat index, the offsets of
// two operands read through their own strides (0 along an axis they are
// broadcast over). Adjacent axes that every operand traverses contiguously
// are merged, so that the innermost loop is as long as it can be: for two
// operands of one shape it is a single loop over every element.
type walk struct {
	n      int // axes after merging, at least 1
	size   [maxRank]int
	sa, sb [maxRank]int
}

// sameShape is exact shape equality. tensor.Shape.Eq is not: it takes a
// (1, n) row and an (n) vector for the same shape.
func sameShape(a, b tensor.Shape) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// broadcastShape is the shape of a op b under NumPy's (and PyTorch's)
// broadcasting rules: the shapes are aligned on their last axis, and along
// each axis the sizes must be equal or one of them 1 (an absent axis counts
// as 1).
func broadcastShape(a, b tensor.Shape) (tensor.Shape, error) {
	n := max(len(a), len(b))
	if n > maxRank {
		return nil, fmt.Errorf("shapes %v and %v have more than %d axes", a, b, maxRank)
	}
	out := make(tensor.Shape, n)
	for i := range n {
		da, db := axisFromEnd(a, n-i), axisFromEnd(b, n-i)
		switch {
		case da == db || db == 1:
			out[i] = da
		case da == 1:
			out[i] = db
		default:
			return nil, fmt.Errorf("shapes %v and %v do not broadcast: axis %d (from the end) is %d and %d", a, b, n-i, da, db)
		}
	}
	return out, nil
}

// axisFromEnd is s's k-th axis from the end (k = 1 is the last), or 1
// where s has fewer axes.
func axisFromEnd(s tensor.Shape, k int) int {
	if k > len(s) {
		return 1
	}
	return s[len(s)-k]
}

// broadcastsTo reports whether s broadcasts to full without enlarging it.
func broadcastsTo(s, full tensor.Shape) bool {
	if len(s) > len(full) {
		return false
	}
	for k := 1; k <= len(s); k++ {
		if d := axisFromEnd(s, k); d != 1 && d != axisFromEnd(full, k) {
			return false
		}
	}
	return true
}

// fullShape writes into full the shape a and b broadcast to, which the
// caller has checked they do, and returns it (a view of full, so that a
// step allocates nothing).
func fullShape(full *[maxRank]int, a, b tensor.Shape) tensor.Shape {
	n := max(len(a), len(b))
	for k := 1; k <= n; k++ {
		da, db := axisFromEnd(a, k), axisFromEnd(b, k)
		if db == 1 {
			db = da
		}
		full[n-k] = db
	}
	return full[:n]
}

// broadcastStrides writes into st the strides of a dense tensor of shape s
// read over the index space full (right-aligned): 0 along axes s lacks or
// has size 1.
func broadcastStrides(st *[maxRank]int, s, full tensor.Shape) {
	stride := 1
	for k := 1; k <= len(full); k++ {
		d := axisFromEnd(s, k)
		if k > len(s) || d == 1 {
			st[len(full)-k] = 0
		} else {
			st[len(full)-k] = stride
		}
		if k <= len(s) {
			stride *= d
		}
	}
}

// newBroadcastWalk iterates over full, reading a and b broadcast to it. The
// caller has checked that both broadcast to full and that full has at most
// maxRank axes.
func newBroadcastWalk(full, a, b tensor.Shape) walk {
	var w walk
	broadcastStrides(&w.sa, a, full)
	broadcastStrides(&w.sb, b, full)
	copy(w.size[:], full)
	w.n = len(full)
	w.merge()
	return w
}

// merge drops axes of size 1 and merges each axis into the one after it
// where both operands' strides allow.
func (w *walk) merge() {
	k := 0
	for i := 0; i < w.n; i++ {
		if w.size[i] == 1 {
			continue
		}
		if k > 0 {
			j := k - 1
			if w.sa[j] == w.sa[i]*w.size[i] && w.sb[j] == w.sb[i]*w.size[i] {
				w.size[j] *= w.size[i]
				w.sa[j], w.sb[j] = w.sa[i], w.sb[i]
				continue
			}
		}
		w.size[k], w.sa[k], w.sb[k] = w.size[i], w.sa[i], w.sb[i]
		k++
	}
	if k == 0 { // a single element
		w.size[0], w.sa[0], w.sb[0] = 1, 0, 0
		k = 1
	}
	w.n = k
}

// rows calls row once per run of the innermost axis: the flat index o of
// its first element and the offsets of a and b there. The run has
// w.size[w.n-1] elements, a and b advancing by w.sa[w.n-1] and
// w.sb[w.n-1] per element. row must not keep a reference to itself (it
// is a closure the compiler keeps on the stack).
func (w *walk) rows(row func(o, oa, ob int)) {
	last := w.n - 1
	inner := w.size[last]
	total := inner
	for i := range last {
		total *= w.size[i]
	}
	var idx [maxRank]int
	oa, ob := 0, 0
	for o := 0; o < total; o += inner {
		row(o, oa, ob)
		for ax := last - 1; ax >= 0; ax-- {
			idx[ax]++
			oa += w.sa[ax]
			ob += w.sb[ax]
			if idx[ax] < w.size[ax] {
				break
			}
			oa -= w.sa[ax] * w.size[ax]
			ob -= w.sb[ax] * w.size[ax]
			idx[ax] = 0
		}
	}
}

// normAxis maps an axis that may count from the end (−1 is the last) into
// [0, rank).
func normAxis(axis, rank int) (int, error) {
	if axis < -rank || axis >= rank {
		return 0, fmt.Errorf("axis %d is out of range for %d axes", axis, rank)
	}
	if axis < 0 {
		axis += rank
	}
	return axis, nil
}

// sizeOf is the product of s's sizes (1 for no axes).
func sizeOf(s tensor.Shape) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}
